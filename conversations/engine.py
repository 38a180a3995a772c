"""The conversation engine: (session, event) -> TurnResult(session, replies, effects).

Every message is read once (reading.py) and then passed along a chain, in order:

1. safety — warning signs in the message, whatever the conversation is doing. An emergency sign
   ends the turn with the emergency advice and nothing after it but help to act on it.
2. commands — /start, /prevent, /redflags, /back ...
3. questions and small talk — answered in any state; a paused flow then asks its question again.
4. the flow on top of the session's stack — triage, the warning-sign check, the advice after an
   emergency — reads the message as an answer to its pending question; with no flow, a
   description starts a triage.

Flows are modules (flows/) registered by name; a flow never re-implements safety and the chain
never depends on which flow is on top. The engine never changes the session it is given and
never raises for any input.
"""

from __future__ import annotations

import datetime as dt
import logging
import zoneinfo
from collections.abc import Callable

from rapidfuzz import fuzz

from conversations.events import (
    Button,
    Choice,
    CloseKeyboard,
    Command,
    Edited,
    Effect,
    Event,
    Forget,
    ReminderDue,
    Reply,
    Text,
    Toast,
    TurnResult,
    Unsupported,
    parse_command,
)
from conversations.flows import FLOWS, Flow, companion
from conversations.machine import (
    CHECKLIST_STEP,
    CONFIRM_STEP,
    DONE,
    EMERGENCY_STEP,
    SAFETY_STEPS,
    WARNING_STEP,
    Context,
    next_step,
    step_token,
)
from conversations.reading import MessageReader, MessageReading
from conversations.records import EMPTY, ChatRecords
from conversations.render import CONDITION_TOPICS, INFO, Renderer
from conversations.session import MAX_BACK_STEPS, Frame, Session, SessionError
from knowledge import Knowledge, Matcher, Reading, Urgency, default_knowledge
from knowledge.intents import LONG_DAYS
from knowledge.model import OtherCondition
from knowledge.patterns import BREAK

GENERIC_LABEL_WORDS = frozenset(
    "the of a an or and on in my it hip hips back lower pain going just while for long that to is i am".split()
)
LABEL_MATCH = 85.0  # how closely typed text must match a button label to count as pressing it
RESTART_COMMANDS = frozenset({"start", "restart", "cancel", "forget"})
DEEP_LINKS = {"hip": "hip", "back": "lower_back", "lower_back": "lower_back", "prevent": "prevent", "redflags": "redflags"}

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
        self.renderer = Renderer(self.knowledge)
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
        self.in_scope_concepts = self.context.location_concepts | {"hip_general", "back_general"}
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
            turn.dispatch(event)
            turn.close(event)
        except Exception:
            top = session.top
            log.exception("engine error in flow %s handling %s", top.flow if top else "menu", type(event).__name__)
            turn = self.safe_apology(session, event, records)
        return TurnResult(turn.session, turn.replies, tuple(turn.effects))

    def safe_apology(self, session: Session, event: Event, records: ChatRecords = EMPTY) -> Turn:
        """After an error: the warning signs in the message are still answered, then an apology."""
        turn = Turn(self, session, records)
        try:
            if isinstance(event, Text | Edited) and turn.safety(self.reader.read(event.text, turn.today())):
                return turn
        except Exception:
            log.exception("the safety step failed too")
            turn = Turn(self, session, records)
        turn.say("internal_error")
        turn.ask()
        return turn

    def accepts(self, session: Session, data: str) -> bool:
        """Whether button data belongs to the session's current question (not stale, not forged)."""
        if (data or "").startswith(f"{INFO}:"):
            return True
        menu, step, value = _split_data(data)
        return (
            menu == str(session.menu)
            and step == step_token(session.top)
            and value in self.renderer.options(session)
        )

    def problems(self, session: Session) -> list[str]:
        """What is wrong with a session, if anything (checked when a stored session is loaded)."""
        knowledge = self.knowledge
        problems = []
        for frame in session.stack:
            if frame.flow not in FLOWS:
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


