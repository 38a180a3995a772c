"""The stores in memory: for tests and the console. They keep the same contracts as the
database stores (tests/test_storage.py, tests/test_records.py)."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from typing import Any

from bot.storage.records import NotClaimed, apply_effects
from bot.storage.sessions import KEEP, Also, Message, Outgoing, read_session
from conversations.events import Effect
from conversations.recovery_records import ChatRecords, LogEntry, Plan, Reminder, iso, make_reminder, next_due
from conversations.session import Session


class MemoryStore:
    """Sessions in a dict: for tests and the console."""

    def __init__(self) -> None:
        self._sessions: dict[int, str] = {}
        self._counts: dict[tuple[str, str], int] = {}
        self._inbox: dict[int, str | None] = {}
        self._outbox: dict[int, Outgoing] = {}
        self._next_row = 1

    def load(self, chat_id: int) -> Session | None:
        stored = self._sessions.get(chat_id)
        return read_session(stored) if stored is not None else None

    def save(self, chat_id: int, session: Session) -> None:
        self._sessions[chat_id] = session.to_json()

    def forget(self, chat_id: int) -> None:
        self._sessions.pop(chat_id, None)
        self._outbox = {k: row for k, row in self._outbox.items() if row.chat_id != chat_id}

    def count(self, kind: str, value: str) -> None:
        self._counts[(kind, value)] = self._counts.get((kind, value), 0) + 1

    def counts(self) -> dict[tuple[str, str], int]:
        return dict(self._counts)

    def close(self) -> None:
        self._sessions.clear()

    # the inbox and outbox, in memory (the tests of the Telegram wiring use these)
    def receive(self, updates: Sequence[tuple[int, int | None, str]]) -> list[int]:
        new = []
        for uid, _, payload in updates:
            if uid not in self._inbox:
                self._inbox[uid] = payload
                new.append(uid)
        return new

    def unfinished(self) -> list[tuple[int, str]]:
        return sorted((uid, p) for uid, p in self._inbox.items() if p is not None)

    def finish(self, update_id: int) -> None:
        self._inbox[update_id] = None

    def commit(
        self,
        chat_id: int,
        update_id: int | None,
        session: Session | object | None = KEEP,
        messages: Sequence[Message] = (),
        revive_with: str = "",
        also: Also | None = None,
    ) -> list[Outgoing]:
        if also is not None:
            also(None)
        if session is None:
            self.forget(chat_id)
        elif isinstance(session, Session):
            self.save(chat_id, session)
        if revive_with:
            self._revive(chat_id, revive_with)
        for message in messages:
            row = message.queued(self._next_row, chat_id)
            self._outbox[row.id], self._next_row = row, self._next_row + 1
        if update_id is not None:
            self._inbox[update_id] = None
        return self.queued(chat_id)

    def _revive(self, chat_id: int, note: str) -> None:
        failed = [row for row in self._outbox.values() if row.chat_id == chat_id and row.failed]
        for index, row in enumerate(failed):
            text = f"{note}\n\n{row.text}" if index == 0 else row.text
            self._outbox[row.id] = replace(row, text=text, failed=False, edit=0)

    def has_failed(self, chat_id: int) -> bool:
        return any(row.failed for row in self._outbox.values() if row.chat_id == chat_id)

    def queued(self, chat_id: int) -> list[Outgoing]:
        return [row for _, row in sorted(self._outbox.items()) if row.chat_id == chat_id and not row.failed]

    def chats_with_queued(self) -> list[int]:
        return sorted({row.chat_id for row in self._outbox.values() if not row.failed})

    def delivered(self, row_id: int) -> None:
        self._outbox.pop(row_id, None)

    def give_up(self, chat_id: int, from_row: int) -> None:
        for row in list(self._outbox.values()):
            if row.chat_id == chat_id and row.id >= from_row:
                self._outbox[row.id] = replace(row, failed=True)


class MemoryRecordStore:
    """Records in dicts, behind a lock: for tests and the console."""

    def __init__(self) -> None:
        self._chats: dict[int, ChatRecords] = {}
        self._lock = threading.Lock()

    def records(self, chat_id: int) -> ChatRecords:
        with self._lock:
            return self._chats.get(chat_id, ChatRecords())

    def save_log(self, chat_id: int, entry: LogEntry) -> None:
        with self._lock:
            self._chats[chat_id] = self._chats.get(chat_id, ChatRecords()).with_log(entry)

    def save_plan(self, chat_id: int, plan: Plan) -> None:
        with self._lock:
            self._chats[chat_id] = self._chats.get(chat_id, ChatRecords()).with_plan(plan)

    def set_reminder(self, chat_id: int, time: str, tz: str, now: dt.datetime) -> Reminder:
        reminder = make_reminder(time, tz, now, chat_id)
        with self._lock:
            self._chats[chat_id] = replace(self._chats.get(chat_id, ChatRecords()), reminder=reminder)
        return reminder

    def cancel_reminders(self, chat_id: int) -> None:
        with self._lock:
            records = self._chats.get(chat_id)
            if records is not None and records.reminder is not None:
                self._chats[chat_id] = replace(records, reminder=replace(records.reminder, active=False))

    def active_reminders(self) -> list[Reminder]:
        with self._lock:
            found = [r.reminder for r in self._chats.values() if r.reminder and r.reminder.active]
        return sorted(found, key=lambda r: (r.due, r.chat_id))

    def due_reminders(self, now: dt.datetime, limit: int = 1000) -> list[Reminder]:
        return [r for r in self.active_reminders() if r.due <= now][:limit]

    def claim(self, reminder: Reminder, now: dt.datetime) -> Reminder | None:
        with self._lock:
            records = self._chats.get(reminder.chat_id)
            current = records.reminder if records else None
            if records is None or current is None or not current.active or current.next_due != reminder.next_due:
                return None
            claimed = replace(current, next_due=iso(next_due(current.time, current.tz, max(now, current.due))))
            self._chats[reminder.chat_id] = replace(records, reminder=claimed)
            return claimed

    def forget(self, chat_id: int) -> None:
        with self._lock:
            self._chats.pop(chat_id, None)

    def writes(self, chat_id: int, effects: Iterable[Effect], now: dt.datetime) -> Callable[[Any], None]:
        effects = list(effects)
        return lambda conn: apply_effects(self, chat_id, effects, now)

    def claiming(self, reminder: Reminder, now: dt.datetime, claimed: list[Reminder]) -> Callable[[Any], None]:
        def write(conn: Any) -> None:
            won = self.claim(reminder, now)
            if won is None:
                raise NotClaimed(reminder.chat_id)
            claimed.append(won)

        return write

    def close(self) -> None:
        with self._lock:
            self._chats.clear()
