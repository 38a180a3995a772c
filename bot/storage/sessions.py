"""The session store's contract: what the bot needs to keep each chat's conversation, so a
restart (even `kill -9`) loses nothing.

Implementations: `MemoryStore` (bot/storage/memory.py: tests, the console), `SqliteStore`
(bot/storage/sqlite_sessions.py) and `PgStore` (bot/storage/pg_sessions.py). Only the session —
ids, never message text — is stored per chat; `forget` deletes it. The `event_counts` table is
anonymous: per-day counts of outcomes, with no chat id.

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

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from conversations.session import Session, SessionError

log = logging.getLogger(__name__)


class StorageError(RuntimeError):
    """The database cannot be opened or used; the message says which file and why."""


class StorageBusy(StorageError):
    """Another process held the database's lock for longer than the bounded wait (nothing was written)."""


class StorageGone(StorageError):
    """The database file was deleted or replaced while the bot ran: no retry can bring it back, and
    carrying on would start every chat afresh in a new, empty file. The bot stops (non-zero)."""


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
    placeholder: str = ""  # a question that waits for words: the input field's hint (ForceReply)

    def body(self) -> str:
        data: dict[str, object] = {"text": self.text, "buttons": [list(b) for b in self.buttons]}
        if self.question:
            data["question"] = True
        if self.edit:
            data["edit"] = self.edit
        if self.kind != "text":
            data["kind"], data["attachment"] = self.kind, self.attachment
        if self.placeholder:
            data["placeholder"] = self.placeholder
        return json.dumps(data)

    @classmethod
    def of(cls, row_id: int, chat_id: int, body: str, failed: bool = False) -> Outgoing:
        data = json.loads(body)
        buttons = tuple((b[0], b[1]) for b in data["buttons"])
        return cls(
            row_id, chat_id, data["text"], buttons, failed, data.get("question", False), data.get("edit", 0),
            data.get("kind", "text"), data.get("attachment", ""), data.get("placeholder", ""),
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
    placeholder: str = ""

    def queued(self, row_id: int, chat_id: int) -> Outgoing:
        return Outgoing(
            row_id, chat_id, self.text, self.buttons, False, self.question, self.edit, self.kind, self.attachment,
            self.placeholder,
        )  # fmt: skip


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


def read_session(stored: str) -> Session | None:
    """A stored session, or None when it cannot be read (written by an incompatible version, say):
    the chat then starts afresh rather than fail. Every session store reads through this."""
    try:
        return Session.from_json(stored)
    except SessionError as error:
        # Unreadable (e.g. written by an incompatible version): start the chat afresh rather than fail.
        log.warning("discarding an unreadable stored session (%s)", error)
        return None

