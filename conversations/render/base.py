"""What every part of the renderer shares: the messages (`say`, every value escaped for HTML),
the constants of cards and buttons, and small HTML helpers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from html import escape

from conversations.events import Button, Reply
from knowledge import Exercise, Knowledge, RedFlag, Urgency
from knowledge.safety import FlagAdvice, advice_for_flags, floor_wording, sign

RUNNER_UP_SHARE = 0.6  # mention the second condition when it scores at least this share of the first
CARD_BUDGET = 600  # characters of a result card before its treatment steps stop (a phone screen)
ADVICE_BUDGET = 300  # characters of warning-sign advice on one card (the first sign's always)
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


class RendererBase:
    """The knowledge base's messages and content, and the pieces every card uses."""

    def __init__(self, knowledge: Knowledge, flows: Mapping[str, object] | None = None) -> None:
        self.knowledge = knowledge
        self.flows: Mapping[str, object] = flows or {}  # the engine's flows: some name their own questions

    def say(self, key: str, **values: object) -> str:
        """A message by key, with every value escaped for HTML."""
        return self.knowledge.message(key, **{k: escape_value(v) for k, v in values.items()})

    def sign_label(self, flag_id: str) -> str:
        """The short button label of a warning sign."""
        return self.knowledge.triage.screen.labels.get(flag_id) or self.knowledge.red_flags[flag_id].name

    def flag_advice(self, sign_ids: Iterable[str]) -> FlagAdvice:
        """What the raised warning signs say, and the general advice they hold back."""
        return advice_for_flags(self.knowledge, sign_ids)

    def advice_text(self, advice: FlagAdvice) -> str:
        """The raised signs' own advice (most urgent first, as many as fit a phone screen beside
        the rest of a card), or the general advice of their urgency."""
        if not advice.lines:
            return self.knowledge.urgency_advice[advice.urgency].advice
        shown = [advice.lines[0]]
        for line in advice.lines[1:]:
            # a sentence another sign has just said ("See a GP within a few days.") is said once
            new = " ".join(s for s in re.split(r"(?<=[.!?])\s+", line) if s not in " ".join(shown))
            if not new or sum(len(s) for s in shown) + len(new) > ADVICE_BUDGET:
                continue
            shown.append(new)
        return " ".join(shown)

    def said_words(self, said: Urgency | None, advice: FlagAdvice, condition: str | None) -> tuple[str, str]:
        """The title and action to repeat for what has been said: the raised signs' own, or a
        condition's floor in its own words (the disc's prompt assessment), or the urgency's."""
        if said is None or advice.urgency >= said:
            return self.knowledge.urgency_advice[advice.urgency].title, self.advice_text(advice)
        known = self.knowledge.conditions.get(condition or "")
        if known is not None and known.urgency_floor == said and (floor := floor_wording(known.id)) is not None:
            # away from the card ("the signs below"), the condition's own see-someone rule
            own = known.see_a_clinician
            return floor[0], own.text if own is not None else floor[1].text
        general = self.knowledge.urgency_advice[said]
        return general.title, general.advice

    def held_back(
        self, advice: FlagAdvice, topic: str, condition: str | None = None, said: Urgency | None = None
    ) -> Reply:
        """In place of general advice a raised warning sign holds back: the sign's own advice."""
        title, action = self.said_words(said, advice, condition)
        if advice.lines and action == self.advice_text(advice):
            action = advice.lines[0]  # the most urgent sign's: the warning itself has said the rest
        text = self.say("answer_held_back", title=title, advice=action)
        return Reply(text, self.menu_button(), kind="answer", condition=condition, topic=topic)

    def menu_button(self) -> tuple[Button, ...]:
        """A single button that opens the main menu."""
        return (Button(self.say("button_menu"), info_data("menu")),)

    def exercise_list(self, exercises: Iterable[Exercise]) -> str:
        """Exercises as lines: name, dose (with rest), and how to do it."""
        lines = []
        for exercise in exercises:
            dose = f" — {escape_value(exercise.prescription)}" if exercise.prescription else ""
            lines.append(f"• <b>{escape_value(exercise.name)}</b>{dose}. {escape_value(exercise.cue)}")
        return "\n".join(lines)

    def progression_list(self, exercises: Iterable[Exercise]) -> str:
        """For each exercise: when to make it harder, and when to ease off or stop."""
        return "\n".join(
            self.say("exercise_progression", name=e.name, harder=e.progression or "—", stop=e.stop_if or "—")
            for e in exercises
            if e.progression or e.stop_if
        )

    def by_urgency(self, flags: Iterable[str]) -> list[RedFlag]:
        """The known red flags among `flags`, most urgent first."""
        found = [s for s in (sign(self.knowledge, f) for f in dict.fromkeys(flags)) if s is not None]
        return sorted(found, key=lambda f: -f.urgency)


class Raw(str):
    """Text that is already HTML (built from escaped pieces): not escaped again."""

    __slots__ = ()


def escape_value(value: object) -> str:
    """A value as HTML text: escaped, unless it is Raw already."""
    return value if isinstance(value, Raw) else escape(str(value), quote=False)


def bullets(items: Iterable[str]) -> Raw:
    """A bulleted list of HTML items."""
    return Raw("\n".join(f"• {item}" for item in items))


def numbered(items: Iterable[str]) -> Raw:
    """A numbered list of HTML items."""
    return Raw("\n".join(f"{i}. {item}" for i, item in enumerate(items, start=1)))
