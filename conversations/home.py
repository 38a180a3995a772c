"""The home: what ☰ Menu and /start open — where the runner is, and the way to everything.

☰ Menu never re-asks a pending question: it sets the flows in progress aside
(`Session.paused`) and the home offers "Carry on where we were". For a runner with a plan, logs
or a reminder, the home says where they are ("Day 3 of 42 — today: stage 1, 2 exercises, easier dose")
with buttons for today's session, a log, the progress and the reminder, above the usual
Hip / Back / Prevention / Warning check. A returning runner's /start is a short welcome back.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from conversations import plan_stages
from conversations import recovery as logic
from conversations.events import Button
from conversations.flows.recovery_common import companion_of, companion_text, level_name
from conversations.render import info_data

if TYPE_CHECKING:
    from conversations.turn import Turn


def has_history(turn: Turn) -> bool:
    """Whether the runner has used the companion (a log, a plan or a reminder kept)."""
    records = turn.records
    return bool(records.logs or records.plans or records.reminder)


def pause(turn: Turn) -> None:
    """Set the flows in progress aside, to carry on later (never after an emergency)."""
    session = turn.session
    if session.stack and not turn.in_aftermath():
        session.paused = [frame.copy() for frame in session.stack]
        session.stack = []


def resume(turn: Turn) -> None:
    """ "Carry on where we were": the flows set aside come back, with their question."""
    session = turn.session
    if not session.paused:
        show(turn)
        return
    session.stack, session.paused = session.paused, []
    turn.ask(reminder=True)


def show(turn: Turn, welcome_back: bool = False) -> None:
    """The home: where the runner is, then the menu with the runner's own buttons first."""
    pause(turn)
    turn.ask()
    if turn.in_aftermath() or not turn.replies or turn.replies[-1].kind != "question":
        return
    menu = turn.replies[-1]
    lines = [companion_text(turn, "home_welcome_back")] if welcome_back else []
    lines += where_they_are(turn)
    text = "\n".join([*lines, menu.text]) if lines else menu.text
    buttons = own_buttons(turn) + menu.buttons
    turn.replies[-1] = replace(menu, text=text, buttons=buttons)


def where_they_are(turn: Turn) -> list[str]:
    """ "Day 3 of 42 — today: 4 exercises, full dose." and the last log, as lines."""
    lines = []
    records, today = turn.records, turn.today()
    plan = records.plan
    if plan is not None and plan.day_of(today) < plan_stages.plan_days(plan):
        day, days = plan.day_of(today), plan_stages.plan_days(plan)
        lines.append(companion_text(turn, "home_plan_day", day=day + 1, days=days, today=today_text(turn, day)))
    if records.logs:
        last = records.logs[-1]
        from conversations.trend import when

        lines.append(companion_text(turn, "home_last_log", summary=logic.describe_entry(last), when=when(last.date, today)))
    return lines


def today_text(turn: Turn, day: int) -> str:
    """Today's plan day in a few words: done, rest, or the session's size."""
    plan = turn.records.plan
    assert plan is not None
    mark = plan.mark(day)
    if mark is not None:
        return companion_text(turn, f"home_today_{mark.outcome}")
    plan_day = logic.plan_day(plan, day)
    if plan_day.rest:
        return companion_text(turn, "home_today_rest")
    count = len(plan_stages.exercises(turn.knowledge, plan))  # the stage's session, not every exercise
    stage, _ = plan_stages.stage_number(plan)
    return companion_text(turn, "home_today_session", stage=stage, count=count, exercises="exercise" if count == 1 else "exercises", level=level_name(turn, plan_day.level))


def own_buttons(turn: Turn) -> tuple[Button, ...]:
    """Carry on, today's session, log, progress and the reminder — as they apply."""
    c = companion_of(turn.knowledge)
    records, today = turn.records, turn.today()
    buttons = []
    if turn.session.paused:
        buttons.append(Button(c.message("home_carry_on"), info_data("resume")))
    if records.plan is not None and records.plan.day_of(today) < plan_stages.plan_days(records.plan):
        buttons.append(Button(c.message("home_button_session"), info_data("cmd", "plan")))
    if records.plan is not None or records.logs:
        buttons.append(Button(c.message("home_button_log"), info_data("cmd", "log")))
    if records.logs:
        buttons.append(Button(c.message("home_button_progress"), info_data("cmd", "progress")))
    if records.reminder is not None and records.reminder.active:
        label = c.message("home_button_reminder", time=records.reminder.time)
        buttons.append(Button(label, info_data("cmd", "remind")))
    return tuple(buttons)
