"""PostgreSQL storage (issue 14): the connection pool and the migrations both stores share.

`PgStore` (bot/storage/pg_sessions.py) is a `SessionStore` (sessions, anonymous counts, the inbox
and the outbox) and `PgRecordStore` (bot/storage/pg_records.py) a `RecordStore` (the companion's
logs, plans and reminders); both keep the contracts in tests/test_storage.py and
tests/test_records.py, which run against a real server.

Why psycopg 3 with psycopg_pool: it is the maintained PostgreSQL driver with both a blocking
and an asyncio API over one code base. The stores are blocking, like SqliteStore, because the
bot already runs storage on executor threads and the engine turn is synchronous; the cross-
instance chat locks (bot/telegram/cluster.py) use the asyncio API on the event loop. A pool lets
the database threads work side by side and survives a server-side disconnect (a dead connection
is replaced, not reused).

What differs from SQLite, on purpose:

- No session cache. With several instances any of them may have changed a chat since this one
  last saw it, so every load reads the database (one indexed primary-key read).
- Schema versions live in `runner_bot_migrations` (version, name, applied); migrations run in
  one transaction each, under an advisory lock, so instances starting together do not race.
- A connection or server failure raises `StorageBusy`: the update is tried again shortly, as
  when SQLite stays locked, and nothing half-written remains (each call is one transaction).
"""


from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from bot.storage.sessions import StorageBusy, StorageError

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
    """The names of the migrations recorded in this database, oldest first."""
    return [row[0] for row in conn.execute("SELECT name FROM runner_bot_migrations ORDER BY version")]


class PooledDatabase:
    """A connection pool with the error handling both stores share (PgStore, PgRecordStore)."""

    POOL_TIMEOUT_S = 30.0

    def __init__(self, url: str, max_size: int, what: str, timeout_s: float = POOL_TIMEOUT_S) -> None:
        self.url = url
        self.what = what  # named in error messages: "database" or "records database"
        try:
            self.pool: ConnectionPool[psycopg.Connection[Any]] = ConnectionPool(
                url,
                min_size=1,
                max_size=max_size,
                kwargs={"autocommit": True},
                timeout=timeout_s,  # a call waits this long for a connection, then StorageBusy
                # psycopg_pool's reconnect waits double without bound until this, when it gives up
                # and the next call starts afresh: short, so the pool is back soon after the server
                reconnect_timeout=timeout_s,
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
    def connection(self) -> Iterator[psycopg.Connection[Any]]:
        """A pooled connection; a connection or server failure raises StorageBusy."""
        try:
            with self.pool.connection() as conn:
                yield conn
        except (psycopg.OperationalError, PoolTimeout) as error:
            raise StorageBusy(f"the {self.what} at {safe_url(self.url)} failed: {_reason(error)}") from None

    @contextmanager
    def transaction(self) -> Iterator[psycopg.Connection[Any]]:
        """A pooled connection inside one transaction."""
        with self.connection() as conn, conn.transaction():
            yield conn

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """The rows of one query, on a pooled connection."""
        with self.connection() as conn:
            return conn.execute(sql, params).fetchall()  # type: ignore[arg-type]

    def probe(self) -> None:
        """Raises StorageBusy while the database does not answer (the bot's outage watch)."""
        self.rows("SELECT 1")

    def ping(self) -> bool:
        """Whether the database answers now (the readiness check)."""
        try:
            self.rows("SELECT 1")
        except (StorageError, psycopg.Error):
            return False
        return True

    def close(self) -> None:
        self.pool.close()


def _reason(error: BaseException) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__

