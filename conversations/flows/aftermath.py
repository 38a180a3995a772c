"""After an emergency warning: help to act on it, and nothing that lowers it.

The triage that was under way has ended. Questions about acting on the warning ("should I call
an ambulance?", "what do I do?") get a direct answer; a correction ("no, it's just the saddle",
"sorry, I meant no") is acknowledged in words — why the sign matters, and Start over if they
are sure — but the bot never lowers the emergency itself; anything else gets a short reminder.
The runner can start over with /start, /restart or /cancel.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from conversations.events import Reply
from knowledge import Urgency

if TYPE_CHECKING:
    from conversations.reading import MessageReading
    from conversations.session import Frame
    from conversations.turn import Turn


class Aftermath:
    """The flow that holds a conversation after an emergency warning."""

    def on_text(self, turn: Turn, frame: Frame, message: MessageReading) -> None:
        """A direct answer to a question about acting on the warning; otherwise a reminder."""
        if message.intent.emergency_help or "?" in message.text:
            turn.emergency_help()
        elif corrects(turn, frame, message):
            acknowledge_correction(turn)
        else:
            turn.aftermath_reminder()

    def on_choice(self, turn: Turn, frame: Frame, value: str) -> None:
        """The aftermath has no question of its own; its buttons never expire."""
        turn.aftermath_reminder()

    def finish(self, turn: Turn, frame: Frame) -> None:
        """The aftermath ends only when the runner starts over."""
        turn.aftermath_reminder()


def corrects(turn: Turn, frame: Frame, message: MessageReading) -> bool:
    """A message that takes back or explains what raised the emergency: a "no", "I meant",
    "sorry, I skipped", or context that may explain a sign ("it's just the saddle"). Said once
    per emergency: after that, the reminder."""
    if frame.values.get("corrected"):
        return False
    intent = message.intent
    context = set(message.concepts) & {
        c for f in turn.knowledge.red_flags.values() for e in f.explained_by for c in e.context
    }
    return bool(intent.correction or intent.takes_back or intent.answer.value == "no" or message.explained or context)


def acknowledge_correction(turn: Turn) -> None:
    """Say it was heard, why the sign still matters, and how to start over if they are sure."""
    frame = turn.session.top
    if frame is not None:
        frame.values["corrected"] = "yes"
    flags = [turn.knowledge.red_flags[f] for f in turn.session.flags if f in turn.knowledge.red_flags]
    emergencies = [f for f in flags if f.urgency is Urgency.EMERGENCY] or flags
    meaning = " ".join(dict.fromkeys(f.meaning for f in emergencies))
    text = turn.say_text("emergency_correction", meaning=meaning)
    turn.replies.append(Reply(text, turn.render.emergency([]).buttons, kind="info"))
