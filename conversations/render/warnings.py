"""Warnings: the emergency advice, warning signs and concerns, doubt, and the /redflags verdict."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from conversations.events import Button, Reply
from conversations.machine import (
    EMERGENCY_STEP,
)
from conversations.render.base import (
    Raw,
    RendererBase,
    bullets,
    escape_value,
    info_data,
)
from knowledge import Urgency
from knowledge.safety import sign

if TYPE_CHECKING:
    pass



class WarningCards(RendererBase):
    """Warning cards, most urgent first."""

    # ----- warnings --------------------------------------------------------------------
    def emergency(self, flag_ids: Iterable[str]) -> Reply:
        """The emergency message: the action first, why, and buttons that help act on it."""
        flags = self.by_urgency(flag_ids)
        advice = self.knowledge.urgency_advice[Urgency.EMERGENCY]
        meaning = " ".join(dict.fromkeys(f.meaning for f in flags))
        # the emergency signs' own advice; signs that are an emergency only together (cancer
        # history with weak legs) get the general emergency advice
        emergencies = [f for f in flags if f.urgency is Urgency.EMERGENCY]
        action = " ".join(dict.fromkeys(f.advice or advice.advice for f in emergencies)) or advice.advice
        text = self.say("emergency", title=advice.title, meaning=meaning, advice=action)
        buttons = (
            Button(self.say("button_emergency_help"), info_data("emergency_help")),
            Button(self.say("button_start_over"), info_data("cmd", "restart")),
        )
        ids = tuple(f.id for f in flags if f.id in self.knowledge.red_flags)  # red flags only, not concerns
        return Reply(text, buttons, kind="emergency", urgency="emergency", flags=ids)

    def warning(self, flag_ids: Sequence[str], said: Urgency | None) -> Reply:
        """A warning for signs just mentioned: what to do, unless it was already said."""
        flags = self.by_urgency(flag_ids)
        top = flags[0].urgency
        names = "; ".join(f.name for f in flags)
        own = self.advice_text(self.flag_advice(f.id for f in flags))  # each sign's own advice
        if said is not None and said > top:
            advice = self.knowledge.urgency_advice[said]
            text = self.say("flag_noted_again", names=names, title=advice.title)
            urgency = said
        elif said is not None and said == top:
            advice = self.knowledge.urgency_advice[said]
            text = self.say("flag_noted_again", names=names, title=advice.title) + " " + escape_value(own)
            urgency = said
        else:
            advice = self.knowledge.urgency_advice[top]
            meaning = flags[0].meaning if len(flags) == 1 else ""  # several: the names say enough
            text = self.say("flag_noted", names=names, title=advice.title, advice=own, meaning=meaning)
            urgency = top
        return Reply(text, kind="warning", urgency=urgency.key, flags=tuple(f.id for f in flags))

    def concern_warning(self, concern_ids: Sequence[str], said: Urgency | None) -> Reply:
        """A picture that needs a clinician's eye (not a red flag): what it may be and what to do."""
        concerns = [c for c in (sign(self.knowledge, i) for i in concern_ids) if c is not None]
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

    # ----- the /redflags verdict -----------------------------------------------------
    def verdict(self, flag_ids: Iterable[str], said: Urgency | None) -> Reply:
        """The end of a /redflags check."""
        flags = self.by_urgency(flag_ids)
        if not flags:
            return Reply(self.say("verdict_clear"), self.menu_button(), topic="red_flags")
        urgency = max(flags[0].urgency, said or Urgency.SELF_CARE)
        advice = self.knowledge.urgency_advice[urgency]
        own = self.flag_advice(f.id for f in flags)
        action = self.advice_text(own) if own.urgency == urgency else advice.advice
        signs = bullets(escape_value(f.name) for f in flags)
        text = self.say("verdict_flags", title=advice.title, advice=action, signs=Raw(signs))
        return Reply(text, self.menu_button(), kind="warning", urgency=urgency.key, flags=tuple(f.id for f in flags))
