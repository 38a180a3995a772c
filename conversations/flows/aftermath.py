"""After an emergency warning: help to act on it, and nothing that lowers it.

The triage that was under way has ended. Questions about acting on the warning ("should I call
an ambulance?", "what do I do?") get a direct answer; anything else gets a short reminder. The
runner can start over with /start, /restart or /cancel.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

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
        else:
            turn.aftermath_reminder()

    def on_choice(self, turn: Turn, frame: Frame, value: str) -> None:
        """The aftermath has no question of its own; its buttons never expire."""
        turn.aftermath_reminder()

    def finish(self, turn: Turn, frame: Frame) -> None:
        """The aftermath ends only when the runner starts over."""
        turn.aftermath_reminder()
