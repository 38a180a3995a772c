"""Where each chat's conversation is kept, so a restart (even `kill -9`) loses nothing.

Two implementations of one small interface: `MemoryStore` (tests, the console) and
`SqliteStore` (a real SQLite file in WAL mode, through sqlite-utils, schema migrated at start-up).
Only the session — ids, never message text — is stored per chat; `forget` deletes it. The
`event_counts` table is anonymous: per-day counts of outcomes, with no chat id.

Delivery (issue 12) adds two tables, so nothing Telegram sends or the bot decides is lost:

- `inbox`: every update as received, written before its offset is confirmed (polling) or before
  the webhook answers 200; `update_id` is the key, so a re-sent update is ignored. When the
  update has been handled its row is marked done *in the same transaction* as the session it
  changed, and its payload (the runner's words) and chat id are blanked there and then; the bare
  id stays for a day so a late re-send is still recognised.
- `outbox`: the Telegram messages a turn decided, written in that same transaction and deleted
  once Telegram has accepted them. A message that could not be delivered after retries is marked
  `failed` and kept until the chat next writes.
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
import logging
import sqlite3
import sys
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol, TypeVar

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


class StorageBusy(StorageError):
    """Another process held the database's lock for longer than the bounded wait (nothing was written)."""


INT64 = range(-(2**63), 2**63)


