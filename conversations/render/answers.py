"""Answers to questions (by topic, about a condition or in general), the prevention routine and
/about."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from conversations.events import Button, Reply
from conversations.render.base import (
    ACTIVITY_TOPICS,
    CONDITION_TOPICS,
    GENERAL_TOPICS,
    PREVENTION_GROUPS_FIRST,
    STEP_SECTIONS,
    RendererBase,
    escape_value,
    info_data,
    numbered,
)
from knowledge import Condition, Urgency
from knowledge.model import Answer
from knowledge.safety import FlagAdvice, answer_held_back, shown_facts, situation_facts

if TYPE_CHECKING:
    pass

NO_ADVICE = FlagAdvice(Urgency.SELF_CARE, (), frozenset(), frozenset())


def allowed_steps(steps: Iterable[str], advice: FlagAdvice) -> tuple[str, ...]:
    """Next steps (sections, topics) without those the raised signs hold back."""
    return tuple(s for s in steps if s not in advice.held_topics and s.removeprefix("topic:") not in advice.held_topics)


class AnswerCards(RendererBase):
    """Answers and information cards."""

    # ----- answers to questions ----------------------------------------------------------
    def answer(
        self, topic: str, condition: str | None, said: Urgency | None, advice: FlagAdvice | None = None
    ) -> Reply:
        """A short answer to a question on `topic` (about `condition` when given), with next steps.

        What a condition is, why it happens, how it feels, what helps and its exercises come
        from the condition's own data; other topics from answers.yaml. A runner who has been
        told to see someone hears that first in any answer about running or exercising. While
        raised warning signs stand (`advice`), general advice they hold back is not given: an
        answer held back whole gets the signs' own advice instead.
        """
        advice = advice or NO_ADVICE
        known = self.knowledge.conditions.get(condition or "")
        if topic in advice.held_topics:
            return self.held_back(advice, topic, known.id if known else None, said)
        parts = []
        if said is not None and said >= Urgency.SOON and topic in ACTIVITY_TOPICS:
            title = self.said_words(said, advice, known.id if known else None)[0]
            parts.append(self.say("answer_warning_first", title=title))
        if known is not None and topic in CONDITION_TOPICS:
            parts.append(self._condition_answer(topic, known, advice))
            steps = allowed_steps(("exercises", "return_to_running", "see_clinician"), advice)
            buttons = self._topic_buttons(topic, known.id, steps)
            parts.append(self.say("disclaimer"))
            return Reply("\n\n".join(parts), buttons, kind="answer", condition=known.id, topic=topic)
        answer = self.knowledge.answer(topic, known.id if known else None)
        if answer is None:
            return self._no_answer(topic)
        if advice.held and answer_held_back(answer, advice):
            return self.held_back(advice, topic, known.id if known else answer.condition, said)
        about = known.id if known else answer.condition
        if known is not None and answer.condition is None and topic not in GENERAL_TOPICS:
            parts.append(self.say("answer_general_for", name=known.name))
        parts.append(escape_value(self._answer_text(answer, advice)))
        if answer.not_a_diagnosis or about:
            parts.append(self.say("disclaimer"))
        buttons = self._topic_buttons(topic, about or (known.id if known else ""), allowed_steps(answer.next, advice))
        return Reply("\n\n".join(parts), buttons, kind="answer", condition=about, topic=topic)

    @staticmethod
    def _answer_text(answer: Answer, advice: FlagAdvice) -> str:
        """An answer's text without the lines the raised signs hold back."""
        if not advice.held:
            return answer.text
        shown = shown_facts(answer.facts, advice.held)
        return " ".join([*(f.text for f in shown), *([answer.caveat] if answer.caveat else [])])

    def _condition_answer(self, topic: str, condition: Condition, advice: FlagAdvice) -> str:
        if topic == "what_is":
            return self.say("section_more", name=condition.name, summary=condition.summary) + "\n" + self.say(
                "result_symptoms", symptoms=condition.symptoms.text
            )
        if topic == "cause":
            return self.say("result_cause", cause=condition.cause.text)
        if topic == "symptoms":
            return self.say("answer_symptoms", name=condition.name, symptoms=condition.symptoms.text)
        if topic == "treatment":
            return self.say("answer_treatment", name=condition.name) + "\n" + numbered(
                escape_value(t.text) for t in shown_facts(condition.treatment, advice.held)
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

    def situation(self, key: str) -> Reply:
        """A special situation (pregnancy pelvic pain, a hip replacement, a fever to "run off")."""
        facts = situation_facts(key)
        text = "\n\n".join([*(escape_value(f.text) for f in facts), self.say("disclaimer_short")])
        return Reply(text, self.menu_button(), kind="answer", topic="see_clinician")

    def _no_answer(self, topic: str) -> Reply:
        """A topic with no answer written (yet): say so honestly, and what the bot can do."""
        if topic in CONDITION_TOPICS:
            buttons = tuple(
                Button(c.name, info_data("topic", topic, c.id)) for c in self.knowledge.conditions.values()
            )
            return Reply(self.say("answer_which"), buttons, kind="answer", topic=topic)
        return Reply(self.say("answer_none"), self.menu_button(), kind="answer", topic=topic)

    # ----- information ------------------------------------------------------------------
    def prevention(self, group_id: str = PREVENTION_GROUPS_FIRST) -> Reply:
        """One group of the prevention routine, with buttons for the others."""
        routine = self.knowledge.prevention
        group = next((g for g in routine.groups if g.id == group_id), routine.groups[0])
        lines = [f"<b>{escape_value(group.title)}</b>"]
        if group.exercises:
            lines.append(self.exercise_list(group.exercises))
        lines.extend(f"• {escape_value(item.text)}" for item in group.items)
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
                escape_value(education.why_it_matters.text),
                *(escape_value(f.text) for f in load),
                escape_value(education.closing_thought.text),
                escape_value(education.about_accuracy.text),
                self.say("disclaimer"),
            ]
        )
