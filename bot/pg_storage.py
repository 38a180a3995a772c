"""PostgreSQL storage (issue 14): the same two interfaces as SQLite, for several bot instances.

`PgStore` is a `SessionStore` (sessions, anonymous counts, the inbox and the outbox) and
`PgRecordStore` a `RecordStore` (the companion's logs, plans and reminders); both keep the
contracts in tests/test_storage.py and tests/test_records.py, which run against a real server.

Why psycopg 3 with psycopg_pool: it is the maintained PostgreSQL driver with both a blocking
and an asyncio API over one code base. The stores are blocking, like SqliteStore, because the
bot already runs storage on executor threads and the engine turn is synchronous; the cross-
instance chat locks (bot/cluster.py) use the asyncio API on the event loop. A pool lets the
database threads work side by side and survives a server-side disconnect (a dead connection is
replaced, not reused).

What differs from SQLite, on purpose:

- No session cache. With several instances any of them may have changed a chat since this one
  last saw it, so every load reads the database (one indexed primary-key read).
- Schema versions live in `runner_bot_migrations` (version, name, applied); migrations run in
  one transaction each, under an advisory lock, so instances starting together do not race.
- A connection or server failure raises `StorageBusy`: the update is tried again shortly, as
  when SQLite stays locked, and nothing half-written remains (each call is one transaction).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from typing import Any, TypeVar

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from bot.records import RECORD_EFFECTS, NotClaimed
from bot.storage import KEEP, Also, Message, Outgoing, StorageBusy, StorageError, _read
from conversations.events import CancelReminders, Effect, Forget, SaveLog, SavePlan, SetReminder
from conversations.recovery_records import ChatRecords, LogEntry, Plan, Reminder, iso, make_reminder, next_due
from conversations.session import Session

log = logging.getLogger(__name__)
T = TypeVar("T")

MIGRATION_LOCK = 7_291_046_315  # pg_advisory_xact_lock key held while migrating

# (version, name, statements): append only; a released migration is never edited.
MIGRATIONS: list[tuple[int, str, list[str]]] = [
    (
        1,
        "sessions_and_counts",
        [
            "CREATE TABLE IF NOT EXISTS sessions (chat_id BIGINT PRIMARY KEY, session TEXT NOT NULL, updated TEXT)",
            "CREATE TABLE IF NOT EXISTS event_counts (day TEXT, kind TEXT, value TEXT, n BIGINT NOT NULL, "
            "PRIMARY KEY (day, kind, value))",
        ],
    ),
    (
        2,
        "inbox_and_outbox",
        [
            "CREATE TABLE IF NOT EXISTS inbox (update_id BIGINT PRIMARY KEY, chat_id BIGINT, payload TEXT, "
            "received DOUBLE PRECISION NOT NULL, done DOUBLE PRECISION)",
            # a chat's unfinished updates, oldest first: what the chat lock's catch-up reads
            "CREATE INDEX IF NOT EXISTS inbox_unfinished ON inbox (chat_id, update_id) WHERE done IS NULL",
            "CREATE INDEX IF NOT EXISTS inbox_done ON inbox (done) WHERE done IS NOT NULL",
            "CREATE TABLE IF NOT EXISTS outbox (id BIGSERIAL PRIMARY KEY, chat_id BIGINT NOT NULL, "
            "body TEXT NOT NULL, created DOUBLE PRECISION NOT NULL, failed BOOLEAN NOT NULL DEFAULT FALSE)",
            "CREATE INDEX IF NOT EXISTS outbox_by_chat ON outbox (chat_id, id)",
        ],
    ),
    (
        3,
        "records",
        [
            "CREATE TABLE IF NOT EXISTS record_logs (id TEXT PRIMARY KEY, chat_id BIGINT NOT NULL, at TEXT, "
            "day TEXT, pain INTEGER, distance_km DOUBLE PRECISION, minutes DOUBLE PRECISION, feel TEXT)",
            "CREATE INDEX IF NOT EXISTS record_logs_chat_day ON record_logs (chat_id, day)",
            "CREATE TABLE IF NOT EXISTS record_plans (id TEXT PRIMARY KEY, seq BIGSERIAL, chat_id BIGINT NOT NULL, "
            "active BOOLEAN NOT NULL, data TEXT NOT NULL, updated TEXT)",
            "CREATE INDEX IF NOT EXISTS record_plans_chat ON record_plans (chat_id)",
            "CREATE TABLE IF NOT EXISTS record_reminders (chat_id BIGINT PRIMARY KEY, time TEXT NOT NULL, "
            "tz TEXT NOT NULL, next_due TEXT NOT NULL, active BOOLEAN NOT NULL, updated TEXT)",
            "CREATE INDEX IF NOT EXISTS record_reminders_due ON record_reminders (active, next_due)",
        ],
    ),
]


def is_postgres_url(url: str) -> bool:
    return url.startswith(("postgresql://", "postgres://"))


def safe_url(url: str) -> str:
    """The URL without its password, for messages and logs."""
    scheme, sep, rest = url.partition("://")
    if "@" not in rest:
        return url
    credentials, _, host = rest.rpartition("@")
    user = credentials.split(":", 1)[0]
    return f"{scheme}{sep}{user}@{host}" if user else f"{scheme}{sep}{host}"


def migrate(conn: psycopg.Connection[Any]) -> list[str]:
    """Apply the migrations not yet recorded (each in its own transaction); the names applied now."""
    applied_now = []
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", [MIGRATION_LOCK])
        conn.execute(
            "CREATE TABLE IF NOT EXISTS runner_bot_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
            "applied TIMESTAMPTZ NOT NULL DEFAULT now())"
        )
        done = {row[0] for row in conn.execute("SELECT version FROM runner_bot_migrations")}
        for version, name, statements in MIGRATIONS:
            if version in done:
                continue
            with conn.transaction():  # a savepoint: one migration fails whole
                for statement in statements:
                    conn.execute(statement)  # type: ignore[arg-type]  # our own constant SQL
                conn.execute("INSERT INTO runner_bot_migrations (version, name) VALUES (%s, %s)", [version, name])
            applied_now.append(name)
    return applied_now


def applied_migrations(conn: psycopg.Connection[Any]) -> list[str]:
    return [row[0] for row in conn.execute("SELECT name FROM runner_bot_migrations ORDER BY version")]


class _Pooled:
    """A connection pool with the error handling both stores share."""

    POOL_TIMEOUT_S = 30.0

    def __init__(self, url: str, max_size: int, what: str) -> None:
        self.url = url
        self._what = what
        try:
            self.pool: ConnectionPool[psycopg.Connection[Any]] = ConnectionPool(
                url,
                min_size=1,
                max_size=max_size,
                kwargs={"autocommit": True},
                timeout=self.POOL_TIMEOUT_S,
                check=ConnectionPool.check_connection,  # a connection the server dropped is replaced
                open=False,
                name=what,
            )
            self.pool.open(wait=True, timeout=10)
            with self.pool.connection() as conn:
                migrate(conn)
        except (psycopg.Error, PoolTimeout, OSError) as error:
            self.pool.close()
            raise StorageError(f"cannot use the {what} at {safe_url(url)}: {_reason(error)}") from None

    @contextmanager
    def _conn(self) -> Iterator[psycopg.Connection[Any]]:
        try:
            with self.pool.connection() as conn:
                yield conn
        except (psycopg.OperationalError, PoolTimeout) as error:
            raise StorageBusy(f"the {self._what} at {safe_url(self.url)} failed: {_reason(error)}") from None

    @contextmanager
    def _tx(self) -> Iterator[psycopg.Connection[Any]]:
        with self._conn() as conn, conn.transaction():
            yield conn

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._conn() as conn:
            return conn.execute(sql, params).fetchall()  # type: ignore[arg-type]

    def ping(self) -> bool:
        """Whether the database answers now (the readiness check)."""
        try:
            self._rows("SELECT 1")
        except (StorageError, psycopg.Error):
            return False
        return True

    def close(self) -> None:
        self.pool.close()


def _reason(error: BaseException) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


class PgStore(_Pooled):
    """Sessions, counts, the inbox and the outbox in PostgreSQL; safe to share between instances.

    Each method is one transaction on a pooled connection, so the bot may call it from several
    database threads. Per-chat order across instances is not this class's business: the
    cluster's chat lock (bot/cluster.py) is held around a chat's turns and sends.
    """

    DB_THREADS = 4  # the bot's database threads: each call takes its own connection
    KEEP_DONE_IDS_S = 24 * 3600

    def __init__(self, url: str, pool_size: int = 8) -> None:
        super().__init__(url, pool_size, "database")
        self._last_prune = 0.0

    # ----- sessions ----------------------------------------------------------------------
    def load(self, chat_id: int) -> Session | None:
        rows = self._rows("SELECT session FROM sessions WHERE chat_id = %s", [chat_id])
        return _read(rows[0][0]) if rows else None

    def save(self, chat_id: int, session: Session) -> None:
        with self._tx() as conn:
            self._save(conn, chat_id, session)

    @staticmethod
    def _save(conn: psycopg.Connection[Any], chat_id: int, session: Session) -> None:
        conn.execute(
            "INSERT INTO sessions (chat_id, session, updated) VALUES (%s, %s, %s) "
            "ON CONFLICT (chat_id) DO UPDATE SET session = excluded.session, updated = excluded.updated",
            [chat_id, session.to_json(), _now()],
        )

    def forget(self, chat_id: int) -> None:
        with self._tx() as conn:
            self._forget(conn, chat_id)

    @staticmethod
    def _forget(conn: psycopg.Connection[Any], chat_id: int) -> None:
        conn.execute("DELETE FROM sessions WHERE chat_id = %s", [chat_id])
        conn.execute("DELETE FROM outbox WHERE chat_id = %s", [chat_id])
        conn.execute("DELETE FROM inbox WHERE chat_id = %s AND done IS NOT NULL", [chat_id])

    def count(self, kind: str, value: str) -> None:
        with self._tx() as conn:
            conn.execute(
                "INSERT INTO event_counts (day, kind, value, n) VALUES (%s, %s, %s, 1) "
                "ON CONFLICT (day, kind, value) DO UPDATE SET n = event_counts.n + 1",
                [dt.date.today().isoformat(), kind, value],
            )

    def counts(self) -> dict[tuple[str, str], int]:
        rows = self._rows("SELECT kind, value, SUM(n) FROM event_counts GROUP BY kind, value")
        return {(kind, value): int(total) for kind, value, total in rows}

    # ----- the inbox -----------------------------------------------------------------------
    def receive(self, updates: Sequence[tuple[int, int | None, str]]) -> list[int]:
        if not updates:
            return []
        now, new = time.time(), []
        with self._tx() as conn:
            for update_id, chat_id, payload in updates:
                cursor = conn.execute(
                    "INSERT INTO inbox (update_id, chat_id, payload, received) VALUES (%s, %s, %s, %s) "
                    "ON CONFLICT (update_id) DO NOTHING",
                    [update_id, chat_id, payload, now],
                )
                if cursor.rowcount:
                    new.append(update_id)
            if now - self._last_prune > 600:
                conn.execute("DELETE FROM inbox WHERE done < %s", [now - self.KEEP_DONE_IDS_S])
                self._last_prune = now
        return new

    def unfinished(self) -> list[tuple[int, str]]:
        return [
            (uid, payload)
            for uid, payload in self._rows(
                "SELECT update_id, payload FROM inbox WHERE done IS NULL ORDER BY update_id"
            )
        ]

    def stale(self, older_than_s: float, limit: int = 500) -> list[tuple[int, str]]:
        """Unfinished updates received more than `older_than_s` ago (left by a stopped instance)."""
        return [
            (uid, payload)
            for uid, payload in self._rows(
                "SELECT update_id, payload FROM inbox WHERE done IS NULL AND received < %s "
                "ORDER BY update_id LIMIT %s",
                [time.time() - older_than_s, limit],
            )
        ]

    def stale_outbox_chats(self, older_than_s: float) -> list[int]:
        """Chats with messages queued more than `older_than_s` ago (a stopped instance's)."""
        rows = self._rows(
            "SELECT DISTINCT chat_id FROM outbox WHERE NOT failed AND created < %s", [time.time() - older_than_s]
        )
        return [row[0] for row in rows]

    def finish(self, update_id: int) -> None:
        with self._tx() as conn:
            self._finish(conn, update_id)

    @staticmethod
    def _finish(conn: psycopg.Connection[Any], update_id: int) -> None:
        conn.execute(
            "UPDATE inbox SET payload = NULL, chat_id = NULL, done = %s WHERE update_id = %s",
            [time.time(), update_id],
        )

    # ----- a turn, in one transaction ---------------------------------------------------------
    def commit(
        self,
        chat_id: int,
        update_id: int | None,
        session: Session | object | None = KEEP,
        messages: Sequence[Message] = (),
        revive_with: str = "",
        also: Also | None = None,
    ) -> list[Outgoing]:
        with self._tx() as conn:
            if also is not None:  # the turn's records or a reminder's claim; raising rolls all back
                also(conn)
            if session is None:
                self._forget(conn, chat_id)
            elif isinstance(session, Session):
                self._save(conn, chat_id, session)
            if revive_with:
                self._revive(conn, chat_id, revive_with)
            now = time.time()
            if messages:
                with conn.cursor() as cursor:
                    cursor.executemany(
                        "INSERT INTO outbox (chat_id, body, created) VALUES (%s, %s, %s)",
                        [
                            (chat_id, Outgoing(0, chat_id, m.text, m.buttons, False, m.question, m.edit).body(), now)
                            for m in messages
                        ],
                    )
            if update_id is not None:
                self._finish(conn, update_id)
            return self._queued(conn, chat_id)

    @staticmethod
    def _revive(conn: psycopg.Connection[Any], chat_id: int, note: str) -> None:
        rows = conn.execute(
            "SELECT id, body FROM outbox WHERE chat_id = %s AND failed ORDER BY id", [chat_id]
        ).fetchall()
        if rows:
            first = Outgoing.of(rows[0][0], chat_id, rows[0][1])
            revived = replace(first, text=f"{note}\n\n{first.text}", edit=0)
            conn.execute("UPDATE outbox SET body = %s WHERE id = %s", [revived.body(), first.id])
            conn.execute("UPDATE outbox SET failed = FALSE WHERE chat_id = %s", [chat_id])

    def has_failed(self, chat_id: int) -> bool:
        return bool(self._rows("SELECT 1 FROM outbox WHERE chat_id = %s AND failed LIMIT 1", [chat_id]))

    def queued(self, chat_id: int) -> list[Outgoing]:
        with self._conn() as conn:
            return self._queued(conn, chat_id)

    @staticmethod
    def _queued(conn: psycopg.Connection[Any], chat_id: int) -> list[Outgoing]:
        rows = conn.execute(
            "SELECT id, body FROM outbox WHERE chat_id = %s AND NOT failed ORDER BY id", [chat_id]
        ).fetchall()
        return [Outgoing.of(row_id, chat_id, body) for row_id, body in rows]

    def chats_with_queued(self) -> list[int]:
        return [row[0] for row in self._rows("SELECT DISTINCT chat_id FROM outbox WHERE NOT failed")]

    def delivered(self, row_id: int) -> None:
        with self._tx() as conn:
            conn.execute("DELETE FROM outbox WHERE id = %s", [row_id])

    def give_up(self, chat_id: int, from_row: int) -> None:
        with self._tx() as conn:
            conn.execute("UPDATE outbox SET failed = TRUE WHERE chat_id = %s AND id >= %s", [chat_id, from_row])


class PgRecordStore(_Pooled):
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
        records.url, records._what, records.pool = store.url, "database", store.pool
        records._owns_pool = False
        return records

    def close(self) -> None:
        if self._owns_pool:
            super().close()

    def _write(self, work: Callable[[psycopg.Connection[Any]], T]) -> T:
        with self._tx() as conn:
            return work(conn)

    def records(self, chat_id: int) -> ChatRecords:
        with self._conn() as conn:
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
        reminder = Reminder(row[0], row[1], row[2], bool(row[3]), chat_id) if row else None
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
        return [
            Reminder(time, tz, due, bool(active), chat_id)
            for chat_id, time, tz, due, active in self._rows(
                f"SELECT chat_id, time, tz, next_due, active FROM record_reminders WHERE {where}", params
            )
        ]

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


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
