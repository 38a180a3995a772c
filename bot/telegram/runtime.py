"""What the handlers share (`Runtime`), and getting replies out without losing or repeating any.

- `Runtime`: the Bridge (engine + storage), one database thread (so SQLite never blocks the
  event loop, and one thread owns the connection), the deliverer and the inbox's intake.
- Delivery (`Runtime.flush`): sends a chat's outbox in order, with retries and back-off
  (honouring Telegram's `retry_after`); a message that still fails waits, with the chat's later
  ones, until the chat next writes (then it goes first, with a short apology for the delay).
- Intake (`Runtime.intake`): a batch of raw updates is kept in the inbox before it is confirmed
  (polling: bot/telegram/polling.py; webhook: bot/telegram/webhook.py), then handed on.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from functools import partial
from html import escape
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Update
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    RetryAfter,
    TelegramError,
)

from bot.storage.sessions import Outgoing, SessionStore, fits
from bot.telegram.attachments import CHART, DOCUMENT, chart_of, file_of
from bot.telegram.cards import force_reply
from bot.telegram.updates import raw_chat_id, seconds
from conversations.recovery_records import Reminder

if TYPE_CHECKING:
    from telegram import Bot
    from telegram.ext import Application

    from bot.telegram.bridge import Bridge
    from bot.telegram.cluster import Cluster

log = logging.getLogger(__name__)
T = TypeVar("T")

SEND_ATTEMPTS = 5  # then the message waits for the chat's next message
MAX_BACKOFF_S = 8.0


class ChatOrder(Protocol):
    """The per-chat lock of the update processor (bot/telegram/chat_order.py)."""

    def chat(self, chat_id: int) -> AbstractAsyncContextManager[None]:
        """Hold the chat's lock: its updates and sends one at a time."""
        ...


class ReminderSchedule(Protocol):
    """The reminder scheduler (bot/telegram/reminders.py), as start-up and the handlers use it."""

    async def start(self) -> int:
        """Schedule every active reminder; how many."""
        ...

    async def stop(self) -> None:
        """Stop scheduling and sending."""
        ...

    def reschedule(self, chat_id: int, reminder: Reminder | None) -> None:
        """A turn set, changed or turned off the chat's reminder."""
        ...


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
    processor: ChatOrder | None = None
    # each chat's newest question message (id, text), so its keyboard can be closed when the
    # question is answered by typing; kept in memory — after a restart an old keyboard stays,
    # and a tap on it gets the "moved on" toast
    live_keyboards: LiveKeyboards = field(default_factory=lambda: LiveKeyboards())
    # several instances on PostgreSQL (bot/telegram/cluster.py): chat locks across instances; None on SQLite
    cluster: Cluster | None = None
    application: Application | None = None
    stopping: bool = False  # set at shutdown: /readyz then answers 503
    reminders: ReminderSchedule | None = None  # the reminder scheduler (bot/telegram/reminders.py), once started

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
        markup: Any = keyboard(row.buttons) or force_reply(row)  # a hint only without buttons (cards.py)
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
            try:
                await self.db(self.store.finish, update_id)
            except Exception as error:  # the batch's other updates still go on; this one is skipped at the next start
                log.warning("update %s: could not mark it done (%s)", update_id, type(error).__name__)
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
