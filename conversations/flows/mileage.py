"""/mileage: the weeks' distances so far, and a gradual plan for the weeks ahead."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from conversations import recovery as logic
from conversations.events import Reply
from conversations.flows.recovery_common import (
    answer_in_flow,
    blocked,
    companion_of,
    companion_say,
    companion_text,
    end_flow,
    push_frame,
)

if TYPE_CHECKING:
    from conversations.reading import MessageReading
    from conversations.render.base import RendererBase
    from conversations.session import Frame
    from conversations.turn import Turn


# ----- /mileage -------------------------------------------------------------------------------------
class Mileage:
    """The last weeks' distance, typed, when the log has none."""

    def options(self, render: RendererBase, frame: Frame) -> dict[str, str]:
        return {}

    def prompt(self, render: RendererBase, frame: Frame, explain: bool) -> str:
        return companion_of(render.knowledge).message("mileage_ask")

    def read_first(self, turn: Turn, frame: Frame, message: MessageReading) -> bool:
        weeks = logic.parse_weeks(message.text)
        if not weeks or "?" in message.text:
            return False
        turn.session.stack.pop()
        propose(turn, weeks)
        if turn.session.top is not None:
            turn.ask(reminder=True)
        return True

    def placeholder(self, render: RendererBase, frame: Frame) -> str:
        """The hint in the input field: weekly distances."""
        return "20 22 25"

    def on_text(self, turn: Turn, frame: Frame, message: MessageReading) -> None:
        if answer_in_flow(turn, message):
            return
        companion_say(turn, "mileage_not_understood", kind="not_understood")
        turn.ask()

    def on_choice(self, turn: Turn, frame: Frame, value: str) -> None:
        turn.ask()

    def finish(self, turn: Turn, frame: Frame) -> None:
        end_flow(turn)


def mileage_command(turn: Turn, argument: str) -> None:
    if blocked(turn):
        return
    weeks = logic.parse_weeks(argument) if argument else []
    if not weeks:
        today = turn.today()
        logged = [km for monday, km in logic.weekly_distance(turn.records, until=today) if (today - monday).days >= 7]
        if any(logged):
            weeks = logged[-4:]
    if weeks:
        propose(turn, weeks)
    else:
        push_frame(turn, "mileage", "weeks")
        turn.ask()


def propose(turn: Turn, weeks: list[float]) -> None:
    c = companion_of(turn.knowledge)
    records = turn.records
    today = turn.today()
    longest = logic.longest_run(records, today + dt.timedelta(days=1))
    scores = [e.pain for e in records.logs if e.pain is not None]
    last_pain = scores[-1] if scores else 0
    plan = records.plan
    injured = last_pain > c.number("pain_safe") or logic.worsening(scores) or (plan is not None and not plan.run_ready)
    lines = [
        companion_text(
            turn,
            "mileage_intro",
            weeks=" → ".join(logic.km(w) for w in weeks),
            longest=f"{logic.km(longest)} km" if longest else c.message("mileage_unknown_longest"),
        )
    ]
    for n, week in enumerate(logic.plan_mileage(c, weeks, longest, injured), start=1):
        days = companion_text(
            turn,
            "mileage_days",
            long=logic.km(week.long_km),
            tempo=c.message("mileage_tempo") if week.tempo else "",
            easy=week.easy_runs,
            rest=week.rest_days,
        )
        if week.cross_training:
            days += ", 1 cross-training day"
        lines.append(companion_text(turn, "mileage_week", n=n, km=logic.km(week.km), days=days))
    notes = []
    if injured:
        sore = last_pain > c.number("pain_safe") or logic.worsening(scores)
        key = "mileage_injured" if sore else "mileage_in_rehab"  # a plan under way, not yet run-ready
        notes.append(companion_text(turn, key, pain=last_pain, cross=c.fact("cross_training")))
    if len(weeks) >= 2 and weeks[-2] > 0 and weeks[-1] / weeks[-2] - 1 > c.number("big_increase"):
        notes.append(companion_text(turn, "mileage_jump", percent=round(100 * (weeks[-1] / weeks[-2] - 1)), big=c.fact("big_increase")))
    notes.append(companion_text(turn, "mileage_notes", ten=c.fact("ten_percent"), spike=c.fact("long_run_spike")))
    turn.replies.append(Reply("\n".join(lines) + "\n\n" + "\n\n".join(notes), kind="info", topic="load"))
