"""The conversation engine: (session, event) -> TurnResult(session, replies, effects).

Every message is read once (reading.py) and then passed along a chain (chain/), in order:

1. safety — warning signs in the message, whatever the conversation is doing. An emergency sign
   ends the turn with the emergency advice and nothing after it but help to act on it.
2. commands — /start, /prevent, /redflags, /back ...
3. questions and small talk — answered in any state; a paused flow then asks its question again.
4. the flow on top of the session's stack — triage, the warning-sign check, the advice after an
   emergency — reads the message as an answer to its pending question; with no flow, a
   description starts a triage.

The turn's state and the verbs every stage uses are turn.py. Flows are modules (flows/)
registered by name; a flow never re-implements safety and the chain
never depends on which flow is on top. The engine never changes the session it is given and
never raises for any input.
"""

from __future__ import annotations

import datetime as dt
import logging
import zoneinfo
from collections.abc import Callable

from conversations import chain
from conversations.chain import safety
from conversations.chain.buttons import split_data
from conversations.events import Button, Command, Edited, Event, Text, TurnResult
from conversations.flows import FLOWS
from conversations.machine import Context, step_token
from conversations.reading import MessageReader
from conversations.recovery_records import EMPTY, ChatRecords
from conversations.render import INFO, Renderer
from conversations.session import Session
from conversations.turn import Turn
from knowledge import Knowledge, Matcher, Urgency, default_knowledge

log = logging.getLogger(__name__)


