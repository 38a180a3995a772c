"""The runner's log: /log (pain 0–10 and, optionally, today's run, by buttons or in words), and
what is made of it: /progress (the trend and a chart), /summary (for a clinician), /export.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

from conversations import recovery as logic
from conversations.events import Reply, SaveLog, SendChart, SendFiles
from conversations.flows.recovery_common import (
    blocked,
    companion_of,
    companion_say,
    companion_text,
    end_flow,
    escape_text,
    level_name,
    push_frame,
)
from conversations.options import option_for_text
from conversations.recovery_records import (
    FEELS,
    LogEntry,
    iso,
    new_id,
)

if TYPE_CHECKING:
    from conversations.reading import MessageReading
    from conversations.render.base import RendererBase
    from conversations.session import Frame
    from conversations.turn import Turn


# ----- /log ---------------------------------------------------------------------------------------
class Log:
    """Pain 0–10 and, optionally, today's run, by buttons or in words."""

    def options(self, render: RendererBase, frame: Frame) -> dict[str, str]:
        c = companion_of(render.knowledge)
        if frame.step == "pain":
            return {str(n): str(n) for n in range(11)}
        if frame.step == "run":
            return {"none": c.message("log_option_no_run")} | {str(k): f"{k} km" for k in logic.DISTANCE_BUTTONS}
        if frame.step == "feel":
            return {f: c.message(f"log_option_{f}") for f in FEELS}
        return {}

    def prompt(self, render: RendererBase, frame: Frame, explain: bool) -> str:
        return companion_of(render.knowledge).message(f"log_ask_{frame.step}")

    def read_first(self, turn: Turn, frame: Frame, message: MessageReading) -> bool:
        if "?" in message.text:
            return False
        option = option_for_text(turn, message.text) if frame.step != "pain" else None
        if option is not None:
            self.on_choice(turn, frame, option)
            return True
        reading = logic.read_log(message.text, expect_pain=frame.step == "pain")
        if not reading.anything:
            return message.topic is None and message.small_talk is None and self._not_understood(turn)
        values = frame.values
        if reading.pain is not None:
            values["pain"] = str(reading.pain)
        if reading.distance_km is not None:
            values["km"] = str(reading.distance_km)
        if reading.minutes is not None:
            values["min"] = str(round(reading.minutes, 1))
        if reading.feel and ("km" in values or frame.step == "feel"):
            values["feel"] = reading.feel
        if reading.no_run and "km" not in values:
            values["no_run"] = "1"
        self.advance(turn, frame)
        return True

    def _not_understood(self, turn: Turn) -> bool:
        companion_say(turn, "log_not_understood", kind="not_understood")
        turn.ask()
        return True

    def on_text(self, turn: Turn, frame: Frame, message: MessageReading) -> None:
        self._not_understood(turn)

    def on_choice(self, turn: Turn, frame: Frame, value: str) -> None:
        values = frame.values
        if frame.step == "pain" and value.isdigit():
            values["pain"] = value
        elif frame.step == "run":
            if value == "none":
                values["no_run"] = "1"
            else:
                values["km"] = value
        elif frame.step == "feel" and value in FEELS:
            values["feel"] = value
        self.advance(turn, frame)

    def advance(self, turn: Turn, frame: Frame) -> None:
        values = frame.values
        if "pain" not in values:
            frame.step = "pain"
        elif "km" not in values and "no_run" not in values:
            frame.step = "run"
        elif "km" in values and "feel" not in values:
            frame.step = "feel"
        else:
            self.finish(turn, frame)
            return
        turn.ask()

    def finish(self, turn: Turn, frame: Frame) -> None:
        values = frame.values
        entry = LogEntry(
            id=new_id(),
            at=iso(turn.engine.now()),
            day=turn.today().isoformat(),
            pain=int(values["pain"]) if "pain" in values else None,
            distance_km=float(values["km"]) if "km" in values else None,
            minutes=float(values["min"]) if "min" in values and "km" in values else None,
            feel=values.get("feel", "") if "km" in values else "",
        )
        turn.effects.append(SaveLog(entry))
        turn.records = turn.records.with_log(entry)
        c = companion_of(turn.knowledge)
        condition = turn.session.last_condition or (turn.records.plan.condition if turn.records.plan else "")
        advice = logic.log_advice(c, turn.records, entry, condition)
        text = "\n\n".join([companion_text(turn, "log_saved", summary=logic.describe_entry(entry)), *map(escape_text, advice)])
        turn.replies.append(Reply(text, kind="info", topic="log"))
        end_flow(turn)


def log_command(turn: Turn, argument: str) -> None:
    """/log, or /log with the entry in words (read through the whole chain, safety first)."""
    if blocked(turn):
        return
    push_frame(turn, "log", "pain")
    if argument.strip():
        turn.on_text(argument)
    else:
        turn.ask()



# ----- /progress, /summary, /export -----------------------------------------------------------------
def progress_command(turn: Turn) -> None:
    c = companion_of(turn.knowledge)
    records = turn.records
    if not records.logs:
        companion_say(turn, "progress_empty")
    else:
        spec = logic.chart_spec(c, records)
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
    scored = [e for e in records.logs if e.pain is not None]
    if scored:
        pain = companion_text(
            turn,
            "summary_pain",
            count=len(scored),
            first=scored[0].day,
            last=scored[-1].day,
            start=scored[0].pain,
            latest=scored[-1].pain,
            high=max(e.pain or 0 for e in scored),
            trend=logic.trend_line(c, records),
        )
    else:
        pain = companion_text(turn, "summary_pain_none")
    runs = [e for e in records.logs if e.distance_km]
    if runs:
        weekly = [km for _, km in logic.weekly_distance(records, until=today)][-4:]
        running = companion_text(
            turn,
            "summary_running",
            runs=len(runs),
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


def export_command(turn: Turn) -> None:
    records = turn.records
    if not (records.logs or records.plans or records.reminder):
        companion_say(turn, "export_empty")
    else:
        caption = companion_text(turn, "export_caption")
        turn.effects.append(SendFiles(logic.export_files(records), caption=caption))
        turn.replies.append(Reply(caption, kind="info", topic="export"))
    if turn.session.top is not None:
        turn.ask(reminder=True)
