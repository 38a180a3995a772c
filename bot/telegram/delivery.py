"""Getting updates in and replies out without losing or repeating any (issue 12).

- `Runtime`: what the handlers share — the Bridge (engine + storage), one database thread (so
  SQLite never blocks the event loop, and one thread owns the connection), the deliverer.
- `ChatOrderProcessor`: python-telegram-bot's `concurrent_updates` with one lock per chat — a
  chat's updates run one after another, in order; different chats run side by side. After the
  handlers, an update that no turn marked done (ignored, a group pointer ...) is marked done.
- `Deliverer`: sends a chat's outbox in order, with retries and back-off (honouring Telegram's
  `retry_after`); a message that still fails waits, with the chat's later ones, until the chat
  next writes (then it goes first, with a short apology for the delay).
- `Poller`: long polling of raw updates: each batch is written to the inbox before the next
  getUpdates confirms it; unreadable updates are skipped (offset advanced, logged by id only);
  a 401 stops the bot; server and network errors back off.
- `serve_webhook`: a small tornado server that checks the secret and the size from the headers
  before reading a body, with header and body time-outs.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hmac
import json
import logging
import warnings
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from functools import partial
from html import escape
from typing import TYPE_CHECKING, Any, TypeVar

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Update
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    InvalidToken,
    RetryAfter,
    TelegramError,
)
from telegram.ext import BaseUpdateProcessor

from bot.storage.sessions import Outgoing, SessionStore, fits
from bot.telegram.attachments import CHART, DOCUMENT, chart_of, file_of

if TYPE_CHECKING:
    from telegram import Bot
    from telegram.ext import Application

    from bot.telegram.application import Bridge
    from bot.telegram.cluster import Cluster
    from bot.telegram.reminders import Reminders

log = logging.getLogger(__name__)
T = TypeVar("T")

SEND_ATTEMPTS = 5  # then the message waits for the chat's next message
MAX_BACKOFF_S = 8.0
POLL_TIMEOUT_S = 10
WEBHOOK_MAX_BODY = 1024 * 1024  # a real update (4,096 characters and their entities) is a few KB
WEBHOOK_HEADER_TIMEOUT_S = 10.0
WEBHOOK_BODY_TIMEOUT_S = 10.0


class LiveKeyboards(OrderedDict[int, tuple[int, str]]):
    """Each chat's newest question message (id, text), the most recently used chats only.

    Capped, so a bot that has talked to many chats does not keep a message for each for ever: a
    chat that drops out just keeps its old buttons, which answer "moved on" if tapped.
    """

    CAP = 10_000

    def __setitem__(self, chat_id: int, value: tuple[int, str]) -> None:
        super().__setitem__(chat_id, value)
        self.move_to_end(chat_id)
        if len(self) > self.CAP:
            self.popitem(last=False)


def keyboard(buttons: Sequence[tuple[str, str]]) -> InlineKeyboardMarkup | None:
    """An inline keyboard laid out compactly: short labels three to a row, others two, long ones alone."""
    if not buttons:
        return None
    per_row = 3 if all(len(label) <= 10 for label, _ in buttons) else 2
    rows: list[list[InlineKeyboardButton]] = []
    for label, data in buttons:
        alone = len(label) > 24
        if not rows or alone or len(rows[-1]) >= per_row or (len(rows[-1]) == 1 and len(rows[-1][0].text) > 24):
            rows.append([])
        rows[-1].append(InlineKeyboardButton(label, callback_data=data))
    return InlineKeyboardMarkup(rows)


def chat_id_of(update: Update) -> int | None:
    chat = update.effective_chat
    return chat.id if chat is not None else None


def seconds(error: RetryAfter) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PTB warns that retry_after will become a timedelta
        value = error.retry_after
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)


@dataclass
class Runtime:
    """What the handlers, the processor, the poller and the webhook share."""

    bridge: Bridge
    bot: Bot
    executor: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(1, thread_name_prefix="runner-bot-db")
    )
    done_in_turn: set[int] = field(default_factory=set)
    retry_later: set[int] = field(default_factory=set)
    processor: ChatOrderProcessor | None = None
    # each chat's newest question message (id, text), so its keyboard can be closed when the
    # question is answered by typing; kept in memory — after a restart an old keyboard stays,
    # and a tap on it gets the "moved on" toast
    live_keyboards: LiveKeyboards = field(default_factory=lambda: LiveKeyboards())
    # several instances on PostgreSQL (bot/cluster.py): chat locks across instances; None on SQLite
    cluster: Cluster | None = None
    application: Application | None = None
    stopping: bool = False  # set at shutdown: /readyz then answers 503
    reminders: Reminders | None = None  # the reminder scheduler (bot/reminders.py), once started

    @property
    def store(self) -> SessionStore:
        return self.bridge.store

    async def db(self, function: Callable[..., T], *args: Any) -> T:
        """Run storage (or a turn, which is storage plus well under a millisecond of engine) off the event loop."""
        return await asyncio.get_running_loop().run_in_executor(self.executor, partial(function, *args))

    def close(self) -> None:
        self.executor.shutdown(wait=True)

    async def ready(self) -> bool:
        """Whether this instance should get traffic: not stopping, and its database answers."""
        if self.stopping:
            return False
        ping = getattr(self.store, "ping", None)
        try:
            return bool(await asyncio.wait_for(self.db(ping or self.store.chats_with_queued), 5)) if ping else (
                await asyncio.wait_for(self.db(self.store.chats_with_queued), 5) is not None
            )
        except Exception:
            return False

    @asynccontextmanager
    async def chat_turn(self, chat_id: int | None) -> AsyncIterator[None]:
        """Hold the chat's lock (when a processor runs the updates); nothing otherwise."""
        if self.processor is None or chat_id is None:
            yield
        else:
            async with self.processor.chat(chat_id):
                if self.cluster is None:
                    yield
                else:
                    async with self.cluster.chat(chat_id):
                        yield

    # ----- delivery ------------------------------------------------------------------------
    async def flush(self, chat_id: int, queued: Sequence[Outgoing] | None = None) -> None:
        """Send the chat's outbox in order; each message leaves it once Telegram has it."""
        rows = queued if queued is not None else await self.db(self.store.queued, chat_id)
        for row in rows:
            outcome = await self.send(row)
            if outcome == "gave up":
                await self.db(self.store.give_up, chat_id, row.id)
                return
            await self.db(self.store.delivered, row.id)

    async def send(self, row: Outgoing) -> str:
        """'sent', 'refused' (for good: blocked, chat gone, a bad request) or 'gave up' after retries."""
        markup = keyboard(row.buttons)
        attachment: Any = None
        if row.kind != "text":
            try:
                attachment = await self.attachment(row)
            except Exception:  # a chart that cannot be drawn must not hold up the chat's other messages
                log.exception("chat %s: could not prepare a %s; it was dropped", row.chat_id, row.kind)
                return "refused"
        for attempt in range(SEND_ATTEMPTS):
            try:
                if row.kind == CHART:
                    await self.bot.send_photo(row.chat_id, attachment, caption=row.text or None, reply_markup=markup)
                    return "sent"
                if row.kind == DOCUMENT:
                    await self.bot.send_document(row.chat_id, attachment, caption=row.text or None, reply_markup=markup)
                    return "sent"
                if row.edit and await self.edit_in_place(row, markup):
                    return "sent"
                sent = await self.bot.send_message(row.chat_id, row.text, reply_markup=markup)
                if row.question:
                    self.live_keyboards[row.chat_id] = (sent.message_id, row.text)
                return "sent"
            except Forbidden:
                log.info("chat %s: the runner has blocked the bot or left; a reply was dropped", row.chat_id)
                return "refused"
            except (BadRequest, ChatMigrated) as error:
                log.warning("chat %s: Telegram refused a reply (%s)", row.chat_id, type(error).__name__)
                return "refused"
            except RetryAfter as error:
                delay = seconds(error) + 0.1
            except TelegramError as error:  # time-outs, network errors, 5xx
                delay = min(0.25 * 2**attempt, MAX_BACKOFF_S)
                log.info("chat %s: a send failed (%s); retrying", row.chat_id, type(error).__name__)
            if attempt < SEND_ATTEMPTS - 1:
                await asyncio.sleep(delay)
        log.warning("chat %s: a reply could not be delivered; it waits for the chat's next message", row.chat_id)
        return "gave up"

    async def attachment(self, row: Outgoing) -> InputFile:
        """A chart drawn (0.15–0.4 s of matplotlib: in a worker thread, never on the event loop) or a file."""
        if row.kind == CHART:
            from bot.charts import render_png  # matplotlib only when a chart is drawn

            png = await asyncio.to_thread(render_png, chart_of(row.attachment))
            return InputFile(png, filename="progress.png")
        file = file_of(row.attachment)
        return InputFile(file.data, filename=file.name)

    async def edit_in_place(self, row: Outgoing, markup: InlineKeyboardMarkup | None) -> bool:
        """Show a re-drawn question (a ticked checklist) in the message that was tapped.

        False when that message can no longer be edited: the caller sends it anew instead.
        """
        try:
            await self.bot.edit_message_text(row.text, row.chat_id, row.edit, reply_markup=markup)
        except BadRequest as error:
            if "not modified" not in error.message.lower():
                return False
        if row.question:
            self.live_keyboards[row.chat_id] = (row.edit, row.text)
        return True

    async def close_keyboard(self, chat_id: int, label: str) -> None:
        """Close the chat's live question keyboard after a typed answer, showing it as "✓ label"."""
        live = self.live_keyboards.pop(chat_id, None)
        if live is None:
            return
        message_id, text = live
        try:
            if label:
                await self.bot.edit_message_text(f"{text}\n\n✓ {escape(label)}", chat_id, message_id, reply_markup=None)
            else:
                await self.bot.edit_message_reply_markup(chat_id, message_id, reply_markup=None)
        except TelegramError as error:  # too old, already gone: cosmetic, nothing is lost
            log.info("chat %s: could not close an answered keyboard (%s)", chat_id, type(error).__name__)

    # ----- updates in ----------------------------------------------------------------------
    async def intake(self, application: Application, raw_updates: Sequence[Any]) -> int | None:
        """Keep a batch of raw updates in the inbox (one transaction), then hand the new ones on.

        Returns the offset that confirms the batch (None when it held no usable update id).
        """
        entries: list[tuple[int, int | None, str]] = []
        ids: list[int] = []
        for raw in raw_updates:
            update_id = raw.get("update_id") if isinstance(raw, dict) else None
            if not isinstance(update_id, int) or not fits(update_id):
                log.warning("skipped an update with no usable update_id")
                continue
            ids.append(update_id)
            entries.append((update_id, raw_chat_id(raw), json.dumps(raw)))
        new = set(await self.db(self.store.receive, entries))
        for raw in raw_updates:
            if isinstance(raw, dict) and raw.get("update_id") in new:
                new.discard(raw["update_id"])  # the same update twice in one batch: handled once
                await self.dispatch(application, raw["update_id"], raw)
        return max(ids) + 1 if ids else None

    async def dispatch(self, application: Application, update_id: int, raw: Any) -> None:
        """Parse an inbox update and queue it for the handlers; an unreadable one is skipped."""
        update: Update | None = None
        problem = ""
        try:
            chat = raw_chat_id(raw, strict=True)
            update = Update.de_json(raw, application.bot)
        except Exception as error:
            problem = type(error).__name__
        else:
            if chat is False:
                problem, update = "an id beyond 64 bits", None
        if update is None:
            log.warning("update %s could not be read (%s); skipped", update_id, problem or "empty")
            await self.db(self.store.finish, update_id)
            return
        await application.update_queue.put(update)

    async def replay(self, application: Application) -> int:
        """At start-up: updates received but not handled before the last stop, oldest first."""
        unfinished = await self.db(self.store.unfinished)
        for update_id, payload in unfinished:
            try:
                raw = json.loads(payload)
            except ValueError:
                raw = None
            await self.dispatch(application, update_id, raw)
        for chat_id in await self.db(self.store.chats_with_queued):
            application.create_task(self.flush_in_order(chat_id))
        if unfinished:
            log.info("carrying on with %d updates received before the last stop", len(unfinished))
        return len(unfinished)

    async def flush_in_order(self, chat_id: int) -> None:
        async with self.chat_turn(chat_id):
            await self.flush(chat_id)


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
            asyncio.get_running_loop().call_later(2.0, partial(_requeue, update))
        elif update_id in runtime.done_in_turn:
            runtime.done_in_turn.discard(update_id)
        else:
            await runtime.db(runtime.store.finish, update_id)
            log.debug("update %s handled", update_id)

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None


