"""What the handlers share (`Runtime`), and getting replies out without losing or repeating any.

- `Runtime`: the Bridge (engine + storage), one database thread (so SQLite never blocks the
  event loop, and one thread owns the connection), the deliverer and the inbox's intake.
- Delivery (`Runtime.flush`): sends a chat's outbox in order, one attempt per message; one that
  fails parks the chat, and its outbox is retried in the background (`redeliver`) with back-off,
  honouring Telegram's `retry_after`, for up to 15 minutes — never while holding a worker or,
  on PostgreSQL, while holding the chat's lock between attempts. The chat's later replies wait
  behind it, so none arrives before an older one; a send that timed out is retried only after it
  has had time to arrive, so a repeat lands next to it; replies held up more than a few seconds
  go out after "Sorry for the delay", once. After 15 minutes they wait until the chat next writes.
- Intake (`Runtime.intake`): a batch of raw updates is kept in the inbox before it is confirmed
  (polling: bot/telegram/polling.py; webhook: bot/telegram/webhook.py), then handed on.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from functools import partial
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from telegram import InputFile, Update
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    RetryAfter,
    TelegramError,
    TimedOut,
)

from bot.storage.sessions import Outgoing, SessionStore, StorageError, fits
from bot.telegram.attachments import CHART, DOCUMENT, chart_of, file_of
from bot.telegram.cards import force_reply
from bot.telegram.keyboards import LiveKeyboards, keyboard, markup_of
from bot.telegram.updates import ChatBusy, raw_chat_id, seconds
from conversations.recovery_records import Reminder

if TYPE_CHECKING:
    from telegram import Bot
    from telegram.ext import Application

    from bot.telegram.bridge import Bridge
    from bot.telegram.cluster import Cluster

log = logging.getLogger(__name__)
T = TypeVar("T")

RETRY_FIRST_S = 0.25  # the first wait after a failed send; doubled on each failure after it
MAX_BACKOFF_S = 30.0
GIVE_UP_AFTER_S = 15 * 60.0  # then the replies wait for the chat's next message (with the late note)
LATE_NOTE_AFTER_S = 5.0
# after a send timed out, Telegram may yet carry it out: the retry (and the chat's later replies
# behind it) waits about one more read time-out, so a repeat lands next to the original, not after newer ones
UNCERTAIN_S = 6.0  # replies held up longer than this go out after "Sorry for the delay" (once)
# how every reply is shown: HTML with every data string escaped (conversations/render.py), no link previews
FORMAT: dict[str, Any] = {"parse_mode": "HTML", "link_preview_options": {"is_disabled": True}}


def run_on_one_core() -> None:
    """Keep this process's threads on the core it runs on (Linux; elsewhere nothing changes).

    The loop and the database thread hand the GIL over on every turn; across two cores that cost
    1.2–1.5× the CPU (docs/benchmarks.md, section 3), and Python runs one thread at a time anyway.
    """
    if not hasattr(os, "sched_setaffinity"):
        return
    try:
        core = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[36])
        if core not in os.sched_getaffinity(0):
            return
        for task in Path("/proc/self/task").iterdir():  # every thread started so far; later ones inherit
            os.sched_setaffinity(int(task.name), {core})
    except (OSError, ValueError, IndexError):
        return


@dataclass
class Parked:
    """A chat whose outbox is being retried in the background."""

    since: float  # time.monotonic() of the first failure
    attempts: int = 0
    task: asyncio.Task[None] | None = None


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


def hint_of(row: Outgoing) -> dict[str, Any]:
    """The input-field hint (ForceReply with a placeholder) as the Bot API's JSON, for a question
    that waits for words and has no buttons (bot/telegram/cards.py)."""
    hint = force_reply(row)
    return {"reply_markup": hint.to_dict()} if hint is not None else {}


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
    parked: dict[int, Parked] = field(default_factory=dict)  # chats whose outbox is retried in the background
    timed_out: set[int] = field(default_factory=set)  # outbox rows whose last send timed out (may have arrived)
    unmarked: set[int] = field(default_factory=set)  # outbox rows sent but not yet marked delivered

    @property
    def store(self) -> SessionStore:
        return self.bridge.store

    async def db(self, function: Callable[..., T], *args: Any) -> T:
        """Run storage (or a turn, which is storage plus well under a millisecond of engine) off the event loop."""
        return await asyncio.get_running_loop().run_in_executor(self.executor, partial(function, *args))

    def close(self) -> None:
        for parked in list(self.parked.values()):  # what is left stays in the outbox for the next start
            if parked.task is not None:
                parked.task.cancel()
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
                else:  # ChatBusy when another instance holds it: the caller tries later
                    async with self.cluster.chat(chat_id, wait=False):
                        yield

    # ----- delivery ------------------------------------------------------------------------
    async def flush(self, chat_id: int, queued: Sequence[Outgoing] | None = None) -> None:
        """Send the chat's outbox in order; each message leaves it once Telegram has it.

        One attempt per message here. A message that fails (a 5xx, a time-out, `retry_after`)
        parks the chat: its outbox, this message first, is retried in the background with
        back-off (`redeliver`), and the chat's later replies wait behind it, so none arrives
        before an older one and a send whose answer was lost is repeated next to itself.
        """
        if chat_id in self.parked:
            return  # the background retry sends everything, in order
        rows = queued if queued is not None else await self.db(self.store.queued, chat_id)
        delay = await self.deliver(rows)
        if delay is not None:
            self.park(chat_id, delay)

    async def deliver(self, rows: Sequence[Outgoing], late_note: str = "") -> float | None:
        """Send rows in order, once each; None when all went (or were refused), else the wait before retrying."""
        for index, row in enumerate(rows):
            if row.id not in self.unmarked:
                outcome, delay = await self.send(row, late_note if index == 0 else "")
                if outcome == "retry":
                    return delay
            self.timed_out.discard(row.id)
            try:
                await self.db(self.store.delivered, row.id)
            except StorageError:  # sent, but not marked (a full disk): only the marking is retried
                log.warning("chat %s: could not mark a reply delivered; retrying later", row.chat_id)
                self.unmarked.add(row.id)
                return RETRY_FIRST_S
            self.unmarked.discard(row.id)
        return None

    def park(self, chat_id: int, delay: float) -> None:
        """Retry the chat's outbox in the background, after `delay`."""
        if chat_id not in self.parked:
            self.parked[chat_id] = Parked(time.monotonic())
            task = asyncio.get_running_loop().create_task(self.redeliver(chat_id, delay))
            self.parked[chat_id].task = task

    async def redeliver(self, chat_id: int, delay: float) -> None:
        """Retry a parked chat's outbox with back-off, for up to `GIVE_UP_AFTER_S`; one late note at most."""
        parked = self.parked[chat_id]
        try:
            while not self.stopping:
                await asyncio.sleep(delay)
                try:
                    retry_in = await self.redeliver_once(chat_id, parked)
                except ChatBusy:  # another instance is on the chat (and sends its outbox): later
                    retry_in = 0.0
                if retry_in is None:
                    return
                delay = max(retry_in, min(RETRY_FIRST_S * 2**parked.attempts, MAX_BACKOFF_S))
        except Exception as error:  # the store failed or is gone: the outage watch or the next start sends it
            log.warning("chat %s: background delivery stopped (%s)", chat_id, type(error).__name__)
        finally:
            self.parked.pop(chat_id, None)

    async def redeliver_once(self, chat_id: int, parked: Parked) -> float | None:
        """One background attempt at a parked chat's outbox, holding the chat; None when it is done."""
        async with self.chat_turn(chat_id):
            rows = await self.db(self.store.queued, chat_id)
            # no note on a message that may well have arrived (its send timed out)
            late = time.monotonic() - parked.since >= LATE_NOTE_AFTER_S and not (rows and rows[0].id in self.timed_out)
            note = self.bridge.engine.knowledge.message("late_note") if late else ""
            retry_in = await self.deliver(rows, note)
            if retry_in is None:
                return None
            parked.attempts += 1
            if time.monotonic() - parked.since > GIVE_UP_AFTER_S:
                log.warning("chat %s: replies could not be delivered; they wait for its next message", chat_id)
                await self.db(self.store.give_up, chat_id, rows[0].id)
                return None
            return retry_in

    async def send(self, row: Outgoing, late_note: str = "") -> tuple[str, float]:
        """One attempt: ('sent' | 'refused' (for good: blocked, chat gone, a bad request) | 'retry', wait)."""
        attachment: Any = None
        if row.kind != "text":
            try:
                attachment = await self.attachment(row)
            except Exception:  # a chart that cannot be drawn must not hold up the chat's other messages
                log.exception("chat %s: could not prepare a %s; it was dropped", row.chat_id, row.kind)
                return "refused", 0.0
        try:
            if row.kind == CHART:
                await self.bot.send_photo(row.chat_id, attachment, caption=row.text or None, reply_markup=keyboard(row.buttons))
            elif row.kind == DOCUMENT:
                await self.bot.send_document(row.chat_id, attachment, caption=row.text or None,
                                             reply_markup=keyboard(row.buttons))  # fmt: skip
            elif late_note or not (row.edit and await self.edit_in_place(row)):
                text = row.text if not late_note or row.text.startswith(late_note) else f"{late_note}\n\n{row.text}"
                sent = await self.post("sendMessage", chat_id=row.chat_id, text=text, **FORMAT, **(markup_of(row.buttons) or hint_of(row)))
                if row.question:
                    self.live_keyboards[row.chat_id] = (int(sent["message_id"]), text)
            return "sent", 0.0
        except Forbidden:
            log.info("chat %s: the runner has blocked the bot or left; a reply was dropped", row.chat_id)
            return "refused", 0.0
        except (BadRequest, ChatMigrated) as error:
            log.warning("chat %s: Telegram refused a reply (%s)", row.chat_id, type(error).__name__)
            return "refused", 0.0
        except RetryAfter as error:
            return "retry", seconds(error) + 0.1
        except TimedOut:  # Telegram may still carry it out: give it that long before sending it again
            self.timed_out.add(row.id)
            log.info("chat %s: a send timed out; retrying once it has settled", row.chat_id)
            return "retry", UNCERTAIN_S
        except TelegramError as error:  # time-outs, network errors, 5xx
            log.info("chat %s: a send failed (%s); retrying in the background", row.chat_id, type(error).__name__)
            return "retry", RETRY_FIRST_S

    async def post(self, method: str, **params: Any) -> Any:
        """A Bot API call whose answer is used as JSON: no PTB objects built for the reply (CPU).

        PTB's own path for this, `do_api_request`, warns for a method PTB has; its `_post` is what
        that and every `send_*` call (rate limiter and time-outs included) go through.
        """
        return await self.bot._post(method, params)

    async def attachment(self, row: Outgoing) -> InputFile:
        """A chart drawn (0.15–0.4 s of matplotlib: in a worker thread, never on the event loop) or a file."""
        if row.kind == CHART:
            from bot.charts import render_png  # matplotlib only when a chart is drawn

            png = await asyncio.to_thread(render_png, chart_of(row.attachment))
            return InputFile(png, filename="progress.png")
        file = file_of(row.attachment)
        return InputFile(file.data, filename=file.name)

    async def edit_in_place(self, row: Outgoing) -> bool:
        """Show a re-drawn question (a ticked checklist) in the message that was tapped.

        False when that message can no longer be edited: the caller sends it anew instead.
        """
        try:
            await self.post("editMessageText", chat_id=row.chat_id, message_id=row.edit, text=row.text,
                            **FORMAT, **markup_of(row.buttons))  # fmt: skip
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
            if label:  # an edit without reply_markup removes the keyboard
                await self.post("editMessageText", chat_id=chat_id, message_id=message_id,
                                text=f"{text}\n\n✓ {escape(label)}", **FORMAT)  # fmt: skip
            else:
                await self.post("editMessageReplyMarkup", chat_id=chat_id, message_id=message_id)
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
        """Send the chat's outbox, holding its lock; on PostgreSQL, nothing if another instance
        holds it (that instance sends the outbox, or the sweeper comes back to it)."""
        try:
            async with self.chat_turn(chat_id):
                await self.flush(chat_id)
        except ChatBusy:
            log.debug("chat %s: busy on another instance; its outbox is left to it", chat_id)
