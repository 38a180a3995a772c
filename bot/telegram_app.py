"""runner-bot on Telegram (python-telegram-bot v22): thin handlers around the conversation engine.

Every handler does the same few things: turn the update into an engine event, run one turn
(`Bridge.turn`: load the session, run the engine, then in ONE transaction keep the new session,
queue the replies in the outbox and mark the update done), then deliver the chat's outbox.
No medical logic lives here.

Updates arrive through the inbox (bot/delivery.py): written to SQLite before Telegram is told
they were received. Chats run concurrently, each chat's updates in order (`ChatOrderProcessor`);
database work runs on one thread of its own, off the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import resource
import secrets
import signal
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from html import escape
from typing import Any
from urllib.parse import urlsplit

from telegram import (
    BotCommand,
    CallbackQuery,
    LinkPreviewOptions,
    Message,
    Update,
)
from telegram.constants import MessageLimit, ParseMode
from telegram.error import (
    BadRequest,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ContextTypes,
    Defaults,
    MessageHandler,
    filters,
)
from telegram.request import BaseRequest

from bot.attachments import messages_for
from bot.backends import cluster_for, open_store, shared
from bot.clock import Clock
from bot.config import Settings
from bot.delivery import _APPLICATIONS, ChatOrderProcessor, Fatal, Runtime, poll, serve_webhook
from bot.logs import configure_logging
from bot.records import RECORD_EFFECTS, MemoryRecordStore, NotClaimed, RecordStore, SqliteRecordStore
from bot.reminders import REMINDER_SHARE, Reminders
from bot.storage import KEEP, Outgoing, SessionStore, SqliteStore, StorageBusy, StorageError
from bot.storage import Message as Queued
from conversations.engine import Engine
from conversations.events import (
    CancelReminders,
    Choice,
    CloseKeyboard,
    Edited,
    Event,
    Forget,
    ReminderDue,
    Reply,
    SendChart,
    SendFiles,
    SetReminder,
    Text,
    Toast,
    Unsupported,
    parse_command,
)
from conversations.machine import step_token
from conversations.recovery_records import Reminder
from conversations.session import Session

log = logging.getLogger(__name__)

MENU_COMMANDS = (
    "start", "plan", "log", "progress", "mileage", "summary", "export", "remind",
    "prevent", "redflags", "help", "about", "privacy", "cancel", "forget",
)  # fmt: skip
ALLOWED_UPDATES = [Update.MESSAGE, Update.EDITED_MESSAGE, Update.CALLBACK_QUERY]
NON_TEXT_KINDS = (
    "photo", "sticker", "voice", "video", "video_note", "audio", "animation", "document",
    "location", "venue", "contact", "poll", "dice",
)  # fmt: skip
PRIVATE = filters.ChatType.PRIVATE


JOIN_LIMIT = 1000  # replies are joined into one message only while it stays a phone screen (issue 11)
GROUP_POINTER_EVERY_S = 600.0  # one "let's talk in private" a group per ten minutes, not thirty


@dataclass(frozen=True)
class Turn:
    """What one turn left for the Telegram side to do."""

    accepted: bool  # a button press that belonged to the current question
    queued: list[Outgoing]  # the chat's outbox, oldest first (this turn's replies last)
    effects: tuple[Any, ...] = ()  # engine effects for Telegram to carry out (CloseKeyboard, Toast)
    edited: bool = False  # the pressed message is re-drawn in place (a ticked checklist)
    reminder: Reminder | None = None  # the chat's reminder, when this turn set, changed or deleted it
    reminder_changed: bool = False

    @property
    def toast(self) -> str | None:
        """The notice to show over the chat for a button press, if the turn decided one."""
        return next((effect.text for effect in self.effects if isinstance(effect, Toast)), None)


@dataclass
class Bridge:
    """The chat-independent glue: storage and the engine, shared by all handlers.

    `turn` is the ONE place the engine is called. It runs on the database thread. Effects the
    engine returns are carried out here when they concern storage (`Forget`), passed back in
    `Turn.effects` when they concern Telegram, and logged and ignored when unknown, so a newer
    engine never breaks an older adapter.
    """

    engine: Engine
    store: SessionStore
    records: RecordStore = field(default_factory=MemoryRecordStore)
    group_pointers: dict[int, float] = field(default_factory=dict)

    def load(self, chat_id: int) -> Session:
        """The chat's session; a new one for a new chat, or if the stored one no longer fits the data."""
        session = self.store.load(chat_id)
        if session is None:
            return self.engine.new_session()
        problems = self.engine.problems(session)
        if problems:  # e.g. saved by an older version whose data named a clue since renamed
            log.warning("starting a chat afresh: its stored session no longer fits (%s)", problems[0])
            return Session(menu=session.menu)
        return session

    def turn(
        self, chat_id: int, event: Event, update_id: int | None = None, pressed_message: int = 0
    ) -> Turn:
        """Run one engine turn for a chat; its session, replies and the update's done mark in one transaction.

        `pressed_message`: the message whose button was pressed, which a re-drawn question
        (a ticked checklist) replaces in place.
        """
        before = self.load(chat_id)
        records = self.records.records(chat_id)
        accepted = isinstance(event, Choice) and self.engine.accepts(before, event.data)
        result = self.engine.handle(before, event, records)
        telegram_effects: list[Any] = []
        record_effects: list[Any] = []
        for effect in result.effects:
            if isinstance(effect, Forget):
                # every row of the chat goes; the fresh session kept below holds only the number
                # of the menu just sent, so that menu works and older buttons stay expired
                self.store.forget(chat_id)
                record_effects.append(effect)  # the records go in the turn's transaction below
            elif isinstance(effect, RECORD_EFFECTS):
                record_effects.append(effect)
            else:
                telegram_effects.append(effect)
        answered = isinstance(event, Choice) and accepted and not event.data.startswith("x:")  # the pressed keyboard shows the choice
        if not answered and question_ended(before, result.session, telegram_effects):
            # the live question takes no more taps, and the engine closed nothing: a typed answer
            # that ended the flow (its menu number stays), or a late "yes" taken as a report
            telegram_effects.append(CloseKeyboard())
        revive = self.engine.knowledge.message("late_note") if self.store.has_failed(chat_id) else ""
        messages = render(result.replies, pressed_message if accepted else 0)
        edited = any(m.edit for m in messages)
        messages += messages_for(telegram_effects)  # charts and files: after the replies, durably
        # ONE transaction: the session, the outbox, the update's done mark and the records
        also = self.records.writes(chat_id, record_effects, self.engine.now()) if record_effects else None
        queued = self.store.commit(chat_id, update_id, result.session, messages, revive_with=revive, also=also)
        self.count_outcomes(result.replies)
        changed = any(isinstance(e, SetReminder | CancelReminders | Forget) for e in record_effects)
        reminder = self.records.records(chat_id).reminder if changed else None
        return Turn(accepted, queued, tuple(telegram_effects), edited, reminder, changed)

    def remind(self, due: Sequence[Reminder]) -> list[tuple[int, bool, Reminder | None]]:
        """Send each due reminder at most once: claim it and queue its message in ONE transaction.

        For each: (chat id, whether a message was queued, the reminder as it now stands — to be
        scheduled again, or None when it is off or gone). The message is the reminder and, when
        a plan is in progress, today's card (what /plan shows, with its buttons).
        """
        outcomes: list[tuple[int, bool, Reminder | None]] = []
        now = self.engine.now()
        for reminder in due:
            chat_id = reminder.chat_id
            records = self.records.records(chat_id)
            current = records.reminder
            if current is None or not current.active or current.next_due != reminder.next_due or current.due > now:
                outcomes.append((chat_id, False, current if current and current.active else None))
                continue
            result = self.engine.handle(self.load(chat_id), ReminderDue(), records)
            session, replies = result.session, result.replies
            effects = [e for e in result.effects if isinstance(e, RECORD_EFFECTS)]
            claimed: list[Reminder] = []
            claim = self.records.claiming(current, now, claimed)
            writes = self.records.writes(chat_id, effects, now) if effects else None

            def also(conn: Any, claim: Any = claim, writes: Any = writes) -> None:
                claim(conn)
                if writes is not None:
                    writes(conn)

            try:
                self.store.commit(chat_id, None, session, render(replies), also=also)
            except NotClaimed:
                latest = self.records.records(chat_id).reminder
                outcomes.append((chat_id, False, latest if latest and latest.active else None))
                continue
            outcomes.append((chat_id, True, claimed[0]))
        return outcomes

    def group_pointer(self, chat_id: int, update_id: int | None) -> list[Outgoing] | None:
        """A group command: point to a private chat, at most once per group every ten minutes."""
        now = time.monotonic()
        if now - self.group_pointers.get(chat_id, -GROUP_POINTER_EVERY_S) < GROUP_POINTER_EVERY_S:
            return None
        self.group_pointers[chat_id] = now
        text = self.engine.knowledge.message("private_only")
        return self.store.commit(chat_id, update_id, KEEP, [Queued(text)])

    def count_outcomes(self, replies: list[Reply]) -> None:
        """Anonymous statistics: which results and how many emergency warnings, never who."""
        for reply in replies:
            if reply.kind == "result":
                self.store.count("result", reply.condition or "unclear")
            elif reply.emergency:
                self.store.count("warning", "emergency")


