"""The /redflags check: the safety questions on their own, then a verdict."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from conversations.flows import screen
from knowledge import Urgency
from knowledge.safety import cancer_history_flag

if TYPE_CHECKING:
    from conversations.reading import MessageReading
    from conversations.session import Frame
    from conversations.turn import Turn


class Check:
    """The warning-sign check flow."""

    def on_text(self, turn: Turn, frame: Frame, message: MessageReading) -> None:
        """Read a typed message as an answer to the pending safety question."""
        if not screen.on_text(turn, frame, message):
            turn.advance()

    def on_choice(self, turn: Turn, frame: Frame, value: str) -> None:
        """A safety question's button."""
        if not screen.on_choice(turn, frame, value):
            turn.advance()

    def finish(self, turn: Turn, frame: Frame) -> None:
        """The verdict: every warning sign raised in the conversation, or all clear."""
        session = turn.session
        turn.replies = [r for r in turn.replies if r.kind != "warning"]
        reply = turn.render.verdict(session.flags + session.doubtful, turn.said())
        cancer = cancer_history_flag()
        if cancer.id not in session.concerns and reply.urgency != "emergency":
            # one more sign the checklist cannot show as a button: cancer history with new back pain
            advice = cancer.advice or ""
            extra = turn.say_text("verdict_cancer", question=cancer.question, advice=advice[:1].lower() + advice[1:])
            reply = replace(reply, text=f"{reply.text}\n\n{extra}")
        turn.replies.append(reply)
        if reply.urgency:
            turn.note_said(Urgency.from_key(reply.urgency))
        turn.pop()
