"""Sessions, the inbox and the outbox in a SQLite file (WAL), schema migrated at start-up.

The contract is bot/storage/sessions.py; the records share the file (bot/storage/sqlite_records.py).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import sqlite3
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TypeVar

from bot.storage.sessions import (
    KEEP,
    Also,
    Message,
    Outgoing,
    StorageBusy,
    StorageError,
    StorageGone,
    read_session,
)
from bot.storage.sqlite_db import Database, Migrations
from conversations.session import Session

log = logging.getLogger(__name__)


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
    """The update inbox and the reply outbox (see bot/storage/sessions.py)."""
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

    A lock held by another process is waited for in short, bounded steps (`lock_wait_s` in all);
    past that `StorageBusy` is raised and nothing has been written. Any other failure (a full
    disk, an I/O error) raises `StorageError`; the bot backs off and tries again. The file's
    identity (device and inode) is checked before each transaction: a file deleted or replaced
    while running raises `StorageGone`, which stops the bot.

    Privacy: `secure_delete` is on, so deleted rows are overwritten with zeros, and after a chat
    is forgotten the WAL is checkpointed and truncated, so its old page versions go too.
    """

    CACHED_CHATS = 10_000
    LOCK_WAIT_S = 30.0
    KEEP_DONE_IDS_S = 24 * 3600  # Telegram keeps an unconfirmed update for 24 hours

    def __init__(self, path: Path | str, lock_wait_s: float = LOCK_WAIT_S) -> None:
        self.path = Path(path)
        self.lock_wait_s = lock_wait_s
        self._recent: OrderedDict[int, Session] = OrderedDict()
        self._last_prune = 0.0
        self._identity: tuple[int, int] | None = None
        # rows Telegram has accepted whose delete failed (the database was failing): left out of
        # what is queued, so never sent twice, and deleted by the next transaction that works
        self._sent: set[int] = set()
        try:
            if str(path) != ":memory:":
                self.path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
            self.db = Database(connection)
            self.db.execute("PRAGMA busy_timeout = 1000")  # each wait is short; _retry bounds the total
            if str(path) != ":memory:":
                self.db.enable_wal()
            self.db.execute("PRAGMA synchronous=NORMAL")  # with WAL: durable across a crash of the process
            self.db.execute("PRAGMA secure_delete=ON")  # deleted rows (a runner's words) are zeroed, not left in free pages
            MIGRATIONS.apply(self.db)
            # a real write now, so a read-only file or folder is refused at start-up, not at the first turn
            self.db.execute("CREATE TABLE IF NOT EXISTS started (at TEXT)")
            self.db.execute("DELETE FROM started")
            self.db.execute("INSERT INTO started (at) VALUES (?)", [_now()])
            if str(path) != ":memory:":
                self._identity = _identity(self.path)
        except (OSError, sqlite3.Error) as error:
            raise StorageError(f"cannot use the database at {path}: {error}") from None

    def check(self) -> None:
        """Raise StorageGone if the database file was deleted or replaced since it was opened."""
        if self._identity is None:
            return
        try:
            now = _identity(self.path)
        except FileNotFoundError:
            now = None
        except OSError:
            return  # a transient stat failure is not proof; the transaction itself will say
        if now != self._identity:
            what = "deleted" if now is None else "replaced by another file"
            raise StorageGone(
                f"the database file {self.path} was {what} while the bot was running; its chats, records "
                "and reminders are in the file that was open. Restore it (from a backup, or the file "
                "that replaced it) and start the bot again"
            )

    def probe(self) -> None:
        """A small real write: raises StorageError while the database cannot be written (full, locked)."""
        self._transaction(lambda conn: conn.execute("UPDATE started SET at = ?", [_now()]))

    # ----- plumbing ----------------------------------------------------------------------
    def _retry(self, work: Callable[[], T]) -> T:
        """Run `work` (one transaction), waiting in bounded steps while another process holds the lock."""
        deadline = time.monotonic() + self.lock_wait_s
        while True:
            self.check()
            try:
                return work()
            except sqlite3.OperationalError as error:
                self._roll_back()
                busy = "locked" in str(error) or "busy" in str(error)
                if not busy:
                    raise StorageError(f"the database at {self.path} failed: {error}") from None
                if time.monotonic() > deadline:
                    raise StorageBusy(f"the database at {self.path} stayed locked by another process") from None
                log.warning("the database is locked by another process; waiting")
                time.sleep(0.05)
            except sqlite3.Error as error:  # e.g. an I/O error: reported, never a traceback
                self._roll_back()
                raise StorageError(f"the database at {self.path} failed: {error}") from None

    def _roll_back(self) -> None:
        if self.db.conn.in_transaction:
            with contextlib.suppress(sqlite3.Error):  # a failing disk may refuse even this; SQLite rolls back on its own
                self.db.conn.execute("ROLLBACK")

    def _transaction(self, work: Callable[[sqlite3.Connection], T]) -> T:
        def run() -> T:
            conn = self.db.conn
            conn.execute("BEGIN IMMEDIATE")
            sent = set(self._sent)
            try:
                conn.executemany("DELETE FROM outbox WHERE id = ?", [(row_id,) for row_id in sent])
                result = work(conn)
            except BaseException:
                self._roll_back()
                raise
            conn.execute("COMMIT")
            self._sent -= sent
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
        session = read_session(row[0]) if row else None
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
        self.scrub()

    def scrub(self) -> None:
        """Copy the WAL into the file and truncate it, so forgotten rows' old versions leave the WAL too."""
        if self._identity is None:
            return
        try:
            self._retry(lambda: self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall())
        except StorageGone:
            raise
        except StorageError as error:  # the forget itself is kept: never fail (and so repeat) its turn
            log.warning("the WAL could not be truncated just now (%s); the next checkpoint copies it over",
                        type(error).__name__)  # fmt: skip

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
            self.scrub()
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

    def _queued(self, conn: sqlite3.Connection, chat_id: int) -> list[Outgoing]:
        rows = conn.execute(
            "SELECT id, body FROM outbox WHERE chat_id = ? AND failed = 0 ORDER BY id", [chat_id]
        ).fetchall()
        return [Outgoing.of(row_id, chat_id, body) for row_id, body in rows if row_id not in self._sent]

    def chats_with_queued(self) -> list[int]:
        rows = self._retry(
            lambda: self.db.execute("SELECT DISTINCT chat_id FROM outbox WHERE failed = 0").fetchall()
        )
        return [row[0] for row in rows]

    def delivered(self, row_id: int) -> None:
        self._sent.add(row_id)
        try:
            self._transaction(lambda conn: None)  # the delete rides on every transaction (see _transaction)
        except StorageGone:
            raise
        except StorageError as error:  # sent is sent: the chat's next rows go on; the delete waits
            log.info("a delivered reply stays marked in memory until the database works (%s)", type(error).__name__)

    def give_up(self, chat_id: int, from_row: int) -> None:
        self._transaction(
            lambda conn: conn.execute(
                "UPDATE outbox SET failed = 1 WHERE chat_id = ? AND id >= ?", [chat_id, from_row]
            )
        )


def _identity(path: Path) -> tuple[int, int]:
    status = os.stat(path)
    return status.st_dev, status.st_ino


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
