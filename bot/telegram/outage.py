"""Riding out a storage outage: whether the store is failing now, and the watch that notices when
it is back (or that the SQLite file is gone for good).

- `StoreHealth`: set by whatever meets a storage failure (the poller, a handler, the webhook),
  read by /readyz (bot/telegram/webhook.py): not ready while the store is failing. The log says
  when an outage starts and when it ends, with the error's kind only (never a message's text).
- `watch`: every few seconds, checks that the SQLite file is the one that was opened (a deleted
  or replaced file raises Fatal: no retry can bring its chats back), and while the store is
  failing tries a small write; when that succeeds the outage is over, and the chats whose
  replies are waiting in the outbox are flushed. On PostgreSQL it also vacuums the inbox hourly.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from typing import TYPE_CHECKING, Any

from bot.storage.sessions import StorageError, StorageGone
from bot.telegram.updates import Fatal

if TYPE_CHECKING:
    from telegram.ext import Application

    from bot.telegram.runtime import Runtime

log = logging.getLogger(__name__)

WATCH_EVERY_S = 2.0
VACUUM_EVERY_S = 3600.0


class StoreHealth:
    """Whether the session store is failing now, and since when."""

    def __init__(self) -> None:
        self.down_since: float | None = None

    @property
    def down(self) -> bool:
        return self.down_since is not None

    def failed(self, error: BaseException) -> None:
        """A storage call failed: the outage starts (logged once, by the error's kind)."""
        if self.down_since is None:
            self.down_since = time.monotonic()
            log.warning("the database cannot be used (%s); not ready until it can", type(error).__name__)

    def recovered(self) -> None:
        """A storage call worked: the outage, if any, is over."""
        if self.down_since is not None:
            log.warning("the database works again after %.0f s", time.monotonic() - self.down_since)
            self.down_since = None


def storage_failure(error: BaseException) -> bool:
    """Whether an error is the database's (to be waited out), not a fault of what was asked of it.

    psycopg's errors are recognised by their module, so a SQLite bot never imports psycopg.
    """
    if isinstance(error, StorageError | sqlite3.Error):
        return True
    return type(error).__module__.split(".")[0] in ("psycopg", "psycopg_pool")


def health_of(application: Application) -> StoreHealth:
    """The application's StoreHealth (made on first use)."""
    health: StoreHealth = application.bot_data.setdefault("store_health", StoreHealth())
    return health


async def watch(application: Application, runtime: Runtime, every_s: float = WATCH_EVERY_S) -> None:
    """Until cancelled: the file check, the recovery probe, the inbox vacuum. Raises Fatal when
    the database file is gone."""
    health = health_of(application)
    store: Any = runtime.store
    vacuumed = time.monotonic()
    while True:
        await asyncio.sleep(every_s)
        try:
            if hasattr(store, "check"):
                store.check()  # one stat() of the file: cheap enough for the event loop
            if health.down and hasattr(store, "probe"):
                await runtime.db(store.probe)
                health.recovered()
                await flush_waiting(application, runtime)
        except StorageGone as error:
            raise Fatal(str(error)) from None
        except Exception as error:  # still down: try again next round
            log.info("the database still cannot be used (%s)", type(error).__name__)
            continue
        if hasattr(store, "vacuum_inbox") and time.monotonic() - vacuumed >= VACUUM_EVERY_S:
            vacuumed = time.monotonic()
            await vacuum(runtime, store)


async def vacuum(runtime: Runtime, store: Any) -> None:
    """PostgreSQL: remove the inbox's dead row versions (blanked words), unless another instance is."""
    try:
        if await runtime.db(store.vacuum_inbox):
            log.info("vacuumed the inbox (handled updates' old row versions removed)")
    except Exception as error:  # next hour, then
        log.warning("could not vacuum the inbox (%s)", type(error).__name__)


async def flush_waiting(application: Application, runtime: Runtime) -> None:
    """After an outage: send what turns queued but could not deliver while the store failed."""
    for chat_id in await runtime.db(runtime.store.chats_with_queued):
        application.create_task(runtime.flush_in_order(chat_id))
