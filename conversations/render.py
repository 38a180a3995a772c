"""Turn conversation state and match results into replies. All wording comes from the data.

Replies are short cards: a result says what it likely is, why, the one urgency that applies and
what to do now; its sections (exercises, getting back to running, when to see someone, more
about it) are behind buttons and open as messages of their own. Text is a small HTML subset
(<b>, <i>, <blockquote expandable>) with every piece of data escaped.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from html import escape
from typing import TYPE_CHECKING

from conversations.events import Button, Reply
from conversations.machine import (
    CHECKLIST_STEP,
    CONFIRM_STEP,
    DURATION_STEP,
    EMERGENCY_STEP,
    WARNING_STEP,
    step_token,
)
from conversations.session import Frame, Session

if TYPE_CHECKING:
    from conversations.flows import AsksItself, Flow
from knowledge import Condition, Exercise, Knowledge, MatchResult, RedFlag, Urgency

RUNNER_UP_SHARE = 0.6  # mention the second condition when it scores at least this share of the first
CARD_BUDGET = 600  # characters of a result card before its treatment steps stop (a phone screen)
INFO = "x"  # button data prefix of buttons that never expire: sections, topics, the menu

SECTIONS = ("exercises", "helps", "running", "seek", "more")
HIDDEN_SECTIONS = ("progress",)  # opened from another section, not from the result card
# topics answered from a condition's own data (summary, cause, symptoms, treatment, exercises)
CONDITION_TOPICS = frozenset({"what_is", "cause", "symptoms", "treatment", "exercises"})
# topics where a runner already told to see someone hears that first
ACTIVITY_TOPICS = frozenset(
    {"keep_running", "return_to_running", "exercises", "load", "stretching", "strength", "yoga", "cross_training"}
)
# topics whose general answer needs no "in general" note when asked about one condition
GENERAL_TOPICS = frozenset({"other", "shoes", "red_flags", "stress_fracture", "warm_up", "running_form"})
STEP_SECTIONS = {"exercises": "exercises", "return_to_running": "running", "see_clinician": "seek"}
PREVENTION_GROUPS_FIRST = "strength"


def info_data(*parts: str) -> str:
    """Button data for a button that never expires (a section, the menu, a command)."""
    return ":".join((INFO, *parts))


class Renderer:
    """Builds every reply from the knowledge base's messages and content."""

    def __init__(self, knowledge: Knowledge, flows: Mapping[str, Flow] | None = None) -> None:
        self.knowledge = knowledge
        self.flows = flows or {}  # the engine's flows: some name their own questions

    def say(self, key: str, **values: object) -> str:
        """A message by key, with every value escaped for HTML."""
        return self.knowledge.message(key, **{k: _escape(v) for k, v in values.items()})

    # ----- questions and their buttons ----------------------------------------------
    def options(self, session: Session) -> dict[str, str]:
        """The current question's options, as option id -> button label."""
        triage = self.knowledge.triage
        frame = session.top
        if (asker := self._asks_itself(frame)) is not None and frame is not None:
            return asker.options(self, frame)
        if frame is None:
            return {
                "hip": triage.regions["hip"].label,
                "lower_back": triage.regions["lower_back"].label,
                "prevent": self.say("menu_prevent"),
                "redflags": self.say("menu_redflags"),
            }
        if frame.step == "location":
            region = triage.regions.get(frame.region)
            ids = region.locations if region else tuple(triage.locations)
            return {i: triage.locations[i].label for i in ids} | {"elsewhere": self.say("option_elsewhere")}
        if frame.step == "trigger":
            chosen = triage.locations.get(best_location(self.knowledge, frame))
            region = triage.regions.get(frame.region)
            if chosen:
                ids = chosen.follow_ups
            elif region:  # the region's triggers, not all of them
                ids = tuple(dict.fromkeys(t for loc in region.locations for t in triage.locations[loc].follow_ups))
            else:
                ids = tuple(triage.triggers)
            return {i: triage.triggers[i].label for i in ids} | {"none": self.say("option_no_trigger")}
        if frame.step in (WARNING_STEP, CHECKLIST_STEP):
            boxes = {f: f"{'☑' if f in frame.ticked else '☐'} {self.sign_label(f)}" for f in frame.items}
            if frame.ticked:
                return boxes | {"no": self.say("option_done")}
            key = "option_none_of_these" if frame.step == WARNING_STEP else "option_no_others"
            return boxes | {"no": self.say(key)}
        if frame.step == DURATION_STEP:
            return {
                "short": self.say("option_under_a_week"),
                "long": self.say("option_over_a_week"),
                "unsure": self.say("option_not_sure"),
            }
        if frame.step in (EMERGENCY_STEP, CONFIRM_STEP):
            return {
                "yes": self.say("option_yes"),
                "no": self.say("option_no"),
                "unsure": self.say("option_not_sure"),
            }
        return {}

    def question(
        self, session: Session, reminder: bool = False, explain: bool = False, in_place: bool = False
    ) -> Reply:
        """The current question (or the menu) with its buttons.

        `in_place`: the same question with its boxes ticked differently, for adapters to show by
        editing the message that was tapped rather than sending a new one.
        """
        frame = session.top
        text = self._question_text(session, frame, explain)
        if reminder:
            text = f"{self.say('reminder')} {text}"
        buttons = tuple(Button(label, f"{session.menu}:{step_token(frame)}:{key}") for key, label in self.options(session).items())
        if frame is not None and frame.flow != "aftermath":
            buttons += (Button(self.say("button_back"), info_data("cmd", "back")),) if session.back else ()
        # "Which ones?" is the same checklist question, asked again with what is left
        asks = WARNING_STEP if frame is not None and frame.step == CHECKLIST_STEP else frame.step if frame else "menu"
        return Reply(text, buttons, kind="question", asks=asks, in_place=in_place)

    def _question_text(self, session: Session, frame: Frame | None, explain: bool) -> str:
        if frame is None:
            return self.say("menu_prompt")
        if (asker := self._asks_itself(frame)) is not None:
            return asker.prompt(self, frame, explain)
        step = frame.step
        if step == "location":
            return self.say(f"ask_location_{frame.region or 'any'}")
        if step == "trigger":
            return self.say("ask_trigger")
        flags = self.knowledge.red_flags
        if step == EMERGENCY_STEP:
            flag = flags[self.knowledge.triage.screen.emergency]
            if explain:
                return self.say("explain_emergency_screen")
            return self.say("screen_emergency", question=flag.question)
        if step == WARNING_STEP:
            key = "explain_warning_screen" if explain else "screen_together"
            return self.say(key, signs=_bullets(_escape(flags[f].name) for f in frame.items))
        if step == CHECKLIST_STEP:
            return self.say("screen_which")
        if step == DURATION_STEP:
            return self.say("explain_duration" if explain else "ask_duration")
        if step == CONFIRM_STEP and frame.confirm in flags:
            key = "explain_confirm" if explain else "ask_confirm"
            return self.say(key, question=flags[frame.confirm].question)
        return self.say("menu_prompt")

    def sign_label(self, flag_id: str) -> str:
        """The short button label of a warning sign."""
        return self.knowledge.triage.screen.labels.get(flag_id) or self.knowledge.red_flags[flag_id].name

    # ----- warnings --------------------------------------------------------------------
    def emergency(self, flag_ids: Iterable[str]) -> Reply:
        """The emergency message: the action first, why, and buttons that help act on it."""
        flags = self.by_urgency(flag_ids)
        advice = self.knowledge.urgency_advice[Urgency.EMERGENCY]
        meaning = " ".join(dict.fromkeys(f.meaning for f in flags))
        action = " ".join(dict.fromkeys(f.advice or advice.advice for f in flags)) or advice.advice
        text = self.say("emergency", title=advice.title, meaning=meaning, advice=action)
        buttons = (
            Button(self.say("button_emergency_help"), info_data("emergency_help")),
            Button(self.say("button_start_over"), info_data("cmd", "restart")),
        )
        return Reply(text, buttons, kind="emergency", urgency="emergency", flags=tuple(f.id for f in flags))

    def warning(self, flag_ids: Sequence[str], said: Urgency | None) -> Reply:
        """A warning for signs just mentioned: what to do, unless it was already said."""
        flags = self.by_urgency(flag_ids)
        top = flags[0].urgency
        names = "; ".join(f.name for f in flags)
        if said is not None and said >= top:
            advice = self.knowledge.urgency_advice[said]
            text = self.say("flag_noted_again", names=names, title=advice.title)
            urgency = said
        else:
            advice = self.knowledge.urgency_advice[top]
            meaning = flags[0].meaning if len(flags) == 1 else ""  # several: the names say enough
            text = self.say("flag_noted", names=names, title=advice.title, advice=advice.advice, meaning=meaning)
            urgency = top
        return Reply(text, kind="warning", urgency=urgency.key, flags=tuple(f.id for f in flags))

    def concern_warning(self, concern_ids: Sequence[str], said: Urgency | None) -> Reply:
        """A picture that needs a clinician's eye (not a red flag): what it may be and what to do."""
        concerns = [self.knowledge.concerns[c] for c in concern_ids]
        top = max(c.urgency for c in concerns)
        urgency = max(top, said) if said is not None else top
        title = self.knowledge.urgency_advice[top].title
        lines = [self.say("concern", name=c.name, meaning=c.meaning, advice=c.advice or "") for c in concerns]
        text = "\n\n".join([*lines, self.say("concern_title", title=title)])
        return Reply(text, kind="warning", urgency=urgency.key)

    def doubt_advice(self, step: str, urgency: Urgency) -> Reply:
        """Advice when the runner cannot say whether they have a sign: the safer reading."""
        key = "doubt_emergency" if step == EMERGENCY_STEP else "doubt_warning"
        advice = self.knowledge.urgency_advice[urgency]
        return Reply(self.say(key, title=advice.title, advice=advice.advice), kind="warning", urgency=urgency.key)

    # ----- results -----------------------------------------------------------------------
    def result(self, result: MatchResult, context: ResultContext) -> Reply:
        """The end of a triage, as a card: the likely problem, why, the urgency, what to do now."""
        parts: list[str] = []
        if result.condition:
            condition = self.knowledge.conditions[result.condition]
            parts.append(self.say("result_likely", name=condition.name, area=condition.area))
            reasons = [self.knowledge.concepts[c].label for c in result.evidence]
            if reasons:
                parts.append(self.say("result_why", reasons="; ".join(reasons)))
        parts.append(self.urgency_text(context))
        if result.condition and context.withhold_exercises:
            parts.append(self.say("result_withhold"))
        elif result.condition:
            condition = self.knowledge.conditions[result.condition]
            if condition.safety_net is not None:
                parts.append(self.say("result_safety_net", text=condition.safety_net.text))
            steps = self._first_steps(condition, parts)
            parts.append(self.say("result_now", steps=_numbered(_escape(t) for t in steps)))
            if len(steps) < len(condition.treatment):
                parts.append(self.say("result_more_steps"))
            parts.append(self._runner_up(result))
        else:
            parts.append(self._unclear_text(result))
        if context.duration_unknown:
            parts.append(self.say("result_duration_unknown"))
        parts.append(self.say("disclaimer_short"))
        if result.condition and not context.withhold_exercises:
            buttons = self.section_buttons(result.condition)
            buttons = (*buttons[:-1], Button(self.say("button_start_plan"), info_data("cmd", "plan")), buttons[-1])
        elif result.condition:
            buttons = self.section_buttons(result.condition, sections=("seek", "more"))
        else:
            buttons = self.unclear_buttons(result)
        return Reply(
            "\n\n".join(p for p in parts if p),
            buttons,
            kind="result",
            urgency=context.urgency.key,
            flags=tuple(context.flags),
            condition=result.condition,
        )

    def _first_steps(self, condition: Condition, card: list[str]) -> list[str]:
        """As many of the treatment steps as fit the card (the rest are behind "More about it")."""
        budget = CARD_BUDGET - sum(len(p) for p in card)
        steps: list[str] = []
        for step in condition.treatment:
            if steps and len(step.text) + 4 > budget:
                break
            steps.append(step.text)
            budget -= len(step.text) + 4
        return steps

    def urgency_text(self, context: ResultContext) -> str:
        """The one line on urgency a result carries, and why when it has gone up."""
        urgency = context.urgency
        if urgency is Urgency.SELF_CARE:
            return ""
        advice = self.knowledge.urgency_advice[urgency]
        signs = [self.knowledge.red_flags[f] for f in context.flags if f in self.knowledge.red_flags]
        signs += [self.knowledge.concerns[c] for c in context.concerns if c in self.knowledge.concerns]
        because = "; ".join(f.name for f in signs if f.urgency == urgency) or context.floor_reason
        if context.said is not None and context.said >= urgency:
            return self.say("result_urgency_as_said", title=advice.title, advice=advice.advice)
        key = "result_urgency_raised" if context.said is not None else "result_urgency"
        return self.say(key, title=advice.title, advice=advice.advice, because=because or advice.title)

    def referral(self, names: Sequence[str], said: Urgency | None) -> Reply:
        """The end of a triage about a problem the bot refers on rather than treats."""
        parts = [self.say("referral", names=" or ".join(names))]
        if said is not None and said > Urgency.SELF_CARE:
            advice = self.knowledge.urgency_advice[said]
            parts.append(self.say("result_urgency_as_said", title=advice.title, advice=advice.advice))
        parts.append(self.say("disclaimer"))
        return Reply("\n\n".join(parts), self.menu_button(), kind="info", urgency=said.key if said else "")

    def section_buttons(self, condition: str, sections: Sequence[str] = SECTIONS) -> tuple[Button, ...]:
        """The buttons under a result: its sections, a question, the menu."""
        labels = {s: self.say(f"button_section_{s}") for s in sections}
        return (
            *(Button(labels[s], info_data("section", s, condition)) for s in sections),
            Button(self.say("button_ask"), info_data("ask", condition)),
            *self.menu_button(),
        )

    def menu_button(self) -> tuple[Button, ...]:
        """A single button that opens the main menu."""
        return (Button(self.say("button_menu"), info_data("menu")),)

    def section(self, section: str, condition_id: str) -> Reply | None:
        """One section of a result, as a message of its own (None for an unknown one)."""
        condition = self.knowledge.conditions.get(condition_id)
        if condition is None or section not in (*SECTIONS, *HIDDEN_SECTIONS):
            return None
        extra: tuple[Button, ...] = ()
        if section == "exercises":
            text = self.say("section_exercises", name=condition.name) + "\n" + self.exercise_list(condition.exercises)
            topic = "exercises"
            extra = (Button(self.say("button_section_progress"), info_data("section", "progress", condition_id)),)
        elif section == "progress":
            text = self.say("section_progress", name=condition.name) + "\n" + self.progression_list(condition.exercises)
            topic = "exercises"
        elif section == "helps":
            steps = _numbered(_escape(t.text) for t in condition.treatment)
            text = self.say("section_helps", name=condition.name, steps=steps)
            topic = "treatment"
        elif section == "running":
            steps = _bullets(_escape(f.text) for f in self.knowledge.education.return_to_running)
            text = self.say("section_running", steps=steps)
            topic = "return_to_running"
        elif section == "seek":
            text = self.say("section_seek", signs=self._seek_help(condition))
            topic = "see_clinician"
        else:
            text = self._more_text(condition)
            topic = "what_is"
        text = f"{text}\n\n{self.say('disclaimer_short')}"  # every card that names a condition
        buttons = extra + tuple(
            Button(self.say(f"button_section_{s}"), info_data("section", s, condition_id))
            for s in SECTIONS
            if s != section
        ) + self.menu_button()
        return Reply(text, buttons, kind="answer", condition=condition_id, topic=topic)

    def _more_text(self, condition: Condition) -> str:
        extra = [f.text for f in (condition.outlook, condition.tell_apart) if f is not None]
        return "\n\n".join(
            [
                self.say("section_more", name=condition.name, summary=condition.summary),
                self.say("result_cause", cause=condition.cause.text),
                self.say("result_symptoms", symptoms=condition.symptoms.text),
                *(_escape(text) for text in extra),
            ]
        )

    def _runner_up(self, result: MatchResult) -> str:
        if len(result.candidates) < 2:
            return ""
        first, second = result.candidates[0], result.candidates[1]
        if second.score < RUNNER_UP_SHARE * first.score:
            return ""
        other = self.knowledge.conditions[second.id]
        return self.say("result_runner_up", name=other.name, symptoms=other.symptoms.text)

    def _seek_help(self, condition: Condition) -> str:
        signs = _bullets(_escape(f.text) for f in self.knowledge.education.seek_help)
        clinician = condition.see_a_clinician
        return f"{_escape(clinician.text)}\n{signs}" if clinician else signs

    def _unclear_text(self, result: MatchResult) -> str:
        names = [self.knowledge.conditions[c.id] for c in result.candidates[:2]]
        interim = _bullets(_escape(f.text) for f in self.knowledge.education.interim_self_care)
        if names:
            options = _bullets(f"<b>{_escape(c.name)}</b> — {_escape(c.symptoms.text)}" for c in names)
            return self.say("result_unclear", options=_Raw(options), interim=interim)
        return self.say("result_none", interim=interim)

    def unclear_buttons(self, result: MatchResult) -> tuple[Button, ...]:
        """Under a "can't tell" result: how a clinician tells each candidate apart."""
        candidates = [self.knowledge.conditions[c.id] for c in result.candidates[:2]]
        return tuple(
            Button(self.say("button_tell_apart", name=c.name), info_data("section", "more", c.id)) for c in candidates
        ) + self.menu_button()

    def exercise_list(self, exercises: Iterable[Exercise]) -> str:
        """Exercises as lines: name, dose (with rest), and how to do it."""
        lines = []
        for exercise in exercises:
            dose = f" — {_escape(exercise.prescription)}" if exercise.prescription else ""
            lines.append(f"• <b>{_escape(exercise.name)}</b>{dose}. {_escape(exercise.cue)}")
        return "\n".join(lines)

    def progression_list(self, exercises: Iterable[Exercise]) -> str:
        """For each exercise: when to make it harder, and when to ease off or stop."""
        return "\n".join(
            self.say("exercise_progression", name=e.name, harder=e.progression or "—", stop=e.stop_if or "—")
            for e in exercises
            if e.progression or e.stop_if
        )

    # ----- answers to questions ----------------------------------------------------------
    def answer(self, topic: str, condition: str | None, said: Urgency | None) -> Reply:
        """A short answer to a question on `topic` (about `condition` when given), with next steps.

        What a condition is, why it happens, how it feels, what helps and its exercises come
        from the condition's own data; other topics from answers.yaml. A runner who has been
        told to see someone hears that first in any answer about running or exercising.
        """
        known = self.knowledge.conditions.get(condition or "")
        parts = []
        if said is not None and said >= Urgency.SOON and topic in ACTIVITY_TOPICS:
            parts.append(self.say("answer_warning_first", title=self.knowledge.urgency_advice[said].title))
        if known is not None and topic in CONDITION_TOPICS:
            parts.append(self._condition_answer(topic, known))
            buttons = self._topic_buttons(topic, known.id, ("exercises", "return_to_running", "see_clinician"))
            parts.append(self.say("disclaimer"))
            return Reply("\n\n".join(parts), buttons, kind="answer", condition=known.id, topic=topic)
        answer = self.knowledge.answer(topic, known.id if known else None)
        if answer is None:
            return self._no_answer(topic)
        about = known.id if known else answer.condition
        if known is not None and answer.condition is None and topic not in GENERAL_TOPICS:
            parts.append(self.say("answer_general_for", name=known.name))
        parts.append(_escape(answer.text))
        if answer.not_a_diagnosis or about:
            parts.append(self.say("disclaimer"))
        buttons = self._topic_buttons(topic, about or (known.id if known else ""), answer.next)
        return Reply("\n\n".join(parts), buttons, kind="answer", condition=about, topic=topic)

    def _condition_answer(self, topic: str, condition: Condition) -> str:
        if topic == "what_is":
            return self.say("section_more", name=condition.name, summary=condition.summary) + "\n" + self.say(
                "result_symptoms", symptoms=condition.symptoms.text
            )
        if topic == "cause":
            return self.say("result_cause", cause=condition.cause.text)
        if topic == "symptoms":
            return self.say("answer_symptoms", name=condition.name, symptoms=condition.symptoms.text)
        if topic == "treatment":
            return self.say("answer_treatment", name=condition.name) + "\n" + _numbered(
                _escape(t.text) for t in condition.treatment
            )
        return self.say("section_exercises", name=condition.name) + "\n" + self.exercise_list(condition.exercises)

    def _topic_buttons(self, topic: str, condition: str, steps: Iterable[str]) -> tuple[Button, ...]:
        """Buttons for an answer's next steps: a result's sections, or related topics."""
        buttons = []
        for step in steps:
            if step in STEP_SECTIONS and condition:
                section = STEP_SECTIONS[step]
                buttons.append(Button(self.say(f"button_section_{section}"), info_data("section", section, condition)))
            elif step.startswith("topic:") and step[6:] != topic:
                label = self.knowledge.message(f"topic_{step[6:]}") if f"topic_{step[6:]}" in self.knowledge.messages else step[6:]
                buttons.append(Button(label, info_data("topic", step[6:], condition)))
        return (*buttons, *self.menu_button())

    def _no_answer(self, topic: str) -> Reply:
        """A topic with no answer written (yet): say so honestly, and what the bot can do."""
        if topic in CONDITION_TOPICS:
            buttons = tuple(
                Button(c.name, info_data("topic", topic, c.id)) for c in self.knowledge.conditions.values()
            )
            return Reply(self.say("answer_which"), buttons, kind="answer", topic=topic)
        return Reply(self.say("answer_none"), self.menu_button(), kind="answer", topic=topic)

    # ----- the /redflags verdict -----------------------------------------------------
    def verdict(self, flag_ids: Iterable[str], said: Urgency | None) -> Reply:
        """The end of a /redflags check."""
        flags = self.by_urgency(flag_ids)
        if not flags:
            return Reply(self.say("verdict_clear"), self.menu_button(), topic="red_flags")
        urgency = max(flags[0].urgency, said or Urgency.SELF_CARE)
        advice = self.knowledge.urgency_advice[urgency]
        signs = _bullets(_escape(f.name) for f in flags)
        text = self.say("verdict_flags", title=advice.title, advice=advice.advice, signs=_Raw(signs))
        return Reply(text, self.menu_button(), kind="warning", urgency=urgency.key, flags=tuple(f.id for f in flags))

    # ----- information ------------------------------------------------------------------
    def prevention(self, group_id: str = PREVENTION_GROUPS_FIRST) -> Reply:
        """One group of the prevention routine, with buttons for the others."""
        routine = self.knowledge.prevention
        group = next((g for g in routine.groups if g.id == group_id), routine.groups[0])
        lines = [f"<b>{_escape(group.title)}</b>"]
        if group.exercises:
            lines.append(self.exercise_list(group.exercises))
        lines.extend(f"• {_escape(item.text)}" for item in group.items)
        parts = ["\n".join(lines)]
        if group.id == routine.groups[0].id:
            parts.insert(0, self.say("prevent_intro", title=routine.title))
        parts.append(self.say("prevent_outro"))
        buttons = tuple(
            Button(g.title, info_data("prevent", g.id)) for g in routine.groups if g.id != group.id
        ) + self.menu_button()
        return Reply("\n\n".join(parts), buttons, kind="info", topic="prevention")

    def about(self) -> str:
        """Why the hips and lower back matter, and what this bot is (and is not)."""
        education = self.knowledge.education
        load = [education.load_and_recovery] if education.load_and_recovery else []
        return "\n\n".join(
            [
                _escape(education.why_it_matters.text),
                *(_escape(f.text) for f in load),
                _escape(education.closing_thought.text),
                _escape(education.about_accuracy.text),
                self.say("disclaimer"),
            ]
        )

    def _asks_itself(self, frame: Frame | None) -> AsksItself | None:
        """The flow on top, when it names its own questions (the companion's flows)."""
        flow = self.flows.get(frame.flow) if frame is not None else None
        return flow if hasattr(flow, "prompt") else None  # type: ignore[return-value]

    def by_urgency(self, flags: Iterable[str]) -> list[RedFlag]:
        """The known red flags among `flags`, most urgent first."""
        found = [self.knowledge.red_flags[f] for f in dict.fromkeys(flags) if f in self.knowledge.red_flags]
        return sorted(found, key=lambda f: -f.urgency)