def question_ended(before: Session, after: Session, effects: list[Any]) -> bool:
    """The question shown before a turn takes no more taps after it, and no effect closes it yet."""
    if any(isinstance(effect, CloseKeyboard) for effect in effects):
        return False
    return (before.menu, step_token(before.top)) != (after.menu, step_token(after.top))


def render(replies: list[Reply], pressed_message: int = 0) -> list[Queued]:
    """The engine's replies as Telegram messages: joined, split to fit, buttons on the last piece.

    A question re-drawn in place (a ticked checklist) edits `pressed_message` instead of
    arriving as a new message.
    """
    messages = []
    for reply in coalesce(replies):
        pieces = split_text(reply.text)
        for index, piece in enumerate(pieces):
            last = index == len(pieces) - 1
            buttons = tuple((b.label, b.data) for b in reply.buttons) if last else ()
            edit = pressed_message if reply.in_place and last and len(pieces) == 1 else 0
            messages.append(Queued(piece, buttons, question=reply.kind == "question" and last, edit=edit))
    return messages


def bridge_of(context: ContextTypes.DEFAULT_TYPE) -> Bridge:
    return context.application.bot_data["bridge"]


def runtime_of(context: ContextTypes.DEFAULT_TYPE) -> Runtime:
    return context.application.bot_data["runtime"]


