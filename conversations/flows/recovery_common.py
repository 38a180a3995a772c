"""What the recovery companion's flows share: its wording, its frames on the stack, and when it
must stand aside (after an emergency; a plan while a warning needs a clinician first).

The records come in with the turn (`turn.records`, a snapshot the adapter loaded) and leave as
effects (SaveLog, SavePlan, SetReminder, CancelReminders, SendChart, SendFiles); a flow updates
`turn.records` too, so the rest of the turn sees what it saved. What a flow is waiting for is in
its frame: `step` and `values` (numbers and ids only, never what the runner wrote).

Flows that read answers in words ("ran 8k, pain 3") read a message before the question and
small-talk step of the chain (`read_first`) — such answers look like questions about load or
like an "ok" — but never before safety: the chain reads every message for warning signs first,
log notes included. The reasoning itself is conversations/recovery.py; the data and wording
knowledge/recovery_data.py.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

from conversations.events import Reply
from knowledge import Urgency
from knowledge.recovery_data import PAIN_SCORE_WORDS, Companion, load_companion

if TYPE_CHECKING:
    from conversations.reading import MessageReading
    from conversations.session import Frame
    from conversations.turn import Turn
    from knowledge import Knowledge


_COMPANIONS: dict[int, Companion] = {}


def companion_of(knowledge: Knowledge) -> Companion:
    """The companion data that goes with a knowledge base (loaded once)."""
    key = id(knowledge)
    if key not in _COMPANIONS:
        _COMPANIONS[key] = load_companion(knowledge)
    return _COMPANIONS[key]


def companion_text(turn: Turn, key: str, **values: object) -> str:
    """A companion message by key, with every value escaped for HTML."""
    return companion_of(turn.knowledge).message(key, **{k: escape(str(v), quote=False) for k, v in values.items()})


def companion_say(turn: Turn, key: str, kind: str = "info", topic: str = "", **values: object) -> None:
    """Say a companion message."""
    turn.replies.append(Reply(companion_text(turn, key, **values), kind=kind, topic=topic))


def push_frame(turn: Turn, flow: str, step: str, values: dict[str, str] | None = None) -> Frame:
    """Put a companion flow on top (replacing one of its kind already there) and return it."""
    from conversations.session import Frame

    stack = turn.session.stack
    if stack and stack[-1].flow in COMPANION_FLOWS:
        stack.pop()
    frame = Frame(flow, step=step, values=dict(values or {}))
    stack.append(frame)
    return frame


def answer_in_flow(turn: Turn, message: MessageReading) -> bool:
    """A question the questions stage could not place, asked in the middle of a companion flow
    ("what should my pain be?"): answered from the companion's facts when it is about pain
    scores, otherwise honestly not known — then the flow asks its question again. True when the
    message was a question."""
    from conversations.chain.questions import asks_something, unread_question

    if not asks_something(message.text):
        return False
    if PAIN_SCORE_WORDS.search(message.text):
        limits = companion_of(turn.knowledge).fact("pain_limits")
        turn.replies.append(Reply(companion_text(turn, "answer_pain_limits", limits=limits), kind="answer", topic="pain_limits"))
    else:
        unread_question(turn, message)
    turn.ask(reminder=True)
    return True


def end_flow(turn: Turn) -> None:
    """This companion flow is over: a paused flow below resumes with its question."""
    turn.pop()


def blocked(turn: Turn) -> bool:
    """After an emergency only help to act on it: no plans, logs or reminders."""
    if turn.in_aftermath():
        turn.aftermath_reminder()
        return True
    return False


def exercises_held(turn: Turn) -> bool:
    """Whether a warning said holds back exercises: every urgent or emergency flag (bone stress
    among them), cancer history with back pain, the young athlete's concerns, a sign that
    withholds exercises (safety.yaml hold_back) — or an urgency of "today" already stated."""
    from knowledge.safety import advice_for_flags

    session = turn.session
    held = advice_for_flags(turn.knowledge, [*session.flags, *session.concerns]).held
    said = turn.said()
    return "exercises" in held or (said is not None and said >= Urgency.URGENT)


def running_held(turn: Turn) -> bool:
    """Whether a warning said holds back building the running up: one that rules out keeping
    running or adding load (advice_for_flags), or an urgency of "today" or higher already stated."""
    from knowledge.safety import advice_for_flags

    held = advice_for_flags(turn.knowledge, [*turn.session.flags, *turn.session.concerns]).held
    said = turn.said()
    return bool({"keep_running", "load"} & set(held)) or (said is not None and said >= Urgency.URGENT)


def needs_clinician_first(turn: Turn) -> bool:
    """No exercise plan while a warning needs seeing to first (`exercises_held`): says so."""
    if not exercises_held(turn):
        return False
    turn.say("plan_not_now")
    if turn.session.top is not None:
        turn.ask(reminder=True)
    return True


def level_name(turn: Turn, level: str) -> str:
    """The name of a plan day's level (easier, full, harder)."""
    return companion_text(turn, f"plan_level_{level}")


def escape_text(text: str) -> str:
    """Advice is built from data already; escape it for the HTML subset."""
    return escape(text, quote=False)


COMPANION_FLOWS = frozenset({"log", "plan", "remind", "mileage"})
