"""The one place the conversation engine is called for Telegram: `Bridge.turn` loads the chat's
session, runs the engine, then in ONE transaction keeps the new session, queues the replies in the
outbox (joined and split to fit Telegram) and marks the update done. No medical logic lives here.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from telegram.constants import MessageLimit

from bot.storage.memory import MemoryRecordStore
from bot.storage.records import RECORD_EFFECTS, NotClaimed, RecordStore
from bot.storage.sessions import KEEP, Outgoing, SessionStore
from bot.storage.sessions import Message as Queued
from bot.telegram.attachments import messages_for
from bot.telegram.cards import Pressed, tab_buttons
from conversations.engine import Engine
from conversations.events import (
    CancelReminders,
    Choice,
    CloseKeyboard,
    Event,
    Forget,
    ReminderDue,
    Reply,
    SetReminder,
    Toast,
)
from conversations.machine import step_token
from conversations.phone import PHONE_LINES, phone_lines
from conversations.recovery_records import Reminder
from conversations.session import Session

log = logging.getLogger(__name__)


JOIN_LIMIT = 1000  # replies are joined into one message only while it stays a phone screen (issue 11)
GROUP_POINTER_EVERY_S = 600.0  # one "let's talk in private" a group per ten minutes, not thirty


class LiveSessions(OrderedDict[int, Session]):
    """Sessions kept in memory only, the most recently set ones (capped, so it cannot grow for ever)."""

    CAP = 10_000

    def __setitem__(self, chat_id: int, session: Session) -> None:
        super().__setitem__(chat_id, session)
        self.move_to_end(chat_id)
        if len(self) > self.CAP:
            self.popitem(last=False)


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
    # chats forgotten since start-up: the fresh session after /forget (only the number of the
    # menu just sent, so that menu works and older buttons stay expired), kept in memory and
    # never stored — after /forget no table holds anything about the chat until it writes again
    forgotten: LiveSessions = field(default_factory=lambda: LiveSessions())

    def load(self, chat_id: int) -> Session:
        """The chat's session; a new one for a new chat, or if the stored one no longer fits the data."""
        session = self.store.load(chat_id)
        if session is None:
            kept = self.forgotten.get(chat_id)
            return kept.copy() if kept is not None else self.engine.new_session()
        problems = self.engine.problems(session)
        if problems:  # e.g. saved by an older version whose data named a clue since renamed
            log.warning("starting a chat afresh: its stored session no longer fits (%s)", problems[0])
            return Session(menu=session.menu)
        return session

    def turn(
        self, chat_id: int, event: Event, update_id: int | None = None, pressed: Pressed | int = 0
    ) -> Turn:
        """Run one engine turn for a chat; its session, replies and the update's done mark in one transaction.

        `pressed`: the card whose button was pressed (or just its message id), which a re-drawn
        question (a ticked checklist) or a section tab (bot/telegram/cards.py) replaces in place.
        """
        if isinstance(pressed, int):
            pressed = Pressed(pressed, (), event.data if isinstance(event, Choice) else "")
        before = self.load(chat_id)
        records = self.records.records(chat_id)
        accepted = isinstance(event, Choice) and self.engine.accepts(before, event.data)
        result = self.engine.handle(before, event, records)
        telegram_effects: list[Any] = []
        record_effects: list[Any] = []
        for effect in result.effects:
            if isinstance(effect, Forget):
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
        messages = render(result.replies, pressed if accepted else Pressed())
        edited = any(m.edit for m in messages)
        messages += messages_for(telegram_effects)  # charts and files: after the replies, durably
        # ONE transaction: the session, the outbox, the update's done mark and the records
        also = self.records.writes(chat_id, record_effects, self.engine.now()) if record_effects else None
        forget = any(isinstance(effect, Forget) for effect in record_effects)
        # /forget: every row of the chat goes in this transaction (session None), and nothing new
        # is written for it but the confirmation, which leaves the outbox once delivered
        kept = None if forget else result.session
        queued = self.store.commit(chat_id, update_id, kept, messages, revive_with=revive, also=also)
        if forget:
            self.forgotten[chat_id] = result.session.copy()
        else:
            self.forgotten.pop(chat_id, None)
        # the turn is kept: from here a database failure must not fail it (and so run it twice)
        changed = any(isinstance(e, SetReminder | CancelReminders | Forget) for e in record_effects)
        reminder = None
        try:
            reminder = self.records.records(chat_id).reminder if changed else None
        except Exception as error:  # scheduled at the next start instead (on PostgreSQL, by the sweep)
            log.warning("chat %s: could not read the reminder a kept turn set (%s)", chat_id, type(error).__name__)
            changed = False
        try:
            self.count_outcomes(result.replies)
        except Exception as error:  # an anonymous count lost, nothing more
            log.warning("chat %s: could not count a kept turn's outcome (%s)", chat_id, type(error).__name__)
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
            session, replies = result.session, result.replies  # none on a day already marked: claimed, not sent
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
            outcomes.append((chat_id, bool(replies), claimed[0]))
        return outcomes

    def snoozed(self, chat_id: int) -> bool:
        """A snoozed reminder is due again: queue today's reminder once more, without a claim (the
        daily time stays as it is). Nothing when the reminder is off or gone (turned off, /forget)
        or the day is already marked. Whether a message was queued."""
        records = self.records.records(chat_id)
        if records.reminder is None or not records.reminder.active:
            return False
        result = self.engine.handle(self.load(chat_id), ReminderDue(), records)
        if not result.replies:
            return False
        effects = [e for e in result.effects if isinstance(e, RECORD_EFFECTS)]
        writes = self.records.writes(chat_id, effects, self.engine.now()) if effects else None
        self.store.commit(chat_id, None, result.session, render(result.replies), also=writes)
        return True

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


