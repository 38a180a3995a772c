"""What is made of the log: /progress (the trend and a chart), /summary (for a clinician), /export."""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

from conversations import recovery as logic
from conversations.events import ChatAction, Reply, SendChart, SendFiles
from conversations.flows.recovery_common import (
    companion_of,
    companion_say,
    companion_text,
    level_name,
)
from conversations.trend import chart_spec, date_range, direction, scored_days

if TYPE_CHECKING:
    from conversations.recovery_records import ChatRecords
    from conversations.turn import Turn


# ----- /progress, /summary, /export -----------------------------------------------------------------
def progress_command(turn: Turn) -> None:
    """/progress: the trend in a sentence, and the chart (its caption is the same sentence)."""
    c = companion_of(turn.knowledge)
    records = turn.records
    if not records.logs:
        companion_say(turn, "progress_empty")
    else:
        spec = chart_spec(c, records, turn.today())
        turn.effects.append(ChatAction("upload_photo"))  # drawing takes a moment
        turn.effects.append(SendChart(spec))
        turn.replies.append(Reply(escape(spec.caption, quote=False), kind="info", topic="progress"))
    if turn.session.top is not None:
        turn.ask(reminder=True)


def summary_command(turn: Turn) -> None:
    """A short text for a physio: the problem, the warning signs answered, pain, running, plan."""
    knowledge = turn.knowledge
    session = turn.session
    records = turn.records
    c = companion_of(knowledge)
    today = turn.today()
    condition = knowledge.conditions.get(session.last_condition) or (
        knowledge.conditions.get(records.plan.condition) if records.plan else None
    )
    problem = companion_text(turn, "summary_problem", name=condition.name) if condition else companion_text(turn, "summary_problem_none")

    def names(ids: list[str]) -> str:
        return ", ".join(knowledge.red_flags[f].name for f in ids if f in knowledge.red_flags)

    if session.flags or session.cleared or session.doubtful:
        raised = names(session.flags + session.doubtful) or c.message("summary_flags_raised_none")
        flags = companion_text(turn, "summary_flags", raised=raised, cleared=names(session.cleared) or "–")
    else:
        flags = companion_text(turn, "summary_flags_none")
    pain = pain_summary(turn, records)
    runs = [e for e in records.logs if e.distance_km]
    if runs:
        weekly = [km for _, km in logic.weekly_distance(records, until=today)][-4:]
        running = companion_text(
            turn,
            "summary_running",
            runs=f"{len(runs)} run" if len(runs) == 1 else f"{len(runs)} runs",
            km=logic.km(sum(e.distance_km or 0 for e in runs)),
            weeks=" / ".join(logic.km(w) for w in weekly),
        )
    else:
        running = companion_text(turn, "summary_running_none")
    plan = records.plan
    if plan is not None and plan.condition in knowledge.conditions:
        a = logic.adherence(plan, today)
        day = plan.day_of(today)
        plan_text = companion_text(
            turn,
            "summary_plan",
            name=knowledge.conditions[plan.condition].name,
            day=day + 1,
            level=level_name(turn, logic.plan_day(plan, day).level),
            done=a.done,
            scheduled=a.scheduled,
            percent=a.percent,
            painful=a.painful,
            skipped=a.skipped,
        )
    else:
        plan_text = companion_text(turn, "summary_plan_none")
    text = c.message("summary", problem=problem, flags=flags, pain=pain, running=running, plan=plan_text)
    turn.replies.append(Reply(text, kind="info", topic="summary"))
    if session.top is not None:
        turn.ask(reminder=True)


def pain_summary(turn: Turn, records: ChatRecords) -> str:
    """The pain scores for a clinician: dates, first, latest, range and direction — no advice."""
    scored = scored_days(records)
    if not scored:
        return companion_text(turn, "summary_pain_none")
    pains = [e.pain or 0 for e in scored]
    dates = date_range(scored[0].date, scored[-1].date)
    if len(scored) == 1:
        return companion_text(turn, "summary_pain_one", date=dates, latest=pains[0])
    return companion_text(
        turn,
        "summary_pain",
        count=len(scored),
        dates=dates,
        start=pains[0],
        latest=pains[-1],
        low=min(pains),
        high=max(pains),
        trend=companion_text(turn, f"summary_trend_{direction(scored)}"),
    )


def export_command(turn: Turn) -> None:
    """/export: every record as CSV and JSON files."""
    records = turn.records
    if not (records.logs or records.plans or records.reminder):
        companion_say(turn, "export_empty")
    else:
        caption = companion_text(turn, "export_caption")
        turn.effects.append(ChatAction("upload_document"))
        turn.effects.append(SendFiles(logic.export_files(records), caption=caption))
        turn.replies.append(Reply(caption, kind="info", topic="export"))
    if turn.session.top is not None:
        turn.ask(reminder=True)