def _split_data(data: str) -> tuple[str, str, str]:
    menu, _, rest = (data or "").partition(":")
    step, _, value = rest.partition(":")
    return menu, step, value


class Turn:
    """One event's worth of work: the session being changed, the replies and effects so far."""

    def __init__(self, engine: Engine, before: Session, records: ChatRecords = EMPTY) -> None:
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

    def today(self) -> dt.date:
        """The runner's date (their time zone, once the records know it)."""
        return self.engine.local_today(self.records.timezone)

    # ----- dispatch ------------------------------------------------------------------
    def dispatch(self, event: Event) -> None:
        """Route one event through the chain."""
        self.settle()
        if isinstance(event, Text):
            command = parse_command(event.text)
            if command is not None:
                self.on_command(command)
            else:
                self.on_text(event.text)
        elif isinstance(event, Choice):
            self.on_choice(event.data)
        elif isinstance(event, Command):
            self.on_command(Command(event.name.lower().lstrip("/"), event.argument))
        elif isinstance(event, Edited):
            self.on_edited(event.text)
        elif isinstance(event, ReminderDue):
            companion.reminder_due(self)
        elif isinstance(event, Unsupported):
            self.say("edited_message" if event.kind == "edited" else "unsupported_message")
            self.ask(reminder=True)
        else:  # pragma: no cover - the Event union is closed
            raise TypeError(f"not an event: {event!r}")

    def settle(self) -> None:
        """A flow restored without a pending question (an upgraded session) gets its next one."""
        frame = self.session.top
        if frame is not None and not frame.step and frame.flow in ("triage", "check"):
            step = next_step(self.session, frame, self.context)
            frame.step = step if step != DONE else frame.step
            if step == WARNING_STEP:
                frame.items = self.context.pending_signs(self.session)

    def close(self, event: Event) -> None:
        """End the turn: check any sign the context may explain, remember the question for /back,
        and close a keyboard answered by typing."""
        self.confirm_explained()
        emergency = next((i for i, r in enumerate(self.replies) if r.emergency), None)
        if emergency is not None:  # the emergency advice is the last thing said in its turn
            self.replies = self.replies[: emergency + 1]
        self.push_back_step()
        moved_on = self.session.menu != self.before.menu or step_token(self.session.top) != step_token(self.before.top)
        if not isinstance(event, Choice) and self.before.menu and moved_on:
            self.effects.append(CloseKeyboard(self.typed_label))

    # ----- commands --------------------------------------------------------------------
    def on_command(self, command: Command) -> None:
        """A /command: the same in every state (safety has nothing to read in a command)."""
        name = command.name
        handlers: dict[str, Callable[[], None]] = {
            "start": lambda: self.start(command.argument),
            "restart": lambda: self.reset("restarted"),
            "forget": self.forget,
            "cancel": self.cancel,
            "back": self.go_back,
            "help": lambda: self.inform(self.say_text("help"), topic="small_talk"),
            "about": lambda: self.aftermath_reminder() if self.in_aftermath() else self.inform(self.render.about()),
            "privacy": lambda: self.inform(self.say_text("privacy")),
            "prevent": lambda: self.aftermath_reminder() if self.in_aftermath() else self.info_card(self.render.prevention()),
            "redflags": self.start_check,
            # the recovery companion (flows/companion.py)
            "plan": lambda: companion.plan_command(self, command.argument),
            "log": lambda: companion.log_command(self, command.argument),
            "progress": lambda: companion.progress_command(self),
            "mileage": lambda: companion.mileage_command(self, command.argument),
            "summary": lambda: companion.summary_command(self),
            "export": lambda: companion.export_command(self),
            "remind": lambda: companion.remind_command(self, command.argument),
        }
        handler = handlers.get(name)
        if handler is None:
            self.say("unknown_command")
            self.ask(reminder=True)
        else:
            handler()

    def start(self, argument: str) -> None:
        """/start, or a deep link such as /start hip."""
        target = DEEP_LINKS.get(argument)
        self.session = Session(menu=self.session.menu)
        if target in ("hip", "lower_back"):
            self.say("welcome")
            self.start_triage(region=target)
        elif target == "prevent":
            self.say("welcome")
            self.info_card(self.render.prevention())
        elif target == "redflags":
            self.start_check()
        else:
            self.say("welcome")
            self.ask()

    def reset(self, message_key: str) -> None:
        # The menu counter survives a reset so that buttons from before it have expired.
        self.session = Session(menu=self.session.menu)
        self.say(message_key)
        self.ask()

    def forget(self) -> None:
        self.effects.append(Forget())
        self.records = EMPTY
        self.reset("forgotten")

    def cancel(self) -> None:
        had_flow = self.session.top is not None
        old = self.session  # stopping a flow forgets neither a warning nor the urgency said
        self.session = Session(
            menu=old.menu, last_condition=old.last_condition, flags=old.flags, concerns=old.concerns,
            urgency=old.urgency, cleared=old.cleared, doubtful=old.doubtful,
        )  # fmt: skip
        self.say("cancelled" if had_flow else "nothing_to_cancel")
        self.ask()

    def go_back(self) -> None:
        """Return to the previous question. Warnings already given are never undone."""
        if self.in_aftermath() or not self.session.back:
            self.say("nothing_to_go_back")
            self.ask(reminder=True)
            return
        snapshot = self.session.back.pop()
        try:
            restored = Session.from_dict({"stack": snapshot.get("stack", []), "menu": self.session.menu})
        except SessionError:
            restored = Session(menu=self.session.menu)
        self.session.stack = restored.stack
        self.session.cleared = [f for f in snapshot.get("cleared", []) if f not in self.session.flags]
        self.session.doubtful = list(snapshot.get("doubtful", []))
        self.going_back = True
        self.ask()

    def inform(self, text: str, topic: str = "") -> None:
        self.replies.append(Reply(text, kind="info", topic=topic))
        if self.session.top is not None:
            self.ask(reminder=True)

    def info_card(self, reply: Reply) -> None:
        """An information card with buttons of its own; a paused flow then asks again."""
        self.replies.append(reply)
        if self.session.top is not None:
            self.ask(reminder=True)

    def start_check(self) -> None:
        """/redflags: the warning-sign check, on top of whatever was in progress."""
        if self.in_aftermath():
            self.aftermath_reminder()
            return
        self.session.cleared = []
        self.session.doubtful = []
        self.session.stack.append(Frame("check"))
        self.say("check_intro")
        self.advance()

    # ----- buttons ---------------------------------------------------------------------
    def on_choice(self, data: str) -> None:
        """A button press: a section or menu button, the current question's option, or stale."""
        if (data or "").startswith(f"{INFO}:"):
            self.on_info_button(data.split(":")[1:])
            return
        if not self.engine.accepts(self.session, data):
            self.stale_button(data)
            return
        _, _, value = _split_data(data)
        self.choose(value)

    def on_info_button(self, parts: list[str]) -> None:
        kind, args = (parts[0] if parts else ""), parts[1:]
        if self.in_aftermath() and kind not in ("emergency_help", "cmd"):
            self.aftermath_reminder()  # after an emergency, only help to act on it
        elif kind == "section" and len(args) == 2 and (reply := self.render.section(args[0], args[1])):
            self.replies.append(reply)
        elif kind == "prevent" and args:
            self.replies.append(self.render.prevention(args[0]))
        elif kind == "menu":
            self.ask()
        elif kind == "cmd" and args and args[0] in ("back", "restart", "plan"):
            self.on_command(Command(args[0]))
        elif kind == "emergency_help":
            self.emergency_help()
        elif kind == "ask":
            self.session.last_condition = args[0] if args and args[0] in self.knowledge.conditions else ""
            self.say("ask_prompt")
        elif kind == "topic" and args:
            condition = args[1] if len(args) > 1 and args[1] in self.knowledge.conditions else None
            self.replies.append(self.render.answer(args[0], condition, self.said()))
        else:
            self.effects.append(Toast(self.say_text("menu_expired")))

    def stale_button(self, data: str) -> None:
        """An old or forged button: a toast — but a late "yes" to a safety question is a report."""
        _, step, value = _split_data(data)
        step, _, confirm = step.partition(".")
        reported = ""
        if step == EMERGENCY_STEP and value == "yes":
            reported = self.knowledge.triage.screen.emergency
        elif step in (WARNING_STEP, CHECKLIST_STEP) and value in self.knowledge.red_flags:
            reported = value
        elif step == CONFIRM_STEP and value == "yes" and confirm in self.knowledge.red_flags:
            reported = confirm
        if reported and reported not in self.session.flags:
            self.effects.append(Toast(self.say_text("late_report")))
            self.raise_flags([reported])
            if not self.in_aftermath():
                self.ask(reminder=True)
        else:
            self.effects.append(Toast(self.say_text("menu_expired")))

    def choose(self, value: str) -> None:
        """The current question's option `value` was chosen."""
        frame = self.session.top
        if frame is None:
            self.choose_from_menu(value)
        else:
            self.flow(frame).on_choice(self, frame, value)

    def choose_from_menu(self, value: str) -> None:
        if value == "prevent":
            self.info_card(self.render.prevention())
        elif value == "redflags":
            self.start_check()
        else:
            self.start_triage(region=value)

    def on_edited(self, text: str) -> None:
        """An edited message is not re-read as an answer — but a warning sign in it is answered."""
        message = self.engine.reader.read(text, self.today())
        if self.safety(message):
            return
        if not any(r.kind == "warning" for r in self.replies):
            self.say("edited_message")
        self.ask(reminder=True)

    # ----- typed text: the chain -------------------------------------------------------------
    def on_text(self, text: str) -> None:
        if not text.strip():
            self.say("empty_message")
            self.ask(reminder=True)
            return
        frame = self.session.top
        message = self.engine.reader.read(
            text, self.today(), asked_how_long=frame is not None and frame.step == "duration"
        )
        if self.safety(message):
            return
        read_first = getattr(self.flow(frame), "read_first", None) if frame is not None else None
        if read_first is not None and read_first(self, frame, message):
            return  # a companion answer in words ("ran 8k, pain 3") before questions and small talk
        if self.typed_label_pressed(message):
            return
        if self.questions(message):
            return
        if frame is None:
            self.describe(message)
        else:
            self.flow(frame).on_text(self, frame, message)

    def safety(self, message: MessageReading) -> bool:
        """Warn about new warning signs first. True when that ended the turn (an emergency).

        A sign the context may explain ("numb from the cold") is not an alarm: it is checked
        with a short confirm question at the end of the turn, unless already answered.
        """
        # most urgent first, then in the data's order: never the set's (hash-seeded) order
        explained = sorted(
            (f for f in self.knowledge.red_flags.values() if f.id in message.explained), key=lambda f: -f.urgency
        )
        self.to_confirm = [f.id for f in explained if not self.context.known(self.session, f.id)]
        new = [f for f in message.flags if f not in self.session.flags]
        if new and self.raise_flags(new):
            return True
        self.raise_concerns(list(message.concerns))
        return False

    def raise_concerns(self, concern_ids: list[str]) -> None:
        """Pictures that need a clinician's eye (a young athlete's back pain ...): said once."""
        new = [c for c in dict.fromkeys(concern_ids) if c in self.knowledge.concerns and c not in self.session.concerns]
        if not new:
            return
        self.session.concerns.extend(new)
        reply = self.render.concern_warning(new, self.said())
        self.replies.append(reply)
        self.note_said(Urgency.from_key(reply.urgency))

    def confirm_explained(self) -> None:
        """Ask about a sign the context may explain, in place of the turn's own question."""
        frame = self.session.top
        flags = [f for f in self.to_confirm if not self.context.known(self.session, f)]
        if not flags or frame is None or frame.flow == "aftermath" or frame.step == CONFIRM_STEP:
            return
        if not any(r.kind == "question" for r in self.replies):
            return
        frame.resume, frame.step, frame.confirm = frame.step, CONFIRM_STEP, flags[0]
        self.ask()

    def questions(self, message: MessageReading) -> bool:
        """Questions, small talk and other subjects, answered in any state. True when handled.

        A paused flow then asks its question again. A message that both answers the pending
        question and asks one ("no — can I still run?") is read by the flow first.
        """
        topic = message.topic
        frame = self.session.top
        if message.intent.pause and not self.describes_pain(message) and message.answer.value == "none":
            self.small_talk("pause")
            return True
        if topic is None:
            return self.out_of_scope(message)
        if frame is not None and frame.step and message.answer.value == "unsure":
            return False  # "not sure", "what do you mean?": the flow explains its question
        if topic == "small_talk":
            if frame is not None and frame.step in SAFETY_STEPS and message.answer.value in ("yes", "no"):
                return False  # "no thanks" to a safety question is an answer
            if self.describes_pain(message):
                return False  # "hi, my back hurts": the description is what matters
            self.small_talk(message.small_talk or "greeting")
            return True
        if self.in_aftermath():
            return False  # after an emergency, only help to act on it
        if topic == "out_of_scope":
            return self.out_of_scope(message, certain=True)
        if frame is not None and frame.step and not asks_something(message.text):
            return False  # mid-flow, a statement ("bending forward to tie my shoes") is an answer
        answers_too = frame is not None and frame.step in SAFETY_STEPS and message.answer.value in ("yes", "no")
        if answers_too and frame is not None:
            self.flow(frame).on_text(self, frame, message)
            if self.in_aftermath():
                return True
        condition = message.topic_condition or self.subject()
        if condition is None and topic in CONDITION_TOPICS and any(f.flow == "triage" for f in self.session.stack):
            reply = Reply(self.say_text("answer_after_triage"), kind="answer", topic=topic)
        else:
            reply = self.render.answer(topic, condition, self.said())
        question = [r for r in self.replies if r.kind == "question"]
        self.replies = [r for r in self.replies if r.kind != "question"] + [reply]
        if answers_too:
            self.replies += question
        elif frame is not None:
            self.ask(reminder=True)
        elif message.concepts & self.engine.in_scope_concepts:
            self.start_triage(message=message)  # a question that also describes pain
        return True

    def typed_label_pressed(self, message: MessageReading) -> bool:
        """A button's label typed out ("Prevention routine") presses that button."""
        stripped = message.text.strip().rstrip(".!").lower()
        for key, label in self.current_options().items():
            if fuzz.ratio(stripped, label.lower()) >= LABEL_MATCH:
                self.typed_label = label
                self.choose(key)
                return True
        return False

    def describes_pain(self, message: MessageReading) -> bool:
        """Whether a message says something about pain (a place, a sign, or just "it hurts")."""
        clues = message.concepts - {"small_talk"}
        return bool(clues & self.engine.in_scope_concepts or message.flags or message.intent.pain or clues & self.engine.trigger_concepts)

    def subject(self) -> str | None:
        """The condition a question without one is about: the last result's.

        In the middle of a triage there is no subject yet: the safety questions come before any
        condition is named, so a question is answered in general until the result.
        """
        if any(frame.flow == "triage" for frame in self.session.stack):
            return None
        return self.session.last_condition or None

    def small_talk(self, kind: str) -> None:
        """A one-liner for hello, thanks, ok, bye, who are you, what can you do."""
        key = {
            "thanks": "you_are_welcome",
            "bye": "goodbye",
            "who": "about_me",
            "ack": "acknowledged",
            "capabilities": "capabilities",
            "pause": "no_rush",
        }.get(kind, "hello")
        self.say(key, kind="small_talk")
        if self.session.top is not None:
            self.ask(reminder=True)
        elif kind in ("greeting", "capabilities"):
            self.ask()

    def out_of_scope(self, message: MessageReading, certain: bool = False) -> bool:
        """Another body part or subject: a clear limit, then the pending question. True when handled."""
        if not certain and not ("out_of_scope_body" in message.concepts and not message.concepts & self.engine.in_scope_concepts):
            return False
        if self.session.top is None:
            self.say("out_of_scope", kind="out_of_scope")
        else:
            self.say("out_of_scope_mid_flow", kind="out_of_scope")
            self.ask(reminder=True)
        return True

    def describe(self, message: MessageReading) -> None:
        """Free text with nothing in progress: start a triage, or say why not."""
        concepts = message.concepts
        option = self.option_for_text(message.text)
        if concepts & self.engine.in_scope_concepts:
            self.start_triage(message=message)
        elif option is not None:  # a menu label typed rather than tapped
            self.typed_label = self.render.options(self.session).get(option, "")
            self.choose_from_menu(option)
        elif message.flags:
            self.start_triage(message=message)  # a warning sign with no place yet: where does it hurt?
        elif self.other_conditions(concepts):
            self.refer(concepts)
        elif message.intent.pain:
            self.start_triage(message=message)  # "it hurts": where?
        elif message.answer.value in ("yes", "no") and not concepts:
            self.say("acknowledged", kind="small_talk")  # a "no" or "ok" with nothing pending
        elif asks_something(message.text):
            self.unread_question(message)
        else:
            self.say("not_understood", kind="not_understood")
            self.ask()

    def unread_question(self, message: MessageReading) -> None:
        """A question the topic reader could not place: about a named condition, say what it is;
        otherwise say honestly that it is not one the bot can answer, and what it can."""
        named = self.engine.matcher.assess(self.engine.matcher.read(message.text)).condition
        condition = named or self.session.last_condition or None
        if named or (condition and self.subject()):
            self.replies.append(self.render.answer("what_is", condition, self.said()))
        else:
            self.say("question_not_known", kind="answer")

    # ----- triage --------------------------------------------------------------------------
    def start_triage(self, region: str = "", message: MessageReading | None = None) -> None:
        """Begin a triage (or two, when one message describes the hip and the back)."""
        if self.in_aftermath():
            self.aftermath_reminder()
            return
        if message is None:
            frame = Frame("triage", region=region)
            self.session.stack.append(frame)
            self.advance()
            return
        regions = self.regions_in(message.concepts)
        if len(regions) == 2 and self.engine.matcher.assess(message.reading).condition is None:
            first, second = regions
            self.session.stack.append(self.frame_for(message, second, drop=self.engine.region_concepts[first]))
            self.session.stack.append(self.frame_for(message, first, drop=self.engine.region_concepts[second]))
            self.say("two_problems", first=self.region_name(first), second=self.region_name(second))
        else:
            self.session.stack.append(self.frame_for(message, self.region_of(message.concepts)))
        self.advance()


    def frame_for(self, message: MessageReading, region: str, drop: set[str] | frozenset[str] = frozenset()) -> Frame:
        """A new triage frame holding what one message said about one region."""
        frame = Frame("triage", region=region, someone_else=message.intent.someone_else)
        reading = Reading(message.reading.concepts - drop, message.reading.negated)
        self.merge(frame, reading)
        self.note_duration(frame, message)
        return frame

    def note_duration(self, frame: Frame, message: MessageReading) -> None:
        """A message that says how long it has lasted answers the duration question."""
        days = message.intent.days
        if days is None:
            return
        long = days >= LONG_DAYS
        frame.duration = "long" if long else "short"
        if long:
            self.raise_flags([self.knowledge.triage.screen.duration])

    def merge(self, frame: Frame, reading: Reading) -> None:
        """Add a message's clues to a frame; the newest message decides the region."""
        new = reading.concepts - set(frame.concepts)
        fresh = [o for o in self.other_conditions(new) if o.id not in frame.referred]
        if fresh:  # said once, when first mentioned; the triage then ends in a referral
            self.refer(new)
            frame.referred += [o.id for o in fresh]
        self.clear(self.denied_signs(reading))
        combined = Reading(frozenset(frame.concepts), frozenset(frame.negated)) | reading
        frame.concepts = sorted(combined.concepts)
        frame.negated = sorted(combined.negated)
        # a sign made of clues from several messages ("sciatica down my left leg" ... "now my
        # right leg too") is a warning as soon as its last clue arrives
        self.raise_flags(list(self.engine.matcher.red_flags(combined.concepts)))
        frame.region = self.region_of(reading.concepts) or frame.region or self.region_of(combined.concepts)

    def denied_signs(self, reading: Reading) -> list[str]:
        """Warning signs a message rules out ("no numbness, it doesn't wake me"): every sign the
        flag looks for is denied (so "no bladder trouble" alone does not answer the emergency
        question, which asks about four things)."""
        denied = []
        for flag in self.knowledge.red_flags.values():
            signs = [c for c in flag.detect if not c.endswith("_name")]
            if signs and all(c in reading.negated for c in signs) and flag.id not in self.session.flags:
                denied.append(flag.id)
        return denied

    def regions_in(self, concepts: frozenset[str] | set[str]) -> list[str]:
        """The regions a message places pain in, in the order hip, lower back."""
        return [r for r in ("hip", "lower_back") if concepts & self.engine.region_concepts[r]]

    def region_of(self, concepts: frozenset[str] | set[str]) -> str:
        regions = self.regions_in(concepts)
        return regions[0] if len(regions) == 1 else ""

    def region_name(self, region: str) -> str:
        return self.say_text(f"region_{region}")

    # ----- moving on -----------------------------------------------------------------------
    def flow(self, frame: Frame) -> Flow:
        return FLOWS[frame.flow]

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

    # ----- red flags ---------------------------------------------------------------------
    def raise_flags(self, flag_ids: list[str]) -> bool:
        """Record warning signs and say what to do, once. True when one was an emergency."""
        new = [f for f in dict.fromkeys(flag_ids) if f in self.knowledge.red_flags and f not in self.session.flags]
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

    def in_aftermath(self) -> bool:
        return any(frame.flow == "aftermath" for frame in self.session.stack)

    def aftermath_reminder(self) -> None:
        self.replies.append(
            Reply(self.say_text("emergency_reminder"), self.render.emergency([]).buttons, kind="info")
        )

    def emergency_help(self) -> None:
        """A direct answer to "should I call an ambulance?", "what do I do?"."""
        self.replies.append(
            Reply(self.say_text("emergency_help"), self.render.emergency([]).buttons, kind="answer", topic="see_clinician")
        )

    def said(self) -> Urgency | None:
        """The highest urgency the bot has stated in this conversation, if any."""
        return Urgency.from_key(self.session.urgency) if self.session.urgency else None

    def note_said(self, urgency: Urgency) -> None:
        said = self.said()
        if said is None or urgency > said:
            self.session.urgency = urgency.key

    def clear(self, flag_ids: list[str]) -> None:
        """The runner said no to these signs."""
        for flag in flag_ids:
            if flag not in self.session.flags and flag not in self.session.cleared:
                self.session.cleared.append(flag)
            if flag in self.session.doubtful:
                self.session.doubtful.remove(flag)

    # ----- asking ----------------------------------------------------------------------------
    def current_options(self) -> dict[str, str]:
        """The buttons of the current question, as option id -> label."""
        return self.render.options(self.session)

    def ask(self, reminder: bool = False, explain: bool = False, in_place: bool = False) -> None:
        """Ask the current question again (or show the menu), with fresh buttons."""
        if self.in_aftermath():
            return
        self.session.menu += 1
        self.replies = [r for r in self.replies if r.kind != "question"]  # one question a turn, the last
        self.replies.append(
            self.render.question(self.session, reminder=reminder, explain=explain, in_place=in_place)
        )

    def push_back_step(self) -> None:
        before, now = self.before, self.session
        if self.going_back or self.in_aftermath() or (now.top is None and not self.finished):
            return
        if _position(before) == _position(now):
            return
        snapshot = before.snapshot()
        if now.back[-1:] == [snapshot]:
            return
        now.back = [*now.back[-(MAX_BACK_STEPS - 1) :], snapshot]

    # ----- helpers -----------------------------------------------------------------------------
    def say(self, key: str, kind: str = "info", **values: object) -> None:
        self.replies.append(Reply(self.render.say(key, **values), kind=kind))

    def say_text(self, key: str, **values: object) -> str:
        return self.render.say(key, **values)

    def other_conditions(self, concepts: frozenset[str] | set[str]) -> list[OtherCondition]:
        """The other running problems (not the six) that these clues point to."""
        return [o for o in self.knowledge.other_conditions.values() if concepts.intersection(o.detect)]

    def refer(self, concepts: frozenset[str] | set[str]) -> None:
        """Name and explain, in a line, any other problem the runner described, and refer them on."""
        for other in self.other_conditions(concepts):
            self.say("other_condition", name=other.name, about=other.about)

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
        """The one option whose label shares a telling word with a short answer ("side", "stairs"),
        and says nothing against it ("bending forward" is not "Bending or leaning back")."""
        normalise = self.engine.matcher.normaliser.tokens
        words = set(normalise(text).words) - GENERIC_LABEL_WORDS - {BREAK}
        if not words or len(words) > 4:
            return None
        opposed = {OPPOSITES[w] for w in words if w in OPPOSITES}
        overlaps = {
            key: 0 if opposed & set(normalise(label).words) else len(words & set(normalise(label).words))
            for key, label in options.items()
        }
        best = max(overlaps.values(), default=0)
        winners = [key for key, overlap in overlaps.items() if overlap == best]
        return winners[0] if best and len(winners) == 1 else None

    def options_by_keyword(self, text: str) -> list[str]:
        """Every option whose label shares a telling word with a short answer ("side ... front")."""
        normalise = self.engine.matcher.normaliser.tokens
        words = set(normalise(text).words) - GENERIC_LABEL_WORDS - {BREAK}
        if not words or len(words) > 12:
            return []
        opposed = {OPPOSITES[w] for w in words if w in OPPOSITES}
        options = self.current_options()
        return [
            key
            for key, label in options.items()
            if words & (set(normalise(label).words) - GENERIC_LABEL_WORDS) and not opposed & set(normalise(label).words)
        ]

    def render_info(self, key: str, **values: object) -> Reply:
        """An informational reply by message key."""
        return Reply(self.render.say(key, **values), kind="info")


# a direction that contradicts an option's label
OPPOSITES = {
    "forward": "back", "forwards": "back", "front": "back", "backward": "forward", "uphill": "downhill",
    "downhill": "uphill", "up": "down", "down": "up",
}  # fmt: skip
QUESTION_OPENERS = frozenset(
    "what whats how why can could should would will is isnt are do does did when which who where any".split()
)


def asks_something(text: str) -> bool:
    """Whether a message is put as a question: a question mark, or a question word first."""
    first = text.strip().lower().split(maxsplit=1)[:1]
    return "?" in text or bool(first and first[0].strip(",.!'’") in QUESTION_OPENERS)


def _position(session: Session) -> tuple[tuple[str, str], ...]:
    return tuple((frame.flow, frame.step) for frame in session.stack)


__all__ = ["Button", "Engine", "Turn", "step_token"]
