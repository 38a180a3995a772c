"""The turn API: one event's worth of work, and the verbs every stage of the chain and every flow
uses — say, ask, push and pop a flow, raise a warning sign.

A turn holds the session being changed (a copy: the engine never changes the session it is
given), the replies and effects so far, and the chat's records. The chain (chain/) and the flows
(flows/) are functions over this API; neither imports the engine, and this module imports none
of them, not even for types: what a turn needs of its engine (`TurnHost`) and of a flow
(`Flow`) are protocols here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Protocol

from conversations.events import Effect, Reply
from conversations.machine import CHECKLIST_STEP, CONFIRM_STEP, DONE, WARNING_STEP, next_step
from conversations.recovery_records import EMPTY, ChatRecords
from conversations.session import Frame, Session
from knowledge import Urgency

if TYPE_CHECKING:
    from conversations.machine import Context
    from conversations.reading import MessageReader, MessageReading
    from conversations.render import Renderer
    from knowledge import Knowledge, Matcher
    from knowledge.safety import FlagAdvice


class Flow(Protocol):
    """What the chain asks of a flow (flows/)."""

    def on_text(self, turn: Turn, frame: Frame, message: MessageReading) -> None:
        """Read a typed message as an answer to the pending question."""
        ...

    def on_choice(self, turn: Turn, frame: Frame, value: str) -> None:
        """One of the pending question's buttons was pressed (or its label typed)."""
        ...

    def finish(self, turn: Turn, frame: Frame) -> None:
        """Every question is answered: say the outcome and pop the frame."""
        ...


class TurnHost(Protocol):
    """What a turn needs of the engine that runs it (conversations/engine.py)."""

    @property
    def knowledge(self) -> Knowledge: ...
    @property
    def matcher(self) -> Matcher: ...
    @property
    def context(self) -> Context: ...
    @property
    def renderer(self) -> Renderer: ...
    @property
    def reader(self) -> MessageReader: ...
    @property
    def flows(self) -> Mapping[str, Flow]: ...
    @property
    def now(self) -> Callable[[], dt.datetime]: ...
    @property
    def region_concepts(self) -> Mapping[str, set[str]]: ...
    @property
    def in_scope_concepts(self) -> frozenset[str]: ...
    @property
    def where_concepts(self) -> frozenset[str]: ...
    @property
    def trigger_concepts(self) -> frozenset[str]: ...

    def local_today(self, tz: str) -> dt.date:
        """The date on the runner's calendar."""
        ...

    def read_text(self, turn: Turn, text: str) -> None:
        """Pass typed text along the chain."""
        ...

    def accepts(self, session: Session, data: str) -> bool:
        """Whether button data belongs to the session's current question."""
        ...


