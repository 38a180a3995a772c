"""One contract, two stores: the in-memory store and the SQLite store behave the same."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.storage import MIGRATIONS, MemoryStore, SessionStore, SqliteStore, StorageError
from conversations.session import Frame, Session


@pytest.fixture(params=["memory", "sqlite-file", "sqlite-in-memory"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SessionStore]:
    made: SessionStore = {
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
    assert [m.name for m in MIGRATIONS.applied(second.db)] == ["m001_sessions_and_counts"]
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
