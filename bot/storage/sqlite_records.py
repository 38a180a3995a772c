"""The companion's records in a SQLite file (WAL): log entries, plans and reminders.

The contract is bot/storage/records.py. The bot shares the session store's connection
(`SqliteRecordStore.sharing`), so a turn's records are written in the turn's one transaction.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from bot.storage.records import RECORD_EFFECTS, NotClaimed, apply_effects, readable_reminder
from bot.storage.sessions import StorageError
from bot.storage.sqlite_db import Database, Migrations
from conversations.events import CancelReminders, Effect, Forget, SaveLog, SavePlan, SetReminder
from conversations.recovery_records import ChatRecords, LogEntry, Plan, Reminder, iso, make_reminder, next_due

MIGRATIONS = Migrations("runner-bot-records")


@MIGRATIONS()
def r001_logs_plans_reminders(db: Database) -> None:
    """Log entries and plans by id; one reminder row per chat. Times are UTC ISO text."""
    db.table("record_logs").create(
        {
            "id": str,
            "chat_id": int,
            "at": str,
            "day": str,
            "pain": int,
            "distance_km": float,
            "minutes": float,
            "feel": str,
        },
        pk="id",
    )
    db.table("record_logs").create_index(["chat_id", "day"])
    db.table("record_plans").create(
        {"id": str, "chat_id": int, "active": int, "data": str, "updated": str}, pk="id"
    )
    db.table("record_plans").create_index(["chat_id"])
    db.table("record_reminders").create(
        {"chat_id": int, "time": str, "tz": str, "next_due": str, "active": int, "updated": str},
        pk="chat_id",
    )
    db.table("record_reminders").create_index(["active", "next_due"])


class SqliteRecordStore:
    """Records in a SQLite file (WAL), one transaction per write.

    Several processes may share the file: writes take the write lock up front (BEGIN
    IMMEDIATE) and wait up to `busy_timeout` for it, and a reminder is claimed by an UPDATE
    that matches its old `next_due`, so only one claimant wins. Within a process a lock
    serialises use of the one connection.
    """

    def __init__(self, path: Path | str, busy_timeout_ms: int = 5000) -> None:
        self.path = str(path)
        self._lock = threading.RLock()
        try:
            if self.path != ":memory:":
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            connection.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
            self.db = Database(connection)
            if self.path != ":memory:":
                self.db.enable_wal()
            self.db.execute("PRAGMA synchronous=NORMAL")
            MIGRATIONS.apply(self.db)
        except (OSError, sqlite3.Error) as error:
            raise StorageError(f"cannot use the records database at {path}: {error}") from None

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            conn = self.db.conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def _rows(self, sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
        with self._lock:
            return self.db.execute(sql, params).fetchall()

    def records(self, chat_id: int) -> ChatRecords:
        logs = tuple(
            LogEntry(id=i, at=at, day=day, pain=pain, distance_km=km, minutes=minutes, feel=feel or "")
            for i, at, day, pain, km, minutes, feel in self._rows(
                "SELECT id, at, day, pain, distance_km, minutes, feel FROM record_logs "
                "WHERE chat_id = ? ORDER BY day, at",
                [chat_id],
            )
        )
        plans = tuple(
            Plan.from_dict(json.loads(data))
            for (data,) in self._rows("SELECT data FROM record_plans WHERE chat_id = ? ORDER BY updated, rowid", [chat_id])
        )
        rows = self._rows("SELECT time, tz, next_due, active FROM record_reminders WHERE chat_id = ?", [chat_id])
        reminder = readable_reminder(chat_id, *rows[0]) if rows else None
        return ChatRecords(logs=logs, plans=plans, reminder=reminder)

    def save_log(self, chat_id: int, entry: LogEntry) -> None:
        with self._write() as conn:
            self._save_log(conn, chat_id, entry)

    @staticmethod
    def _save_log(conn: sqlite3.Connection, chat_id: int, entry: LogEntry) -> None:
        conn.execute(
            "INSERT OR REPLACE INTO record_logs (id, chat_id, at, day, pain, distance_km, minutes, feel) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [entry.id, chat_id, entry.at, entry.day, entry.pain, entry.distance_km, entry.minutes, entry.feel],
        )

    def save_plan(self, chat_id: int, plan: Plan) -> None:
        with self._write() as conn:
            self._save_plan(conn, chat_id, plan)

    @staticmethod
    def _save_plan(conn: sqlite3.Connection, chat_id: int, plan: Plan) -> None:
        if plan.active:
            for (other_id, data) in conn.execute(
                "SELECT id, data FROM record_plans WHERE chat_id = ? AND active = 1 AND id != ?", [chat_id, plan.id]
            ).fetchall():
                ended = replace(Plan.from_dict(json.loads(data)), active=False)
                conn.execute(
                    "UPDATE record_plans SET active = 0, data = ? WHERE id = ?", [json.dumps(ended.to_dict()), other_id]
                )
        updated = plan.updated or iso(dt.datetime.now(dt.UTC))
        conn.execute(
            "INSERT INTO record_plans (id, chat_id, active, data, updated) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT(id) DO UPDATE SET active = excluded.active, data = excluded.data",
            [plan.id, chat_id, int(plan.active), json.dumps(plan.to_dict()), updated],
        )

    def set_reminder(self, chat_id: int, time: str, tz: str, now: dt.datetime) -> Reminder:
        with self._write() as conn:
            return self._set_reminder(conn, chat_id, time, tz, now)

    @staticmethod
    def _set_reminder(conn: sqlite3.Connection, chat_id: int, time: str, tz: str, now: dt.datetime) -> Reminder:
        reminder = make_reminder(time, tz, now, chat_id)
        conn.execute(
            "INSERT INTO record_reminders (chat_id, time, tz, next_due, active, updated) VALUES (?, ?, ?, ?, 1, ?) "
            "ON CONFLICT(chat_id) DO UPDATE SET time = excluded.time, tz = excluded.tz, "
            "next_due = excluded.next_due, active = 1, updated = excluded.updated",
            [chat_id, reminder.time, reminder.tz, reminder.next_due, iso(now)],
        )
        return reminder

    def cancel_reminders(self, chat_id: int) -> None:
        with self._write() as conn:
            self._cancel_reminders(conn, chat_id)

    @staticmethod
    def _cancel_reminders(conn: sqlite3.Connection, chat_id: int) -> None:
        conn.execute("UPDATE record_reminders SET active = 0 WHERE chat_id = ?", [chat_id])

    def _reminders(self, where: str, params: list[Any]) -> list[Reminder]:
        readable = (
            readable_reminder(chat_id, time, tz, due, active)
            for chat_id, time, tz, due, active in self._rows(
                f"SELECT chat_id, time, tz, next_due, active FROM record_reminders WHERE {where}", params
            )
        )
        return [reminder for reminder in readable if reminder is not None]

    def active_reminders(self) -> list[Reminder]:
        return self._reminders("active = 1 ORDER BY next_due, chat_id", [])

    def due_reminders(self, now: dt.datetime, limit: int = 1000) -> list[Reminder]:
        return self._reminders("active = 1 AND next_due <= ? ORDER BY next_due, chat_id LIMIT ?", [iso(now), limit])

    def claim(self, reminder: Reminder, now: dt.datetime) -> Reminder | None:
        with self._write() as conn:
            return self._claim(conn, reminder, now)

    @staticmethod
    def _claim(conn: sqlite3.Connection, reminder: Reminder, now: dt.datetime) -> Reminder | None:
        following = iso(next_due(reminder.time, reminder.tz, max(now, reminder.due)))
        cursor = conn.execute(
            "UPDATE record_reminders SET next_due = ? WHERE chat_id = ? AND next_due = ? AND active = 1 "
            "AND time = ? AND tz = ?",
            [following, reminder.chat_id, reminder.next_due, reminder.time, reminder.tz],
        )
        return replace(reminder, next_due=following) if cursor.rowcount == 1 else None

    def forget(self, chat_id: int) -> None:
        with self._write() as conn:
            self._forget(conn, chat_id)

    @staticmethod
    def _forget(conn: sqlite3.Connection, chat_id: int) -> None:
        for table in ("record_logs", "record_plans", "record_reminders"):
            conn.execute(f"DELETE FROM {table} WHERE chat_id = ?", [chat_id])

    # ----- writes inside another store's transaction (the bot's turn: SqliteStore.commit) ----------
    @classmethod
    def sharing(cls, db: Database) -> SqliteRecordStore:
        """A record store on an open connection (the session store's), so one transaction can
        hold a turn's session, outbox, inbox mark and records. The caller serialises use of the
        connection (the bot's one database thread)."""
        store = cls.__new__(cls)
        store.path = "(shared)"
        store._lock = threading.RLock()
        store.db = db
        try:
            MIGRATIONS.apply(db)
        except sqlite3.Error as error:
            raise StorageError(f"cannot create the records tables: {error}") from None
        return store

    def writes(self, chat_id: int, effects: Iterable[Effect], now: dt.datetime) -> Callable[[Any], None]:
        """The record effects as a write for another store's transaction on this connection
        (`SqliteStore.commit(also=...)`); on any other connection they get their own transaction."""
        effects = [e for e in effects if isinstance(e, RECORD_EFFECTS)]

        def write(conn: Any) -> None:
            if conn is not self.db.conn:
                apply_effects(self, chat_id, effects, now)
                return
            for effect in effects:
                if isinstance(effect, SaveLog):
                    self._save_log(conn, chat_id, effect.entry)
                elif isinstance(effect, SavePlan):
                    self._save_plan(conn, chat_id, effect.plan)
                elif isinstance(effect, SetReminder):
                    self._set_reminder(conn, chat_id, effect.time, effect.tz, now)
                elif isinstance(effect, CancelReminders):
                    self._cancel_reminders(conn, chat_id)
                elif isinstance(effect, Forget):
                    self._forget(conn, chat_id)

        return write

    def claiming(self, reminder: Reminder, now: dt.datetime, claimed: list[Reminder]) -> Callable[[Any], None]:
        """A claim as a write for another store's transaction: appends the claimed reminder to
        `claimed`, or raises NotClaimed, which rolls the whole transaction back."""

        def write(conn: Any) -> None:
            won = self._claim(conn, reminder, now) if conn is self.db.conn else self.claim(reminder, now)
            if won is None:
                raise NotClaimed(reminder.chat_id)
            claimed.append(won)

        return write

    def close(self) -> None:
        with self._lock:
            self.db.close()
