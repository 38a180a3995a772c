"""What only the PostgreSQL backend has: its migration table, several instances on one database,
and the choice of backend from DATABASE_URL. (The shared contracts run in test_storage.py and
test_records.py against every backend.)"""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

import pytest

from bot.config import ConfigError, Settings
from bot.storage.backends import open_records, open_store
from bot.storage.sessions import Message, StorageError
from bot.storage.sqlite_records import SqliteRecordStore
from bot.storage.sqlite_sessions import SqliteStore
from bot.telegram.application import cluster_for
from conversations.session import Session

NOW = dt.datetime(2025, 3, 28, 12, 0, tzinfo=dt.UTC)


def test_migrations_are_recorded_once_even_when_instances_start_together(pg_url: str) -> None:
    from bot.storage.pg_pool import MIGRATIONS, applied_migrations
    from bot.storage.pg_sessions import PgStore

    stores: list[PgStore] = []
    threads = [threading.Thread(target=lambda: stores.append(PgStore(pg_url))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(stores) == 4
    with stores[0].pool.connection() as conn:
        assert applied_migrations(conn) == [name for _, name, _ in MIGRATIONS]
    for store in stores:
        store.close()


def test_two_instances_see_each_others_sessions_at_once(pg_url: str) -> None:
    from bot.storage.pg_sessions import PgStore

    first, second = PgStore(pg_url), PgStore(pg_url)
    first.save(1, Session(menu=1))
    assert second.load(1) == Session(menu=1)
    second.commit(1, None, Session(menu=2), [Message("hi")])
    assert first.load(1) == Session(menu=2)  # no stale cache in the other instance
    assert [m.text for m in first.queued(1)] == ["hi"]
    first.close()
    second.close()


def test_an_update_received_by_two_instances_is_new_to_one(pg_url: str) -> None:
    from bot.storage.pg_sessions import PgStore

    stores = [PgStore(pg_url) for _ in range(2)]
    results: list[list[int]] = []
    threads = [threading.Thread(target=lambda s=s: results.append(s.receive([(9, 5, "{}")]))) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [[], [9]]
    for store in stores:
        store.close()


def test_instances_claiming_every_due_reminder_send_each_once(pg_url: str) -> None:
    from bot.storage.pg_records import PgRecordStore

    setup = PgRecordStore(pg_url)
    for chat in range(200):
        setup.set_reminder(chat, "07:30", "UTC", NOW)
    instances = [PgRecordStore(pg_url) for _ in range(4)]
    due_at = NOW + dt.timedelta(days=1)
    sent: list[int] = []
    lock = threading.Lock()

    def sender(store: PgRecordStore) -> None:
        for reminder in store.due_reminders(due_at):
            if store.claim(reminder, due_at) is not None:
                with lock:
                    sent.append(reminder.chat_id)

    threads = [threading.Thread(target=sender, args=(s,)) for s in instances]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(sent) == list(range(200)), "every reminder sent, none twice"
    for store in [setup, *instances]:
        store.close()


def test_an_unreachable_server_is_one_line_without_the_password() -> None:
    from bot.storage.pg_sessions import PgStore

    PgStore.POOL_TIMEOUT_S = 2.0
    with pytest.raises(StorageError, match=r"cannot use the database at postgresql://bot@127\.0\.0\.1:1/x") as raised:
        PgStore("postgresql://bot:hunter2@127.0.0.1:1/x?connect_timeout=1")
    assert "hunter2" not in str(raised.value)


def test_the_backend_is_chosen_by_database_url(pg_url: str, tmp_path: Path) -> None:
    sqlite = Settings.from_env({"DATABASE_PATH": str(tmp_path / "x.sqlite3")})
    store, records = open_store(sqlite), open_records(sqlite)
    assert isinstance(store, SqliteStore) and isinstance(records, SqliteRecordStore)
    assert cluster_for(store) is None
    store.close()
    records.close()
    pg = Settings.from_env({"DATABASE_URL": pg_url})
    store, records = open_store(pg), open_records(pg)
    assert type(store).__name__ == "PgStore" and type(records).__name__ == "PgRecordStore"
    assert cluster_for(store) is not None
    store.close()
    records.close()


def test_database_url_must_be_postgresql() -> None:
    with pytest.raises(ConfigError, match="DATABASE_URL must be a PostgreSQL URL"):
        Settings.from_env({"DATABASE_URL": "mysql://x"})
    assert "secret" not in repr(Settings.from_env({"DATABASE_URL": "postgresql://u:secret@h/db"}))


def test_two_instances_reminding_at_once_queue_each_reminder_once(pg_url: str) -> None:
    """Bridge.remind on two instances (threads, each its own pool): each due reminder's claim and
    its message commit together on exactly one of them."""
    from bot.storage.backends import record_store_for
    from bot.storage.pg_sessions import PgStore
    from bot.telegram.bridge import Bridge
    from conversations.engine import Engine

    now = dt.datetime(2026, 3, 2, 7, 0, 1, tzinfo=dt.UTC)
    bridges = []
    for _ in range(2):
        store = PgStore(pg_url)
        bridges.append(Bridge(Engine(now=lambda: now), store, record_store_for(store)))
    chats = range(9000, 9040)
    for chat in chats:
        bridges[0].records.set_reminder(chat, "07:00", "UTC", now - dt.timedelta(hours=2))
    due = bridges[0].records.due_reminders(now)
    assert len(due) == len(chats)
    outcomes: list[list[tuple[int, bool, object]]] = []
    start = threading.Barrier(2)

    def remind(bridge: Bridge) -> None:
        start.wait()
        outcomes.append(bridge.remind(due))

    threads = [threading.Thread(target=remind, args=(b,)) for b in bridges]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    queued = sorted(chat for outcome in outcomes for chat, sent, _ in outcome if sent)
    assert queued == list(chats), "every reminder queued, none twice"
    assert all(len(bridges[0].store.queued(chat)) == 1 for chat in chats)
    for bridge in bridges:
        bridge.store.close()