async def run_turn(
    update: Update, context: ContextTypes.DEFAULT_TYPE, chat_id: int, event: Event, pressed_message: int = 0
) -> Turn:
    """One turn on the database thread; the update is then done, whatever happens to the sends.

    Effects for Telegram are carried out here: a keyboard answered by typing is closed before
    the replies go out. (A toast belongs to the button press: `on_button` shows it.)
    """
    runtime = runtime_of(context)
    turn = await runtime.db(runtime.bridge.turn, chat_id, event, update.update_id, pressed_message)
    runtime.done_in_turn.add(update.update_id)
    log.debug("update %s handled", update.update_id)  # ids only: the fault suite counts these
    if turn.reminder_changed and runtime.reminders is not None:
        runtime.reminders.reschedule(chat_id, turn.reminder)
    for effect in turn.effects:
        if isinstance(effect, CloseKeyboard):
            await runtime.close_keyboard(chat_id, effect.label)
        elif not isinstance(effect, Toast | SendChart | SendFiles):  # charts and files went to the outbox  # unknown to this adapter: a newer engine, say
            log.debug("update %s: effect %s is not carried out on Telegram", update.update_id, type(effect).__name__)
    return turn


def coalesce(replies: list[Reply]) -> list[Reply]:
    """Join consecutive replies into as few Telegram messages as read well.

    A reply without buttons runs on into the next one ("That menu has expired" + the question),
    so a turn is usually one message with its keyboard; the emergency warning always stands
    alone, and nothing is joined past a phone screen (`JOIN_LIMIT`: the welcome and the routine
    of `/start prevent` are two cards, not one of 1,264 characters).
    """
    joined: list[Reply] = []
    for reply in replies:
        previous = joined[-1] if joined else None
        if (
            previous is not None
            and not previous.buttons
            and not previous.emergency
            and not reply.emergency
            and len(previous.text) + len(reply.text) + 2 <= JOIN_LIMIT
        ):
            joined[-1] = Reply(
                f"{previous.text}\n\n{reply.text}", reply.buttons, kind=reply.kind, in_place=reply.in_place
            )
        else:
            joined.append(reply)
    return joined


