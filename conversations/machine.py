"""The questions a flow asks, the table of transitions between them, and the guards.

After every answer a flow fires "next": the first "next" transition of that flow whose guard
holds decides the question to ask, so a runner whose message already said where it hurts and
what sets it off skips those questions, and a warning sign answered once (in any flow) is not
asked again. Other triggers move between steps for particular answers ("yes" to the grouped
warning signs opens the checklist; a sign the context may explain asks "confirm").

`mermaid()` draws the table; states.mmd beside this file is its output, and a test keeps the
two the same.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from conversations.session import Frame, Session
from knowledge import Knowledge, Matcher, Reading

DONE = "done"  # not a question: the flow ends (a triage result, a check's verdict)
EMERGENCY_STEP = "emergency_screen"
WARNING_STEP = "warning_screen"
CHECKLIST_STEP = "warning_item"
DURATION_STEP = "duration"
AGE_STEP = "age"  # asked once per conversation, skippable by any answer that is not an age
CONFIRM_STEP = "confirm"
TELL_APART_STEP = "tell_apart"  # one of the six and another problem fit alike: the other's yes/no question
SAFETY_STEPS = frozenset({EMERGENCY_STEP, WARNING_STEP, CHECKLIST_STEP, DURATION_STEP, CONFIRM_STEP})


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

    def known(self, session: Session, flag: str) -> bool:
        """Whether the runner has already answered about this warning sign."""
        return flag in session.flags or flag in session.cleared or flag in session.doubtful

    def pending_signs(self, session: Session) -> list[str]:
        """The grouped warning signs not yet answered."""
        return [f for f in self.knowledge.triage.screen.together if not self.known(session, f)]


Guard = Callable[[Session, Frame, Context], bool]


def always(session: Session, frame: Frame, context: Context) -> bool:
    """No condition: the transition is always taken."""
    return True


def needs_location(session: Session, frame: Frame, context: Context) -> bool:
    """Triage does not yet know where it hurts, and cannot yet name a condition."""
    return (
        not frame.location
        and not context.location_concepts.intersection(frame.concepts)
        and not _names_a_condition(frame, context)
    )


def needs_trigger(session: Session, frame: Frame, context: Context) -> bool:
    """Triage cannot yet name a condition and has not asked what sets it off."""
    return not frame.trigger_done and not _names_a_condition(frame, context)


def needs_emergency_screen(session: Session, frame: Frame, context: Context) -> bool:
    """The emergency signs (bladder, bowel, saddle, both legs) have not been asked about."""
    return not context.known(session, context.knowledge.triage.screen.emergency)


def needs_warning_screen(session: Session, frame: Frame, context: Context) -> bool:
    """Some of the other warning signs have not been asked about."""
    return bool(context.pending_signs(session))


def needs_age(session: Session, frame: Frame, context: Context) -> bool:
    """The runner's age is not known and has not been asked (it is asked once, and skippable)."""
    return not session.age


def needs_duration(session: Session, frame: Frame, context: Context) -> bool:
    """How long this problem has lasted is not known yet."""
    return not frame.duration and not context.known(session, context.knowledge.triage.screen.duration)


def needs_tell_apart(session: Session, frame: Frame, context: Context) -> bool:
    """One of the six and a problem outside them both fit and the clues cannot tell them apart,
    and the other's own question (whose yes adds the clue that names it) has not been asked.
    Records in `frame.values` which problem the question is about, for the question and its answer."""
    other = tell_apart_candidate(frame, context)
    if other is None or "tell_apart" in frame.values:
        return False
    frame.values["tell_apart_other"] = other
    return True


def tell_apart_candidate(frame: Frame, context: Context) -> str | None:
    """The problem outside the six kept beside one of the six, when its question may decide."""
    result = context.matcher.assess(Reading(frozenset(frame.concepts), frozenset(frame.negated)))
    if result.condition or result.other or not (result.candidates and result.other_candidates):
        return None
    other = context.knowledge.other_conditions[result.other_candidates[0].id]
    known = other.confirms in frame.concepts or other.confirms in frame.negated
    return other.id if other.question and other.confirms and not known else None


