"""The chain: every event is passed along the same stages, in order.

1. safety (safety.py) — warning signs in the message, whatever the conversation is doing. An
   emergency sign ends the turn with the emergency advice and nothing after it but help to act
   on it.
2. commands (commands.py) — /start, /prevent, /redflags, /back ...
3. questions and small talk (questions.py) — answered in any state; a paused flow then asks its
   question again.
4. the flow (flow.py) — the flow on top of the session's stack reads the message as an answer
   to its pending question; with no flow, a description starts a triage.

Button presses go to buttons.py (and from there to the flow stage). A stage is a module of
functions over the turn API (conversations/turn.py); adding one is a module and a line here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from conversations.chain import buttons, commands, flow, questions, safety
from conversations.events import (
    Choice,
    CloseKeyboard,
    Command,
    Edited,
    Event,
    ReminderDue,
    Text,
    Unsupported,
    parse_command,
)
from conversations.flows import remind
from conversations.languages import language_of, written_in
from conversations.machine import DONE, WARNING_STEP, next_step, step_token
from conversations.session import MAX_BACK_STEPS, Session

if TYPE_CHECKING:
    from conversations.turn import Turn


def dispatch(turn: Turn, event: Event) -> None:
    """Route one event through the chain."""
    settle(turn)
    if isinstance(event, Text):
        command = parse_command(event.text)
        turn.language = event.language
        if command is not None:
            commands.on_command(turn, command)
        else:
            turn.on_text(event.text)
    elif isinstance(event, Choice):
        buttons.on_choice(turn, event.data)
    elif isinstance(event, Command):
        commands.on_command(turn, Command(event.name.lower().lstrip("/"), event.argument))
    elif isinstance(event, Edited):
        on_edited(turn, event.text)
    elif isinstance(event, ReminderDue):
        remind.reminder_due(turn)
    elif isinstance(event, Unsupported):
        turn.say("edited_message" if event.kind == "edited" else "unsupported_message")
        turn.ask(reminder=True)
    else:  # pragma: no cover - the Event union is closed
        raise TypeError(f"not an event: {event!r}")


def settle(turn: Turn) -> None:
    """A flow restored without a pending question (an upgraded session) gets its next one."""
    frame = turn.session.top
    if frame is not None and not frame.step and frame.flow in ("triage", "check"):
        step = next_step(turn.session, frame, turn.context)
        frame.step = step if step != DONE else frame.step
        if step == WARNING_STEP:
            frame.items = turn.context.pending_signs(turn.session)


def close(turn: Turn, event: Event) -> None:
    """End the turn: check any sign the context may explain, remember the question for /back,
    and close a keyboard answered by typing."""
    safety.confirm_explained(turn)
    emergency = next((i for i, r in enumerate(turn.replies) if r.emergency), None)
    if emergency is not None:  # the emergency advice is the last thing said in its turn
        turn.replies = turn.replies[: emergency + 1]
    push_back_step(turn)
    remember_topic(turn)
    moved_on = turn.session.menu != turn.before.menu or step_token(turn.session.top) != step_token(
        turn.before.top
    )
    if not isinstance(event, Choice) and turn.before.menu and moved_on:
        turn.effects.append(CloseKeyboard(turn.typed_label))


def remember_topic(turn: Turn) -> None:
    """The topic this turn answered (or showed), so a short follow-up ("how often should I do
    it?") is about it; a result or a new question starts afresh."""
    for reply in turn.replies:
        if reply.topic:
            turn.session.last_topic = reply.topic
        elif reply.kind in ("result", "emergency", "question"):
            turn.session.last_topic = ""


def push_back_step(turn: Turn) -> None:
    """Remember where the conversation was, for /back, when this turn moved it."""
    before, now = turn.before, turn.session
    if turn.going_back or turn.in_aftermath() or (now.top is None and not turn.finished):
        return
    if _position(before) == _position(now):
        return
    snapshot = before.snapshot()
    if now.back[-1:] == [snapshot]:
        return
    now.back = [*now.back[-(MAX_BACK_STEPS - 1) :], snapshot]


def on_text(turn: Turn, text: str) -> None:
    """Typed text along the chain: safety; a companion flow that reads words first; a button's
    label typed out; questions and small talk; then the flow on top (or, with none, a triage)."""
    if not text.strip():
        turn.say("empty_message")
        turn.ask(reminder=True)
        return
    frame = turn.session.top
    message = turn.engine.reader.read(
        text,
        turn.today(),
        asked_how_long=frame is not None and frame.step == "duration",
        previous_topic=turn.session.last_topic or None,
    )
    if safety.warn_first(turn, message):
        return
    questions.note_suspected(turn, message)
    if turn.language and not message.flags and written_in(text, turn.language):
        turn.say(f"language_{language_of(turn.language)}", kind="not_understood")
        turn.ask(reminder=frame is not None)  # the menu, or the question pending, in English
        return
    read_first = getattr(turn.flow(frame), "read_first", None) if frame is not None else None
    if read_first is not None and read_first(turn, frame, message):
        return  # a companion answer in words ("ran 8k, pain 3") before questions and small talk
    if flow.typed_label_pressed(turn, message):
        return
    if questions.answer(turn, message):
        return
    if frame is None:
        flow.describe(turn, message)
    else:
        turn.flow(frame).on_text(turn, frame, message)


def on_edited(turn: Turn, text: str) -> None:
    """An edited message is not re-read as an answer — but a warning sign in it is answered."""
    message = turn.engine.reader.read(text, turn.today())
    if safety.warn_first(turn, message):
        return
    if not any(r.kind == "warning" for r in turn.replies):
        turn.say("edited_message")
    turn.ask(reminder=True)


def _position(session: Session) -> tuple[tuple[str, str], ...]:
    return tuple((frame.flow, frame.step) for frame in session.stack)