def split_text(text: str, limit: int = MessageLimit.MAX_TEXT_LENGTH) -> list[str]:
    """Split text into messages Telegram accepts, at paragraph or line breaks where possible."""
    pieces, rest = [], text or "…"
    while len(rest) > limit:
        cut = max(rest.rfind("\n\n", 0, limit), rest.rfind("\n", 0, limit))
        cut = cut if cut > limit // 2 else limit
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip("\n")
    return [*pieces, rest]


# ----- handlers, registered in this order by build_application ---------------------------------
async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A typed message or a /command in a private chat."""
    message = update.effective_message
    if message is None or update.effective_chat is None:
        return
    text = message.text or ""
    event: Event = parse_command(text) or Text(text)
    turn = await run_turn(update, context, update.effective_chat.id, event)
    await runtime_of(context).flush(update.effective_chat.id, turn.queued)


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A button press: always answered; a used keyboard is edited to show the choice.

    The press counts even when its acknowledgement fails (say, "query is too old" after a backlog).
    """
    query = update.callback_query
    if query is None or update.effective_chat is None:
        return
    chat_id = update.effective_chat.id
    data = query.data or ""
    pressed = query.message.message_id if isinstance(query.message, Message) else 0
    try:
        turn = await run_turn(update, context, chat_id, Choice(data), pressed)
    except Exception:
        await acknowledge(update, query, None)  # the press is retried later (a locked database)
        raise
    await acknowledge(update, query, turn.toast)
    lasting = data.startswith("x:")  # section and menu buttons never expire: keep them
    if isinstance(query.message, Message) and not turn.edited and not (lasting and turn.accepted):
        await show_choice(query.message, data if turn.accepted else None)
        live = runtime_of(context).live_keyboards
        if live.get(chat_id, (0, ""))[0] == pressed:  # a stale tap on an older message leaves it open
            live.pop(chat_id, None)
    await runtime_of(context).flush(chat_id, turn.queued)


async def acknowledge(update: Update, query: CallbackQuery, toast: str | None) -> None:
    """Answer a press (with a toast when the turn decided one); the press counts even if this fails."""
    try:
        await query.answer(text=toast)
    except TelegramError as error:
        log.info("update %s: could not acknowledge a press (%s); handled it anyway", update.update_id,
                 type(error).__name__)  # fmt: skip


async def show_choice(message: Message, data: str | None) -> None:
    """Replace a used keyboard with the label chosen, or just remove an expired one."""
    chosen = next(
        (b.text for row in (message.reply_markup.inline_keyboard if message.reply_markup else ()) for b in row
         if b.callback_data == data),
        None,
    )  # fmt: skip
    try:
        text = f"{message.text_html}\n\n✓ {escape(chosen)}" if chosen and message.text else ""
        if text and len(text) <= MessageLimit.MAX_TEXT_LENGTH:
            await message.edit_text(text, reply_markup=None)
        else:
            await message.edit_reply_markup(reply_markup=None)
    except BadRequest as error:  # e.g. the message is too old to edit: the choice still counts
        log.info("could not edit a used keyboard: %s", error.message)
    except TelegramError as error:  # cosmetic: the turn has happened and its replies are queued
        log.info("could not edit a used keyboard (%s)", type(error).__name__)


