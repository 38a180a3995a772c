"""The companion's records in PostgreSQL (the contract: bot/storage/records.py)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any, TypeVar

import psycopg

from bot.storage.pg_pool import PooledDatabase
from bot.storage.pg_sessions import PgStore
from bot.storage.records import RECORD_EFFECTS, NotClaimed, readable_reminder
from conversations.events import CancelReminders, Effect, Forget, SaveLog, SavePlan, SetReminder
from conversations.recovery_records import ChatRecords, LogEntry, Plan, Reminder, iso, make_reminder, next_due

T = TypeVar("T")


class PgRecordStore(PooledDatabase):
    """The companion's records in PostgreSQL (same tables as PgStore's database, same migrations).

    A reminder is claimed by an UPDATE whose WHERE matches the old `next_due`: under READ
    COMMITTED a second claimant waits for the first one's row lock, re-reads the row, finds
    `next_due` moved on and updates nothing — exactly one instance sends each occurrence.

    The bot uses `sharing(store)`: the session store's pool, and `writes`/`claiming` run on the
    connection of `PgStore.commit(also=...)`, so a turn's session, outbox, inbox mark and records
    (or a reminder's claim and its queued message) are one transaction.
    """

    def __init__(self, url: str, pool_size: int = 4) -> None:
        super().__init__(url, pool_size, "records database")
        self._owns_pool = True

    @classmethod
    def sharing(cls, store: PgStore) -> PgRecordStore:
        """A record store on the session store's pool (its migrations made the record tables).
        Closing it leaves the pool to its owner."""
        records = cls.__new__(cls)
        records.url, records.what, records.pool = store.url, "database", store.pool
        records._owns_pool = False
        return records

    def close(self) -> None:
        if self._owns_pool:
            super().close()

    def _write(self, work: Callable[[psycopg.Connection[Any]], T]) -> T:
        with self.transaction() as conn:
            return work(conn)

    def records(self, chat_id: int) -> ChatRecords:
        with self.connection() as conn:
            logs = tuple(
                LogEntry(id=i, at=at, day=day, pain=pain, distance_km=km, minutes=minutes, feel=feel or "")
                for i, at, day, pain, km, minutes, feel in conn.execute(
                    "SELECT id, at, day, pain, distance_km, minutes, feel FROM record_logs "
                    "WHERE chat_id = %s ORDER BY day, at",
                    [chat_id],
                )
            )
            plans = tuple(
                Plan.from_dict(json.loads(data))
                for (data,) in conn.execute(
                    "SELECT data FROM record_plans WHERE chat_id = %s ORDER BY updated, seq", [chat_id]
                )
            )
            row = conn.execute(
                "SELECT time, tz, next_due, active FROM record_reminders WHERE chat_id = %s", [chat_id]
            ).fetchone()
        reminder = readable_reminder(chat_id, *row) if row else None
        return ChatRecords(logs=logs, plans=plans, reminder=reminder)

    def save_log(self, chat_id: int, entry: LogEntry) -> None:
        self._write(lambda conn: self._save_log(conn, chat_id, entry))

    @staticmethod
    def _save_log(conn: psycopg.Connection[Any], chat_id: int, entry: LogEntry) -> None:
        conn.execute(
            "INSERT INTO record_logs (id, chat_id, at, day, pain, distance_km, minutes, feel) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (id) DO UPDATE SET chat_id = excluded.chat_id, "
            "at = excluded.at, day = excluded.day, pain = excluded.pain, distance_km = excluded.distance_km, "
            "minutes = excluded.minutes, feel = excluded.feel",
            [entry.id, chat_id, entry.at, entry.day, entry.pain, entry.distance_km, entry.minutes, entry.feel],
        )

    def save_plan(self, chat_id: int, plan: Plan) -> None:
        self._write(lambda conn: self._save_plan(conn, chat_id, plan))

    @staticmethod
    def _save_plan(conn: psycopg.Connection[Any], chat_id: int, plan: Plan) -> None:
        if plan.active:
            others = conn.execute(
                "SELECT id, data FROM record_plans WHERE chat_id = %s AND active AND id != %s FOR UPDATE",
                [chat_id, plan.id],
            ).fetchall()
            for other_id, data in others:
                ended = replace(Plan.from_dict(json.loads(data)), active=False)
                conn.execute(
                    "UPDATE record_plans SET active = FALSE, data = %s WHERE id = %s",
                    [json.dumps(ended.to_dict()), other_id],
                )
        updated = plan.updated or iso(dt.datetime.now(dt.UTC))
        conn.execute(
            "INSERT INTO record_plans (id, chat_id, active, data, updated) VALUES (%s, %s, %s, %s, %s) "
            "ON CONFLICT (id) DO UPDATE SET active = excluded.active, data = excluded.data",
            [plan.id, chat_id, plan.active, json.dumps(plan.to_dict()), updated],
        )

    def set_reminder(self, chat_id: int, time: str, tz: str, now: dt.datetime) -> Reminder:
        return self._write(lambda conn: self._set_reminder(conn, chat_id, time, tz, now))

    @staticmethod
    def _set_reminder(conn: psycopg.Connection[Any], chat_id: int, time: str, tz: str, now: dt.datetime) -> Reminder:
        reminder = make_reminder(time, tz, now, chat_id)
        conn.execute(
            "INSERT INTO record_reminders (chat_id, time, tz, next_due, active, updated) "
            "VALUES (%s, %s, %s, %s, TRUE, %s) ON CONFLICT (chat_id) DO UPDATE SET time = excluded.time, "
            "tz = excluded.tz, next_due = excluded.next_due, active = TRUE, updated = excluded.updated",
            [chat_id, reminder.time, reminder.tz, reminder.next_due, iso(now)],
        )
        return reminder

    def cancel_reminders(self, chat_id: int) -> None:
        self._write(lambda conn: self._cancel_reminders(conn, chat_id))

    @staticmethod
    def _cancel_reminders(conn: psycopg.Connection[Any], chat_id: int) -> None:
        conn.execute("UPDATE record_reminders SET active = FALSE WHERE chat_id = %s", [chat_id])

    def _reminders(self, where: str, params: list[Any]) -> list[Reminder]:
        readable = (
            readable_reminder(chat_id, time, tz, due, active)
            for chat_id, time, tz, due, active in self.rows(
                f"SELECT chat_id, time, tz, next_due, active FROM record_reminders WHERE {where}", params
            )
        )
        return [reminder for reminder in readable if reminder is not None]

    def active_reminders(self) -> list[Reminder]:
        return self._reminders("active ORDER BY next_due, chat_id", [])

    def due_reminders(self, now: dt.datetime, limit: int = 1000) -> list[Reminder]:
        return self._reminders("active AND next_due <= %s ORDER BY next_due, chat_id LIMIT %s", [iso(now), limit])

    def claim(self, reminder: Reminder, now: dt.datetime) -> Reminder | None:
        return self._write(lambda conn: self._claim(conn, reminder, now))

    @staticmethod
    def _claim(conn: psycopg.Connection[Any], reminder: Reminder, now: dt.datetime) -> Reminder | None:
        following = iso(next_due(reminder.time, reminder.tz, max(now, reminder.due)))
        cursor = conn.execute(
            "UPDATE record_reminders SET next_due = %s WHERE chat_id = %s AND next_due = %s AND active "
            "AND time = %s AND tz = %s",
            [following, reminder.chat_id, reminder.next_due, reminder.time, reminder.tz],
        )
        return replace(reminder, next_due=following) if cursor.rowcount == 1 else None

    def forget(self, chat_id: int) -> None:
        self._write(lambda conn: self._forget(conn, chat_id))

    @staticmethod
    def _forget(conn: psycopg.Connection[Any], chat_id: int) -> None:
        for table in ("record_logs", "record_plans", "record_reminders"):
            conn.execute(f"DELETE FROM {table} WHERE chat_id = %s", [chat_id])  # type: ignore[arg-type]

    # ----- writes inside another store's transaction (the bot's turn: PgStore.commit's `also`) --------
    def _apply(self, conn: psycopg.Connection[Any], chat_id: int, effects: Iterable[Effect], now: dt.datetime) -> None:
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

    def writes(self, chat_id: int, effects: Iterable[Effect], now: dt.datetime) -> Callable[[Any], None]:
        """The record effects as a write in the caller's transaction on a PostgreSQL connection
        (`PgStore.commit(also=...)`); given anything else they get a transaction of their own."""
        effects = [e for e in effects if isinstance(e, RECORD_EFFECTS)]

        def write(conn: Any) -> None:
            if isinstance(conn, psycopg.Connection):
                self._apply(conn, chat_id, effects, now)
            else:
                self._write(lambda own: self._apply(own, chat_id, effects, now))

        return write

    def claiming(self, reminder: Reminder, now: dt.datetime, claimed: list[Reminder]) -> Callable[[Any], None]:
        """A claim as a write in the caller's transaction: appends the claimed reminder to `claimed`,
        or raises NotClaimed, which rolls that whole transaction back. A second claimant's UPDATE
        waits for the first one's row lock and then matches nothing."""
        def write(conn: Any) -> None:
            won = self._claim(conn, reminder, now) if isinstance(conn, psycopg.Connection) else self.claim(reminder, now)
            if won is None:
                raise NotClaimed(reminder.chat_id)
            claimed.append(won)

        return write
