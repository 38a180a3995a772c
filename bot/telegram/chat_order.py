"""Each chat's updates in order, one at a time; different chats side by side.

python-telegram-bot's `concurrent_updates` with one lock per chat. After the handlers, an update
that no turn marked done (ignored, a group pointer ...) is marked done; one that met a locked
database goes back into the queue shortly. On PostgreSQL the cluster (bot/telegram/cluster.py)
also holds the chat's lock across instances.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from functools import partial
from typing import TYPE_CHECKING, Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

from bot.storage.sessions import StorageError
from bot.telegram.updates import chat_id_of, requeue

if TYPE_CHECKING:
    from bot.telegram.runtime import Runtime

log = logging.getLogger(__name__)


class ChatOrderProcessor(BaseUpdateProcessor):
    """Updates of one chat in order, one at a time; different chats concurrently."""

    def __init__(self, runtime_of: Callable[[], Runtime | None], max_concurrent_updates: int = 65_536) -> None:
        super().__init__(max_concurrent_updates)
        self._runtime_of = runtime_of
        self._locks: dict[int, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def chat(self, chat_id: int) -> AsyncIterator[None]:
        lock, users = self._locks.get(chat_id) or (asyncio.Lock(), 0)
        self._locks[chat_id] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[chat_id]
            if users == 1:
                del self._locks[chat_id]
            else:
                self._locks[chat_id] = (lock, users - 1)

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        # Waiters on an asyncio.Lock are woken in order, and PTB starts the tasks in queue order,
        # so a chat's updates keep their order. The slot limit is set high (a waiting update is
        # only a small task), so a chat with a backlog never holds up other chats.
        chat_id = chat_id_of(update) if isinstance(update, Update) else None
        if chat_id is None:
            await self.finish(update, coroutine)
            return
        async with self.chat(chat_id):
            runtime = self._runtime_of()
            if runtime is not None and runtime.cluster is not None and runtime.application is not None:
                assert isinstance(update, Update)
                await runtime.cluster.process(runtime.application, runtime, self, update, coroutine)
            else:
                await self.finish(update, coroutine)

    async def finish(self, update: object, coroutine: Awaitable[Any]) -> None:
        await coroutine
        runtime = self._runtime_of()
        if runtime is None or not isinstance(update, Update):
            return
        update_id = update.update_id
        if update_id in runtime.retry_later:  # the database stayed locked: try again shortly
            runtime.retry_later.discard(update_id)
            asyncio.get_running_loop().call_later(2.0, partial(requeue, update))
        elif update_id in runtime.done_in_turn:
            runtime.done_in_turn.discard(update_id)
        else:
            try:
                await runtime.db(runtime.store.finish, update_id)
            except StorageError as error:  # not marked done: handled again once the store is back
                log.warning("update %s: the database failed (%s); trying it again shortly", update_id,
                            type(error).__name__)  # fmt: skip
                asyncio.get_running_loop().call_later(2.0, partial(requeue, update))
                return
            log.debug("update %s handled", update_id)

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None
