"""Sessions, counts, the inbox and the outbox in PostgreSQL (the contract: bot/storage/sessions.py)."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import psycopg

from bot.storage.pg_pool import PooledDatabase
from bot.storage.sessions import KEEP, Also, Message, Outgoing, StorageError, read_session
from conversations.session import Session


class PgStore(PooledDatabase):
    """Sessions, counts, the inbox and the outbox in PostgreSQL; safe to share between instances.

    Each method is one transaction on a pooled connection, so the bot may call it from several
    database threads. Per-chat order across instances is not this class's business: the
    cluster's chat lock (bot/telegram/cluster.py) is held around a chat's turns and sends.
    """

    DB_THREADS = 4  # the bot's database threads: each call takes its own connection
    KEEP_DONE_IDS_S = 24 * 3600

    VACUUM_LOCK = 7_291_046_316  # pg_try_advisory_lock key: one instance vacuums at a time

    def __init__(self, url: str, pool_size: int = 8, timeout_s: float = PooledDatabase.POOL_TIMEOUT_S) -> None:
        super().__init__(url, pool_size, "database", timeout_s)
        self._last_prune = 0.0
        # rows Telegram has accepted whose delete failed (the server was unreachable): left out
        # of what is queued here, so never sent twice by this instance, and deleted when it answers
        self._sent: set[int] = set()

    def vacuum_inbox(self) -> bool:
        """VACUUM the inbox, unless another instance is doing it; whether this one did.

        A handled update's payload (the runner's words) is blanked at once, but PostgreSQL keeps
        the old row version in the table file as a dead tuple until a vacuum removes it; the
        bot runs this hourly rather than wait for autovacuum's thresholds.
        """
        with self.connection() as conn:  # autocommit: VACUUM cannot run in a transaction
            row = conn.execute("SELECT pg_try_advisory_lock(%s)", [self.VACUUM_LOCK]).fetchone()
            if not (row and row[0]):
                return False
            try:
                conn.execute("VACUUM inbox")
            finally:
                conn.execute("SELECT pg_advisory_unlock(%s)", [self.VACUUM_LOCK])
        return True

    # ----- sessions ----------------------------------------------------------------------
    def load(self, chat_id: int) -> Session | None:
        rows = self.rows("SELECT session FROM sessions WHERE chat_id = %s", [chat_id])
        return read_session(rows[0][0]) if rows else None

    def save(self, chat_id: int, session: Session) -> None:
        with self.transaction() as conn:
            self._save(conn, chat_id, session)

    @staticmethod
    def _save(conn: psycopg.Connection[Any], chat_id: int, session: Session) -> None:
        conn.execute(
            "INSERT INTO sessions (chat_id, session, updated) VALUES (%s, %s, %s) "
            "ON CONFLICT (chat_id) DO UPDATE SET session = excluded.session, updated = excluded.updated",
            [chat_id, session.to_json(), _now()],
        )

    def forget(self, chat_id: int) -> None:
        with self.transaction() as conn:
            self._forget(conn, chat_id)

    @staticmethod
    def _forget(conn: psycopg.Connection[Any], chat_id: int) -> None:
        conn.execute("DELETE FROM sessions WHERE chat_id = %s", [chat_id])
        conn.execute("DELETE FROM outbox WHERE chat_id = %s", [chat_id])
        conn.execute("DELETE FROM inbox WHERE chat_id = %s AND done IS NOT NULL", [chat_id])

    def count(self, kind: str, value: str) -> None:
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO event_counts (day, kind, value, n) VALUES (%s, %s, %s, 1) "
                "ON CONFLICT (day, kind, value) DO UPDATE SET n = event_counts.n + 1",
                [dt.date.today().isoformat(), kind, value],
            )

    def counts(self) -> dict[tuple[str, str], int]:
        rows = self.rows("SELECT kind, value, SUM(n) FROM event_counts GROUP BY kind, value")
        return {(kind, value): int(total) for kind, value, total in rows}

    # ----- the inbox -----------------------------------------------------------------------
    def receive(self, updates: Sequence[tuple[int, int | None, str]]) -> list[int]:
        if not updates:
            return []
        now, new = time.time(), []
        with self.transaction() as conn:
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
            for uid, payload in self.rows(
                "SELECT update_id, payload FROM inbox WHERE done IS NULL ORDER BY update_id"
            )
        ]

    def stale(self, older_than_s: float, limit: int = 500) -> list[tuple[int, str]]:
        """Unfinished updates received more than `older_than_s` ago (left by a stopped instance)."""
        return [
            (uid, payload)
            for uid, payload in self.rows(
                "SELECT update_id, payload FROM inbox WHERE done IS NULL AND received < %s "
                "ORDER BY update_id LIMIT %s",
                [time.time() - older_than_s, limit],
            )
        ]

    def stale_outbox_chats(self, older_than_s: float) -> list[int]:
        """Chats with messages queued more than `older_than_s` ago (a stopped instance's)."""
        rows = self.rows(
            "SELECT DISTINCT chat_id FROM outbox WHERE NOT failed AND created < %s", [time.time() - older_than_s]
        )
        return [row[0] for row in rows]

    def finish(self, update_id: int) -> None:
        with self.transaction() as conn:
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
        sent = set(self._sent)
        with self.transaction() as conn:
            if sent:  # delivered while the server was unreachable: their deletes go with this turn
                conn.execute("DELETE FROM outbox WHERE id = ANY(%s)", [sorted(sent)])
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
                            (chat_id, m.queued(0, chat_id).body(), now)  # every field: charts, files, hints
                            for m in messages
                        ],
                    )
            if update_id is not None:
                self._finish(conn, update_id)
            queued = self._queued(conn, chat_id)
        self._sent -= sent
        return queued

    def probe(self) -> None:
        """Raises StorageBusy while the server does not answer; once it does, the deletes of
        replies delivered meanwhile are written."""
        sent = set(self._sent)
        with self.transaction() as conn:
            conn.execute("DELETE FROM outbox WHERE id = ANY(%s)", [sorted(sent)])
        self._sent -= sent

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
        return bool(self.rows("SELECT 1 FROM outbox WHERE chat_id = %s AND failed LIMIT 1", [chat_id]))

    def queued(self, chat_id: int) -> list[Outgoing]:
        with self.connection() as conn:
            return self._queued(conn, chat_id)

    def _queued(self, conn: psycopg.Connection[Any], chat_id: int) -> list[Outgoing]:
        rows = conn.execute(
            "SELECT id, body FROM outbox WHERE chat_id = %s AND NOT failed ORDER BY id", [chat_id]
        ).fetchall()
        sent = set(self._sent)
        return [Outgoing.of(row_id, chat_id, body) for row_id, body in rows if row_id not in sent]

    def chats_with_queued(self) -> list[int]:
        return [row[0] for row in self.rows("SELECT DISTINCT chat_id FROM outbox WHERE NOT failed")]

    def delivered(self, row_id: int) -> None:
        self._sent.add(row_id)
        sent = set(self._sent)
        try:
            with self.transaction() as conn:
                conn.execute("DELETE FROM outbox WHERE id = ANY(%s)", [sorted(sent)])
        except StorageError:  # sent is sent: the chat's next rows go on; the delete waits for the next one
            return
        self._sent -= sent

    def give_up(self, chat_id: int, from_row: int) -> None:
        with self.transaction() as conn:
            conn.execute("UPDATE outbox SET failed = TRUE WHERE chat_id = %s AND id >= %s", [chat_id, from_row])


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
