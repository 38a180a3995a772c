"""Which storage the bot uses, from its settings: SQLite unless DATABASE_URL names PostgreSQL;
and which record store goes with a session store.

The PostgreSQL modules (and psycopg) are imported only when DATABASE_URL is set, so a SQLite
bot pays nothing for them.
"""

from __future__ import annotations

from bot.config import Settings
from bot.storage.memory import MemoryRecordStore
from bot.storage.records import RecordStore
from bot.storage.sessions import SessionStore
from bot.storage.sqlite_records import SqliteRecordStore
from bot.storage.sqlite_sessions import SqliteStore


def open_store(settings: Settings) -> SessionStore:
    """The session store: sessions, counts, the inbox and the outbox."""
    if settings.database_url:
        from bot.storage.pg_sessions import PgStore

        return PgStore(settings.database_url, timeout_s=settings.retry_cap_s)
    return SqliteStore(settings.database_path, lock_wait_s=settings.retry_cap_s)


def open_records(settings: Settings) -> RecordStore:
    """The companion's record store (logs, plans, reminders), in the same database as the sessions."""
    if settings.database_url:
        from bot.storage.pg_records import PgRecordStore

        return PgRecordStore(settings.database_url)
    return SqliteRecordStore(settings.database_path)


def shared(store: SessionStore) -> bool:
    """Whether several bot instances may share this store (then a Cluster coordinates them)."""
    return getattr(store, "url", "").startswith(("postgresql://", "postgres://"))


def record_store_for(store: SessionStore) -> RecordStore:
    """The records live beside the sessions: in the same SQLite file on the same connection, or in
    the same PostgreSQL database on the same pool, so a turn's records are written in the turn's
    one transaction (`commit`'s `also`). Only a store of neither kind (tests) keeps them in memory."""
    if isinstance(store, SqliteStore):
        return SqliteRecordStore.sharing(store.db)
    if shared(store):  # PostgreSQL: imported only then, as psycopg is
        from bot.storage.pg_records import PgRecordStore
        from bot.storage.pg_sessions import PgStore

        if isinstance(store, PgStore):
            return PgRecordStore.sharing(store)
    return MemoryRecordStore()
