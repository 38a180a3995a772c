"""Several bot instances on one PostgreSQL database (issue 14).

In webhook mode any instance may receive any update; each writes it to the shared inbox before
answering 200. What keeps a chat in order and every update handled once, across instances:

- **The chat lock.** A chat's turns and sends run inside a transaction that holds
  `pg_advisory_xact_lock(chat_id)`: one instance at a time works on a chat. The lock lives
  only as long as that transaction, so an instance that dies (even `kill -9`) lets go at once —
  PostgreSQL ends the backend and its transaction when the connection drops. An update whose
  chat another instance holds is not waited for (that would tie up one of this instance's few
  workers, bot/telegram/chat_order.py): it is tried again a moment later.
- **Catch-up in update order.** Holding the lock, an instance first handles the chat's *earlier*
  unfinished updates from the inbox (whichever instance received them), oldest first; then its
  own update — unless the inbox says it is done already (another instance caught it up). A
  turn marks its update done in the same transaction as the session (PgStore.commit), and the
  check happens under the lock, so no update is handled twice.
- **The outbox** is sent under the same lock, and a message leaves it once Telegram has it, so
  two deliverers never send the same row (a send whose answer was lost may repeat once, as
  with one instance).
- **The sweeper.** Every few seconds each instance looks for inbox rows and queued messages
  older than a few seconds that no local work holds, and takes them up — what a stopped
  instance left is handled without waiting for its restart.
- **One poller.** Polling mode takes a session-level advisory lock keyed by the bot id and
  refuses to start when another instance holds it (Telegram allows one getUpdates per token).
  If the server drops that connection, the poller takes the lock again within a second (or, if
  another instance got it first, stops).
- **No waits under the lock.** A send that fails (`retry_after`, a 5xx, a time-out) is not
  retried while the chat's lock is held: the deliverer parks the chat and retries in the
  background, taking the lock for each attempt (bot/telegram/runtime.py), so chats told to wait
  do not keep lock connections from the others.
- **Graceful shutdown** hands work back: once stopping, no new turn starts; updates not yet
  started stay unfinished in the inbox, unclaimed, for the other instances' sweepers.

Nothing is ever *claimed* by writing an owner into a row, so nothing needs releasing after a
crash: ownership is the lock, and the lock is the transaction.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import psycopg
from psycopg_pool import AsyncConnectionPool, PoolTimeout
from telegram import Update

from bot.storage.pg_pool import safe_url
from bot.storage.sessions import SessionStore, StorageError
from bot.telegram.updates import ChatBusy, Fatal, chat_id_of, requeue

if TYPE_CHECKING:
    from telegram.ext import Application

log = logging.getLogger(__name__)
T = TypeVar("T")

POLLER_LOCK = 1_380_077_396  # first key of the two-key advisory lock "one poller per bot"
POLLER_CHECK_S = 1.0  # how often the poller checks that it still holds that lock
RETRY_S = 2.0
BUSY_RETRY_S = 0.25  # an update whose chat another instance holds: tried again this soon


class Instance(Protocol):
    """What the cluster uses of this instance's Runtime (bot/telegram/runtime.py)."""

    retry_later: set[int]

    @property
    def store(self) -> SessionStore:
        """The session store (on PostgreSQL: a PgStore)."""
        ...

    async def db(self, function: Callable[..., T], *args: Any) -> T:
        """Run storage work on a database thread."""
        ...

    async def dispatch(self, application: Application, update_id: int, raw: Any) -> None:
        """Queue an inbox update for the handlers."""
        ...

    async def flush_in_order(self, chat_id: int) -> None:
        """Send the chat's outbox, holding its lock."""
        ...


class UpdateRunner(Protocol):
    """What the cluster uses of the chat-order processor (bot/telegram/chat_order.py)."""

    async def finish(self, update: object, coroutine: Awaitable[Any]) -> Any:
        """Run an update's handlers and mark it done (or requeue it); True when it is to be tried again."""
        ...


