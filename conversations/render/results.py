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
from knowledge import Condition, Fact, MatchResult, Urgency
from knowledge.safety import (
    FlagAdvice,
    default_safety,
    floor_wording,
    safety_net,
    seek_help,
    shown_facts,
    sign,
)

SECTION_TOPICS = {"exercises": "exercises", "progress": "exercises", "running": "return_to_running", "helps": "treatment"}

if TYPE_CHECKING:
    pass



class ResultCards(RendererBase):
    """Result cards and their sections."""

    # ----- results -----------------------------------------------------------------------
    def result(self, result: MatchResult, context: ResultContext) -> Reply:
        """The end of a triage, as a card: the likely problem, why, the urgency, what to do now.

        While warning signs stand, the card says their own advice, holds back the general advice
        they rule out (no exercises, plan or running sections when exercises are held back, and
        one line saying why), and keeps the region's safety net.
        """
        parts: list[str] = []
        advice = context.advice(self)
        withhold = "exercises" in advice.held or context.withhold_exercises
        condition = self.knowledge.conditions.get(result.condition or "")
        headline = self._age_headline(context)
        if headline:
            parts.append(headline)
        if condition is not None and not (headline and withhold):
            parts.append(self.say("result_likely", name=condition.name, area=condition.area))
            reasons = [self.knowledge.concepts[c].label for c in result.evidence]
            if reasons and not withhold:  # held back, the card is about getting it checked
                parts.append(self.say("result_why", reasons="; ".join(reasons)))
        parts.append(self.urgency_text(context, result.condition))
        region = condition.region if condition else self._candidates_region(result)
        if region:  # the region's safety net, on every card that names a problem
            parts.append(self.say("result_safety_net", text=safety_net(self.knowledge, region).text))
        if condition is not None and withhold:
            parts.append(self.say("result_withhold"))
        elif condition is not None:
            after = [self._runner_up(result), self.say("disclaimer_short")]
            steps = self._first_steps(shown_facts(condition.treatment, advice.held), parts, after)
            parts.append(self.say("result_now", steps=numbered(escape_value(t) for t in steps)))
            if len(steps) < len(condition.treatment):
                parts.append(self.say("result_more_steps"))
            parts.append(after[0])
        else:
            parts.append(self._unclear_text(result, advice))
            if withhold:
                parts.append(self.say("result_withhold"))
        if context.duration_unknown:
            parts.append(self.say("result_duration_unknown"))
        parts.append(self.say("disclaimer_short"))
        return Reply(
            "\n\n".join(p for p in parts if p),
            self._result_buttons(result, advice, withhold),
            kind="result",
            urgency=context.urgency.key,
            flags=tuple(context.flags),
            condition=result.condition,
        )

    def _candidates_region(self, result: MatchResult) -> str:
        """The region of a "can't tell" card's candidates, when they share one."""
        regions = {self.knowledge.conditions[c.id].region for c in result.candidates[:2]}
        return regions.pop() if len(regions) == 1 else ""

    def _age_headline(self, context: ResultContext) -> str:
        """An age warning (a child's limp) or a cancer history leads the card: with exercises held
        back, in place of "most likely"."""
        safety = default_safety()
        lines = [safety.age_headlines[a].text for a in context.age_rules if a in safety.age_headlines]
        if safety.cancer_flag.id in context.concerns:  # cancer history with new back or night pain
            lines.append(f"{safety.cancer_flag.meaning}")
        return "\n".join(f"⚠️ <b>{escape_value(line)}</b>" for line in lines)

    def _result_buttons(self, result: MatchResult, advice: FlagAdvice, withhold: bool) -> tuple[Button, ...]:
        if not result.condition:
            return self.unclear_buttons(result)
        if withhold:
            return self.section_buttons(result.condition, sections=("seek", "more"))
        sections = [s for s in SECTIONS if not (s == "running" and "keep_running" in advice.held)]
        buttons = self.section_buttons(result.condition, sections=sections)
        return (*buttons[:-1], Button(self.say("button_start_plan"), info_data("cmd", "plan")), buttons[-1])

    def _first_steps(self, treatment: Sequence[Fact], card: list[str], after: list[str]) -> list[str]:
        """As many of the treatment steps as fit the card — in characters and on a phone screen,
        with what comes after them (the rest are behind "What helps")."""
        budget = CARD_BUDGET - sum(len(p) for p in card)
        steps: list[str] = []
        for step in treatment:
            card_then = [*card, self.say("result_now", steps=numbered([*steps, step.text])), self.say("result_more_steps"), *after]
            if steps and (len(step.text) + 4 > budget or phone_lines("\n\n".join(p for p in card_then if p)) > PHONE_LINES):
                break
            steps.append(step.text)
            budget -= len(step.text) + 4
        return steps

    def urgency_text(self, context: ResultContext, condition_id: str | None = None) -> str:
        """The one line on urgency a result carries, and why when it has gone up.

        The action is the raised signs' own advice when they set the urgency; a condition's
        floor (the disc's prompt assessment) in its own words when only the floor set it.
        """
        urgency = context.urgency
        if urgency is Urgency.SELF_CARE:
            return ""
        general = self.knowledge.urgency_advice[urgency]
        title, action = general.title, general.advice
        signs = [s for s in (sign(self.knowledge, i) for i in (*context.flags, *context.concerns)) if s is not None]
        because = "; ".join(f.name for f in signs if f.urgency == urgency) or context.floor_reason
        if any(s.urgency == urgency for s in signs):
            action = self.advice_text(context.advice(self))
        elif context.floor_reason and condition_id and (floor := floor_wording(condition_id)) is not None:
            # the floor's own words (a prompt assessment, not "today"): not "more urgent than before"
            return self.say("result_urgency", title=floor[0], advice=floor[1].text, because=because)
        if context.said is not None and context.said >= urgency:
            return self.say("result_urgency_as_said", title=title, advice=action)
        key = "result_urgency_raised" if context.said is not None else "result_urgency"
        return self.say(key, title=title, advice=action, because=because or title)

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

    def section(
        self, section: str, condition_id: str, advice: FlagAdvice | None = None, said: Urgency | None = None
    ) -> Reply | None:
        """One section of a result, as a message of its own (None for an unknown one).

        A section the raised warning signs hold back (exercises, getting back to running) gives
        the signs' own advice instead; "What helps" leaves out the lines they hold back.
        """
        condition = self.knowledge.conditions.get(condition_id)
        if condition is None or section not in (*SECTIONS, *HIDDEN_SECTIONS):
            return None
        advice = advice or self.flag_advice(())
        topic = SECTION_TOPICS.get(section, "")
        if topic in advice.held_topics:
            return self.held_back(advice, topic, condition_id, said)
        extra: tuple[Button, ...] = ()
        if section == "exercises":
            text = self.say("section_exercises", name=condition.name) + "\n" + self.exercise_list(condition.exercises)
            topic = "exercises"
            extra = (Button(self.say("button_section_progress"), info_data("section", "progress", condition_id)),)
        elif section == "progress":
            text = self.say("section_progress", name=condition.name) + "\n" + self.progression_list(condition.exercises)
            topic = "exercises"
        elif section == "helps":
            steps = numbered(escape_value(t.text) for t in shown_facts(condition.treatment, advice.held))
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
            if s != section and SECTION_TOPICS.get(s, "") not in advice.held_topics
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
        """The condition's own rule, its region's safety net and the guide's list: one place."""
        return bullets(escape_value(f.text) for f in seek_help(self.knowledge, condition.id))

    def _unclear_text(self, result: MatchResult, advice: FlagAdvice) -> str:
        names = [self.knowledge.conditions[c.id] for c in result.candidates[:2]]
        interim = bullets(
            escape_value(f.text) for f in shown_facts(self.knowledge.education.interim_self_care, advice.held)
        )
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
        age_rules: Sequence[str] = (),
    ) -> None:
        self.urgency = urgency
        self.flags = list(flags)
        self.said = said
        self.floor_reason = floor_reason
        self.duration_unknown = duration_unknown
        self.concerns = list(concerns)
        self.withhold_exercises = withhold_exercises
        self.age_rules = list(age_rules)  # safety.yaml age rules that fired: their headline leads

    def advice(self, render: RendererBase) -> FlagAdvice:
        """What the raised signs say and hold back."""
        return render.flag_advice([*self.flags, *self.concerns])
