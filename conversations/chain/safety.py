"""Stage 1 of the chain, safety: warning signs in a message, whatever the conversation is doing.

Runs before everything else, on typed and edited text alike. An emergency sign ends the turn
with the emergency advice; a sign the context may explain ("numb from the cold") is checked
with a short confirm question at the end of the turn instead.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from conversations.machine import CONFIRM_STEP
from conversations.session import Frame
from knowledge import Urgency
from knowledge.safety import (
    age_band_in,
    age_concerns,
    band_of,
    cancer_concern,
    cancer_history_flag,
    default_safety,
    sign,
)

if TYPE_CHECKING:
    from conversations.reading import MessageReading
    from conversations.turn import Turn


SCREENING_FLOWS = ("triage", "check")  # the flows whose safety screen can ask a confirm question


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
    new = [f for f in [*message.flags, *told_before(turn, message)] if f not in turn.session.flags]
    if new and turn.raise_flags(new):
        return True
    frame = turn.session.top
    told = set(message.concepts) | set(frame.concepts if frame is not None else ())
    region = frame.region if frame is not None and frame.region else region_of(turn, told)
    if cancer_history(turn, told, region):
        return True
    raise_concerns(turn, [*message.concerns, *age_warnings(turn, message, told, region)])
    return False


def told_before(turn: Turn, message: MessageReading) -> list[str]:
    """Warning signs made of this message's clues with what was said earlier in the conversation
    ("my other leg started going the same way" after a result about one leg's sciatica), in any
    state: the session keeps the clues, so a late disclosure is read with the whole story."""
    frame = turn.session.top
    if (frame is not None and frame.flow == "triage") or not message.concepts:
        return []  # a triage merges the message into its own clues (clues.merge)
    earlier = set(turn.session.clues)
    before = turn.engine.matcher.red_flags(frozenset(earlier))
    now = turn.engine.matcher.red_flags(frozenset(earlier | message.concepts))
    return [f for f in now if f not in before]


def region_of(turn: Turn, concepts: set[str]) -> str | None:
    """The one region a message's words point to, if they point to one."""
    regions = [r for r, anchors in turn.engine.region_concepts.items() if concepts & anchors]
    return regions[0] if len(regions) == 1 else None


def age_warnings(turn: Turn, message: MessageReading, told: set[str], region: str | None) -> list[str]:
    """Note an age the message gives ("I'm 52", "my son is 9"), and the concerns the known age
    raises with what has been said (a child's limp, even with knee pain only: today)."""
    bands = default_safety().age_bands
    # one age reader: the knowledge layer's (Reading.age, knowledge/ages.py), in the safety
    # rules' bands; the safety reader only for what it alone reads
    age = message.reading.age
    band = band_of(age) if age is not None else age_band_in(message.text, message.concepts)
    if band is not None:
        turn.session.age = band
    if turn.session.age not in bands:
        return []
    rules = age_concerns(turn.session.age, region, told)
    return [r.concern for r in default_safety().age_rules if r.id in rules]


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
    # this turn's softer warnings (a limp: "within a few days") would read as a second, weaker
    # instruction beside a same-day concern: it replaces them (the result card lists every sign)
    top = Urgency.from_key(reply.urgency)
    softer = [r for r in turn.replies if r.kind == "warning" and Urgency.from_key(r.urgency) < top]
    turn.replies = [r for r in turn.replies if r not in softer]
    # the signs of the warnings it replaces stay on record in the reply that replaces them
    flags = tuple(dict.fromkeys([*reply.flags, *(f for r in softer for f in r.flags)]))
    turn.replies.append(replace(reply, flags=flags))
    turn.note_said(Urgency.from_key(reply.urgency))


def confirm_explained(turn: Turn) -> None:
    """Ask about a sign the context may explain, in place of the turn's own question."""
    frame = turn.session.top
    flags = [f for f in turn.to_confirm if not turn.context.known(turn.session, f)]
    if not flags or turn.in_aftermath() or (frame is not None and frame.step == CONFIRM_STEP):
        return
    if frame is None or frame.flow not in SCREENING_FLOWS or not frame.step:
        # after a result, in small talk or inside /log, /plan ...: the check asks it, on top of
        # whatever was in progress (which then carries on)
        turn.replies = [r for r in turn.replies if r.kind != "question"]
        frame = Frame("check")
        turn.push(frame)
    elif not any(r.kind == "question" for r in turn.replies):
        return
    frame.resume, frame.step, frame.confirm = frame.step, CONFIRM_STEP, flags[0]
    turn.ask()
