"""What the runner has said about their pain, gathered into a triage frame.

Starting a triage (or two, when one message describes the hip and the back), merging a message's
clues into a frame, the region they place the pain in, warning signs they rule out, and other
running problems they point to. Used by the chain and by the triage flows alike.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from conversations.session import Frame
from knowledge import Reading
from knowledge.intents import LONG_DAYS

if TYPE_CHECKING:
    from conversations.reading import MessageReading
    from conversations.turn import Turn
    from knowledge.model import OtherCondition


def start_triage(turn: Turn, region: str = "", message: MessageReading | None = None) -> None:
    """Begin a triage (or two, when one message describes the hip and the back)."""
    if turn.in_aftermath():
        turn.aftermath_reminder()
        return
    if message is None:
        frame = Frame("triage", region=region)
        turn.push(frame)
        turn.advance()
        return
    regions = regions_in(turn, message.concepts)
    if len(regions) == 2 and two_problems(turn, message, regions):
        first, second = regions
        turn.push(frame_for(turn, message, second, drop=turn.engine.region_concepts[first]))
        turn.push(frame_for(turn, message, first, drop=turn.engine.region_concepts[second]))
        turn.say("two_problems", first=turn.region_name(first), second=turn.region_name(second))
    else:
        turn.push(frame_for(turn, message, region_of(turn, message.concepts)))
    turn.advance()


def two_problems(turn: Turn, message: MessageReading, regions: list[str]) -> bool:
    """Whether a message that names the hip and the back describes two problems: it says the
    second is "too"/"also", or neither one of the six nor a problem outside them explains it
    whole, or each part read alone points to a condition of its own region ("front of my hip
    when I lift my knee and my lower back aches too")."""
    matcher = turn.engine.matcher
    assessment = matcher.assess(message.reading)
    if message.intent.also:
        return True
    if assessment.other is not None or "pain_spreads_between" in message.concepts:
        return False  # one problem (outside the six, or one pain reaching from one to the other)
    if assessment.condition is None:
        return True
    return all(_leads_alone(turn, message, region, regions) for region in regions)


def _leads_alone(turn: Turn, message: MessageReading, region: str, regions: list[str]) -> bool:
    """Whether the clues about one region, read without the other's, point first to a condition
    of that region ("my lower back aches when I bend" leads to a back condition)."""
    other = next(r for r in regions if r != region)
    alone = Reading(message.reading.concepts - turn.engine.region_concepts[other], message.reading.negated)
    candidates = turn.engine.matcher.assess(alone).candidates
    return bool(candidates) and turn.knowledge.conditions[candidates[0].id].region == region


def frame_for(
    turn: Turn, message: MessageReading, region: str, drop: set[str] | frozenset[str] = frozenset()
) -> Frame:
    """A new triage frame holding what one message said about one region."""
    frame = Frame("triage", region=region, someone_else=message.intent.someone_else)
    reading = Reading(message.reading.concepts - drop, message.reading.negated)
    merge(turn, frame, reading)
    note_duration(turn, frame, message)
    return frame


def note_duration(turn: Turn, frame: Frame, message: MessageReading) -> None:
    """A message that says how long it has lasted answers the duration question."""
    days = message.intent.days
    if days is None:
        return
    long = days >= LONG_DAYS
    frame.duration = "long" if long else "short"
    if long:
        turn.raise_flags([turn.knowledge.triage.screen.duration])


def merge(turn: Turn, frame: Frame, reading: Reading) -> None:
    """Add a message's clues to a frame; the newest message decides the region."""
    new = reading.concepts - set(frame.concepts)
    fresh = [o for o in other_conditions(turn, new) if o.id not in frame.referred]
    if fresh:  # said once, when first mentioned; the triage then ends in a referral
        refer(turn, new)
        frame.referred += [o.id for o in fresh]
    turn.clear(denied_signs(turn, reading))
    combined = Reading(frozenset(frame.concepts), frozenset(frame.negated)) | reading
    frame.concepts = sorted(combined.concepts)
    turn.session.clues = sorted(set(turn.session.clues) | reading.concepts)
    frame.negated = sorted(combined.negated)
    # a sign made of clues from several messages ("sciatica down my left leg" ... "now my
    # right leg too") is a warning as soon as its last clue arrives
    turn.raise_flags(list(turn.engine.matcher.red_flags(combined.concepts)))
    frame.region = region_of(turn, reading.concepts) or frame.region or region_of(turn, combined.concepts)


def denied_signs(turn: Turn, reading: Reading) -> list[str]:
    """Warning signs a message rules out ("no numbness, it doesn't wake me"): every sign the
    flag looks for is denied (so "no bladder trouble" alone does not answer the emergency
    question, which asks about four things)."""
    denied = []
    for flag in turn.knowledge.red_flags.values():
        signs = [c for c in flag.detect if not c.endswith("_name")]
        if signs and all(c in reading.negated for c in signs) and flag.id not in turn.session.flags:
            denied.append(flag.id)
    return denied


def regions_in(turn: Turn, concepts: frozenset[str] | set[str]) -> list[str]:
    """The regions a message places pain in, in the order hip, lower back."""
    return [r for r in ("hip", "lower_back") if concepts & turn.engine.region_concepts[r]]


def region_of(turn: Turn, concepts: frozenset[str] | set[str]) -> str:
    """The one region these clues place the pain in, or "" (none, or both)."""
    regions = regions_in(turn, concepts)
    return regions[0] if len(regions) == 1 else ""


def other_conditions(turn: Turn, concepts: frozenset[str] | set[str]) -> list[OtherCondition]:
    """The other running problems (not the six) that these clues point to."""
    return [o for o in turn.knowledge.other_conditions.values() if concepts.intersection(o.detect)]


def refer(turn: Turn, concepts: frozenset[str] | set[str]) -> None:
    """Name and explain, in a line, any other problem the runner described, and refer them on."""
    for other in other_conditions(turn, concepts):
        turn.say("other_condition", name=other.name, about=other.about)


# a clause that takes back where it was said to be ("not the outside", "wasn't the side")
_TAKEN_BACK = re.compile(r"^\W*(?:sorry\W*)?(?:no\W+)?(?:not|wasnt|wasn't|isnt|isn't)\b", re.IGNORECASE)
_CLAUSES = re.compile(r"[.,;!?\n]+")


def correct_location(turn: Turn, frame: Frame, text: str) -> bool:
    """ "Sorry, not the outside, the front — the crease": a correction of where in the region it
    hurts. Each clause not taken back is read as if it named the region ("the crease at the
    front" of the hip), and the locations it names replace the ones held. True when corrected."""
    if not frame.region:
        return False
    triage = turn.knowledge.triage
    options = [triage.locations[o] for o in triage.regions[frame.region].locations if o in triage.locations]
    held = {c for o in options for c in o.concepts}
    region_words = turn.region_name(frame.region)
    said: set[str] = set()
    for clause in _CLAUSES.split(text):
        if clause.strip() and not _TAKEN_BACK.match(clause):
            said |= turn.engine.matcher.read(f"{clause} {region_words}").concepts & held
    best = max(options, key=lambda o: len(said & set(o.concepts)) - len(set(o.concepts) - said))
    if not said & set(best.concepts):
        return False
    frame.concepts = sorted((set(frame.concepts) - held) | set(best.concepts))
    frame.location = best.id
    return True
