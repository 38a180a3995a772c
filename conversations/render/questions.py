"""The current question and its buttons (the menu, triage and safety questions, and the questions
of flows that name their own, such as the companion's)."""

from __future__ import annotations

from typing import Protocol

from conversations.events import Button, Reply
from conversations.machine import (
    AGE_STEP,
    CHECKLIST_STEP,
    CONFIRM_STEP,
    DURATION_STEP,
    EMERGENCY_STEP,
    TELL_APART_STEP,
    WARNING_STEP,
    step_token,
)
from conversations.render.base import (
    RendererBase,
    bullets,
    escape_value,
    info_data,
)
from conversations.session import Frame, Session
from knowledge import Knowledge
from knowledge.safety import default_safety


class NamesItsQuestions(Protocol):
    """A flow that names its own buttons and prompt (the companion's): what the renderer asks of
    it. (It may also read an answer in words before the chain's questions stage: `read_first`.)"""

    def options(self, render: RendererBase, frame: Frame) -> dict[str, str]: ...

    def prompt(self, render: RendererBase, frame: Frame, explain: bool) -> str: ...


class QuestionCards(RendererBase):
    """Questions and their options."""

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
        if frame.step == AGE_STEP:
            safety = default_safety()
            return dict(safety.age_bands) | {"skip": safety.age_skip}
        if frame.step == DURATION_STEP:
            return {
                "short": self.say("option_under_a_week"),
                "long": self.say("option_over_a_week"),
                "unsure": self.say("option_not_sure"),
            }
        if frame.step in (EMERGENCY_STEP, CONFIRM_STEP, TELL_APART_STEP):
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
        placeholder = ""
        if (asker := self._asks_itself(frame)) is not None and frame is not None and hasattr(asker, "placeholder"):
            placeholder = asker.placeholder(self, frame)
        return Reply(text, buttons, kind="question", asks=asks, in_place=in_place, placeholder=placeholder)

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
            return self.say(key, signs=bullets(escape_value(flags[f].name) for f in frame.items))
        if step == CHECKLIST_STEP:
            return self.say("screen_which")
        if step == DURATION_STEP:
            return self.say("explain_duration" if explain else "ask_duration")
        if step == AGE_STEP:
            return escape_value(default_safety().age_question)
        other = self.knowledge.other_conditions.get(frame.values.get("tell_apart_other", ""))
        if step == TELL_APART_STEP and other is not None:
            return self.say("ask_tell_apart", question=other.question)
        if step == CONFIRM_STEP and frame.confirm in flags:
            key = "explain_confirm" if explain else "ask_confirm"
            return self.say(key, question=flags[frame.confirm].question)
        return self.say("menu_prompt")

    def _asks_itself(self, frame: Frame | None) -> NamesItsQuestions | None:
        """The flow on top, when it names its own questions (the companion's flows)."""
        flow = self.flows.get(frame.flow) if frame is not None else None
        return flow if hasattr(flow, "prompt") else None  # type: ignore[return-value]


def best_location(knowledge: Knowledge, frame: Frame) -> str:
    """The location option chosen, or the one that best fits what the runner typed."""
    if frame.location:
        return frame.location
    concepts = set(frame.concepts)
    fitting = [o for o in knowledge.triage.locations.values() if concepts.issuperset(o.concepts)]
    return max(fitting, key=lambda o: len(o.concepts)).id if fitting else ""
