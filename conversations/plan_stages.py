"""Where a runner's plan stands among its stages (knowledge/plans.py), and how the next
morning's log moves it: on a stage after settled mornings, back one after a sorer morning or a
too-painful session, and never into a gated stage (walk-run) before the hop test is passed.

Pure functions of the records: the flows (flows/plan.py, flows/log.py) turn them into replies.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from conversations.recovery_records import LogEntry, Plan
from knowledge import Exercise, Knowledge
from knowledge.plans import MIN_SESSIONS, Stage, default_plans, next_stage
from knowledge.plans import Plan as StagedPlan

MOVES = ("on", "back", "hop", "")  # what a morning log did: moved on, stepped back, asks the hop test


def staged(plan: Plan) -> StagedPlan:
    """The staged plan for the plan's condition."""
    return default_plans().plans[plan.condition]


def stage_of(plan: Plan) -> Stage:
    """The stage the plan is at (the first until a morning log moves it)."""
    stages = staged(plan)
    try:
        return stages.stage(plan.phase) if plan.phase else stages.stages[0]
    except KeyError:
        return stages.stages[0]  # a stage id the data no longer has: start again safely


def stage_number(plan: Plan) -> tuple[int, int]:
    """(1-based number of the current stage, how many stages)."""
    stages = staged(plan)
    return stages.index(stage_of(plan).id) + 1, len(stages.stages)


def following(plan: Plan) -> Stage | None:
    """The stage after the current one, or None at the last."""
    number, total = stage_number(plan)
    return staged(plan).stages[number] if number < total else None


def plan_days(plan: Plan) -> int:
    """How many days the plan runs, from the data (about 12 weeks for a tendon, 6–8 otherwise)."""
    return staged(plan).weeks * 7


def exercises(knowledge: Knowledge, plan: Plan) -> list[Exercise]:
    """The exercises the current stage has unlocked, in the order the data gives them."""
    return [knowledge.exercises[e] for e in stage_of(plan).exercises if e in knowledge.exercises]


def is_final(plan: Plan) -> bool:
    """Whether the plan is at its last stage (speed, hills and heavier strength)."""
    number, total = stage_number(plan)
    return number == total


def sessions_left(plan: Plan) -> int:
    """Sessions still to do at this stage before the next can unlock."""
    return max(0, MIN_SESSIONS - plan.phase_sessions)


@dataclass(frozen=True, slots=True)
class MorningCheck:
    """What a morning log did to the plan."""

    plan: Plan
    move: str  # one of MOVES


def morning_pains(plan: Plan, logs: tuple[LogEntry, ...]) -> list[int]:
    """The pain logged the morning after each session (done or too painful), oldest first."""
    by_day = {e.date: e.pain for e in logs if e.pain is not None}
    start = plan.start_date
    pains = []
    for mark in plan.marks:
        if mark.outcome == "skipped":
            continue
        pain = by_day.get(start + dt.timedelta(days=mark.day + 1))
        if pain is not None:
            pains.append(pain)
    return pains


def morning_check(plan: Plan, logs: tuple[LogEntry, ...], today: dt.date, pain_safe: float, pain_acceptable: float) -> MorningCheck:
    """The 24-hour rule, once a day, on the log the morning after a session (`logs` hold it)."""
    mark = plan.mark(plan.day_of(today) - 1)
    pain = next((e.pain for e in reversed(logs) if e.date == today and e.pain is not None), None)
    if plan.checked == today.isoformat() or mark is None or mark.outcome == "skipped" or pain is None:
        return MorningCheck(plan, "")
    stages, current = staged(plan), stage_of(plan)
    too_painful = mark.outcome == "painful" or pain > pain_acceptable
    pains = morning_pains(plan, logs)
    after = next_stage(stages, current.id, plan.phase_sessions, pains, too_painful, plan.run_ready, pain_safe)
    checked = replace(plan, checked=today.isoformat())
    moved = stages.index(after) - stages.index(current.id)
    if moved:
        return MorningCheck(replace(checked, phase=after, phase_sessions=0, moved="on" if moved > 0 else "back"), "on" if moved > 0 else "back")
    if next_stage(stages, current.id, plan.phase_sessions, pains, too_painful, True, pain_safe) != current.id:
        return MorningCheck(checked, "hop")  # ready in every way but the hop test
    return MorningCheck(checked, "")


def pass_hop_test(plan: Plan) -> Plan:
    """The hop test passed: the gated stage after this one starts now."""
    after = following(plan)
    moved = replace(plan, run_ready=True)
    if after is None or after.gate is None:
        return moved
    return replace(moved, phase=after.id, phase_sessions=0, moved="on")