def _names_a_condition(frame: Frame, context: Context) -> bool:
    """One of the six, or a problem outside them, is clear: where and what-sets-it-off are not asked."""
    reading = Reading(frozenset(frame.concepts), frozenset(frame.negated))
    result = context.matcher.assess(reading)
    return result.condition is not None or result.other is not None


@dataclass(frozen=True, slots=True)
class Transition:
    """In `flow`, from `source` (None: any step), on `trigger`, to `target` when `guard` holds."""

    flow: str
    source: str | None
    trigger: str
    target: str
    guard: Guard = always


TRANSITIONS: tuple[Transition, ...] = (
    # triage: after the menu's hip / lower-back button, a description, or any answer
    Transition("triage", None, "next", "location", needs_location),
    Transition("triage", None, "next", "trigger", needs_trigger),
    Transition("triage", None, "next", EMERGENCY_STEP, needs_emergency_screen),
    Transition("triage", None, "next", WARNING_STEP, needs_warning_screen),
    Transition("triage", None, "next", AGE_STEP, needs_age),
    Transition("triage", None, "next", DURATION_STEP, needs_duration),
    Transition("triage", None, "next", TELL_APART_STEP, needs_tell_apart),
    Transition("triage", None, "next", DONE),  # the result
    # the /redflags check: the same safety questions, then a verdict
    Transition("check", None, "next", EMERGENCY_STEP, needs_emergency_screen),
    Transition("check", None, "next", WARNING_STEP, needs_warning_screen),
    Transition("check", None, "next", DURATION_STEP, needs_duration),
    Transition("check", None, "next", DONE),  # the verdict
    # answers that open a question of their own, in either flow
    Transition("*", WARNING_STEP, "which", CHECKLIST_STEP),  # "yes", or some signs named
    Transition("*", CHECKLIST_STEP, "which", CHECKLIST_STEP),  # more named: any of the others?
    Transition("*", None, "explained_sign", CONFIRM_STEP),  # a sign the context may explain
)


def step_token(frame: Frame | None) -> str:
    """How the pending question is named in its buttons' data (a confirm names its sign too)."""
    if frame is None:
        return "menu"
    return f"{frame.step}.{frame.confirm}" if frame.step == CONFIRM_STEP else frame.step


def next_step(session: Session, frame: Frame, context: Context, trigger: str = "next") -> str:
    """The step `trigger` takes `frame` to."""
    for transition in TRANSITIONS:
        if (
            transition.trigger == trigger
            and transition.flow in ("*", frame.flow)
            and transition.source in (None, frame.step)
            and transition.guard(session, frame, context)
        ):
            return transition.target
    raise LookupError(f"no transition in {frame.flow} from {frame.step!r} on {trigger!r}")


def mermaid() -> str:
    """The transition table as a Mermaid state diagram, one box per flow."""
    lines = ["stateDiagram-v2", "    [*] --> menu"]
    lines.append("    menu --> triage: hip / lower back / a description")
    lines.append("    menu --> check: /redflags")
    lines.append("    triage --> aftermath: an emergency sign, in any message")
    lines.append("    check --> aftermath: an emergency sign, in any message")
    lines.append("    aftermath --> menu: /start, /restart, /cancel")
    lines.append("    triage --> menu: result (a paused flow resumes)")
    lines.append("    check --> menu: verdict (a paused flow resumes)")
    for flow in ("triage", "check"):
        lines.append(f"    state {flow} {{")
        lines.append(f"        [*] --> {flow}_any")
        for transition in TRANSITIONS:
            if transition.flow not in ("*", flow):
                continue
            source = f"{flow}_{transition.source}" if transition.source else f"{flow}_any"
            target = "[*]" if transition.target == DONE else f"{flow}_{transition.target}"
            guard = "" if transition.guard is always else f" [{transition.guard.__name__}]"
            lines.append(f"        {source} --> {target}: {transition.trigger}{guard}")
        lines.append("    }")
    lines.append("    note right of menu: questions, small talk and /prevent pause a flow; it then asks again")
    lines.append("    note left of menu: /back returns to the previous question; warnings are never undone")
    return "\n".join(lines) + "\n"
