"""The conversation engine: (session, event) -> (session, replies).

Red flags are checked first on every message, whatever the conversation is doing; then the
event is handled for the current state, and the transition table (machine.py) decides what to
ask next. The engine never changes the session it is given and never raises for any input.
"""

from __future__ import annotations

import logging

from rapidfuzz import fuzz

from conversations.events import (
    Choice,
    Command,
    Event,
    Forget,
    Reply,
    Text,
    TurnResult,
    Unsupported,
    parse_command,
)
from conversations.machine import Context, emergency_raised, target_state
from conversations.render import Renderer
from conversations.session import MAX_BACK_STEPS, Flow, Session, SessionError, State
from knowledge import Knowledge, Matcher, Reading, default_knowledge
from knowledge.model import OtherCondition
from knowledge.patterns import BREAK

YES_WORDS = frozenset("yes y yeah yep yup yea ya sure correct true definitely affirmative aye".split())
NO_WORDS = frozenset("no n nope nah none never negative not".split())
GENERIC_LABEL_WORDS = frozenset(
    "the of a an or and on in my it hip hips back lower pain going just while for long that to is i am".split()
)
LABEL_MATCH = 85.0  # how closely typed text must match a button label to count as pressing it
STEP_TOGETHER = "together"  # the screen step that asks about several warning signs at once

log = logging.getLogger(__name__)


class Engine:
    """Runs conversations. Build once; `handle` is safe to call for any chat, any event."""

    def __init__(self, knowledge: Knowledge | None = None, matcher: Matcher | None = None) -> None:
        self.knowledge = knowledge or default_knowledge()
        self.matcher = matcher or Matcher(self.knowledge)
        self.context = Context.build(self.knowledge, self.matcher)
        self.renderer = Renderer(self.knowledge)
        hip_anchors = self._anchors("hip") | {"hip_general"}
        # concepts that place a message at the hip or the lower back, and so within the bot's scope
        self.region_concepts = {
            "hip": hip_anchors,
            "lower_back": self._anchors("lower_back") | {"back_general"},
        }
        self.in_scope_concepts = self.context.location_concepts | {"hip_general", "back_general"}

    def new_session(self) -> Session:
        """A session for a chat the bot has not seen."""
        return Session()

    def welcome(self, session: Session) -> TurnResult:
        """What a new chat sees first (the same as /start)."""
        return self.handle(session, Command("start"))

    def handle(self, session: Session, event: Event) -> TurnResult:
        """Apply one event to a copy of `session`; return the new session, replies and effects.

        A bug must not cost the runner their conversation: on any error the session is kept as
        it was and the runner gets an apology and the current question again.
        """
        turn = _Turn(self, session)
        try:
            turn.dispatch(event)
        except Exception:
            log.exception("engine error in state %s handling %s", session.state.value, type(event).__name__)
            turn = _Turn(self, session)
            turn.say("internal_error")
            turn.ask_current()
        effects = (Forget(),) if event in (Command("forget"), Text("/forget")) else ()
        return TurnResult(turn.session, turn.replies, effects)

    def accepts(self, session: Session, data: str) -> bool:
        """Whether button data belongs to the session's current question (not stale, not forged)."""
        menu, _, value = (data or "").partition(":")
        options = self.renderer.options(session, best_location(self.knowledge, session))
        return menu == str(session.menu) and value in options

    def problems(self, session: Session) -> list[str]:
        """What is wrong with a session, if anything (checked when a stored session is loaded)."""
        knowledge = self.knowledge
        problems = []
        if (session.state is State.IDLE) != (session.flow is Flow.NONE):
            problems.append(f"state {session.state} does not fit flow {session.flow!r}")
        if session.state is State.SCREEN and not session.screen:
            problems.append("a screen question with no step to ask")
        if session.region not in ("", *knowledge.triage.regions):
            problems.append(f"unknown region {session.region!r}")
        if session.location not in ("", "elsewhere", *knowledge.triage.locations):
            problems.append(f"unknown location {session.location!r}")
        for name, known in (("concepts", knowledge.concepts), ("negated", knowledge.concepts)):
            problems += [f"unknown concept {c!r} in {name}" for c in getattr(session, name) if c not in known]
        for name in ("flags", "cleared"):
            problems += [
                f"unknown flag {f!r} in {name}"
                for f in getattr(session, name)
                if f not in knowledge.red_flags
            ]
        steps = set(knowledge.red_flags) | {STEP_TOGETHER}
        problems += [f"unknown screen step {s!r}" for s in session.screen if s not in steps]
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