async def on_other_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Photos, stickers, voice notes, locations, documents ...: explain, and ask again."""
    message = update.effective_message
    if message is None or update.effective_chat is None:
        return
    kind = next((k for k in NON_TEXT_KINDS if getattr(message, k, None)), "other")
    # a photo's caption is read like a message ("here's where it hurts: outside of my hip")
    event: Event = Text(message.caption) if message.caption else Unsupported(kind)
    turn = await run_turn(update, context, update.effective_chat.id, event)
    await runtime_of(context).flush(update.effective_chat.id, turn.queued)


async def on_edited(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An edited message: the conversation has moved on, so say edits are not re-read."""
    if update.effective_chat is None:
        return
    message = update.effective_message
    text = (message.text or message.caption or "") if message is not None else ""
    # not re-read as an answer, but a warning sign added in an edit is still answered
    turn = await run_turn(update, context, update.effective_chat.id, Edited(text) if text else Unsupported("edited"))
    await runtime_of(context).flush(update.effective_chat.id, turn.queued)


async def on_group_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A command in a group: health questions belong in a private chat (said once, not thirty times)."""
    if update.effective_chat is None:
        return
    runtime = runtime_of(context)
    queued = await runtime.db(runtime.bridge.group_pointer, update.effective_chat.id, update.update_id)
    if queued is not None:
        runtime.done_in_turn.add(update.update_id)
        log.debug("update %s handled", update.update_id)
        await runtime.flush(update.effective_chat.id, queued)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log any error by kind and update id — never the message text or the token — and carry on."""
    error = context.error
    update_id = update.update_id if isinstance(update, Update) else None
    if isinstance(error, StorageBusy) and update_id is not None:  # never an apology for a lock
        log.warning("update %s: the database stayed locked; trying it again shortly", update_id)
        runtime_of(context).retry_later.add(update_id)
    elif isinstance(error, Forbidden):
        log.info("update %s: a runner has blocked the bot or left the chat", update_id)
    elif isinstance(error, RetryAfter | TimedOut | NetworkError):
        log.warning("update %s: Telegram could not be reached (%s)", update_id, type(error).__name__)
    elif isinstance(error, TelegramError):
        log.warning(
            "update %s: Telegram refused a request (%s: %s)", update_id, type(error).__name__, error.message
        )
    else:
        log.error("update %s: unexpected %s", update_id, type(error).__name__, exc_info=error)
        await apologise(update, context)


