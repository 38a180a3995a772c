"""How the companion's replies look on Telegram (issue 19): tabbed cards, input hints, chat
actions, snoozes and the command menus. The engine says what a reply means; this module turns it
into Telegram's means of showing it, so the Bridge and the handlers only call in here.

- Tabs: a reply with `replaces=True` (a section of a result, a group of the prevention routine)
  is drawn into the card whose button was tapped — one message however many sections are read.
  The card keeps its keyboard, with the tab shown marked ("• 💪 Exercises"); buttons the section
  brings that the card lacks (say "📈 How to progress") join the keyboard after the marked tab.
  A card Telegram no longer lets us edit (too old, deleted) gets the section as a new message,
  so a stale card's tab still works.
- Input hints: a question waiting for words (`Reply.placeholder`) is sent with
  ForceReply(input_field_placeholder=…), which opens the keyboard with the hint in the field.
  A Telegram message carries ONE reply markup, so a question that also has inline buttons keeps
  its buttons (the faster answer) and goes without the hint; an edited message never carries it.
- Chat actions: `ChatAction` effects become sendChatAction before the turn's messages, so the
  runner sees "sending a photo…" while the chart is drawn.
- Snoozes: `SnoozeReminder` becomes a one-off reminder job (bot/telegram/reminders.py).
- Command menus per scope: private chats get the whole list, groups only /start and /help (the bot
  points groups to a private chat), and the default scope the whole list.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from telegram import (
    BotCommand,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeDefault,
    ForceReply,
    InlineKeyboardMarkup,
    Message,
)
from telegram.error import TelegramError

from conversations.events import ChatAction, SnoozeReminder

if TYPE_CHECKING:
    from telegram import Bot

    from bot.storage.sessions import Outgoing

log = logging.getLogger(__name__)

ACTIVE_TAB = "• "  # marks the tab a card shows
GROUP_COMMANDS = ("start", "help")
Buttons = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Pressed:
    """The card a button was pressed on: its message id, its keyboard as shown, and the data pressed."""

    message_id: int = 0
    keyboard: Buttons = ()
    data: str = ""


def pressed_on(message: object, data: str) -> Pressed:
    """What a button press tells about its card (nothing when Telegram no longer shows the message)."""
    if not isinstance(message, Message):
        return Pressed(data=data)
    return Pressed(message.message_id, buttons_of(message.reply_markup), data)


def buttons_of(markup: InlineKeyboardMarkup | None) -> Buttons:
    """An inline keyboard as (label, data) pairs, row by row."""
    if markup is None:
        return ()
    return tuple((b.text, str(b.callback_data)) for row in markup.inline_keyboard for b in row
                 if isinstance(b.callback_data, str))  # fmt: skip


def tab_buttons(card: Buttons, section: Buttons, active: str) -> Buttons:
    """The card's keyboard with the tab `active` marked, and the section's own extra buttons in it.

    `card`: the keyboard as shown (perhaps with an earlier tab marked); `section`: the buttons the
    engine gave the section (the other tabs, in their order). A button the card lacks goes where
    the section has it: before the next button both share (or after the marked tab). Without the
    tab on the card (a message Telegram no longer shows) the section's own buttons are used.
    """
    if not any(data == active for _, data in card):
        return section
    out = [(ACTIVE_TAB + unmark(label) if data == active else unmark(label), data) for label, data in card]
    for index, button in enumerate(section):
        shown = [data for _, data in out]
        if button[1] in shown:
            continue
        following = next((shown.index(data) for _, data in section[index + 1 :] if data in shown), None)
        out.insert(following if following is not None else shown.index(active) + 1, button)
    return tuple(out)


def unmark(label: str) -> str:
    return label[len(ACTIVE_TAB) :] if label.startswith(ACTIVE_TAB) else label


def force_reply(row: Outgoing) -> ForceReply | None:
    """The input-field hint for a question that waits for words: only without inline buttons, and
    only on a new message (an edit cannot carry it)."""
    if not row.placeholder or row.buttons or row.edit or row.kind != "text":
        return None
    return ForceReply(input_field_placeholder=row.placeholder[:64])  # Telegram's limit


# ----- effects ------------------------------------------------------------------------------------
async def carry_out(bot: Bot, reminders: object, chat_id: int, effects: Iterable[Any]) -> None:
    """The companion's effects that concern Telegram: chat actions now, snoozes as a job of
    `reminders` (bot/telegram/reminders.py; None when the bot runs without a JobQueue)."""
    for effect in effects:
        if isinstance(effect, ChatAction):
            try:
                await bot.send_chat_action(chat_id, effect.action)
            except TelegramError as error:  # only a status line: nothing is lost without it
                log.info("chat %s: could not show %s (%s)", chat_id, effect.action, type(error).__name__)
        elif isinstance(effect, SnoozeReminder):
            snooze = getattr(reminders, "snooze", None)
            if snooze is not None:
                snooze(chat_id, effect.minutes)


# ----- the command menus ----------------------------------------------------------------------------
async def register_commands(bot: Bot, commands: Sequence[BotCommand]) -> None:
    """The command menu per scope: groups see /start and /help only, private chats everything.

    The default scope (set last) has the whole list too, for clients that show it elsewhere.
    """
    in_groups = [c for c in commands if c.command in GROUP_COMMANDS]
    await bot.set_my_commands(commands, scope=BotCommandScopeAllPrivateChats())
    await bot.set_my_commands(in_groups, scope=BotCommandScopeAllGroupChats())
    await bot.set_my_commands(commands, scope=BotCommandScopeDefault())
