"""The conversation's states, the table of transitions between them, and the guards.

After every answer the engine fires "next": the first "next" transition whose guard holds
decides where the conversation goes, so a runner whose message already said where it hurts and
what sets it off skips those questions. `mermaid()` draws the table; states.mmd beside this file
is its output, and a test keeps the two the same.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from conversations.session import Flow, Session, State
from knowledge import Knowledge, Matcher, Reading


@dataclass(frozen=True, slots=True)
class Context:
    """What guards may consult besides the session: the knowledge base and the matcher."""

    knowledge: Knowledge
    matcher: Matcher
    location_concepts: frozenset[str]

    @classmethod
    def build(cls, knowledge: Knowledge, matcher: Matcher) -> Context:
        """Index, once, the concepts that say where it hurts."""
        anchors = set()
        for condition in knowledge.conditions.values():
            recognise = condition.recognise
            anchors |= {*recognise.names, *recognise.hallmarks, *recognise.where, *recognise.signs}
        return cls(knowledge, matcher, frozenset(anchors - set(knowledge.triage.region_only)))


Guard = Callable[[Session, Context], bool]


def always(session: Session, context: Context) -> bool:
    """No condition: the transition is always taken."""
    return True


def otherwise(session: Session, context: Context) -> bool:
    """The last resort of "next": every question is answered, so give the result."""
    return True


def emergency_raised(session: Session, context: Context) -> bool:
    """An emergency sign is known: stop asking and answer now, the warning first."""
    flags = context.knowledge.red_flags
    return any(flags[f].urgency.key == "emergency" for f in session.flags if f in flags)


def needs_location(session: Session, context: Context) -> bool:
    """Triage does not yet know where it hurts, and cannot yet name a condition."""
    return (
        session.flow is Flow.TRIAGE
        and not session.location
        and not context.location_concepts.intersection(session.concepts)
        and not _names_a_condition(session, context)
    )


def needs_trigger(session: Session, context: Context) -> bool:
    """Triage cannot yet name a condition and has not asked what sets it off."""
    if session.flow is not Flow.TRIAGE or session.trigger_done or session.screen_started:
        return False  # (once the red-flag screen has begun, the trigger question is behind us)
    return not _names_a_condition(session, context)


def _names_a_condition(session: Session, context: Context) -> bool:
    reading = Reading(frozenset(session.concepts), frozenset(session.negated))
    return context.matcher.assess(reading).condition is not None


def needs_screen(session: Session, context: Context) -> bool:
    """Red-flag questions are still to be asked (or the screen has not begun)."""
    return session.flow is not Flow.NONE and (not session.screen_started or bool(session.screen))


@dataclass(frozen=True, slots=True)
class Transition:
    """From `source` (None: any state), on `trigger`, to `target` when `guard` holds."""

    source: State | None
    trigger: str
    target: State
    guard: Guard = always


TRANSITIONS: tuple[Transition, ...] = (
    # commands, from anywhere
    Transition(None, "start", State.IDLE),
    Transition(None, "restart", State.IDLE),
    Transition(None, "cancel", State.IDLE),
    Transition(None, "forget", State.IDLE),
    Transition(None, "redflags", State.SCREEN),
    # the main menu's hip / lower-back buttons
    Transition(State.IDLE, "choose_region", State.LOCATION),
    # after any answer or description: the first guard that holds wins
    Transition(None, "next", State.IDLE, emergency_raised),  # answer at once, the warning first
    Transition(None, "next", State.LOCATION, needs_location),
    Transition(None, "next", State.TRIGGER, needs_trigger),
    Transition(None, "next", State.SCREEN, needs_screen),
    Transition(None, "next", State.IDLE, otherwise),  # the result, or the red-flag verdict
)


def target_state(session: Session, context: Context, trigger: str) -> State:
    """Where `trigger` takes the conversation from `session.state`."""
    for transition in TRANSITIONS:
        if (
            transition.trigger == trigger
            and transition.source in (None, session.state)
            and transition.guard(session, context)
        ):
            return transition.target
    raise LookupError(f"no transition from {session.state} on {trigger!r}")


def mermaid() -> str:
    """The transition table as a Mermaid state diagram ("any" stands for every state)."""
    edges: dict[tuple[str, str, str], list[str]] = {}
    for transition in TRANSITIONS:
        source = transition.source.value if transition.source else "any"
        guard = "" if transition.guard is always else f" [{transition.guard.__name__}]"
        edges.setdefault((source, transition.target.value, guard), []).append(transition.trigger)
    lines = ["stateDiagram-v2", '    state "any state" as any', f"    [*] --> {State.IDLE.value}"]
    for (source, target, guard), triggers in edges.items():
        lines.append(f"    {source} --> {target}: {', '.join(triggers)}{guard}")
    lines.append("    note right of any: /back returns to the previous question")
    return "\n".join(lines) + "\n"