class _Turn:
    """One event's worth of work: the session being changed and the replies so far."""

    def __init__(self, engine: Engine, before: Session) -> None:
        self.engine = engine
        self.knowledge = engine.knowledge
        self.render = engine.renderer
        self.before = before
        self.session = before.copy()
        self.replies: list[Reply] = []
        self.going_back = False
        self.warned: set[str] = set()  # red flags already warned about in this turn

    # ----- dispatch ------------------------------------------------------------------
    def dispatch(self, event: Event) -> None:
        if isinstance(event, Text):
            command = parse_command(event.text)
            if command is not None:
                self.on_command(command.name)
            else:
                self.on_text(event.text)
        elif isinstance(event, Choice):
            self.on_choice(event.data)
        elif isinstance(event, Command):
            self.on_command(event.name.lower().lstrip("/"))
        elif isinstance(event, Unsupported):
            self.say("edited_message" if event.kind == "edited" else "unsupported_message")
            self.ask_current()
        else:  # pragma: no cover - the Event union is closed
            raise TypeError(f"not an event: {event!r}")

    # ----- commands --------------------------------------------------------------------
    def on_command(self, name: str) -> None:
        handlers = {
            "start": lambda: self.reset("welcome"),
            "restart": lambda: self.reset("restarted"),
            "forget": lambda: self.reset("forgotten"),
            "cancel": self.cancel,
            "back": self.go_back,
            "help": lambda: self.inform(self.knowledge.message("help")),
            "about": lambda: self.inform(self.render.about()),
            "prevent": lambda: self.inform(self.render.prevention()),
            "redflags": self.start_check,
        }
        handler = handlers.get(name)
        if handler is None:
            self.say("unknown_command")
            self.ask_current()
        else:
            handler()

    def reset(self, message_key: str) -> None:
        # The menu counter survives a reset so that buttons from before it have expired.
        self.session = Session(menu=self.session.menu)
        self.say(message_key)
        self.ask_current()

    def cancel(self) -> None:
        had_flow = self.session.flow is not Flow.NONE
        self.session = Session(menu=self.session.menu, last_condition=self.session.last_condition)
        self.say("cancelled" if had_flow else "nothing_to_cancel")
        self.ask_current()

    def go_back(self) -> None:
        if not self.session.back:
            self.say("nothing_to_go_back")
            self.ask_current()
            return
        history = self.session.back[:-1]
        try:
            restored = Session.from_dict(
                {**self.session.back[-1], "back": history, "menu": self.session.menu}
            )
        except SessionError:
            restored = Session(menu=self.session.menu)
        self.session = restored
        self.going_back = True
        self.ask_current()

    def inform(self, text: str) -> None:
        self.replies.append(Reply(text))
        self.ask_current(reminder=self.session.flow is not Flow.NONE)

    def start_check(self) -> None:
        self.session = Session(
            menu=self.session.menu, flow=Flow.CHECK, last_condition=self.session.last_condition
        )
        self.say("check_intro")
        self.advance("redflags")

    # ----- buttons ---------------------------------------------------------------------
    def on_choice(self, data: str) -> None:
        if not self.engine.accepts(self.session, data):
            self.say("menu_expired")
            self.ask_current()
            return
        self.choose(data.partition(":")[2])

    def choose(self, value: str) -> None:
        state = self.session.state
        if state is State.IDLE:
            self.choose_from_menu(value)
        elif state is State.LOCATION:
            self.choose_location(value)
        elif state is State.TRIGGER:
            self.choose_trigger(value)
        else:
            self.answer_screen(value == "yes")

    def choose_from_menu(self, value: str) -> None:
        if value == "prevent":
            self.inform(self.render.prevention())
        elif value == "redflags":
            self.start_check()
        else:
            self.session = Session(menu=self.session.menu, flow=Flow.TRIAGE, region=value)
            self.advance("choose_region")

    def choose_location(self, value: str) -> None:
        self.session.location = value
        option = self.knowledge.triage.locations.get(value)
        if option is not None:
            self.add_concepts(option.concepts)
            if not self.session.region:
                self.session.region = self.region_of_location(value)
        self.advance()

    def choose_trigger(self, value: str) -> None:
        option = self.knowledge.triage.triggers.get(value)
        if option is not None:
            self.add_concepts(option.concepts)
        self.session.trigger_done = True
        self.advance()

    def answer_screen(self, yes: bool) -> None:
        screen = self.knowledge.triage.screen
        step = self.session.screen.pop(0) if self.session.screen else ""
        if step == STEP_TOGETHER:
            pending = [f for f in screen.together if not self.known_flag(f)]
            if yes:
                self.session.screen[:0] = pending
            else:
                self.session.cleared.extend(pending)
        elif step:
            if yes:
                self.raise_flags([step])
            else:
                self.session.cleared.append(step)
        self.advance()

    # ----- typed text ------------------------------------------------------------------
    def on_text(self, text: str) -> None:
        if not text.strip():
            self.say("empty_message")
            self.ask_current()
            return
        reading = self.engine.matcher.read(text)
        starts_triage = self.session.state is State.IDLE and bool(
            reading.concepts & self.engine.in_scope_concepts
        )
        self.warn(self.engine.matcher.red_flags(reading.concepts), carried=starts_triage)
        state = self.session.state
        if state is State.IDLE:
            self.describe(reading, text)
        elif state is State.SCREEN:
            self.screen_text(reading, text)
        else:
            self.question_text(reading, text)

    def describe(self, reading: Reading, text: str) -> None:
        """Free text with nothing in progress: start a triage, or say why not."""
        concepts = reading.concepts
        flags = self.engine.matcher.red_flags(concepts)
        if concepts & self.engine.in_scope_concepts:
            self.session = Session(menu=self.session.menu, flow=Flow.TRIAGE, region=self.region_of(concepts))
            self.raise_flags(flags, warned=True)
            self.merge(reading)
            self.advance()
            return
        option = None if flags else self.option_for_text(text)
        if option is not None:  # a menu label or number typed rather than tapped
            self.choose_from_menu(option)
        elif flags:
            self.ask_current()
        elif "out_of_scope_body" in concepts:
            self.say("out_of_scope")
            self.ask_current()
        elif self.other_conditions(concepts):
            self.refer(concepts)
            self.ask_current()
        elif "small_talk" in concepts:
            self.small_talk(text)
        else:
            self.say("not_understood")
            self.ask_current()

    def small_talk(self, text: str) -> None:
        words = set(self.engine.matcher.normaliser.tokens(text).words)
        if words & {"thanks", "thank", "cheers"}:
            self.say("you_are_welcome")
        elif words & {"bot", "human", "person", "real", "who"}:
            self.say("about_me")
        else:
            self.say("hello")
        self.ask_current()

    def question_text(self, reading: Reading, text: str) -> None:
        """Free text while a location or trigger question is open."""
        option = self.option_for_text(text)
        if option is not None:
            self.merge(reading)
            self.choose(option)
            return
        flags = self.engine.matcher.red_flags(reading.concepts)
        self.raise_flags(flags, warned=True)
        useful = reading.concepts & (self.engine.in_scope_concepts | self.trigger_concepts())
        if useful:
            self.merge(reading)
            if self.session.state is State.TRIGGER:
                self.session.trigger_done = True
            self.advance()
        elif flags:
            self.ask_current()  # the warning was the answer to give; now the question again
        elif "out_of_scope_body" in reading.concepts:
            self.say("out_of_scope_mid_flow")
            self.ask_current()
        else:
            self.say("unclear_answer")
            self.ask_current()

    def screen_text(self, reading: Reading, text: str) -> None:
        """Free text while a yes/no warning-sign question is open."""
        flags = self.engine.matcher.red_flags(reading.concepts)
        self.raise_flags(flags, warned=True)
        self.merge(reading)
        self.drop_known_screen_steps()
        words = text.strip().lower().split()
        first = words[0].strip(".,!?;:") if words else ""
        if first in YES_WORDS or self.option_for_text(text) == "yes":
            self.answer_screen(True)
        elif first in NO_WORDS or self.option_for_text(text) == "no":
            self.answer_screen(False)
        elif flags or reading.negated:
            self.advance()
        else:
            self.say("unclear_yes_no")
            self.ask_current()

    def option_for_text(self, text: str) -> str | None:
        """The option a typed answer picks: its number, or (nearly) its label."""
        options = self.current_options()
        keys = list(options)
        stripped = text.strip().rstrip(".").lower()
        if stripped.isascii() and stripped.isdigit() and 1 <= int(stripped) <= len(keys):
            return keys[int(stripped) - 1]
        best, best_score = None, LABEL_MATCH
        for key, label in options.items():
            score = fuzz.ratio(stripped, label.lower())
            if score >= best_score:
                best, best_score = key, score
        return best or self.option_by_keyword(text, options)

    def option_by_keyword(self, text: str, options: dict[str, str]) -> str | None:
        """The one option whose label shares a telling word with a short answer ("side", "stairs")."""
        normalise = self.engine.matcher.normaliser.tokens
        words = set(normalise(text).words) - GENERIC_LABEL_WORDS - {BREAK}
        if not words or len(words) > 4:
            return None
        overlaps = {key: len(words & set(normalise(label).words)) for key, label in options.items()}
        best = max(overlaps.values(), default=0)
        winners = [key for key, overlap in overlaps.items() if overlap == best]
        return winners[0] if best and len(winners) == 1 else None

    # ----- red flags ---------------------------------------------------------------------
    def warn(self, flags: tuple[str, ...], carried: bool = False) -> None:
        """Warn about every red flag a message mentions, the emergency ones first and loudest."""
        if not flags:
            return
        in_flow = self.session.flow is not Flow.NONE
        self.replies.extend(self.render.warnings(flags, carried=in_flow or carried))
        self.warned.update(flags)
        if in_flow:
            self.raise_flags(flags, warned=True)

    def raise_flags(self, flags: tuple[str, ...] | list[str], warned: bool = False) -> None:
        new = [f for f in flags if f not in self.session.flags]
        if not warned:
            emergencies = [f for f in new if self.knowledge.red_flags[f].urgency.key == "emergency"]
            if emergencies:
                self.replies.extend(self.render.warnings(tuple(emergencies), carried=True))
                self.warned.update(emergencies)
        self.session.flags.extend(new)
        self.session.cleared = [f for f in self.session.cleared if f not in new]
        self.drop_known_screen_steps()

    def known_flag(self, flag_id: str) -> bool:
        return flag_id in self.session.flags or flag_id in self.session.cleared

    def drop_known_screen_steps(self) -> None:
        self.session.screen = [s for s in self.session.screen if s == STEP_TOGETHER or not self.known_flag(s)]
        together = self.knowledge.triage.screen.together
        if self.session.screen[:1] == [STEP_TOGETHER] and all(self.known_flag(f) for f in together):
            self.session.screen.pop(0)

    # ----- moving on -----------------------------------------------------------------------
    def advance(self, trigger: str = "next") -> None:
        target = target_state(self.session, self.engine.context, trigger)
        if target is State.SCREEN and not self.session.screen_started:
            self.start_screen()
            target = target_state(self.session, self.engine.context, "next")
        if target is State.IDLE and self.session.flow is not Flow.NONE:
            self.finish()
            return
        self.session.state = target
        self.ask_current()

    def start_screen(self) -> None:
        self.session.screen_started = True
        negated = set(self.session.negated)
        for flag in self.knowledge.red_flags.values():
            if negated.intersection(flag.detect) and not self.known_flag(flag.id):
                self.session.cleared.append(flag.id)
        screen = self.knowledge.triage.screen
        steps = [screen.emergency, STEP_TOGETHER, screen.duration]
        self.session.screen = steps
        self.drop_known_screen_steps()

    def finish(self) -> None:
        """The end of a flow: the triage result or the red-flag verdict, then the menu."""
        session = self.session
        reading = Reading(frozenset(session.concepts), frozenset(session.negated))
        if session.flow is Flow.TRIAGE:
            result = self.engine.matcher.assess(reading)
            flags = _unique(result.red_flags + tuple(session.flags))
            # a warning given a moment ago in this same turn is not repeated straight after it
            summarised = () if self.warned.issuperset(flags) else flags
            if result.condition is None and emergency_raised(session, self.engine.context):
                self.replies.extend(self.render.verdict_after_warning())
            else:
                self.replies.extend(self.render.result(result, summarised))
            last = result.condition or ""
        else:
            flags = _unique(tuple(session.flags))
            if flags and self.warned.issuperset(flags):
                self.replies.extend(self.render.verdict_after_warning())
            else:
                self.replies.extend(self.render.verdict(flags))
            last = session.last_condition
        self.session = Session(menu=session.menu, last_condition=last, back=[])
        self.ask_current()

    # ----- asking ----------------------------------------------------------------------------
    def current_options(self) -> dict[str, str]:
        """The buttons of the current question, as option id -> label."""
        return self.render.options(self.session, best_location(self.knowledge, self.session))

    def ask_current(self, reminder: bool = False) -> None:
        """Ask the current question again (or show the menu), with fresh buttons."""
        self.push_back_step()
        self.session.menu += 1
        self.replies.append(
            self.render.question(self.session, best_location(self.knowledge, self.session), reminder=reminder)
        )

    def push_back_step(self) -> None:
        before, now = self.before, self.session
        if self.going_back or before.flow is Flow.NONE or now.flow is Flow.NONE:
            return
        if (before.state, before.screen[:1]) == (now.state, now.screen[:1]):
            return
        if now.back[-1:] == [before.snapshot()]:
            return
        now.back = [*now.back[-(MAX_BACK_STEPS - 1) :], before.snapshot()]

    # ----- helpers -----------------------------------------------------------------------------
    def say(self, key: str, **values: object) -> None:
        self.replies.append(Reply(self.knowledge.message(key, **values)))

    def merge(self, reading: Reading) -> None:
        self.refer(reading.concepts - set(self.session.concepts))  # said once, when first mentioned
        combined = Reading(frozenset(self.session.concepts), frozenset(self.session.negated)) | reading
        self.session.concepts = sorted(combined.concepts)
        self.session.negated = sorted(combined.negated)
        # the newest message decides the region ("actually it's my lower back"), else all of them
        self.session.region = (
            self.region_of(reading.concepts) or self.session.region or self.region_of(combined.concepts)
        )

    def add_concepts(self, concepts: tuple[str, ...]) -> None:
        self.merge(Reading(frozenset(concepts)))

    def other_conditions(self, concepts: frozenset[str] | set[str]) -> list[OtherCondition]:
        """The other running problems (not the six) that these clues point to."""
        return [o for o in self.knowledge.other_conditions.values() if concepts.intersection(o.detect)]

    def refer(self, concepts: frozenset[str] | set[str]) -> None:
        """Name and explain, in a line, any other problem the runner described, and refer them on."""
        for other in self.other_conditions(concepts):
            self.say("other_condition", name=other.name, about=other.about)

    def trigger_concepts(self) -> set[str]:
        return {c for t in self.knowledge.triage.triggers.values() for c in t.concepts}

    def region_of(self, concepts: frozenset[str] | set[str]) -> str:
        hip = bool(concepts & self.engine.region_concepts["hip"])
        back = bool(concepts & self.engine.region_concepts["lower_back"])
        return "hip" if hip and not back else "lower_back" if back and not hip else ""

    def region_of_location(self, location: str) -> str:
        for region in self.knowledge.triage.regions.values():
            if location in region.locations and location != "down_the_leg":
                return region.id
        return ""


def best_location(knowledge: Knowledge, session: Session) -> str:
    """The location option chosen, or the one that best fits what the runner typed."""
    if session.location:
        return session.location
    concepts = set(session.concepts)
    fitting = [o for o in knowledge.triage.locations.values() if concepts.issuperset(o.concepts)]
    return max(fitting, key=lambda o: len(o.concepts)).id if fitting else ""


def _unique(items: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))
