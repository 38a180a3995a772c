"""The Telegram handlers: thin, around one engine turn each.

Every handler does the same few things: turn the update into an engine event, run one turn
(`Bridge.turn`, bot/telegram/bridge.py) on the database thread, carry out the effects that
concern Telegram, then deliver the chat's outbox.
"""

from __future__ import annotations

import logging
from html import escape

from telegram import CallbackQuery, Message, Update
from telegram.constants import MessageLimit
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.ext import ContextTypes, filters

from bot.storage.sessions import StorageBusy, StorageGone
from bot.telegram.bridge import Bridge, Turn
from bot.telegram.cards import Pressed, carry_out, pressed_on
from bot.telegram.outage import health_of, storage_failure
from bot.telegram.runtime import FORMAT, Runtime
from conversations.events import (
    ChatAction,
    Choice,
    CloseKeyboard,
    Edited,
    Event,
    SendChart,
    SendFiles,
    SnoozeReminder,
    Text,
    Toast,
    Unsupported,
    parse_command,
)

log = logging.getLogger(__name__)

NON_TEXT_KINDS = (
    "photo", "sticker", "voice", "video", "video_note", "audio", "animation", "document",
    "location", "venue", "contact", "poll", "dice",
)  # fmt: skip
PRIVATE = filters.ChatType.PRIVATE


def bridge_of(context: ContextTypes.DEFAULT_TYPE) -> Bridge:
    """The Bridge that post_init put in the application's data."""
    return context.application.bot_data["bridge"]


def runtime_of(context: ContextTypes.DEFAULT_TYPE) -> Runtime:
    """The Runtime that post_init put in the application's data."""
    return context.application.bot_data["runtime"]


async def run_turn(
    update: Update, context: ContextTypes.DEFAULT_TYPE, chat_id: int, event: Event, pressed: Pressed | None = None
) -> Turn:
    """One turn on the database thread; the update is then done, whatever happens to the sends.

    Effects for Telegram are carried out here: a keyboard answered by typing is closed and a chat
    action shown before the replies go out, a snooze scheduled (bot/telegram/cards.py). (A toast
    belongs to the button press: `on_button` shows it.)
    """
    runtime = runtime_of(context)
    turn = await runtime.db(runtime.bridge.turn, chat_id, event, update.update_id, pressed or Pressed())
    runtime.done_in_turn.add(update.update_id)
    log.debug("update %s handled", update.update_id)  # ids only: the fault suite counts these
    if turn.reminder_changed and runtime.reminders is not None:
        runtime.reminders.reschedule(chat_id, turn.reminder)
    for effect in turn.effects:
        if isinstance(effect, CloseKeyboard):
            await runtime.close_keyboard(chat_id, effect.label)
        elif isinstance(effect, ChatAction | SnoozeReminder):
            await carry_out(runtime.bot, runtime.reminders, chat_id, [effect])
        elif not isinstance(effect, Toast | SendChart | SendFiles):  # charts and files went to the outbox  # unknown to this adapter: a newer engine, say
            log.debug("update %s: effect %s is not carried out on Telegram", update.update_id, type(effect).__name__)
    return turn


# ----- handlers, registered in this order by build_application ---------------------------------
async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A typed message or a /command in a private chat."""
    message = update.effective_message
    if message is None or update.effective_chat is None:
        return
    text = message.text or ""
    event: Event = parse_command(text) or Text(text, language_of(update))
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
        turn = await run_turn(update, context, chat_id, Choice(data), pressed_on(query.message, data))
    except Exception:
        await acknowledge(update, query, None)  # the press is retried later (a locked database)
        raise
    await acknowledge(update, query, turn.toast)
    lasting = data.startswith("x:")  # section and menu buttons never expire: keep them
    if isinstance(query.message, Message) and not turn.edited and not (lasting and turn.accepted):
        await show_choice(runtime_of(context), chat_id, query.message, data if turn.accepted else None)
        live = runtime_of(context).live_keyboards
        if live.get(chat_id, (0, ""))[0] == pressed:  # a stale tap on an older message leaves it open
            live.pop(chat_id, None)
    await runtime_of(context).flush(chat_id, turn.queued)


def language_of(update: Update) -> str:
    """The language the runner's app is set to ("de"), for the engine to answer in; "" when unknown."""
    user = update.effective_user
    return (user.language_code or "") if user is not None else ""


async def acknowledge(update: Update, query: CallbackQuery, toast: str | None) -> None:
    """Answer a press (with a toast when the turn decided one); the press counts even if this fails."""
    try:
        await query.answer(text=toast)
    except TelegramError as error:
        log.info("update %s: could not acknowledge a press (%s); handled it anyway", update.update_id,
                 type(error).__name__)  # fmt: skip


async def show_choice(runtime: Runtime, chat_id: int, message: Message, data: str | None) -> None:
    """Replace a used keyboard with the label chosen, or just remove an expired one."""
    chosen = next(
        (b.text for row in (message.reply_markup.inline_keyboard if message.reply_markup else ()) for b in row
         if b.callback_data == data),
        None,
    )  # fmt: skip
    try:
        text = f"{message.text_html}\n\n✓ {escape(chosen)}" if chosen and message.text else ""
        # an edit without reply_markup removes the keyboard; the answer is not read (no PTB objects)
        if text and len(text) <= MessageLimit.MAX_TEXT_LENGTH:
            await runtime.post("editMessageText", chat_id=chat_id, message_id=message.message_id, text=text, **FORMAT)
        else:
            await runtime.post("editMessageReplyMarkup", chat_id=chat_id, message_id=message.message_id)
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
    event: Event = Text(message.caption, language_of(update)) if message.caption else Unsupported(kind)
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
    if isinstance(error, StorageGone):  # the outage watch stops the bot (bot/telegram/outage.py)
        log.error("update %s: the database file is gone", update_id)
    elif error is not None and storage_failure(error) and update_id is not None:
        # a lock held too long, a full disk, an unreachable server: the update stays unfinished in
        # the inbox and is tried again in the background, its chat's later updates waiting behind
        # it (bot/telegram/chat_order.py) — so no apology asking the runner to send it again
        health_of(context.application).failed(error)
        runtime = runtime_of(context)
        busy = "stayed locked" if isinstance(error, StorageBusy) else f"failed ({type(error).__name__})"
        if update_id not in runtime.done_in_turn:  # a turn that was kept is never run twice
            log.warning("update %s: the database %s; trying it again shortly", update_id, busy)
            runtime.retry_later.add(update_id)
        else:
            log.warning("update %s: the database %s after the turn was kept; its replies wait in the outbox",
                        update_id, busy)  # fmt: skip
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
