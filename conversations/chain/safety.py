"""Stage 1 of the chain, safety: warning signs in a message, whatever the conversation is doing.

Runs before everything else, on typed and edited text alike. An emergency sign ends the turn
with the emergency advice; a sign the context may explain ("numb from the cold") is checked
with a short confirm question at the end of the turn instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from conversations.machine import CONFIRM_STEP
from knowledge import Urgency

if TYPE_CHECKING:
    from conversations.reading import MessageReading
    from conversations.turn import Turn


def warn_first(turn: Turn, message: MessageReading) -> bool:
    """Warn about new warning signs first. True when that ended the turn (an emergency).

    A sign the context may explain ("numb from the cold") is not an alarm: it is checked
    with a short confirm question at the end of the turn, unless already answered.
    """
    # most urgent first, then in the data's order: never the set's (hash-seeded) order
    explained = sorted(
        (f for f in turn.knowledge.red_flags.values() if f.id in message.explained), key=lambda f: -f.urgency
    )
    turn.to_confirm = [f.id for f in explained if not turn.context.known(turn.session, f.id)]
    new = [f for f in message.flags if f not in turn.session.flags]
    if new and turn.raise_flags(new):
        return True
    raise_concerns(turn, list(message.concerns))
    return False


def raise_concerns(turn: Turn, concern_ids: list[str]) -> None:
    """Pictures that need a clinician's eye (a young athlete's back pain ...): said once."""
    new = [
        c
        for c in dict.fromkeys(concern_ids)
        if c in turn.knowledge.concerns and c not in turn.session.concerns
    ]
    if not new:
        return
    turn.session.concerns.extend(new)
    reply = turn.render.concern_warning(new, turn.said())
    turn.replies.append(reply)
    turn.note_said(Urgency.from_key(reply.urgency))


def confirm_explained(turn: Turn) -> None:
    """Ask about a sign the context may explain, in place of the turn's own question."""
    frame = turn.session.top
    flags = [f for f in turn.to_confirm if not turn.context.known(turn.session, f)]
    if not flags or frame is None or frame.flow == "aftermath" or frame.step == CONFIRM_STEP:
        return
    if not any(r.kind == "question" for r in turn.replies):
        return
    frame.resume, frame.step, frame.confirm = frame.step, CONFIRM_STEP, flags[0]
    turn.ask()
