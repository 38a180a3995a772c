"""The record store's contract: where a runner's records live — log entries, plans and
reminders, apart from the session.

One small interface (`RecordStore`) and its implementations — `MemoryRecordStore`
(bot/storage/memory.py: tests, the console), `SqliteRecordStore` (bot/storage/sqlite_records.py:
its own tables, created by its own migration set, so it can share the bot's database file) and
`PgRecordStore` (bot/storage/pg_records.py) — with one contract test class run against them all.
Callers use only the interface: no SQL, no rowids, no backend-only behaviour.

Every write is one transaction. Reminders are claimed with a compare-and-set on `next_due`, so
two senders (or a sender restarted after `kill -9`) never both send the same occurrence: the one
whose update matched the old `next_due` owns it.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from conversations.events import CancelReminders, Effect, Forget, SaveLog, SavePlan, SetReminder
from conversations.recovery_records import ChatRecords, LogEntry, Plan, Reminder, next_due

log = logging.getLogger(__name__)


class RecordStore(Protocol):
    """What the bot needs from record storage. Times in and out are UTC."""

    def records(self, chat_id: int) -> ChatRecords:
        """Everything recorded for the chat (empty for a new or forgotten chat)."""
        ...

    def save_log(self, chat_id: int, entry: LogEntry) -> None:
        """Add a log entry, or replace the one with the same id."""
        ...

    def save_plan(self, chat_id: int, plan: Plan) -> None:
        """Add or replace a plan (by id); an active plan ends the chat's other active plans."""
        ...

    def set_reminder(self, chat_id: int, time: str, tz: str, now: dt.datetime) -> Reminder:
        """Set (or replace) the chat's daily reminder; it is next due after `now`."""
        ...

    def cancel_reminders(self, chat_id: int) -> None:
        """Turn the chat's reminder off (its time zone is kept, so it is not asked again)."""
        ...

    def active_reminders(self) -> list[Reminder]:
        """Every reminder that is on, soonest first (what a scheduler loads at start-up)."""
        ...

    def due_reminders(self, now: dt.datetime, limit: int = 1000) -> list[Reminder]:
        """Reminders on and due at or before `now`, soonest first."""
        ...

    def claim(self, reminder: Reminder, now: dt.datetime) -> Reminder | None:
        """Take one due occurrence for sending: move it to its next day and return the updated
        reminder — or None if someone else claimed it, it changed or it was turned off."""
        ...

    def forget(self, chat_id: int) -> None:
        """Delete every record of the chat, reminders included."""
        ...

    def writes(self, chat_id: int, effects: Iterable[Effect], now: dt.datetime) -> Callable[[Any], None]:
        """The record effects as a write to run inside a session store's transaction
        (`SessionStore.commit(also=...)`, called with that store's connection); a store that
        cannot share it writes in a transaction of its own."""
        ...

    def claiming(self, reminder: Reminder, now: dt.datetime, claimed: list[Reminder]) -> Callable[[Any], None]:
        """`claim` as such a write: appends the claimed reminder to `claimed`, or raises NotClaimed
        (which rolls the surrounding transaction back)."""
        ...

    def close(self) -> None: ...


class NotClaimed(Exception):
    """The reminder occurrence was claimed elsewhere, changed or turned off: write nothing."""


RECORD_EFFECTS = (SaveLog, SavePlan, SetReminder, CancelReminders, Forget)


def apply_effects(store: RecordStore, chat_id: int, effects: Iterable[Effect], now: dt.datetime) -> None:
    """Carry out the effects that change records (the adapter's part; it decides nothing)."""
    for effect in effects:
        if isinstance(effect, SaveLog):
            store.save_log(chat_id, effect.entry)
        elif isinstance(effect, SavePlan):
            store.save_plan(chat_id, effect.plan)
        elif isinstance(effect, SetReminder):
            store.set_reminder(chat_id, effect.time, effect.tz, now)
        elif isinstance(effect, CancelReminders):
            store.cancel_reminders(chat_id)
        elif isinstance(effect, Forget):
            store.forget(chat_id)


_UNREADABLE_LOGGED: set[int] = set()  # chats whose bad reminder was logged (once per process, not every sweep)


def readable_reminder(chat_id: int, time: Any, tz: Any, due: Any, active: Any) -> Reminder | None:
    """A stored reminder row as a Reminder, or None when it cannot be used: a `next_due` that is
    not a time with a zone, a time of day that is not HH:MM, or a time zone this host cannot load
    (a zone database older than the one that wrote it). Such a row is skipped, logged by chat id
    only, so it can neither stop start-up nor hold up the other reminders; the runner's next
    /remind writes it afresh."""
    try:
        moment = dt.datetime.fromisoformat(due)
        if moment.tzinfo is None:
            raise ValueError("next_due has no time zone")
        next_due(time, tz, moment)  # loads the zone and reads the time of day
    except Exception as error:
        if chat_id not in _UNREADABLE_LOGGED:
            _UNREADABLE_LOGGED.add(chat_id)
            log.warning("chat %s: its stored reminder cannot be used (%s); skipped", chat_id, type(error).__name__)
        return None
    return Reminder(time, tz, due, bool(active), chat_id)