class Cluster:
    """Cross-instance coordination: chat locks, catch-up, the sweeper, the single poller."""

    LOCK_CONNECTIONS = 16  # chats worked on at once by this instance (others wait their turn)
    SWEEP_EVERY_S = 2.0
    STALE_AFTER_S = 5.0

    def __init__(self, url: str) -> None:
        self.url = url
        self.pool = AsyncConnectionPool(
            url,
            min_size=2,
            max_size=self.LOCK_CONNECTIONS,
            kwargs={"autocommit": True},
            check=AsyncConnectionPool.check_connection,
            open=False,
            name="chat-locks",
        )
        self.inflight: set[int] = set()  # update ids this instance is working on or waiting to
        self.flushing: set[int] = set()
        self.draining = False
        self._poller: psycopg.AsyncConnection[Any] | None = None
        self._sweeper: asyncio.Task[None] | None = None
        self._watchdog: asyncio.Task[None] | None = None

    async def open(self) -> None:
        try:
            await self.pool.open(wait=True, timeout=10)
        except (psycopg.Error, PoolTimeout, OSError) as error:
            await self.pool.close()
            raise StorageError(f"cannot use the database at {safe_url(self.url)} for chat locks: {error}") from None

    async def close(self) -> None:
        self.draining = True
        for task in (self._sweeper, self._watchdog):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if self._poller is not None:
            with contextlib.suppress(psycopg.Error):
                await self._poller.close()
        await self.pool.close()

    # ----- the chat lock -------------------------------------------------------------------
    @asynccontextmanager
    async def chat(self, chat_id: int, wait: bool = True) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        """Hold the chat's lock across instances (a transaction-scoped advisory lock).

        `wait=False`: raise ChatBusy at once when another instance holds it, rather than keep one
        of this instance's few workers (and a lock connection) waiting on another instance — one
        that is slow, or stopped, must not stall this one's other chats.
        """
        async with self.pool.connection() as conn, conn.transaction():
            if wait:
                await conn.execute("SELECT pg_advisory_xact_lock(%s)", [chat_id])
            else:
                row = await (await conn.execute("SELECT pg_try_advisory_xact_lock(%s)", [chat_id])).fetchone()
                if not (row and row[0]):
                    raise ChatBusy(chat_id)
            yield conn

    async def process(
        self, application: Application, runtime: Instance, processor: UpdateRunner,
        update: Update, coroutine: Awaitable[Any],
    ) -> None:  # fmt: skip
        """Run an update's handlers under its chat's lock, after the chat's earlier unfinished updates."""
        chat_id, update_id = chat_id_of(update), update.update_id
        assert chat_id is not None
        self.inflight.add(update_id)
        started = False
        try:
            if self.draining:
                return  # left unfinished in the inbox for another instance
            async with self.chat(chat_id, wait=False) as conn:
                for earlier_id, payload in await _fetch(
                    conn,
                    "SELECT update_id, payload FROM inbox WHERE chat_id = %s AND done IS NULL AND update_id < %s "
                    "ORDER BY update_id",
                    [chat_id, update_id],
                ):
                    if self.draining:
                        return
                    earlier = _parse(payload, application)
                    if earlier is None:
                        log.warning("update %s could not be read; skipped", earlier_id)
                        await runtime.db(runtime.store.finish, earlier_id)
                        continue
                    log.debug("update %s: caught up before update %s", earlier_id, update_id)
                    await processor.finish(earlier, application.process_update(earlier))
                if await _fetch(
                    conn, "SELECT 1 FROM inbox WHERE chat_id = %s AND done IS NULL AND update_id < %s LIMIT 1",
                    [chat_id, update_id],
                ):  # fmt: skip
                    log.info("update %s waits: an earlier one of its chat is to be tried again", update_id)
                    asyncio.get_running_loop().call_later(RETRY_S, partial(requeue, update))
                    return
                done = await _fetch(conn, "SELECT done IS NOT NULL FROM inbox WHERE update_id = %s", [update_id])
                if done and done[0][0]:
                    log.debug("update %s was already handled", update_id)
                    return
                if self.draining:
                    return
                started = True
                await processor.finish(update, coroutine)
        except ChatBusy:  # another instance is on this chat: try again shortly (its catch-up keeps the order)
            log.debug("update %s: its chat is busy on another instance; trying again shortly", update_id)
            asyncio.get_running_loop().call_later(BUSY_RETRY_S, partial(requeue, update))
        except (psycopg.OperationalError, PoolTimeout) as error:
            log.warning("update %s: the chat lock failed (%s); trying again shortly", update_id, type(error).__name__)
            if not started:
                asyncio.get_running_loop().call_later(RETRY_S, partial(requeue, update))
        finally:
            if not started and hasattr(coroutine, "close"):
                coroutine.close()  # type: ignore[attr-defined]  # never run: no "never awaited" warning
            self.inflight.discard(update_id)

    # ----- what a stopped instance left --------------------------------------------------------
    def start_sweeper(self, application: Application, runtime: Instance) -> None:
        self._sweeper = asyncio.create_task(self._sweep(application, runtime))

    async def _sweep(self, application: Application, runtime: Instance) -> None:
        store: Any = runtime.store
        while not self.draining:
            await asyncio.sleep(self.SWEEP_EVERY_S)
            try:
                for update_id, payload in await runtime.db(store.stale, self.STALE_AFTER_S):
                    if update_id in self.inflight or update_id in runtime.retry_later or self.draining:
                        continue
                    self.inflight.add(update_id)
                    log.info("update %s: taking up an update left unfinished", update_id)
                    try:
                        raw = json.loads(payload)
                    except (TypeError, ValueError):
                        raw = None
                    await runtime.dispatch(application, update_id, raw)
                for chat_id in await runtime.db(store.stale_outbox_chats, self.STALE_AFTER_S):
                    if chat_id not in self.flushing and not self.draining:
                        self.flushing.add(chat_id)
                        application.create_task(self._flush(runtime, chat_id))
            except (StorageError, psycopg.Error) as error:
                log.warning("the sweeper could not read the database (%s)", type(error).__name__)

    async def _flush(self, runtime: Instance, chat_id: int) -> None:
        try:
            await runtime.flush_in_order(chat_id)
        finally:
            self.flushing.discard(chat_id)

    # ----- polling ----------------------------------------------------------------------------
    async def hold_poller(self, bot_id: int, username: str = "") -> None:
        """Become the one poller of this bot, or raise Fatal saying another instance is.

        The lock lives as long as its connection; a watchdog checks that connection, and if the
        server dropped it (a restart, `pg_terminate_backend`) takes the lock again at once — or,
        when another instance took it meanwhile, stops this one, so two never poll.
        """
        self._poller = await self._take_poller_lock(bot_id)
        if self._poller is None:
            name = f"@{username}" if username else f"bot {bot_id}"
            raise Fatal(
                f"another runner-bot instance is already polling Telegram for {name} on this database "
                "(Telegram allows one poller per token); stop it, or run every instance in webhook mode "
                "(WEBHOOK_URL)"
            )
        self._watchdog = asyncio.create_task(self._watch_poller(bot_id))

    async def _take_poller_lock(self, bot_id: int) -> psycopg.AsyncConnection[Any] | None:
        conn = await psycopg.AsyncConnection.connect(self.url, autocommit=True)
        row = await (
            await conn.execute("SELECT pg_try_advisory_lock(%s, hashtext(%s))", [POLLER_LOCK, str(bot_id)])
        ).fetchone()
        if row and row[0]:
            return conn  # held until this instance stops (or dies: the server then lets go)
        await conn.close()
        return None

    async def _watch_poller(self, bot_id: int) -> None:
        while not self.draining:
            await asyncio.sleep(POLLER_CHECK_S)
            try:
                assert self._poller is not None
                await self._poller.execute("SELECT 1")
                continue
            except (psycopg.Error, AssertionError):
                log.warning("the connection holding the one-poller lock was lost; taking the lock again")
            with contextlib.suppress(psycopg.Error):
                if self._poller is not None:
                    await self._poller.close()
            try:
                self._poller = await self._take_poller_lock(bot_id)
            except (psycopg.Error, OSError) as error:  # the database is away: try again shortly
                log.warning("could not take the one-poller lock again (%s)", type(error).__name__)
                self._poller = None
                continue
            if self._poller is None:
                log.error("another instance polls Telegram now (the one-poller lock was lost); stopping this one")
                os.kill(os.getpid(), signal.SIGTERM)  # a graceful stop: work in hand is finished or handed back
                return


async def _fetch(conn: psycopg.AsyncConnection[Any], sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    cursor = await conn.execute(sql, params)  # type: ignore[arg-type]  # our own constant SQL
    return await cursor.fetchall()


def _parse(payload: str | None, application: Application) -> Update | None:
    try:
        update = Update.de_json(json.loads(payload or "null"), application.bot)
    except Exception:
        return None
    return update if isinstance(update, Update) else None
