"""Which storage the bot uses, from its settings: SQLite unless DATABASE_URL names PostgreSQL.

The PostgreSQL modules (and psycopg) are imported only when DATABASE_URL is set, so a SQLite
bot pays nothing for them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.config import Settings
from bot.storage.records import RecordStore, SqliteRecordStore
from bot.storage.sessions import SessionStore, SqliteStore

if TYPE_CHECKING:
    from bot.telegram.cluster import Cluster


def open_store(settings: Settings) -> SessionStore:
    """The session store: sessions, counts, the inbox and the outbox."""
    if settings.database_url:
        from bot.storage.postgres import PgStore

        return PgStore(settings.database_url)
    return SqliteStore(settings.database_path)


def open_records(settings: Settings) -> RecordStore:
    """The companion's record store (logs, plans, reminders), in the same database as the sessions."""
    if settings.database_url:
        from bot.storage.postgres import PgRecordStore

        return PgRecordStore(settings.database_url)
    return SqliteRecordStore(settings.database_path)


def shared(store: SessionStore) -> bool:
    """Whether several bot instances may share this store (then a Cluster coordinates them)."""
    return getattr(store, "url", "").startswith(("postgresql://", "postgres://"))


def cluster_for(store: SessionStore) -> Cluster | None:
    """Cross-instance coordination for a shared store; None for SQLite (one process owns the file)."""
    if not shared(store):
        return None
    from bot.telegram.cluster import Cluster

    return Cluster(store.url)  # type: ignore[attr-defined]  # shared() checked it has one
