"""Stage 1 of the chain, safety: warning signs in a message, whatever the conversation is doing.

Runs before everything else, on typed and edited text alike. An emergency sign ends the turn
with the emergency advice; a sign the context may explain ("numb from the cold") is checked
with a short confirm question at the end of the turn instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from conversations.machine import CONFIRM_STEP
from knowledge import Urgency
from knowledge.safety import cancer_concern, cancer_history_flag, default_safety, sign

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
    frame = turn.session.top
    told = set(message.concepts) | set(frame.concepts if frame is not None else ())
    if cancer_history(turn, told, frame.region if frame is not None else None):
        return True
    raise_concerns(turn, list(message.concerns))
    return False


def cancer_history(turn: Turn, concepts: set[str], region: str | None) -> bool:
    """Cancer history with new back or night pain: a same-day warning, said once; with leg or
    bladder signs, the emergency advice. True when that ended the turn (an emergency)."""
    cancer = cancer_history_flag()
    if turn.in_aftermath():
        return False
    said = cancer.id in turn.session.concerns
    urgency = cancer_concern(concepts | ({"cancer_history"} if said else set()), region, turn.session.flags)
    if urgency is Urgency.EMERGENCY:
        escalating = [f for f in turn.session.flags if f in default_safety().cancer_escalates_with]
        turn.session.concerns = list(dict.fromkeys([*turn.session.concerns, cancer.id]))
        turn.emergency([*escalating, cancer.id])
        return True
    if urgency is not None and not said:
        # this turn's lower warnings (night pain: "within a few days") would read as a second,
        # softer instruction: the same-day advice replaces them (the result card lists them all)
        turn.replies = [r for r in turn.replies if not (r.kind == "warning" and r.urgency != "urgent")]
        raise_concerns(turn, [cancer.id])
    return False


def raise_concerns(turn: Turn, concern_ids: list[str]) -> None:
    """Pictures that need a clinician's eye (a young athlete's back pain ...): said once."""
    new = [
        c
        for c in dict.fromkeys(concern_ids)
        if sign(turn.knowledge, c) is not None and c not in turn.session.concerns
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