def fits(number: object) -> bool:
    """Whether a value is an integer SQLite can store (Telegram ids fit; forged ones may not)."""
    return isinstance(number, int) and not isinstance(number, bool) and number in INT64


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One Telegram message waiting in the outbox: its text and its buttons (label, data) rows."""

    id: int
    chat_id: int
    text: str
    buttons: tuple[tuple[str, str], ...] = ()
    failed: bool = False
    question: bool = False  # its buttons are the chat's live question (closed when answered by typing)
    edit: int = 0  # the id of a message to edit in place (a ticked checklist), or 0 to send anew
    kind: str = "text"  # or "chart" / "document": `text` is then the caption (see Message)
    attachment: str = ""  # for those kinds, what to send, as JSON

    def body(self) -> str:
        data: dict[str, object] = {"text": self.text, "buttons": [list(b) for b in self.buttons]}
        if self.question:
            data["question"] = True
        if self.edit:
            data["edit"] = self.edit
        if self.kind != "text":
            data["kind"], data["attachment"] = self.kind, self.attachment
        return json.dumps(data)

    @classmethod
    def of(cls, row_id: int, chat_id: int, body: str, failed: bool = False) -> Outgoing:
        data = json.loads(body)
        buttons = tuple((b[0], b[1]) for b in data["buttons"])
        return cls(
            row_id, chat_id, data["text"], buttons, failed, data.get("question", False), data.get("edit", 0),
            data.get("kind", "text"), data.get("attachment", ""),
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class Message:
    """A message a turn decided, not yet in the outbox (the outbox gives it an id)."""

    text: str
    buttons: tuple[tuple[str, str], ...] = ()
    question: bool = False
    edit: int = 0
    # the recovery companion's charts and files go through the outbox too: kind "chart" (the
    # ChartSpec as JSON, drawn when sent) or "document" (name, media type, base64 data as JSON)
    kind: str = "text"
    attachment: str = ""

    def queued(self, row_id: int, chat_id: int) -> Outgoing:
        return Outgoing(row_id, chat_id, self.text, self.buttons, False, self.question, self.edit, self.kind, self.attachment)


KEEP = object()  # commit(): leave the chat's session as it is
Also = Callable[[Any], None]  # commit(also=...): more writes in the turn's transaction, given the connection


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

    # ----- delivery: the inbox and the outbox ---------------------------------------------
    def receive(self, updates: Sequence[tuple[int, int | None, str]]) -> list[int]:
        """Keep updates (update_id, chat_id, JSON) in the inbox, all at once; the ids not seen before."""
        ...

    def unfinished(self) -> list[tuple[int, str]]:
        """Updates received but not yet handled (update_id, JSON), oldest first."""
        ...

    def finish(self, update_id: int) -> None:
        """Mark an update handled without a turn (ignored, unreadable, a group pointer ...)."""
        ...

    def commit(
        self,
        chat_id: int,
        update_id: int | None,
        session: Session | object | None = KEEP,
        messages: Sequence[Message] = (),
        revive_with: str = "",
        also: Also | None = None,
    ) -> list[Outgoing]:
        """One turn's outcome in one transaction: the session (None forgets the chat), its messages
        queued in the outbox, and the update marked done. With `revive_with`, messages that failed
        earlier are queued again first, the first one prefixed with that note. `also` runs first,
        inside the transaction, with the store's connection (None in memory): other writes of the
        turn (records, a reminder's claim); if it raises, nothing is written. Returns everything
        queued for the chat, in order."""
        ...

    def has_failed(self, chat_id: int) -> bool:
        """Whether the chat has messages that could not be delivered."""
        ...

    def queued(self, chat_id: int) -> list[Outgoing]:
        """The chat's messages waiting to be delivered (not the failed ones), in order."""
        ...

    def chats_with_queued(self) -> list[int]:
        """Chats with messages waiting to be delivered."""
        ...

    def delivered(self, row_id: int) -> None:
        """Telegram accepted the message (or refused it for good): it leaves the outbox."""
        ...

    def give_up(self, chat_id: int, from_row: int) -> None:
        """The message could not be delivered after retries: it and the chat's later ones wait."""
        ...


class MemoryStore:
    """Sessions in a dict: for tests and the console."""

    def __init__(self) -> None:
        self._sessions: dict[int, str] = {}
        self._counts: dict[tuple[str, str], int] = {}
        self._inbox: dict[int, str | None] = {}
        self._outbox: dict[int, Outgoing] = {}
        self._next_row = 1

    def load(self, chat_id: int) -> Session | None:
        stored = self._sessions.get(chat_id)
        return _read(stored) if stored is not None else None

    def save(self, chat_id: int, session: Session) -> None:
        self._sessions[chat_id] = session.to_json()

    def forget(self, chat_id: int) -> None:
        self._sessions.pop(chat_id, None)
        self._outbox = {k: row for k, row in self._outbox.items() if row.chat_id != chat_id}

    def count(self, kind: str, value: str) -> None:
        self._counts[(kind, value)] = self._counts.get((kind, value), 0) + 1

    def counts(self) -> dict[tuple[str, str], int]:
        return dict(self._counts)

    def close(self) -> None:
        self._sessions.clear()

    # the inbox and outbox, in memory (the tests of the Telegram wiring use these)
    def receive(self, updates: Sequence[tuple[int, int | None, str]]) -> list[int]:
        new = []
        for uid, _, payload in updates:
            if uid not in self._inbox:
                self._inbox[uid] = payload
                new.append(uid)
        return new

    def unfinished(self) -> list[tuple[int, str]]:
        return sorted((uid, p) for uid, p in self._inbox.items() if p is not None)

    def finish(self, update_id: int) -> None:
        self._inbox[update_id] = None

    def commit(
        self,
        chat_id: int,
        update_id: int | None,
        session: Session | object | None = KEEP,
        messages: Sequence[Message] = (),
        revive_with: str = "",
        also: Also | None = None,
    ) -> list[Outgoing]:
        if also is not None:
            also(None)
        if session is None:
            self.forget(chat_id)
        elif isinstance(session, Session):
            self.save(chat_id, session)
        if revive_with:
            self._revive(chat_id, revive_with)
        for message in messages:
            row = message.queued(self._next_row, chat_id)
            self._outbox[row.id], self._next_row = row, self._next_row + 1
        if update_id is not None:
            self._inbox[update_id] = None
        return self.queued(chat_id)

    def _revive(self, chat_id: int, note: str) -> None:
        failed = [row for row in self._outbox.values() if row.chat_id == chat_id and row.failed]
        for index, row in enumerate(failed):
            text = f"{note}\n\n{row.text}" if index == 0 else row.text
            self._outbox[row.id] = replace(row, text=text, failed=False, edit=0)

    def has_failed(self, chat_id: int) -> bool:
        return any(row.failed for row in self._outbox.values() if row.chat_id == chat_id)

    def queued(self, chat_id: int) -> list[Outgoing]:
        return [row for _, row in sorted(self._outbox.items()) if row.chat_id == chat_id and not row.failed]

    def chats_with_queued(self) -> list[int]:
        return sorted({row.chat_id for row in self._outbox.values() if not row.failed})

    def delivered(self, row_id: int) -> None:
        self._outbox.pop(row_id, None)

    def give_up(self, chat_id: int, from_row: int) -> None:
        for row in list(self._outbox.values()):
            if row.chat_id == chat_id and row.id >= from_row:
                self._outbox[row.id] = replace(row, failed=True)


MIGRATIONS = Migrations("runner-bot")


@MIGRATIONS()
def m001_sessions_and_counts(db: Database) -> None:
    """One row per chat with its session JSON; anonymous daily counts with no chat id.

    Idempotent, so a database made before migrations were recorded (the same tables, perhaps
    without `updated`) is adopted rather than refused.
    """
    db.table("sessions").create(
        {"chat_id": int, "session": str, "updated": str}, pk="chat_id", if_not_exists=True
    )
    if "updated" not in db.table("sessions").columns_dict:
        db.table("sessions").add_column("updated", str)
    db.table("event_counts").create(
        {"day": str, "kind": str, "value": str, "n": int}, pk=("day", "kind", "value"), if_not_exists=True
    )


@MIGRATIONS()
def m002_inbox_and_outbox(db: Database) -> None:
    """The update inbox and the reply outbox (see the module's docstring)."""
    db.execute(
        "CREATE TABLE IF NOT EXISTS inbox (update_id INTEGER PRIMARY KEY, chat_id INTEGER, "
        "payload TEXT, received REAL NOT NULL, done REAL)"
    )
    db.execute("CREATE INDEX IF NOT EXISTS inbox_unfinished ON inbox (update_id) WHERE done IS NULL")
    db.execute("CREATE INDEX IF NOT EXISTS inbox_done ON inbox (done) WHERE done IS NOT NULL")
    db.execute(
        "CREATE TABLE IF NOT EXISTS outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, chat_id INTEGER NOT NULL, "
        "body TEXT NOT NULL, created REAL NOT NULL, failed INTEGER NOT NULL DEFAULT 0)"
    )
    db.execute("CREATE INDEX IF NOT EXISTS outbox_by_chat ON outbox (chat_id, id)")


T = TypeVar("T")


class SqliteStore:
    """Sessions, the inbox and the outbox in a SQLite file (WAL), written on every turn.

    Recently used sessions are also kept in memory (write-through), so a turn reads SQLite only
    for a chat it has not seen since start-up; the file stays the truth across restarts. One bot
    process owns the file (Telegram allows only one poller per token anyway), and the bot calls
    the store from one thread at a time (its database thread, off the event loop).

    A lock held by another process is waited for in short, bounded steps (`LOCK_WAIT_S` in all);
    past that `StorageBusy` is raised and nothing has been written.
    """

    CACHED_CHATS = 10_000
    LOCK_WAIT_S = 30.0
    KEEP_DONE_IDS_S = 24 * 3600  # Telegram keeps an unconfirmed update for 24 hours

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._recent: OrderedDict[int, Session] = OrderedDict()
        self._last_prune = 0.0
        try:
            if str(path) != ":memory:":
                self.path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
            self.db = Database(connection)
            self.db.execute("PRAGMA busy_timeout = 1000")  # each wait is short; _retry bounds the total
            if str(path) != ":memory:":
                self.db.enable_wal()
            self.db.execute("PRAGMA synchronous=NORMAL")  # with WAL: durable across a crash of the process
            MIGRATIONS.apply(self.db)
            # a real write now, so a read-only file or folder is refused at start-up, not at the first turn
            self.db.execute("CREATE TABLE IF NOT EXISTS started (at TEXT)")
            self.db.execute("DELETE FROM started")
            self.db.execute("INSERT INTO started (at) VALUES (?)", [_now()])
        except (OSError, sqlite3.Error) as error:
            raise StorageError(f"cannot use the database at {path}: {error}") from None

    # ----- plumbing ----------------------------------------------------------------------
    def _retry(self, work: Callable[[], T]) -> T:
        """Run `work` (one transaction), waiting in bounded steps while another process holds the lock."""
        deadline = time.monotonic() + self.LOCK_WAIT_S
        while True:
            try:
                return work()
            except sqlite3.OperationalError as error:
                if self.db.conn.in_transaction:
                    self.db.conn.execute("ROLLBACK")
                busy = "locked" in str(error) or "busy" in str(error)
                if not busy:
                    raise StorageError(f"the database at {self.path} failed: {error}") from None
                if time.monotonic() > deadline:
                    raise StorageBusy(f"the database at {self.path} stayed locked by another process") from None
                log.warning("the database is locked by another process; waiting")
                time.sleep(0.05)

    def _transaction(self, work: Callable[[sqlite3.Connection], T]) -> T:
        def run() -> T:
            conn = self.db.conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                result = work(conn)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            return result

        return self._retry(run)

    # ----- sessions ----------------------------------------------------------------------
    def load(self, chat_id: int) -> Session | None:
        if chat_id in self._recent:
            self._recent.move_to_end(chat_id)
            return self._recent[chat_id].copy()
        row = self._retry(
            lambda: self.db.execute("SELECT session FROM sessions WHERE chat_id = ?", [chat_id]).fetchone()
        )
        session = _read(row[0]) if row else None
        if session is not None:
            self._remember(chat_id, session)
        return session

    def save(self, chat_id: int, session: Session) -> None:
        self._transaction(lambda conn: self._save(conn, chat_id, session))
        self._remember(chat_id, session.copy())

    @staticmethod
    def _save(conn: sqlite3.Connection, chat_id: int, session: Session) -> None:
        conn.execute(
            "INSERT INTO sessions (chat_id, session, updated) VALUES (?, ?, ?) "
            "ON CONFLICT(chat_id) DO UPDATE SET session = excluded.session, updated = excluded.updated",
            [chat_id, session.to_json(), _now()],
        )

    def forget(self, chat_id: int) -> None:
        self._transaction(lambda conn: self._forget(conn, chat_id))
        self._recent.pop(chat_id, None)

    @staticmethod
    def _forget(conn: sqlite3.Connection, chat_id: int) -> None:
        conn.execute("DELETE FROM sessions WHERE chat_id = ?", [chat_id])
        conn.execute("DELETE FROM outbox WHERE chat_id = ?", [chat_id])
        # updates still to be handled stay (they come after /forget); handled ones keep no chat id
        conn.execute("DELETE FROM inbox WHERE chat_id = ? AND done IS NOT NULL", [chat_id])

    def _remember(self, chat_id: int, session: Session) -> None:
        self._recent[chat_id] = session
        self._recent.move_to_end(chat_id)
        if len(self._recent) > self.CACHED_CHATS:
            self._recent.popitem(last=False)

    def count(self, kind: str, value: str) -> None:
        self._transaction(lambda conn: self._count(conn, kind, value))

    @staticmethod
    def _count(conn: sqlite3.Connection, kind: str, value: str) -> None:
        conn.execute(
            "INSERT INTO event_counts (day, kind, value, n) VALUES (?, ?, ?, 1) "
            "ON CONFLICT(day, kind, value) DO UPDATE SET n = n + 1",
            [dt.date.today().isoformat(), kind, value],
        )

    def counts(self) -> dict[tuple[str, str], int]:
        rows = self.db.execute("SELECT kind, value, SUM(n) FROM event_counts GROUP BY kind, value").fetchall()
        return {(kind, value): total for kind, value, total in rows}

    def close(self) -> None:
        self.db.close()

    # ----- the inbox -----------------------------------------------------------------------
    def receive(self, updates: Sequence[tuple[int, int | None, str]]) -> list[int]:
        def work(conn: sqlite3.Connection) -> list[int]:
            now, new = time.time(), []
            for update_id, chat_id, payload in updates:
                inserted = conn.execute(
                    "INSERT OR IGNORE INTO inbox (update_id, chat_id, payload, received) VALUES (?, ?, ?, ?)",
                    [update_id, chat_id, payload, now],
                )
                if inserted.rowcount:
                    new.append(update_id)
            if now - self._last_prune > 600:
                conn.execute("DELETE FROM inbox WHERE done < ?", [now - self.KEEP_DONE_IDS_S])
                self._last_prune = now
            return new

        return self._transaction(work) if updates else []

    def unfinished(self) -> list[tuple[int, str]]:
        return self._retry(
            lambda: self.db.execute(
                "SELECT update_id, payload FROM inbox WHERE done IS NULL ORDER BY update_id"
            ).fetchall()
        )

    def finish(self, update_id: int) -> None:
        self._transaction(lambda conn: self._finish(conn, update_id))

    @staticmethod
    def _finish(conn: sqlite3.Connection, update_id: int) -> None:
        conn.execute(
            "UPDATE inbox SET payload = NULL, chat_id = NULL, done = ? WHERE update_id = ?",
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
        def work(conn: sqlite3.Connection) -> list[Outgoing]:
            if also is not None:
                also(conn)
            if session is None:
                self._forget(conn, chat_id)
            elif isinstance(session, Session):
                self._save(conn, chat_id, session)
            if revive_with:
                self._revive(conn, chat_id, revive_with)
            now = time.time()
            conn.executemany(
                "INSERT INTO outbox (chat_id, body, created) VALUES (?, ?, ?)",
                [
                    (chat_id, m.queued(0, chat_id).body(), now)
                    for m in messages
                ],
            )
            if update_id is not None:
                self._finish(conn, update_id)
            return self._queued(conn, chat_id)

        queued = self._transaction(work)
        if session is None:
            self._recent.pop(chat_id, None)
        elif isinstance(session, Session):
            self._remember(chat_id, session.copy())
        return queued

    @staticmethod
    def _revive(conn: sqlite3.Connection, chat_id: int, note: str) -> None:
        rows = conn.execute(
            "SELECT id, body FROM outbox WHERE chat_id = ? AND failed = 1 ORDER BY id", [chat_id]
        ).fetchall()
        if rows:
            first = Outgoing.of(rows[0][0], chat_id, rows[0][1])
            revived = replace(first, text=f"{note}\n\n{first.text}", edit=0)
            conn.execute("UPDATE outbox SET body = ? WHERE id = ?", [revived.body(), first.id])
            conn.execute("UPDATE outbox SET failed = 0 WHERE chat_id = ?", [chat_id])

    def has_failed(self, chat_id: int) -> bool:
        return bool(
            self._retry(
                lambda: self.db.execute(
                    "SELECT 1 FROM outbox WHERE chat_id = ? AND failed = 1 LIMIT 1", [chat_id]
                ).fetchone()
            )
        )

    def queued(self, chat_id: int) -> list[Outgoing]:
        return self._retry(lambda: self._queued(self.db.conn, chat_id))

    @staticmethod
    def _queued(conn: sqlite3.Connection, chat_id: int) -> list[Outgoing]:
        rows = conn.execute(
            "SELECT id, body FROM outbox WHERE chat_id = ? AND failed = 0 ORDER BY id", [chat_id]
        ).fetchall()
        return [Outgoing.of(row_id, chat_id, body) for row_id, body in rows]

    def chats_with_queued(self) -> list[int]:
        rows = self._retry(
            lambda: self.db.execute("SELECT DISTINCT chat_id FROM outbox WHERE failed = 0").fetchall()
        )
        return [row[0] for row in rows]

    def delivered(self, row_id: int) -> None:
        self._transaction(lambda conn: conn.execute("DELETE FROM outbox WHERE id = ?", [row_id]))

    def give_up(self, chat_id: int, from_row: int) -> None:
        self._transaction(
            lambda conn: conn.execute(
                "UPDATE outbox SET failed = 1 WHERE chat_id = ? AND id >= ?", [chat_id, from_row]
            )
        )


def _read(stored: str) -> Session | None:
    try:
        return Session.from_json(stored)
    except SessionError as error:
        # Unreadable (e.g. written by an incompatible version): start the chat afresh rather than fail.
        log.warning("discarding an unreadable stored session (%s)", error)
        return None


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
