"""/mileage: the weeks' distances so far, and a gradual plan for the weeks ahead."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from conversations import plan_stages
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
    running_held,
)
from knowledge.plans import Stage, default_plans, mileage_target

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
    """/mileage [weeks]: the weeks ahead — not while a warning says to get it checked first."""
    if blocked(turn):
        return
    if running_held(turn):
        turn.say("mileage_not_now")
        if turn.session.top is not None:
            turn.ask(reminder=True)
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
    """The next weeks from the 4-week average: a step back after a spike, a hold or a cut while
    sore (mileage_target), never over the plan's stage, and no running before walk-run."""
    c = companion_of(turn.knowledge)
    records, today = turn.records, turn.today()
    plan = records.plan
    stage = plan_stages.stage_of(plan) if plan is not None else None
    intro = companion_text(
        turn,
        "mileage_intro",
        weeks=" → ".join(logic.km(w) for w in weeks),
        longest=f"{logic.km(longest)} km" if (longest := logic.longest_run(records, today + dt.timedelta(days=1))) else c.message("mileage_unknown_longest"),
    )
    if stage is not None and stage.max_share == 0:
        turn.replies.append(Reply(companion_text(turn, "mileage_not_yet", stage=stage.title), kind="info", topic="load"))
        return
    scores = [e.pain for e in records.logs if e.pain is not None]
    pain = scores[-1] if scores else None
    if pain is not None and logic.worsening(scores):
        pain = max(pain, int(c.number("pain_safe")) + 1)  # a climbing trend is held like pain above the range
    weeks_ahead, why, note = plan_weeks(turn, weeks, pain, stage)
    lines = [intro]
    for n, km in enumerate(weeks_ahead, start=1):
        week = logic.week_shape(c, km, longest, easy_only=why in ("hold", "cut"))
        days = companion_text(
            turn, "mileage_days", long=logic.km(week.long_km), tempo=c.message("mileage_tempo") + ", " if week.tempo else "",
            easy=week.easy_runs, easy_km=logic.km(week.easy_km), rest=week.rest_days,
        )
        if why == "cut":
            days += ", 1 cross-training day"
        lines.append(companion_text(turn, "mileage_week", n=n, km=logic.km(week.km), days=days))
    notes = [note] if note else []
    notes.append(companion_text(turn, "mileage_notes", ten=c.fact("ten_percent"), spike=c.fact("long_run_spike")))
    turn.replies.append(Reply("\n".join(lines) + "\n\n" + "\n\n".join(notes), kind="info", topic="load"))


def plan_weeks(turn: Turn, weeks: list[float], pain: int | None, stage: Stage | None) -> tuple[list[float], str, str]:
    """The weeks ahead, why ("build", "spike", "hold", "cut", "stage_cap") and the note to say.

    After a week more than `big_increase` over the average of the weeks before it, the next week
    steps back to that average before building again; holding or cutting gives one week only —
    what follows depends on how the pain settles."""
    c = companion_of(turn.knowledge)
    numbers = default_plans().mileage
    before = weeks[-1 - numbers.base_weeks : -1]
    average_before = sum(before) / len(before) if before else 0.0
    spike = bool(before) and average_before > 0 and weeks[-1] > average_before * (1 + c.number("big_increase"))
    km, why = mileage_target(numbers, weeks, pain, stage)
    if spike:  # a step back to the weeks before the spike, whatever else holds the week down
        km = min(km, average_before)
        why = "spike" if why == "build" else why
    km = round(km * 2) / 2
    if why in ("hold", "cut"):
        key = "mileage_hold" if why == "hold" else "mileage_cut"
        return [km], why, companion_text(turn, key, pain=pain, km=logic.km(km)) + " " + c.fact("cross_training")
    ahead = [km]
    for _ in range(2):
        following, _why = mileage_target(numbers, [*weeks, *ahead], None, stage)
        ahead.append(min(following, ahead[-1] * (1 + numbers.increase)))  # never more than 10% over the week before
    ahead = [round(km * 2) / 2 for km in ahead]
    if why == "spike":
        percent = round(100 * (weeks[-1] / average_before - 1))
        return ahead, why, companion_text(turn, "mileage_spike", percent=percent, average=logic.km(average_before), km=logic.km(km), big=c.fact("big_increase"))
    if why == "stage_cap":
        return ahead, why, companion_text(turn, "mileage_stage_cap", km=logic.km(km))
    return ahead, why, ""
