"""One contract, two stores: the in-memory store and the SQLite store behave the same."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.storage.memory import MemoryStore
from bot.storage.sessions import KEEP, Message, SessionStore, StorageBusy, StorageError
from bot.storage.sqlite_sessions import MIGRATIONS, SqliteStore
from conversations.session import Frame, Session
from tests.pg_server import fresh_database


@pytest.fixture(params=["memory", "sqlite-file", "sqlite-in-memory", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SessionStore]:
    if request.param == "postgresql":
        from bot.storage.pg_sessions import PgStore

        made: SessionStore = PgStore(fresh_database(request.getfixturevalue("pg_server")))
        yield made
        made.close()
        return
    made = {
        "memory": MemoryStore,
        "sqlite-file": lambda: SqliteStore(tmp_path / "deep" / "folder" / "runner.sqlite3"),
        "sqlite-in-memory": lambda: SqliteStore(":memory:"),
    }[request.param]()
    yield made
    made.close()


class TestStoreContract:
    def test_unknown_chat_has_no_session(self, store: SessionStore) -> None:
        assert store.load(1) is None

    def test_saved_session_comes_back_equal(self, store: SessionStore) -> None:
        session = Session(
            stack=[Frame("triage", step="trigger", region="hip", concepts=["hip_front"])],
            flags=["night_pain"],
            cleared=["cauda_equina"],
            urgency="soon",
            menu=7,
            last_condition="hip_flexor_strain",
            back=[{"stack": [{"flow": "triage", "step": "location"}], "cleared": [], "doubtful": []}],
        )
        store.save(1, session)
        assert store.load(1) == session

    def test_saving_again_replaces(self, store: SessionStore) -> None:
        store.save(1, Session(menu=1))
        store.save(1, Session(menu=2))
        assert store.load(1).menu == 2  # type: ignore[union-attr]

    def test_chats_are_kept_apart(self, store: SessionStore) -> None:
        store.save(1, Session(menu=1))
        store.save(2, Session(menu=2))
        assert (store.load(1).menu, store.load(2).menu) == (1, 2)  # type: ignore[union-attr]

    def test_forget_deletes_only_that_chat(self, store: SessionStore) -> None:
        store.save(1, Session(menu=1))
        store.save(2, Session(menu=2))
        store.forget(1)
        store.forget(99)  # forgetting an unknown chat is fine
        assert store.load(1) is None and store.load(2) is not None

    def test_counts_add_up(self, store: SessionStore) -> None:
        store.count("result", "lumbar_strain")
        store.count("result", "lumbar_strain")
        store.count("warning", "emergency")
        assert store.counts() == {("result", "lumbar_strain"): 2, ("warning", "emergency"): 1}

    def test_large_chat_ids(self, store: SessionStore) -> None:
        store.save(-1001234567890123, Session(menu=3))
        assert store.load(-1001234567890123).menu == 3  # type: ignore[union-attr]


def test_sqlite_survives_reopening_and_uses_wal(tmp_path: Path) -> None:
    path = tmp_path / "runner.sqlite3"
    first = SqliteStore(path)
    first.save(5, Session(menu=9, stack=[Frame("triage", concepts=["snapping"])]))
    first.close()
    second = SqliteStore(path)
    assert second.load(5) == Session(menu=9, stack=[Frame("triage", concepts=["snapping"])])
    assert second.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert [m.name for m in MIGRATIONS.applied(second.db)] == ["m001_sessions_and_counts", "m002_inbox_and_outbox"]
    second.close()


def test_an_unreadable_stored_session_starts_the_chat_afresh(tmp_path: Path) -> None:
    path = tmp_path / "runner.sqlite3"
    store = SqliteStore(path)
    store.db.execute("INSERT INTO sessions (chat_id, session, updated) VALUES (1, '{not json', 'x')")
    assert store.load(1) is None
    store.close()


def test_a_version_1_session_stored_before_a_deploy_is_read_as_version_2(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "runner.sqlite3")
    v1 = '{"state":"location","flow":"triage","region":"hip","concepts":[],"menu":4,"version":1}'
    store.db.execute("INSERT INTO sessions (chat_id, session, updated) VALUES (1, ?, 'x')", [v1])
    loaded = store.load(1)
    assert loaded is not None and loaded.version == 2
    assert [(f.flow, f.region) for f in loaded.stack] == [("triage", "hip")] and loaded.menu == 4
    store.close()


def test_no_message_text_column_exists(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "runner.sqlite3")
    columns = {c.name for table in ("sessions", "event_counts") for c in store.db[table].columns}
    assert columns == {"chat_id", "session", "updated", "day", "kind", "value", "n"}
    store.close()


@pytest.mark.parametrize("path", ["/proc/no/such/place.sqlite3", "/dev/null/x.sqlite3"])
def test_unusable_path_raises_storage_error_naming_it(path: str) -> None:
    with pytest.raises(StorageError, match="cannot use the database at"):
        SqliteStore(path)


def test_a_directory_is_not_a_database(tmp_path: Path) -> None:
    with pytest.raises(StorageError):
        SqliteStore(tmp_path)


def test_sqlite_error_type_is_not_leaked() -> None:
    assert not issubclass(StorageError, sqlite3.Error)


# ----- the inbox and the outbox (issue 12) ---------------------------------------------------


class TestDeliveryContract:
    def test_an_update_is_received_once(self, store: SessionStore) -> None:
        assert store.receive([(1, 5, '{"a": 1}'), (2, 5, '{"b": 2}')]) == [1, 2]
        assert store.receive([(2, 5, '{"b": 2}'), (3, 6, "{}")]) == [3]
        assert [uid for uid, _ in store.unfinished()] == [1, 2, 3]

    def test_a_done_update_keeps_no_text_and_is_still_recognised(self, store: SessionStore) -> None:
        store.receive([(1, 5, '{"text": "my hip"}')])
        store.commit(5, 1, Session(menu=1))
        assert store.unfinished() == []
        assert store.receive([(1, 5, '{"text": "my hip"}')]) == []

    def test_a_turn_queues_its_messages_in_order(self, store: SessionStore) -> None:
        store.receive([(1, 5, "{}")])
        queued = store.commit(5, 1, Session(menu=2), [Message("one"), Message("two", (("Yes", "1:y"),))])
        assert [(m.text, m.buttons) for m in queued] == [("one", ()), ("two", (("Yes", "1:y"),))]
        assert store.load(5).menu == 2  # type: ignore[union-attr]
        store.delivered(queued[0].id)
        assert [m.text for m in store.queued(5)] == ["two"] and store.chats_with_queued() == [5]

    def test_failed_messages_wait_and_come_back_with_a_note(self, store: SessionStore) -> None:
        first, _second = store.commit(5, None, KEEP, [Message("q1"), Message("q2")])
        store.give_up(5, first.id)
        assert store.queued(5) == [] and store.has_failed(5)
        queued = store.commit(5, None, KEEP, [Message("q3")], revive_with="Sorry")
        assert [m.text for m in queued] == ["Sorry\n\nq1", "q2", "q3"] and not store.has_failed(5)

    def test_forget_deletes_the_chats_outbox(self, store: SessionStore) -> None:
        store.commit(5, None, Session(menu=1), [Message("q1")])
        store.commit(6, None, Session(menu=1), [Message("other")])
        queued = store.commit(5, None, None, [Message("deleted")])
        assert [m.text for m in queued] == ["deleted"] and store.load(5) is None
        assert [m.text for m in store.queued(6)] == ["other"]


def test_a_database_from_before_migrations_is_adopted(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as old:
        old.execute("CREATE TABLE sessions (chat_id INTEGER PRIMARY KEY, session TEXT)")
        old.execute("INSERT INTO sessions VALUES (5, ?)", [Session(menu=4).to_json()])
    store = SqliteStore(path)
    assert store.load(5) == Session(menu=4)
    store.save(5, Session(menu=5))
    store.close()


def test_a_read_only_database_is_refused_at_start_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "runner.sqlite3"
    SqliteStore(path).close()
    connect = sqlite3.connect
    # chmod cannot make a file read-only for root, so open it read-only the way SQLite would
    monkeypatch.setattr(sqlite3, "connect", lambda p, **kw: connect(f"file:{p}?mode=ro", uri=True, **kw))
    with pytest.raises(StorageError, match=r"cannot use the database at .*readonly"):
        SqliteStore(path)


def test_a_lock_is_waited_for_then_reported_as_busy(tmp_path: Path) -> None:
    path = tmp_path / "runner.sqlite3"
    store = SqliteStore(path)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    store.LOCK_WAIT_S = 0.5
    with pytest.raises(StorageBusy):
        store.save(1, Session(menu=1))
    other.execute("ROLLBACK")
    store.save(1, Session(menu=1))  # and it works again once the lock is gone
    assert store.load(1) == Session(menu=1)
    other.close()
    store.close()