async def apologise(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Tell the runner something went wrong on our side (e.g. the database), never how."""
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    bridge: Bridge | None = context.application.bot_data.get("bridge")
    if bridge is None:
        return
    try:
        await context.bot.send_message(
            update.effective_chat.id, bridge.engine.knowledge.message("internal_error")
        )
    except TelegramError:
        log.warning("update %s: could not send the apology either", update.update_id)


# ----- the application ------------------------------------------------------------------------
def build_application(
    settings: Settings,
    engine: Engine | None = None,
    store: SessionStore | None = None,
    request: BaseRequest | None = None,
) -> Application:
    """Build and wire the PTB Application. Storage opens in post_init and closes in post_shutdown.

    There is no PTB Updater: `serve` polls (or runs the webhook) itself, through the inbox.
    """
    holder: dict[str, Any] = {}
    processor = ChatOrderProcessor(lambda: holder.get("runtime"))
    builder = (
        ApplicationBuilder()
        .token(settings.telegram_token)
        .concurrent_updates(processor)
        .updater(None)
        # replies are HTML with every data string escaped (conversations/render.py)
        .defaults(Defaults(parse_mode=ParseMode.HTML, link_preview_options=LinkPreviewOptions(is_disabled=True)))
    )
    if settings.rate_limit:
        # retries are the deliverer's (bot/delivery.py), which honours retry_after and keeps order
        limiter = AIORateLimiter(overall_max_rate=settings.rate_limit, max_retries=0)
        builder = builder.rate_limiter(limiter)  # type: ignore[arg-type]  # PTB's generic builder types
    if settings.telegram_base_url:
        builder = builder.base_url(settings.telegram_base_url).base_file_url(
            file_url(settings.telegram_base_url)
        )
    if request is not None:
        builder = builder.request(request).get_updates_request(request)
    application = builder.build()
    application.bot_data.update(settings=settings, engine=engine, store=store, processor=processor)
    holder["data"] = application.bot_data
    application.bot_data["_holder"] = holder

    # 1. button presses, in any state
    application.add_handler(CallbackQueryHandler(on_button))
    # 2. typed text and /commands in private chats
    application.add_handler(MessageHandler(PRIVATE & filters.UpdateType.MESSAGE & filters.TEXT, on_text))
    # 3. anything else sent privately: photos, stickers, voice, locations, documents ...
    application.add_handler(
        MessageHandler(PRIVATE & filters.UpdateType.MESSAGE & ~filters.TEXT, on_other_message)
    )
    # 4. edits of earlier messages
    application.add_handler(MessageHandler(PRIVATE & filters.UpdateType.EDITED_MESSAGE, on_edited))
    # 5. commands in groups get a pointer to a private chat; other group and channel traffic is ignored
    application.add_handler(MessageHandler(filters.ChatType.GROUPS & filters.COMMAND, on_group_command))
    application.add_error_handler(on_error)
    return application


async def post_init(application: Application) -> None:
    """Open storage, build the engine, and register the command menu."""
    data = application.bot_data
    if "startup_log_level" in data:
        logging.getLogger("telegram.ext").setLevel(data.pop("startup_log_level"))
    settings: Settings = data["settings"]
    clock = Clock.parse(settings.test_clock)
    engine = data.get("engine") or Engine(now=clock.now)
    store = data.get("store") or open_store(settings)  # SQLite, or PostgreSQL by DATABASE_URL
    records = data.get("records") or record_store_for(store)
    bridge = Bridge(engine, store, records)
    runtime = Runtime(bridge, application.bot, processor=data.get("processor"), application=application,
                      executor=ThreadPoolExecutor(getattr(store, "DB_THREADS", 1), thread_name_prefix="runner-bot-db"))
    runtime.cluster = cluster_for(store)  # several instances on one PostgreSQL (bot/cluster.py)
    if runtime.cluster is not None:
        await runtime.cluster.open()
    data["bridge"], data["runtime"] = bridge, runtime
    data["_holder"]["runtime"] = runtime
    if application.job_queue is not None:
        share = settings.rate_limit * REMINDER_SHARE
        runtime.reminders = Reminders(application, runtime, clock, rate=share)
    await describe_bot(application, engine)


def record_store_for(store: SessionStore) -> RecordStore:
    """The records live beside the sessions: in the same SQLite file on the same connection, or in
    the same PostgreSQL database on the same pool, so a turn's records are written in the turn's
    one transaction (`commit`'s `also`). Only a store of neither kind (tests) keeps them in memory."""
    if isinstance(store, SqliteStore):
        return SqliteRecordStore.sharing(store.db)
    if shared(store):  # PostgreSQL: imported only then, as psycopg is
        from bot.pg_storage import PgRecordStore, PgStore

        if isinstance(store, PgStore):
            return PgRecordStore.sharing(store)
    return MemoryRecordStore()


async def describe_bot(application: Application, engine: Engine) -> None:
    """The command menu and the bot's profile texts (with "not for emergencies"), from the data."""
    message = engine.knowledge.message
    commands = [BotCommand(name, message(f"command_{name}")) for name in MENU_COMMANDS]
    try:
        await application.bot.set_my_commands(commands)
        await application.bot.set_my_description(message("bot_description"))
        await application.bot.set_my_short_description(message("bot_short_description"))
    except TelegramError as error:  # the bot works without them; try again next start
        log.warning("could not register the command menu and profile (%s)", type(error).__name__)


async def post_shutdown(application: Application) -> None:
    """Close storage (after the database thread has finished its work)."""
    runtime: Runtime | None = application.bot_data.get("runtime")
    if runtime is not None and runtime.cluster is not None:
        await runtime.cluster.close()
    if runtime is not None:
        runtime.close()
    bridge: Bridge | None = application.bot_data.get("bridge")
    if bridge is not None:
        bridge.store.close()


def file_url(base_url: str) -> str:
    """The file-download URL that goes with a Bot API base URL (…/bot -> …/file/bot)."""
    return base_url[: -len("bot")] + "file/bot" if base_url.endswith("/bot") else base_url


def run_telegram(settings: Settings) -> int:
    """Run the bot until it is stopped (Ctrl-C or SIGTERM). Start-up problems: one line, exit 1."""
    from bot.app import fail

    configure_logging(settings)
    raise_open_files_limit()
    application = build_application(settings)
    # A start-up failure (rejected token, unreachable server) is reported below in one line, so
    # PTB's own log of it is held back until the bot has started (post_init lifts this).
    startup_logger = logging.getLogger("telegram.ext")
    application.bot_data["startup_log_level"] = startup_logger.level
    startup_logger.setLevel(logging.CRITICAL)
    try:
        asyncio.run(serve(application, settings))
    except InvalidToken:
        return fail("Telegram rejected TELEGRAM_BOT_TOKEN; check it with @BotFather")
    except Fatal as error:
        return fail(str(error))
    except StorageError as error:
        return fail(str(error))
    except NetworkError as error:
        return fail(
            f"could not reach the Telegram Bot API ({type(error).__name__}); check the network and TELEGRAM_BASE_URL"
        )
    return 0


async def serve(application: Application, settings: Settings) -> None:
    """Start, carry on with what the last run left unfinished, then poll or serve the webhook until stopped."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await application.initialize()  # getMe: a rejected token or an unreachable server stops here
    started = False
    stop_webhook = None
    poller: asyncio.Task[None] | None = None
    try:
        await post_init(application)
        runtime: Runtime = application.bot_data["runtime"]
        await application.start()
        started = True
        _APPLICATIONS.append(application)
        if runtime.cluster is not None and not settings.webhook_url:
            await runtime.cluster.hold_poller(application.bot.id, application.bot.username)  # or Fatal
        await runtime.replay(application)  # unfinished updates first, and undelivered replies
        if runtime.cluster is not None:
            runtime.cluster.start_sweeper(application, runtime)  # what a stopped instance left
        if runtime.reminders is not None:
            await runtime.reminders.start()  # every active reminder, scheduled again
        if settings.webhook_url:
            secret = settings.webhook_secret_token or secrets.token_urlsafe(32)
            stop_webhook = await serve_webhook(
                application, runtime, settings.webhook_listen, settings.webhook_port,
                urlsplit(settings.webhook_url).path, secret,
            )  # fmt: skip
            await application.bot.set_webhook(
                settings.webhook_url, secret_token=secret, allowed_updates=ALLOWED_UPDATES
            )
        else:
            await application.bot.delete_webhook()
            poller = asyncio.create_task(poll(application, runtime, ALLOWED_UPDATES))
        waiter = asyncio.create_task(stop.wait())
        watched = {waiter} | ({poller} if poller else set())
        done, _ = await asyncio.wait(watched, return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()
        if poller in done:
            poller.result()  # Fatal: the token was rejected while running
    finally:
        stopping: Runtime | None = application.bot_data.get("runtime")
        if stopping is not None:  # /readyz says 503; on PostgreSQL no new turn starts (work is handed back)
            stopping.stopping = True
            if stopping.cluster is not None:
                stopping.cluster.draining = True
        if poller is not None:
            poller.cancel()
            with contextlib.suppress(asyncio.CancelledError, Fatal):
                await poller
        if stop_webhook is not None:
            await stop_webhook()
        reminders = application.bot_data.get("runtime") and application.bot_data["runtime"].reminders
        if reminders is not None:
            await reminders.stop()
        if started:
            await application.stop()  # handles what is already queued, then stops
            _APPLICATIONS.remove(application)
        await post_shutdown(application)
        await application.shutdown()


def raise_open_files_limit() -> None:
    """Many idle connections (a webhook under a slow-header flood) should not exhaust file handles."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard if hard != resource.RLIM_INFINITY else max(soft, 65536), hard))