_APPLICATIONS: list[Application] = []


def _requeue(update: Update) -> None:
    for application in _APPLICATIONS:
        application.update_queue.put_nowait(update)


# ----- polling --------------------------------------------------------------------------------
class Fatal(Exception):
    """The bot cannot go on (the token was rejected while running); the message says why."""


async def poll(application: Application, runtime: Runtime, allowed_updates: list[str]) -> None:
    """Long-poll until cancelled; raises Fatal on a 401."""
    offset: int | None = None
    failures = 0
    while True:
        try:
            raw = await application.bot._post(  # the raw JSON, so one unreadable update cannot wedge polling
                "getUpdates",
                {"offset": offset, "timeout": POLL_TIMEOUT_S, "allowed_updates": allowed_updates},
                read_timeout=POLL_TIMEOUT_S + 10,
            )
        except InvalidToken:
            raise Fatal("Telegram rejected TELEGRAM_BOT_TOKEN while running; check it with @BotFather") from None
        except RetryAfter as error:
            await asyncio.sleep(seconds(error))
            continue
        except (Conflict, TelegramError, ValueError) as error:
            failures += 1
            delay = min(0.5 * 2 ** min(failures, 6), 30.0)
            log.warning("getUpdates failed (%s); trying again in %.1f s", type(error).__name__, delay)
            await asyncio.sleep(delay)
            continue
        failures = 0
        if isinstance(raw, list) and raw:
            next_offset = await runtime.intake(application, raw)
            if next_offset is not None:
                offset = max(offset or 0, next_offset)


