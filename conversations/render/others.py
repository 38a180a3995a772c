"""The card for a problem outside the six (knowledge/data/other_conditions.yaml): what it likely
is, why, what to do now safely and what not to do, who to see and how soon, the region's safety
net — and no exercise plan, because the bot does not treat these problems."""

from __future__ import annotations

from typing import TYPE_CHECKING

from conversations.events import Button, Reply
from conversations.phone import CLOSE, OPEN, PHONE_LINES, phone_lines
from conversations.render.base import bullets, escape_value, info_data
from conversations.render.results import ResultCards
from knowledge import MatchResult, Urgency
from knowledge.safety import safety_net, sign

if TYPE_CHECKING:
    from conversations.render.results import ResultContext
    from knowledge.model import OtherCondition

class OtherCards(ResultCards):
    """Cards about problems outside the six."""

    def other_result(self, result: MatchResult, context: ResultContext, region: str = "") -> Reply:
        """The end of a triage whose picture fits a problem outside the six better.

        `context.urgency` is already at least the problem's own `see` urgency (the caller takes
        the highest of it, the warning signs and what was said before), so it is never lowered.
        """
        other = self.knowledge.other_conditions[result.other or ""]
        reasons = [self.knowledge.concepts[c].label for c in result.other_evidence if c in self.knowledge.concepts][:3]
        why = self.say("result_why", reasons="; ".join(reasons)) if reasons else ""
        net = self.say("result_safety_net", text=safety_net(self.knowledge, region).text) if region else ""
        text = self._fitted(
            self.say("other_likely", name=other.name),
            why,
            self._other_advice(other, do_now=not self._warning_is_the_problem(context, other, result)),
            self.say("other_about", about=other.about),
            self.urgency_line(context, other),
            net,
        )
        return Reply(
            text,
            self.other_buttons(),
            kind="result",
            urgency=context.urgency.key,
            flags=tuple(context.flags),
            condition=None,
            other=other.id,
        )

    def both_result(self, result: MatchResult, context: ResultContext, region: str = "") -> Reply:
        """One of the six and another problem fit and could not be told apart: both, the safer
        advice (the other's), and that a clinician tells them apart."""
        other = self.knowledge.other_conditions[result.other_candidates[0].id]
        condition = self.knowledge.conditions[result.candidates[0].id]
        options = bullets([f"<b>{escape_value(other.name)}</b>", f"<b>{escape_value(condition.name)}</b>"])
        net = self.say("result_safety_net", text=safety_net(self.knowledge, region).text) if region else ""
        text = self._fitted(
            self.say("other_both") + "\n" + options,
            "",
            self._other_advice(other),
            self.say("other_both_tell"),
            self.urgency_line(context, other),
            net,
            end=self.say("disclaimer_short"),
        )
        return Reply(
            text,
            (
                Button(self.say("button_tell_apart", name=condition.name), info_data("section", "more", condition.id)),
                *self.other_buttons(),
            ),
            kind="result",
            urgency=context.urgency.key,
            flags=tuple(context.flags),
            condition=None,
            other=other.id,
        )

    def _fitted(self, head: str, why: str, advice: list[str], about: str, urgency: str, net: str, end: str = "") -> str:
        """The card on one phone screen, folded here in whole paragraphs (not by phone.fit).

        The urgency line always stays in view; a long card folds what it is into a quote, then
        the safety net (its first lines still show) and the "why", then what to do now — what
        not to do stays in view longest (no stretching into a stress fracture).
        """
        end = end or self.say("other_not_six")
        named = f"{head}\n{why}" if why else head
        avoid, do_now = (advice[-1], advice[:-1]) if advice else ("", [])

        def quote(*parts: str) -> str:
            inner = "\n\n".join(p for p in parts if p)
            return f"{OPEN}{inner}{CLOSE}" if inner else ""

        cards = (
            (named, *advice, about, urgency, net, end),
            (named, *advice, urgency, quote(net, about), end),
            (head, *advice, urgency, quote(net, why, about), end),
            (head, avoid, urgency, quote(*do_now, net, why, about), end),
            (head, urgency, quote(avoid, *do_now, net, why, about), end),
        )
        for parts in cards:
            text = "\n\n".join(p for p in parts if p)
            if phone_lines(text) <= PHONE_LINES:
                break
        return text

    def _warning_is_the_problem(self, context: ResultContext, other: OtherCondition, result: MatchResult) -> bool:
        """Whether a warning sign that set the card's urgency was raised by the clues that name
        this problem (a teenager's back pain arching backward is both the warning and
        spondylolysis; pain on hopping both bone stress and a femoral neck stress fracture): its
        urgency line then already says what to do now, and the problem's own would say it twice."""
        names = set(other.detect) | set(other.recognise.names) | set(result.other_evidence)
        signs = (sign(self.knowledge, i) for i in (*context.flags, *context.concerns))
        return any(s is not None and s.urgency == context.urgency and names & set(s.detect) for s in signs)

    def _other_advice(self, other: OtherCondition, do_now: bool = True) -> list[str]:
        lines = []
        if other.do_now and do_now:
            lines.append(self.say("other_do_now", text=other.do_now))
        if other.avoid:
            lines.append(self.say("other_avoid", text=other.avoid))
        return lines

    def urgency_line(self, context: ResultContext, other: OtherCondition) -> str:
        """Who to see and how soon: the card's urgency, the problem's name as the reason when
        its own `see` set it."""
        if context.urgency is Urgency.SELF_CARE:
            return ""
        if not context.floor_reason and other.see == context.urgency:
            context.floor_reason = other.name
        return self.urgency_text(context)

    def other_buttons(self) -> tuple[Button, ...]:
        """Under an other card: when to see someone, a question, the menu — no exercise plan."""
        return (
            Button(self.say("button_section_seek"), info_data("topic", "see_clinician")),
            Button(self.say("button_ask"), info_data("ask", "")),
            *self.menu_button(),
        )