def render(replies: list[Reply], pressed: Pressed | None = None) -> list[Queued]:
    """The engine's replies as Telegram messages: joined, split to fit, buttons on the last piece.

    A question re-drawn in place (a ticked checklist) or a section tab edits the pressed card
    instead of arriving as a new message; a tab keeps the card's keyboard, its tab marked.
    """
    pressed = pressed or Pressed()
    messages = []
    for reply in coalesce(replies):
        pieces = split_text(reply.text)
        for index, piece in enumerate(pieces):
            last = index == len(pieces) - 1
            buttons = tuple((b.label, b.data) for b in reply.buttons) if last else ()
            in_place = (reply.in_place or reply.replaces) and last and len(pieces) == 1
            edit = pressed.message_id if in_place else 0
            if edit and reply.replaces:
                buttons = tab_buttons(pressed.keyboard, buttons, pressed.data)
            asks = reply.kind == "question" and last and bool(buttons)  # a keyboard to close once answered
            hint = reply.placeholder if last else ""
            messages.append(Queued(piece, buttons, question=asks, edit=edit, placeholder=hint))
    return messages



CHOICE_LINES = 2  # the blank line and "✓ label" added under an answered question


def coalesce(replies: list[Reply]) -> list[Reply]:
    """Join consecutive replies into as few Telegram messages as read well.

    A reply without buttons runs on into the next one ("That menu has expired" + the question),
    so a turn is usually one message with its keyboard; the emergency warning always stands
    alone, and nothing is joined past a phone screen (`JOIN_LIMIT`, and 20 phone lines: the
    welcome and the routine of `/start prevent` are two cards, not one of 1,264 characters).
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
            # never past a phone screen by joining, with room for the "✓ choice" line a question's
            # message gains when it is answered (Runtime.close_keyboard)
            and phone_lines(f"{previous.text}\n\n{reply.text}") + (CHOICE_LINES if reply.buttons else 0) <= PHONE_LINES
        ):
            joined[-1] = replace(reply, text=f"{previous.text}\n\n{reply.text}")
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
