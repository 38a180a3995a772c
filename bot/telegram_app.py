"""runner-bot on Telegram (python-telegram-bot v22): thin handlers around the conversation engine.

Every handler does the same few things: turn the update into an engine event, load the chat's
session, run the engine, save the session, send the replies. No medical logic lives here.

Updates are processed one at a time (PTB's default, `concurrent_updates(False)`): each turn is a
fraction of a millisecond of engine work plus one small SQLite write, so ordering comes for free
and there is nothing to gain from running turns of one chat, or of different chats, in parallel.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field
from html import escape
from urllib.parse import urlsplit

from telegram import (
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
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

from bot.config import Settings
from bot.logs import configure_logging
from bot.storage import SessionStore, SqliteStore, StorageError
from conversations.engine import Engine
from conversations.events import (
    Choice,
    CloseKeyboard,
    Event,
    Forget,
    Reply,
    Text,
    Toast,
    TurnResult,
    Unsupported,
    parse_command,
)
from conversations.session import Session

log = logging.getLogger(__name__)

MENU_COMMANDS = ("start", "prevent", "redflags", "help", "about", "privacy", "cancel", "forget")
ALLOWED_UPDATES = [Update.MESSAGE, Update.EDITED_MESSAGE, Update.CALLBACK_QUERY]
NON_TEXT_KINDS = (
    "photo", "sticker", "voice", "video", "video_note", "audio", "animation", "document",
    "location", "venue", "contact", "poll", "dice",
)  # fmt: skip
PRIVATE = filters.ChatType.PRIVATE


@dataclass
class Bridge:
    """The chat-independent glue: storage and the engine, shared by all handlers."""

    engine: Engine
    store: SessionStore
    # the message that carries each chat's newest question keyboard, to close it when the
    # question is answered by typing (kept in memory: after a restart an old keyboard simply
    # stays, and a tap on it gets the "moved on" toast)
    keyboards: dict[int, int] = field(default_factory=dict)

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

    def turn(self, chat_id: int, event: Event) -> TurnResult:
        """Run one engine turn for a chat and keep its new session (before anything is sent)."""
        return self.turn_from(self.load(chat_id), chat_id, event)

    def press(self, chat_id: int, data: str) -> tuple[bool, TurnResult]:
        """A button press: whether it belonged to the current question, and the turn's result."""
        before = self.load(chat_id)
        return self.engine.accepts(before, data), self.turn_from(before, chat_id, Choice(data))

    def turn_from(self, before: Session, chat_id: int, event: Event) -> TurnResult:
        result = self.engine.handle(before, event)
        if any(isinstance(effect, Forget) for effect in result.effects):
            self.store.forget(chat_id)
            self.keyboards.pop(chat_id, None)
        # after /forget this is a fresh session holding only the number of the menu just sent,
        # so that menu works and every button from before the deletion has expired
        self.store.save(chat_id, result.session)
        self.count_outcomes(result.replies)
        return result

    def count_outcomes(self, replies: list[Reply]) -> None:
        """Anonymous statistics: which results and how many emergency warnings, never who."""
        for reply in replies:
            if reply.kind == "result":
                self.store.count("result", reply.condition or "unclear")
            elif reply.emergency:
                self.store.count("warning", "emergency")


def bridge_of(context: ContextTypes.DEFAULT_TYPE) -> Bridge:
    return context.application.bot_data["bridge"]


def coalesce(replies: list[Reply]) -> list[Reply]:
    """Join consecutive replies into as few Telegram messages as read well.

    A reply without buttons runs on into the next one ("That menu has expired" + the question),
    so a turn is usually one message with its keyboard; the emergency warning always stands
    alone, and nothing is joined past Telegram's length limit.
    """
    joined: list[Reply] = []
    for reply in replies:
        previous = joined[-1] if joined else None
        if (
            previous is not None
            and not previous.buttons
            and not previous.emergency
            and not reply.emergency
            and len(previous.text) + len(reply.text) + 2 <= MessageLimit.MAX_TEXT_LENGTH
        ):
            joined[-1] = Reply(f"{previous.text}\n\n{reply.text}", reply.buttons, kind=reply.kind)
        else:
            joined.append(reply)
    return joined


async def carry_out(context: ContextTypes.DEFAULT_TYPE, chat_id: int, result: TurnResult) -> None:
    """Do what a turn decided: close a keyboard answered by typing, then send the replies."""
    bridge = bridge_of(context)
    for effect in result.effects:
        if isinstance(effect, CloseKeyboard) and (message_id := bridge.keyboards.pop(chat_id, None)):
            await close_keyboard(context, chat_id, message_id)
    await send_replies(context, chat_id, result.replies)


async def close_keyboard(context: ContextTypes.DEFAULT_TYPE, chat_id: int, message_id: int) -> None:
    """Remove the buttons of a question that has been answered by typing."""
    try:
        await context.bot.edit_message_reply_markup(chat_id, message_id, reply_markup=None)
    except BadRequest as error:  # already gone, or too old to edit: nothing is lost
        log.info("could not close an answered keyboard: %s", error.message)


async def send_replies(context: ContextTypes.DEFAULT_TYPE, chat_id: int, replies: list[Reply]) -> None:
    """Send the engine's replies in order; buttons become an inline keyboard on the last piece."""
    for reply in coalesce(replies):
        pieces = split_text(reply.text)
        for index, piece in enumerate(pieces):
            markup = keyboard(reply) if index == len(pieces) - 1 else None
            sent = await context.bot.send_message(chat_id, piece, reply_markup=markup)
            if markup is not None and reply.kind == "question":
                bridge_of(context).keyboards[chat_id] = sent.message_id


def keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    """An inline keyboard laid out compactly: short labels two or three to a row."""
    if not reply.buttons:
        return None
    rows: list[list[InlineKeyboardButton]] = []
    short = all(len(b.label) <= 10 for b in reply.buttons)
    per_row = 3 if short else 2
    for button in reply.buttons:
        if not rows or len(rows[-1]) >= per_row or len(button.label) > 24:
            rows.append([])
        rows[-1].append(InlineKeyboardButton(button.label, callback_data=button.data))
        if len(button.label) > 24:
            rows.append([])
    return InlineKeyboardMarkup([row for row in rows if row])


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
    result = bridge_of(context).turn(update.effective_chat.id, event)
    await carry_out(context, update.effective_chat.id, result)


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A button press: always answered; a used keyboard is edited to show the choice."""
    query = update.callback_query
    if query is None or update.effective_chat is None:
        return
    chat_id = update.effective_chat.id
    data = query.data or ""
    accepted, result = bridge_of(context).press(chat_id, data)
    toast = next((effect.text for effect in result.effects if isinstance(effect, Toast)), None)
    await query.answer(text=toast)
    if isinstance(query.message, Message) and not (data.startswith("x:") and accepted):
        await show_choice(query.message, data if accepted else None)
        bridge_of(context).keyboards.pop(chat_id, None)
    await carry_out(context, chat_id, result)


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


async def on_other_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Photos, stickers, voice notes, locations, documents ...: explain, and ask again."""
    message = update.effective_message
    if message is None or update.effective_chat is None:
        return
    kind = next((k for k in NON_TEXT_KINDS if getattr(message, k, None)), "other")
    # a photo's caption is read like a message ("here's where it hurts: outside of my hip")
    event: Event = Text(message.caption) if message.caption else Unsupported(kind)
    result = bridge_of(context).turn(update.effective_chat.id, event)
    await carry_out(context, update.effective_chat.id, result)


async def on_edited(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An edited message: the conversation has moved on, so say edits are not re-read."""
    if update.effective_chat is None:
        return
    result = bridge_of(context).turn(update.effective_chat.id, Unsupported("edited"))
    await carry_out(context, update.effective_chat.id, result)


async def on_group_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A command in a group: health questions belong in a private chat."""
    if update.effective_chat is not None:
        text = bridge_of(context).engine.knowledge.message("private_only")
        await context.bot.send_message(update.effective_chat.id, text)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log any error by kind and update id — never the message text or the token — and carry on."""
    error = context.error
    update_id = update.update_id if isinstance(update, Update) else None
    if isinstance(error, Forbidden):
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
    """Build and wire the PTB Application. Storage opens in post_init and closes in post_shutdown."""
    builder = (
        ApplicationBuilder()
        .token(settings.telegram_token)
        .concurrent_updates(False)
        # replies are HTML with every data string escaped (conversations/render.py)
        .defaults(Defaults(parse_mode=ParseMode.HTML, link_preview_options=LinkPreviewOptions(is_disabled=True)))
        .post_init(post_init)
        .post_shutdown(post_shutdown)
    )
    if settings.rate_limit:
        limiter = AIORateLimiter(overall_max_rate=settings.rate_limit, max_retries=3)
        builder = builder.rate_limiter(limiter)  # type: ignore[arg-type]  # PTB's generic builder types
    if settings.telegram_base_url:
        builder = builder.base_url(settings.telegram_base_url).base_file_url(
            file_url(settings.telegram_base_url)
        )
    if request is not None:
        builder = builder.request(request).get_updates_request(request)
    application = builder.build()
    application.bot_data.update(settings=settings, engine=engine, store=store)

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
    engine = data.get("engine") or Engine()
    store = data.get("store") or SqliteStore(data["settings"].database_path)
    data["bridge"] = Bridge(engine, store)
    commands = [BotCommand(name, engine.knowledge.message(f"command_{name}")) for name in MENU_COMMANDS]
    try:
        await application.bot.set_my_commands(commands)
    except TelegramError as error:  # the bot works without the menu; try again next start
        log.warning("could not register the command menu (%s)", type(error).__name__)


async def post_shutdown(application: Application) -> None:
    """Close storage."""
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
    application = build_application(settings)
    # A start-up failure (rejected token, unreachable server) is reported below in one line, so
    # PTB's own log of it is held back until the bot has started (post_init lifts this).
    startup_logger = logging.getLogger("telegram.ext")
    application.bot_data["startup_log_level"] = startup_logger.level
    startup_logger.setLevel(logging.CRITICAL)
    try:
        if settings.webhook_url:
            application.run_webhook(
                listen=settings.webhook_listen,
                port=settings.webhook_port,
                url_path=urlsplit(settings.webhook_url).path.lstrip("/"),
                webhook_url=settings.webhook_url,
                # without a configured secret, a random one for this run: Telegram is told it in
                # setWebhook, and calls that do not carry it are refused
                secret_token=settings.webhook_secret_token or secrets.token_urlsafe(32),
                allowed_updates=ALLOWED_UPDATES,
            )
        else:
            application.run_polling(allowed_updates=ALLOWED_UPDATES, drop_pending_updates=False)
    except InvalidToken:
        return fail("Telegram rejected TELEGRAM_BOT_TOKEN; check it with @BotFather")
    except StorageError as error:
        return fail(str(error))
    except NetworkError as error:
        return fail(
            f"could not reach the Telegram Bot API ({type(error).__name__}); check the network and TELEGRAM_BASE_URL"
        )
    return 0
