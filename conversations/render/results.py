"""Results: the short card of what it likely is, why, the one urgency that applies and what to do
now; its sections (exercises, getting back to running, when to see someone, more about it)
behind buttons; referrals and unclear results."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from conversations.events import Button, Reply
from conversations.phone import PHONE_LINES, phone_lines
from conversations.render.base import (
    CARD_BUDGET,
    HIDDEN_SECTIONS,
    RUNNER_UP_SHARE,
    SECTIONS,
    Raw,
    RendererBase,
    bullets,
    escape_value,
    info_data,
    numbered,
)
from knowledge import Condition, MatchResult, Urgency

if TYPE_CHECKING:
    pass



class ResultCards(RendererBase):
    """Result cards and their sections."""

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
            after = [self._runner_up(result), self.say("disclaimer_short")]
            steps = self._first_steps(condition, parts, after)
            parts.append(self.say("result_now", steps=numbered(escape_value(t) for t in steps)))
            if len(steps) < len(condition.treatment):
                parts.append(self.say("result_more_steps"))
            parts.append(after[0])
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

    def _first_steps(self, condition: Condition, card: list[str], after: list[str]) -> list[str]:
        """As many of the treatment steps as fit the card — in characters and on a phone screen,
        with what comes after them (the rest are behind "What helps")."""
        budget = CARD_BUDGET - sum(len(p) for p in card)
        steps: list[str] = []
        for step in condition.treatment:
            card_then = [*card, self.say("result_now", steps=numbered([*steps, step.text])), self.say("result_more_steps"), *after]
            if steps and (len(step.text) + 4 > budget or phone_lines("\n\n".join(p for p in card_then if p)) > PHONE_LINES):
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
            steps = numbered(escape_value(t.text) for t in condition.treatment)
            text = self.say("section_helps", name=condition.name, steps=steps)
            topic = "treatment"
        elif section == "running":
            steps = bullets(escape_value(f.text) for f in self.knowledge.education.return_to_running)
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
                *(escape_value(text) for text in extra),
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
        signs = bullets(escape_value(f.text) for f in self.knowledge.education.seek_help)
        clinician = condition.see_a_clinician
        return f"{escape_value(clinician.text)}\n{signs}" if clinician else signs

    def _unclear_text(self, result: MatchResult) -> str:
        names = [self.knowledge.conditions[c.id] for c in result.candidates[:2]]
        interim = bullets(escape_value(f.text) for f in self.knowledge.education.interim_self_care)
        if names:
            options = bullets(f"<b>{escape_value(c.name)}</b> — {escape_value(c.symptoms.text)}" for c in names)
            return self.say("result_unclear", options=Raw(options), interim=interim)
        return self.say("result_none", interim=interim)

    def unclear_buttons(self, result: MatchResult) -> tuple[Button, ...]:
        """Under a "can't tell" result: how a clinician tells each candidate apart."""
        candidates = [self.knowledge.conditions[c.id] for c in result.candidates[:2]]
        return tuple(
            Button(self.say("button_tell_apart", name=c.name), info_data("section", "more", c.id)) for c in candidates
        ) + self.menu_button()


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