# ----- the webhook ----------------------------------------------------------------------------
async def serve_webhook(
    application: Application, runtime: Runtime, listen: str, port: int, path: str, secret: str
) -> Callable[[], Coroutine[Any, Any, None]]:
    """Start the webhook server; returns a coroutine function that stops it.

    It also answers GET /healthz (200 while the process serves) and GET /readyz (200 when the
    database answers and the bot is not stopping, 503 otherwise) for a load balancer or an
    orchestrator; neither needs the secret, and neither says more than "ok" or "not ready".
    """
    import tornado.httpserver
    import tornado.web

    @tornado.web.stream_request_body
    class Hook(tornado.web.RequestHandler):
        def prepare(self) -> None:
            given = self.request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
            if not hmac.compare_digest(given.encode(), secret.encode()):
                self.send_error(403)
                return
            if self.request.method != "POST":
                self.send_error(405)
                return
            length = self.request.headers.get("Content-Length", "")
            if not length.isdigit() or int(length) > WEBHOOK_MAX_BODY:
                self.send_error(413 if length.isdigit() else 411)
                return
            self.chunks: list[bytes] = []

        def data_received(self, chunk: bytes) -> None:
            self.chunks.append(chunk)

        async def post(self) -> None:
            try:
                raw = json.loads(b"".join(self.chunks))
            except ValueError:
                raw = None
            if not isinstance(raw, dict):
                self.send_error(400)
                return
            await runtime.intake(application, [raw])  # in the inbox before Telegram hears 200
            self.set_status(200)
            self.finish()

        def write_error(self, status_code: int, **kwargs: Any) -> None:
            self.finish(f"{status_code}")  # no echo of anything the caller sent

        def log_exception(self, *args: Any) -> None:  # tornado would log the request; it may hold text
            log.warning("the webhook refused a request")

    class Health(tornado.web.RequestHandler):
        def get(self) -> None:
            self.finish("ok")

    class Ready(tornado.web.RequestHandler):
        async def get(self) -> None:
            if await runtime.ready():
                self.finish("ok")
            else:
                self.set_status(503)
                self.finish("not ready")

    routes: list[Any] = [("/healthz", Health), ("/readyz", Ready), (f"/{path.lstrip('/')}", Hook)]
    app = tornado.web.Application(routes, log_function=lambda handler: None)
    server = tornado.httpserver.HTTPServer(
        app,
        max_body_size=WEBHOOK_MAX_BODY,
        max_header_size=16 * 1024,
        idle_connection_timeout=WEBHOOK_HEADER_TIMEOUT_S,
        body_timeout=WEBHOOK_BODY_TIMEOUT_S,
    )
    server.listen(port, address=listen)

    async def stop() -> None:
        server.stop()
        with suppress(Exception):
            await asyncio.wait_for(server.close_all_connections(), 5)

    return stop
