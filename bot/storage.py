"""Where each chat's conversation is kept, so a restart (even `kill -9`) loses nothing.

Two implementations of one small interface: `MemoryStore` (tests, the console) and
`SqliteStore` (a real SQLite file in WAL mode, through sqlite-utils, schema migrated at start-up).
Only the session — ids, never message text — is stored per chat; `forget` deletes it. The
`event_counts` table is anonymous: per-day counts of outcomes, with no chat id.
"""

from __future__ import annotations

import datetime as dt
import importlib
import logging
import sqlite3
import sys
from collections import OrderedDict
from pathlib import Path
from typing import Protocol

from conversations.session import Session, SessionError


def _import_sqlite_utils_without_dataframes() -> None:
    """Import sqlite-utils while keeping pandas and numpy out of the bot's process.

    sqlite-utils imports both whenever they are installed (say, with the `bench` extra), only to
    map their column types; the bot stores text and integers, and numpy alone would add about
    15 MB to every bot process. The blocks are lifted straight after, so other code can still
    import them.
    """
    blocked = [name for name in ("numpy", "pandas") if name not in sys.modules]
    sys.modules.update(dict.fromkeys(blocked))  # type: ignore[arg-type]  # None blocks an import
    try:
        importlib.import_module("sqlite_utils")
    finally:
        for name in blocked:
            sys.modules.pop(name, None)


_import_sqlite_utils_without_dataframes()
from sqlite_utils import Database  # noqa: E402 - imported just above, without numpy
from sqlite_utils.migrations import Migrations  # noqa: E402

log = logging.getLogger(__name__)


class StorageError(RuntimeError):
    """The database cannot be opened or used; the message says which file and why."""


class SessionStore(Protocol):
    """What the bot needs from storage."""

    def load(self, chat_id: int) -> Session | None:
        """The chat's saved session, or None (new chat, forgotten, or unreadable)."""
        ...

    def save(self, chat_id: int, session: Session) -> None:
        """Keep the chat's session; it is durable when this returns."""
        ...

    def forget(self, chat_id: int) -> None:
        """Delete everything kept for the chat."""
        ...

    def count(self, kind: str, value: str) -> None:
        """Add one to an anonymous, chat-independent daily count (e.g. condition, disc_irritation)."""
        ...

    def counts(self) -> dict[tuple[str, str], int]:
        """All anonymous counts, summed over days."""
        ...

    def close(self) -> None:
        """Release the storage."""
        ...


class MemoryStore:
    """Sessions in a dict: for tests and the console."""

    def __init__(self) -> None:
        self._sessions: dict[int, str] = {}
        self._counts: dict[tuple[str, str], int] = {}

    def load(self, chat_id: int) -> Session | None:
        stored = self._sessions.get(chat_id)
        return _read(stored) if stored is not None else None

    def save(self, chat_id: int, session: Session) -> None:
        self._sessions[chat_id] = session.to_json()

    def forget(self, chat_id: int) -> None:
        self._sessions.pop(chat_id, None)

    def count(self, kind: str, value: str) -> None:
        self._counts[(kind, value)] = self._counts.get((kind, value), 0) + 1

    def counts(self) -> dict[tuple[str, str], int]:
        return dict(self._counts)

    def close(self) -> None:
        self._sessions.clear()


MIGRATIONS = Migrations("runner-bot")


@MIGRATIONS()
def m001_sessions_and_counts(db: Database) -> None:
    """One row per chat with its session JSON; anonymous daily counts with no chat id."""
    db.table("sessions").create({"chat_id": int, "session": str, "updated": str}, pk="chat_id")
    db.table("event_counts").create(
        {"day": str, "kind": str, "value": str, "n": int}, pk=("day", "kind", "value")
    )


class SqliteStore:
    """Sessions in a SQLite file (WAL), written on every turn.

    Recently used sessions are also kept in memory (write-through), so a turn reads SQLite only
    for a chat it has not seen since start-up; the file stays the truth across restarts. One bot
    process owns the file (Telegram allows only one poller per token anyway).
    """

    CACHED_CHATS = 10_000

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._recent: OrderedDict[int, Session] = OrderedDict()
        try:
            if str(path) != ":memory:":
                self.path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
            self.db = Database(connection)
            if str(path) != ":memory:":
                self.db.enable_wal()
            self.db.execute("PRAGMA synchronous=NORMAL")  # with WAL: durable across a crash of the process
            MIGRATIONS.apply(self.db)
        except (OSError, sqlite3.Error) as error:
            raise StorageError(f"cannot use the database at {path}: {error}") from None

    def load(self, chat_id: int) -> Session | None:
        if chat_id in self._recent:
            self._recent.move_to_end(chat_id)
            return self._recent[chat_id].copy()
        row = self.db.execute("SELECT session FROM sessions WHERE chat_id = ?", [chat_id]).fetchone()
        session = _read(row[0]) if row else None
        if session is not None:
            self._remember(chat_id, session)
        return session

    def save(self, chat_id: int, session: Session) -> None:
        self.db.execute(
            "INSERT INTO sessions (chat_id, session, updated) VALUES (?, ?, ?) "
            "ON CONFLICT(chat_id) DO UPDATE SET session = excluded.session, updated = excluded.updated",
            [chat_id, session.to_json(), _now()],
        )
        self._remember(chat_id, session.copy())

    def forget(self, chat_id: int) -> None:
        self.db.execute("DELETE FROM sessions WHERE chat_id = ?", [chat_id])
        self._recent.pop(chat_id, None)

    def _remember(self, chat_id: int, session: Session) -> None:
        self._recent[chat_id] = session
        self._recent.move_to_end(chat_id)
        if len(self._recent) > self.CACHED_CHATS:
            self._recent.popitem(last=False)

    def count(self, kind: str, value: str) -> None:
        self.db.execute(
            "INSERT INTO event_counts (day, kind, value, n) VALUES (?, ?, ?, 1) "
            "ON CONFLICT(day, kind, value) DO UPDATE SET n = n + 1",
            [dt.date.today().isoformat(), kind, value],
        )

    def counts(self) -> dict[tuple[str, str], int]:
        rows = self.db.execute("SELECT kind, value, SUM(n) FROM event_counts GROUP BY kind, value").fetchall()
        return {(kind, value): total for kind, value, total in rows}

    def close(self) -> None:
        self.db.close()


def _read(stored: str) -> Session | None:
    try:
        return Session.from_json(stored)
    except SessionError as error:
        # Unreadable (e.g. written by an incompatible version): start the chat afresh rather than fail.
        log.warning("discarding an unreadable stored session (%s)", error)
        return None


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