class Engine:
    """Runs conversations. Build once; `handle` is safe to call for any chat, any event."""

    def __init__(
        self,
        knowledge: Knowledge | None = None,
        matcher: Matcher | None = None,
        today: Callable[[], dt.date] | None = None,
        now: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self.knowledge = knowledge or default_knowledge()
        self.matcher = matcher or Matcher(self.knowledge)
        self.context = Context.build(self.knowledge, self.matcher)
        self.flows = FLOWS  # the flows a session's frames can belong to, by name
        self.renderer = Renderer(self.knowledge, self.flows)
        self.reader = MessageReader(self.knowledge, self.matcher)
        # `now` is the clock (UTC; an adapter may pass its own, e.g. a test's fast clock); `today`
        # fixes the date outright (tests); otherwise a runner's date is the one in their time zone
        self.now: Callable[[], dt.datetime] = now or (lambda: dt.datetime.now(dt.UTC))
        self._fixed_today = today
        self.today: Callable[[], dt.date] = today or (lambda: self.local_today(""))
        # concepts that place a message at the hip or the lower back, and so within the bot's scope
        self.region_concepts = {
            "hip": self._anchors("hip") | {"hip_general"},
            "lower_back": self._anchors("lower_back") | {"back_general"},
        }
        # ... and the running problems outside the six (an adductor strain, mid-back pain): each
        # is triaged like the six and ends in its own card, not in "I don't cover that"
        others = {c for o in self.knowledge.other_conditions.values() for c in (*o.recognise.names, *o.recognise.hallmarks, *o.recognise.where)}
        self.in_scope_concepts = self.context.location_concepts | {"hip_general", "back_general"} | others
        # where it hurts, and nothing else (not signs such as tingling): what a correction names
        self.where_concepts = frozenset(
            {"hip_general", "back_general", *(c for cond in self.knowledge.conditions.values() for c in (*cond.recognise.where, *cond.recognise.names))}
        )
        self.trigger_concepts = frozenset(c for t in self.knowledge.triage.triggers.values() for c in t.concepts)

    def local_today(self, tz: str) -> dt.date:
        """The date on the runner's calendar: in their time zone when they have given one
        (ChatRecords.timezone), else the server's."""
        if self._fixed_today is not None:
            return self._fixed_today()
        try:
            zone = zoneinfo.ZoneInfo(tz) if tz else None
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            zone = None
        return self.now().astimezone(zone).date()

    def new_session(self) -> Session:
        """A session for a chat the bot has not seen."""
        return Session()

    def welcome(self, session: Session) -> TurnResult:
        """What a new chat sees first (the same as /start)."""
        return self.handle(session, Command("start"))

    def handle(self, session: Session, event: Event, records: ChatRecords = EMPTY) -> TurnResult:
        """Apply one event to a copy of `session`; return the new session, replies and effects.

        `records` is the chat's log, plans and reminder as the adapter loaded them (the
        companion's flows read them; changes come back as effects for the adapter to keep).
        A bug must not cost the runner their conversation: on any error the session is kept as
        it was and the runner gets an apology and the current question again.
        """
        turn = Turn(self, session, records)
        try:
            chain.dispatch(turn, event)
            chain.close(turn, event)
        except Exception:
            top = session.top
            log.exception("engine error in flow %s handling %s", top.flow if top else "menu", type(event).__name__)
            turn = self.safe_apology(session, event, records)
        return TurnResult(turn.session, turn.replies, tuple(turn.effects))

    def safe_apology(self, session: Session, event: Event, records: ChatRecords = EMPTY) -> Turn:
        """After an error: the warning signs in the message are still answered, then an apology."""
        turn = Turn(self, session, records)
        try:
            if isinstance(event, Text | Edited) and safety.warn_first(turn, self.reader.read(event.text, turn.today())):
                return turn
        except Exception:
            log.exception("the safety step failed too")
            turn = Turn(self, session, records)
        turn.say("internal_error")
        turn.ask()
        return turn

    def read_text(self, turn: Turn, text: str) -> None:
        """Pass typed text along the chain (Turn.on_text)."""
        chain.on_text(turn, text)

    def accepts(self, session: Session, data: str) -> bool:
        """Whether button data belongs to the session's current question (not stale, not forged)."""
        if (data or "").startswith(f"{INFO}:"):
            return True
        menu, step, value = split_data(data)
        return (
            menu == str(session.menu)
            and step == step_token(session.top)
            and value in self.renderer.options(session)
        )

    def problems(self, session: Session) -> list[str]:
        """What is wrong with a session, if anything (checked when a stored session is loaded)."""
        knowledge = self.knowledge
        problems = []
        for frame in (*session.stack, *session.paused):
            if frame.flow not in self.flows:
                problems.append(f"unknown flow {frame.flow!r}")
            if frame.region not in ("", *knowledge.triage.regions):
                problems.append(f"unknown region {frame.region!r}")
            if frame.location not in ("", "elsewhere", *knowledge.triage.locations):
                problems.append(f"unknown location {frame.location!r}")
            problems += [f"unknown concept {c!r}" for c in (*frame.concepts, *frame.negated) if c not in knowledge.concepts]
            problems += [f"unknown red flag {f!r}" for f in (*frame.items, frame.confirm) if f and f not in knowledge.red_flags]
        for name in ("flags", "cleared", "doubtful"):
            problems += [f"unknown flag {f!r} in {name}" for f in getattr(session, name) if f not in knowledge.red_flags]
        problems += [f"unknown concern {c!r}" for c in session.concerns if c not in knowledge.concerns]
        problems += [
            f"unknown other condition {o!r}"
            for frame in session.stack
            for o in frame.referred
            if o not in knowledge.other_conditions
        ]
        if session.urgency and session.urgency not in {u.key for u in Urgency}:
            problems.append(f"unknown urgency {session.urgency!r}")
        if session.last_condition not in ("", *knowledge.conditions):
            problems.append(f"unknown condition {session.last_condition!r}")
        return problems

    def _anchors(self, region: str) -> set[str]:
        anchors: set[str] = set()
        for condition in self.knowledge.conditions.values():
            if condition.region == region:
                recognise = condition.recognise
                anchors |= {*recognise.names, *recognise.hallmarks, *recognise.where, *recognise.signs}
        return anchors


__all__ = ["Button", "Engine", "Turn", "step_token"]
