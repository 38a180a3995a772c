"""Each chat's updates in order, one at a time; different chats side by side, on a few workers.

The update processor only enqueues: each chat has a FIFO queue, and a fixed pool of `WORKERS`
tasks takes the next chat that has work and no worker, handles ONE of its updates, and puts the
chat back at the end of the line if more are waiting. So a chat is held by at most one worker
(its updates stay in order), no chat's backlog holds up another chat for more than one update at
a time, and at most `WORKERS` updates — hence about that many Bot API requests — are in flight.

Why a few workers and not a task per update: with a hundred requests in flight, httpx's
connection pool does work that grows with the square of them (docs/benchmarks.md, section 3),
and a burst cost 5× the CPU of the sequential echo bot. How many are enough is Little's law:
requests in flight = messages a second × Bot API calls per update × round-trip time. At
Telegram's ~30 messages a second, ~1.1 calls per update and a ~100 ms round trip that is about
3.3, so 4 workers keep up with what Telegram would accept; a slow chat (a send that takes
seconds) holds one worker, not the others. Waits that Telegram asks for (`retry_after`) and
back-off after failures never hold a worker: the deliverer parks the chat and retries in the
background (bot/telegram/runtime.py).

After the handlers, an update that no turn marked done (ignored, a group pointer ...) is marked
done; one that met a locked database goes back into the queue shortly. On PostgreSQL the
cluster (bot/telegram/cluster.py) also holds the chat's lock across instances.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
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

WORKERS = 4  # see the module docstring for how this was sized
RETRY_FIRST_S, RETRY_MAX_S = 2.0, 30.0  # an update that met a database error: tried again, doubling the wait
Work = tuple[object, Awaitable[Any], "asyncio.Future[None] | None"]


class ChatOrderProcessor(BaseUpdateProcessor):
    """Updates of one chat in order, one at a time; different chats concurrently, on `workers` tasks."""

    def __init__(self, runtime_of: Callable[[], Runtime | None], workers: int = WORKERS) -> None:
        # PTB awaits this processor inline (no task per update): it only enqueues
        super().__init__(1)
        self._runtime_of = runtime_of
        self.workers = workers
        self._locks: dict[int, tuple[asyncio.Lock, int]] = {}
        self._pending: dict[int | None, deque[Work]] = {}  # None: updates with no chat
        self._ready: deque[int | None] = deque()  # chats with work and no worker, in arrival order
        self._held: set[int | None] = set()
        self._running: set[asyncio.Task[None]] = set()
        self._retries: dict[int, int] = {}  # chat -> failed tries of its first update
        self._busy = 0  # workers handling an update right now

    @asynccontextmanager
    async def chat(self, chat_id: int) -> AsyncIterator[None]:
        """Hold the chat: its updates, sends and reminders one at a time."""
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
        chat_id = chat_id_of(update) if isinstance(update, Update) else None
        runtime = self._runtime_of()
        application = runtime.application if runtime is not None else None
        # once the application is stopping, wait for the update here, so `Application.stop`
        # (which waits for the update queue) does not close storage under a running turn
        done: asyncio.Future[None] | None = None
        if application is None or not application.running:
            done = asyncio.get_running_loop().create_future()
        queue = self._pending.setdefault(chat_id, deque())
        queue.append((update, coroutine, done))
        if len(queue) == 1 and chat_id not in self._held:
            self._ready.append(chat_id)
        self._spawn(application)
        if done is not None:
            await done

    def _spawn(self, application: Any) -> None:
        # a running worker is busy with an update (it takes the next chat when done) or just started
        while len(self._running) < self.workers and len(self._running) - self._busy < len(self._ready):
            if application is not None and application.running:
                task = application.create_task(self._work(), name="runner-bot:chat-worker")
            else:
                task = asyncio.get_running_loop().create_task(self._work(), name="runner-bot:chat-worker")
            self._running.add(task)

    async def _work(self) -> None:
        """Handle one update of the next chat in line, until no chat has work left."""
        try:
            await self._work_through()
        finally:  # at once, not in a done-callback: an update queued meanwhile would find no worker
            self._running.discard(asyncio.current_task())  # type: ignore[arg-type]

    async def _work_through(self) -> None:
        while self._ready:
            chat_id = self._ready.popleft()
            queue = self._pending[chat_id]
            update, coroutine, done = queue.popleft()
            self._held.add(chat_id)
            retry = False
            self._busy += 1
            try:
                retry = await self._handle(chat_id, update, coroutine)
            except Exception:  # the handlers' own errors went to the error handler already
                log.exception("update processing failed")
            finally:
                self._busy -= 1
            if retry and chat_id is not None and isinstance(update, Update) and self._hold(chat_id, update, done):
                continue
            self._held.discard(chat_id)
            if queue:
                self._ready.append(chat_id)
            else:
                del self._pending[chat_id]
            if done is not None and not done.done():
                done.set_result(None)

    def _hold(self, chat_id: int, update: Update, done: asyncio.Future[None] | None) -> bool:
        """Put an update that met a database error back at the head of its chat, and hold the chat.

        The chat's later updates wait behind it (never handled before it), other chats carry on,
        and it is tried again after a doubling wait, for as long as the bot runs. False when
        stopping: then the chat's updates are left unfinished in the inbox, in order, for the next start.
        """
        runtime = self._runtime_of()
        application = runtime.application if runtime is not None else None
        if application is None or not application.running:
            for _, coroutine, waiting in self._pending[chat_id]:
                getattr(coroutine, "close", lambda: None)()  # never run: no "never awaited" warning
                if waiting is not None and not waiting.done():
                    waiting.set_result(None)
            self._pending[chat_id].clear()
            self._retries.pop(chat_id, None)
            return False
        tries = self._retries.get(chat_id, 0)
        self._retries[chat_id] = tries + 1
        self._pending[chat_id].appendleft((update, application.process_update(update), done))
        delay = min(RETRY_FIRST_S * 2**tries, RETRY_MAX_S)
        log.info("update %s: tried again in %.0f s; its chat's later updates wait", update.update_id, delay)
        asyncio.get_running_loop().call_later(delay, self._release, chat_id, application)
        return True

    def _release(self, chat_id: int, application: Any) -> None:
        self._held.discard(chat_id)
        if not application.running:  # stopped meanwhile: its updates stay unfinished in the inbox, in order
            for _, coroutine, waiting in self._pending.pop(chat_id, deque()):
                getattr(coroutine, "close", lambda: None)()
                if waiting is not None and not waiting.done():
                    waiting.set_result(None)
            return
        if self._pending.get(chat_id):
            self._ready.append(chat_id)
            self._spawn(application)

    async def _handle(self, chat_id: int | None, update: object, coroutine: Awaitable[Any]) -> bool:
        """Run the update's handlers; True when it is to be tried again (a database error)."""
        if chat_id is None:
            await self.finish(update, coroutine)
            return False
        async with self.chat(chat_id):
            runtime = self._runtime_of()
            if runtime is not None and runtime.cluster is not None and runtime.application is not None:
                assert isinstance(update, Update)
                await runtime.cluster.process(runtime.application, runtime, self, update, coroutine)
                return False
            retry = await self.finish(update, coroutine, requeue_later=False)
            if not retry:
                self._retries.pop(chat_id, None)
            return retry

    async def finish(self, update: object, coroutine: Awaitable[Any], requeue_later: bool = True) -> bool:
        """Run an update's handlers and mark it done; True when a database error left it to be tried again.

        `requeue_later`: put such an update back into the update queue after a while (the
        cluster's way, whose catch-up keeps the order); the workers instead hold its chat.
        """
        await coroutine
        runtime = self._runtime_of()
        if runtime is None or not isinstance(update, Update):
            return False
        update_id = update.update_id
        if update_id in runtime.retry_later:  # the database failed or stayed locked: try again
            runtime.retry_later.discard(update_id)
            if requeue_later:
                asyncio.get_running_loop().call_later(RETRY_FIRST_S, partial(requeue, update))
            return True
        if update_id in runtime.done_in_turn:
            runtime.done_in_turn.discard(update_id)
        else:
            try:
                await runtime.db(runtime.store.finish, update_id)
            except StorageError as error:  # not marked done: handled again once the store is back
                log.warning("update %s: the database failed (%s); trying it again shortly", update_id,
                            type(error).__name__)  # fmt: skip
                if requeue_later:  # the cluster's way; the workers hold the chat and try it again
                    asyncio.get_running_loop().call_later(RETRY_FIRST_S, partial(requeue, update))
                return True
            log.debug("update %s handled", update_id)
        return False

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None
