"""Updates as they come from Telegram, before any handler: whose chat, how long to wait, and
putting one back in the queue.

- `chat_id_of` / `raw_chat_id`: the chat of a parsed update / of its raw JSON.
- `RUNNING_APPLICATIONS` and `requeue`: an update to be tried again later (a locked database, an
  earlier update of its chat still pending on another instance) goes back into the update queue
  of the application that is running.
- `Fatal`: the bot cannot go on; the start-up code reports it in one line.
"""

from __future__ import annotations

import datetime as dt
import warnings
from typing import TYPE_CHECKING, Any

from telegram import Update
from telegram.error import RetryAfter

from bot.storage.sessions import fits

if TYPE_CHECKING:
    from telegram.ext import Application


class Fatal(Exception):
    """The bot cannot go on (the token was rejected while running); the message says why."""


class ChatBusy(Exception):
    """Another instance holds the chat's lock (bot/telegram/cluster.py, `Cluster.chat(wait=False)`)."""


def chat_id_of(update: Update) -> int | None:
    """The chat a parsed update belongs to, or None (an update with no chat)."""
    chat = update.effective_chat
    return chat.id if chat is not None else None


def seconds(error: RetryAfter) -> float:
    """How long Telegram asked us to wait, in seconds, whichever type PTB gives it in."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PTB warns that retry_after will become a timedelta
        value = error.retry_after
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)


def raw_chat_id(raw: Any, strict: bool = False) -> Any:
    """The chat an update belongs to, from its JSON; False (strict) when an id does not fit in 64 bits."""
    if not isinstance(raw, dict):
        return None
    for key, value in raw.items():
        if key == "update_id" or not isinstance(value, dict):
            continue
        chat = value.get("chat") or (value.get("message") or {}).get("chat") or {}
        sender = value.get("from") or {}
        for candidate in (chat.get("id") if isinstance(chat, dict) else None, sender.get("id")):
            if candidate is not None:
                if fits(candidate):
                    return candidate
                return False if strict else None
    return None


RUNNING_APPLICATIONS: list[Application] = []  # the application `serve` runs (bot/telegram/application.py)


def requeue(update: Update) -> None:
    """Put an update back into the running application's queue, to be handled again from the start."""
    for application in RUNNING_APPLICATIONS:
        application.update_queue.put_nowait(update)