class Turn:
    """One event's worth of work: the session being changed, the replies and effects so far."""

    def __init__(self, engine: TurnHost, before: Session, records: ChatRecords = EMPTY) -> None:
        self.engine = engine
        self.records = records  # the chat's records, as updated by this turn's effects
        self.knowledge = engine.knowledge
        self.render = engine.renderer
        self.context = engine.context
        self.before = before
        self.session = before.copy()
        self.replies: list[Reply] = []
        self.effects: list[Effect] = []
        self.going_back = False
        self.typed_label = ""
        self.finished = False  # a flow ended in this turn (a result, a verdict)
        self.said_before = Urgency.from_key(before.urgency) if before.urgency else None
        self.to_confirm: list[str] = []  # signs mentioned with a context that may explain them
        self.language = ""  # the app's language of the runner who typed (Text.language)

    def today(self) -> dt.date:
        """The runner's date (their time zone, once the records know it)."""
        return self.engine.local_today(self.records.timezone)

    def flow(self, frame: Frame) -> Flow:
        """The flow a frame belongs to."""
        return self.engine.flows[frame.flow]

    def on_text(self, text: str) -> None:
        """Read typed text through the whole chain (a command's argument, such as /log ran 8k)."""
        self.engine.read_text(self, text)

    def push(self, frame: Frame) -> None:
        """Start a flow on top of whatever is in progress (which is paused, not ended)."""
        self.session.stack.append(frame)

    def say(self, key: str, kind: str = "info", **values: object) -> None:
        """Say a message by key."""
        self.replies.append(Reply(self.render.say(key, **values), kind=kind))

    def say_text(self, key: str, **values: object) -> str:
        """A message by key, as text."""
        return self.render.say(key, **values)

    def render_info(self, key: str, **values: object) -> Reply:
        """An informational reply by message key."""
        return Reply(self.render.say(key, **values), kind="info")

    def ask(self, reminder: bool = False, explain: bool = False, in_place: bool = False) -> None:
        """Ask the current question again (or show the menu), with fresh buttons."""
        if self.in_aftermath():
            return
        self.session.menu += 1
        self.replies = [r for r in self.replies if r.kind != "question"]  # one question a turn, the last
        self.replies.append(
            self.render.question(self.session, reminder=reminder, explain=explain, in_place=in_place)
        )

    def advance(self, trigger: str = "next") -> None:
        """Ask the top flow's next question, or finish it."""
        frame = self.session.top
        if frame is None:
            self.ask()
            return
        if frame.flow == "aftermath":
            return
        step = next_step(self.session, frame, self.context, trigger)
        if step == DONE:
            self.flow(frame).finish(self, frame)
            return
        if step == WARNING_STEP or (step == CHECKLIST_STEP and not frame.items):
            frame.items = self.context.pending_signs(self.session)
        frame.step = step
        self.ask()

    def pop(self) -> None:
        """End the top flow; a paused one below resumes with its question."""
        self.session.stack.pop()
        self.finished = True  # /back from the result returns to the flow's last question
        frame = self.session.top
        if frame is None:
            return
        if frame.flow == "triage" and frame.region and not frame.step:
            self.say("now_the_other", region=self.region_name(frame.region))
        if self.still_open(frame):
            self.ask(reminder=True)
        else:
            self.advance()  # what the paused flow was asking has been answered meanwhile

    def still_open(self, frame: Frame) -> bool:
        """Whether a paused flow's pending question still needs an answer."""
        if not frame.step:
            return False
        if frame.step == CONFIRM_STEP:
            return not self.context.known(self.session, frame.confirm)
        if frame.step in (WARNING_STEP, CHECKLIST_STEP):
            frame.items = [f for f in frame.items if not self.context.known(self.session, f)]
            return bool(frame.items)
        return next_step(self.session, frame, self.context) == frame.step

    def raise_flags(self, flag_ids: list[str]) -> bool:
        """Record warning signs and say what to do, once. True when one was an emergency."""
        new = [
            f
            for f in dict.fromkeys(flag_ids)
            if f in self.knowledge.red_flags and f not in self.session.flags
        ]
        if not new:
            return False
        self.session.flags.extend(new)
        self.session.cleared = [f for f in self.session.cleared if f not in new]
        self.session.doubtful = [f for f in self.session.doubtful if f not in new]
        emergencies = [f for f in new if self.knowledge.red_flags[f].urgency is Urgency.EMERGENCY]
        if emergencies:
            self.emergency(emergencies)
            return True
        if self.in_aftermath():
            return False  # the emergency advice already covers it; nothing may lower or crowd it
        said = self.said()
        reply = self.render.warning(new, said)
        self.replies.append(reply)
        self.note_said(Urgency.from_key(reply.urgency))
        return False

    def emergency(self, flag_ids: list[str]) -> None:
        """An emergency ends whatever was in progress: the advice, and nothing after it."""
        first_time = not self.in_aftermath()
        self.replies = [r for r in self.replies if r.kind not in ("question", "warning")]
        reply = self.render.emergency(flag_ids if first_time else self.session.flags)
        self.replies.append(reply)
        self.note_said(Urgency.EMERGENCY)
        self.session.stack = [Frame("aftermath", step="aftermath")]
        self.session.back = []

    def clear(self, flag_ids: list[str]) -> None:
        """The runner said no to these signs."""
        for flag in flag_ids:
            if flag not in self.session.flags and flag not in self.session.cleared:
                self.session.cleared.append(flag)
            if flag in self.session.doubtful:
                self.session.doubtful.remove(flag)

    def said(self) -> Urgency | None:
        """The highest urgency the bot has stated in this conversation, if any."""
        return Urgency.from_key(self.session.urgency) if self.session.urgency else None

    def flag_advice(self) -> FlagAdvice:
        """What the warning signs raised so far say, and the general advice they hold back."""
        return self.render.flag_advice([*self.session.flags, *self.session.concerns])

    def note_said(self, urgency: Urgency) -> None:
        """Remember the highest urgency stated so far."""
        said = self.said()
        if said is None or urgency > said:
            self.session.urgency = urgency.key

    def in_aftermath(self) -> bool:
        """Whether an emergency has been advised in this conversation (and not started over)."""
        return any(frame.flow == "aftermath" for frame in self.session.stack)

    def aftermath_reminder(self) -> None:
        """After an emergency: the reminder to act on it, with its buttons."""
        self.replies.append(
            Reply(self.say_text("emergency_reminder"), self.render.emergency([]).buttons, kind="info")
        )

    def emergency_help(self) -> None:
        """A direct answer to "should I call an ambulance?", "what do I do?"."""
        self.replies.append(
            Reply(
                self.say_text("emergency_help"),
                self.render.emergency([]).buttons,
                kind="answer",
                topic="see_clinician",
            )
        )

    def region_name(self, region: str) -> str:
        """A region as the runner reads it."""
        return self.say_text(f"region_{region}")

    def current_options(self) -> dict[str, str]:
        """The buttons of the current question, as option id -> label."""
        return self.render.options(self.session)