class ResultContext:
    """What a result needs to know about the conversation: the urgency to state and why."""

    def __init__(
        self,
        urgency: Urgency,
        flags: Sequence[str],
        said: Urgency | None,
        floor_reason: str = "",
        duration_unknown: bool = False,
        concerns: Sequence[str] = (),
        withhold_exercises: bool = False,
    ) -> None:
        self.urgency = urgency
        self.flags = list(flags)
        self.said = said
        self.floor_reason = floor_reason
        self.duration_unknown = duration_unknown
        self.concerns = list(concerns)
        self.withhold_exercises = withhold_exercises


def best_location(knowledge: Knowledge, frame: Frame) -> str:
    """The location option chosen, or the one that best fits what the runner typed."""
    if frame.location:
        return frame.location
    concepts = set(frame.concepts)
    fitting = [o for o in knowledge.triage.locations.values() if concepts.issuperset(o.concepts)]
    return max(fitting, key=lambda o: len(o.concepts)).id if fitting else ""


class _Raw(str):
    """Text that is already HTML (built from escaped pieces): not escaped again."""

    __slots__ = ()


def _escape(value: object) -> str:
    return value if isinstance(value, _Raw) else escape(str(value), quote=False)


def _bullets(items: Iterable[str]) -> _Raw:
    return _Raw("\n".join(f"• {item}" for item in items))


def _numbered(items: Iterable[str]) -> _Raw:
    return _Raw("\n".join(f"{i}. {item}" for i, item in enumerate(items, start=1)))
