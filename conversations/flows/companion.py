"""The recovery companion's flows and commands: /plan, /log, /progress, /mileage, /summary,
/export and /remind.

The records come in with the turn (`turn.records`, a snapshot the adapter loaded) and leave as
effects (SaveLog, SavePlan, SetReminder, CancelReminders, SendChart, SendFiles); a flow updates
`turn.records` too, so the rest of the turn sees what it saved. What a flow is waiting for is in
its frame: `step` and `values` (numbers and ids only, never what the runner wrote).

Flows that read answers in words ("ran 8k, pain 3") read a message before the question and
small-talk step of the chain (`read_first`) — such answers look like questions about load or
like an "ok" — but never before safety: the engine reads every message for warning signs first,
log notes included.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from html import escape
from typing import TYPE_CHECKING

from conversations import companion as logic
from conversations.events import CancelReminders, Reply, SaveLog, SavePlan, SendChart, SendFiles, SetReminder
from conversations.options import option_for_text
from conversations.records import (
    FEELS,
    LogEntry,
    Mark,
    Plan,
    iso,
    new_id,
    parse_time,
    parse_timezone,
)
from knowledge import Urgency
from knowledge.companion import Companion, load_companion
from knowledge.intents import Answer

if TYPE_CHECKING:
    from conversations.reading import MessageReading
    from conversations.render import Renderer
    from conversations.session import Frame
    from conversations.turn import Turn
    from knowledge import Knowledge

COMMON_ZONES = (
    "UTC",
    "Europe/London",
    "Europe/Berlin",
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "Asia/Kolkata",
    "Asia/Tokyo",
    "Australia/Sydney",
)
_COMPANIONS: dict[int, Companion] = {}


def companion_of(knowledge: Knowledge) -> Companion:
    """The companion data that goes with a knowledge base (loaded once)."""
    key = id(knowledge)
    if key not in _COMPANIONS:
        _COMPANIONS[key] = load_companion(knowledge)
    return _COMPANIONS[key]


def _text(turn: Turn, key: str, **values: object) -> str:
    return companion_of(turn.knowledge).message(key, **{k: escape(str(v), quote=False) for k, v in values.items()})


def _say(turn: Turn, key: str, kind: str = "info", topic: str = "", **values: object) -> None:
    turn.replies.append(Reply(_text(turn, key, **values), kind=kind, topic=topic))


def _push(turn: Turn, flow: str, step: str, values: dict[str, str] | None = None) -> Frame:
    """Put a companion flow on top (replacing one of its kind already there) and return it."""
    from conversations.session import Frame

    stack = turn.session.stack
    if stack and stack[-1].flow in COMPANION_FLOWS:
        stack.pop()
    frame = Frame(flow, step=step, values=dict(values or {}))
    stack.append(frame)
    return frame


def _end(turn: Turn) -> None:
    """This companion flow is over: a paused flow below resumes with its question."""
    turn.pop()


def _blocked(turn: Turn) -> bool:
    """After an emergency only help to act on it: no plans, logs or reminders."""
    if turn.in_aftermath():
        turn.aftermath_reminder()
        return True
    return False


def _needs_clinician_first(turn: Turn) -> bool:
    """No exercise plan while a warning needs seeing to today, or a sign withholds exercises."""
    session, knowledge = turn.session, turn.knowledge
    withheld = any(knowledge.red_flags[f].withhold_exercises for f in session.flags if f in knowledge.red_flags) or any(
        knowledge.concerns[c].withhold_exercises for c in session.concerns if c in knowledge.concerns
    )
    said = turn.said()
    if not withheld and (said is None or said < Urgency.URGENT):
        return False
    turn.say("plan_not_now")
    if turn.session.top is not None:
        turn.ask(reminder=True)
    return True


# ----- /log ---------------------------------------------------------------------------------------
class Log:
    """Pain 0–10 and, optionally, today's run, by buttons or in words."""

    def options(self, render: Renderer, frame: Frame) -> dict[str, str]:
        c = companion_of(render.knowledge)
        if frame.step == "pain":
            return {str(n): str(n) for n in range(11)}
        if frame.step == "run":
            return {"none": c.message("log_option_no_run")} | {str(k): f"{k} km" for k in logic.DISTANCE_BUTTONS}
        if frame.step == "feel":
            return {f: c.message(f"log_option_{f}") for f in FEELS}
        return {}

    def prompt(self, render: Renderer, frame: Frame, explain: bool) -> str:
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
        _say(turn, "log_not_understood", kind="not_understood")
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
        text = "\n\n".join([_text(turn, "log_saved", summary=logic.describe_entry(entry)), *map(_esc, advice)])
        turn.replies.append(Reply(text, kind="info", topic="log"))
        _end(turn)


def log_command(turn: Turn, argument: str) -> None:
    """/log, or /log with the entry in words (read through the whole chain, safety first)."""
    if _blocked(turn):
        return
    _push(turn, "log", "pain")
    if argument.strip():
        turn.on_text(argument)
    else:
        turn.ask()


# ----- /plan --------------------------------------------------------------------------------------
class PlanFlow:
    """Today's session card: Done, Too painful or Skip; and once a week, the return-to-run check."""

    def options(self, render: Renderer, frame: Frame) -> dict[str, str]:
        c = companion_of(render.knowledge)
        if frame.step == "criteria":
            return {"yes": render.say("option_yes"), "no": render.say("option_no")}
        return {
            "done": c.message("option_plan_done"),
            "painful": c.message("option_plan_painful"),
            "skip": c.message("option_plan_skip"),
        }

    def prompt(self, render: Renderer, frame: Frame, explain: bool) -> str:
        return companion_of(render.knowledge).message("plan_ask_criteria" if frame.step == "criteria" else "plan_ask_day")

    def read_first(self, turn: Turn, frame: Frame, message: MessageReading) -> bool:
        if "?" in message.text:
            return False
        if frame.step == "criteria" and message.answer in (Answer.YES, Answer.NO):
            self.on_choice(turn, frame, message.answer.value)
            return True
        option = option_for_text(turn, message.text)
        if option is None and frame.step == "day":
            lowered = message.text.lower()
            option = next((k for k, words in DAY_WORDS.items() if any(w in lowered for w in words)), None)
        if option is None:
            return False
        self.on_choice(turn, frame, option)
        return True

    def on_text(self, turn: Turn, frame: Frame, message: MessageReading) -> None:
        turn.say("need_an_answer", kind="not_understood")
        turn.ask()

    def on_choice(self, turn: Turn, frame: Frame, value: str) -> None:
        plan = turn.records.plan
        if plan is None or plan.id != frame.values.get("plan"):
            _end(turn)
            return
        if frame.step == "criteria":
            ready = value == "yes"
            save_plan(turn, replace(plan, run_ready=ready))
            c = companion_of(turn.knowledge)
            _say(turn, "plan_run_ready" if ready else "plan_not_ready", walk_run=c.fact("walk_run"))
            _end(turn)
            return
        day = int(frame.values.get("day", "0"))
        plan_day = logic.plan_day(plan, day)
        outcome = {"done": "done", "painful": "painful", "skip": "skipped"}.get(value)
        if outcome is None:
            turn.ask()
            return
        updated = plan.with_mark(Mark(day, outcome))
        extra: list[str] = []
        if outcome == "done" and plan_day.stage is not None:
            stage_done = updated.stage_done + 1
            if stage_done >= logic.STAGE_REPEATS and updated.stage < len(logic.JOG_MINUTES) - 1:
                updated = replace(updated, stage=updated.stage + 1, stage_done=0)
                extra.append(_text(turn, "plan_stage_up", stage=updated.stage + 1))
            else:
                updated = replace(updated, stage_done=stage_done)
        if outcome == "painful":
            was_easiest = plan_day.level == "easier"
            updated = replace(updated, shift=max(updated.shift - 1, -2))
            if plan_day.stage is not None:
                updated = replace(updated, stage=max(0, updated.stage - 1), stage_done=0)
                extra.append(_text(turn, "plan_stage_down", stage=updated.stage + 1))
        save_plan(turn, updated)
        date = turn.today()
        status = logic.status_line(companion_of(turn.knowledge), updated, date)
        condition = turn.knowledge.conditions.get(plan.condition)
        if outcome == "done":
            _say(turn, "plan_done", status=status)
        elif outcome == "skipped":
            _say(turn, "plan_skipped", status=status)
        else:
            level = logic.plan_day(updated, day + 1).level
            stop_if = next((e.stop_if for e in condition.exercises if e.stop_if), "") if condition else ""
            _say(turn, "plan_painful", level=_level_name(turn, level), stop_if=stop_if)
            refer_after = int(companion_of(turn.knowledge).number("painful_days_to_refer"))
            if was_easiest or logic.painful_recently(updated, day) >= refer_after:
                seek = condition.see_a_clinician.text if condition and condition.see_a_clinician else ""
                _say(turn, "plan_painful_refer", kind="warning", refer=companion_of(turn.knowledge).fact("too_painful_refer"), seek=seek)
        for line in extra:
            turn.replies.append(Reply(line, kind="info"))
        if outcome == "done" and not updated.run_ready and day >= 7 and day % 7 == 0:
            frame.step = "criteria"
            turn.ask()
            return
        _end(turn)

    def finish(self, turn: Turn, frame: Frame) -> None:
        _end(turn)


DAY_WORDS = {
    "painful": ("too painful", "too sore", "hurt", "painful"),
    "skip": ("skip", "skipped", "not today", "missed"),
    "done": ("done", "did it", "finished", "completed"),
}


def save_plan(turn: Turn, plan: Plan) -> None:
    plan = replace(plan, updated=iso(turn.engine.now()))
    turn.effects.append(SavePlan(plan))
    turn.records = turn.records.with_plan(plan)


def _level_name(turn: Turn, level: str) -> str:
    return _text(turn, f"plan_level_{level}")


def plan_command(turn: Turn, argument: str = "") -> None:
    """/plan or "Start a plan": today's card of the plan in progress, or a new plan for the
    condition of the last result — not when what the runner said needs a clinician first."""
    if _blocked(turn) or _needs_clinician_first(turn):
        return
    knowledge = turn.knowledge
    current = turn.records.plan
    wanted = argument if argument in knowledge.conditions else turn.session.last_condition
    today = turn.today()
    if current is not None and (not wanted or wanted == current.condition) and current.day_of(today) < logic.PLAN_WEEKS * 7:
        show_day(turn, current)
        return
    if not wanted:
        _say(turn, "plan_no_condition")
        if turn.session.top is None:
            turn.ask()
        return
    plan = Plan(id=new_id(), condition=wanted, start=today.isoformat())
    save_plan(turn, plan)
    c = companion_of(knowledge)
    _say(turn, "plan_started", weeks=logic.PLAN_WEEKS, name=knowledge.conditions[wanted].name, easier=c.fact("easier_week"))
    show_day(turn, turn.records.plan or plan)


def day_card(turn: Turn, plan: Plan, day: int) -> str:
    """Today's session: the exercises at today's dose, and the walk-run stage on a run day."""
    knowledge = turn.knowledge
    condition = knowledge.conditions[plan.condition]
    today = logic.plan_day(plan, day)
    c = companion_of(knowledge)
    if today.rest:
        return _text(turn, "plan_card_rest", day=day + 1, week=today.week, status=logic.status_line(c, plan, turn.today()))
    lines = []
    for exercise in condition.exercises:
        lines.append(f"• <b>{escape(exercise.name)}</b> — {escape(logic.dose(exercise, today.level))}")
        if today.level == "harder" and exercise.progression:
            lines.append(escape(c.message("plan_progression", progression=exercise.progression)))
    run = ""
    if today.stage is not None:
        walk, jog = logic.stage_minutes(today.stage)
        run = _text(
            turn, "plan_run", stage=today.stage + 1, stages=len(logic.JOG_MINUTES), walk=logic.km(walk), jog=logic.km(jog)
        )
    return c.message(
        "plan_card", day=day + 1, week=today.week, level=escape(_level_name(turn, today.level)), exercises="\n".join(lines), run=run
    )


# flows a reminder must not push a plan card on top of: their pending question comes first
BUSY_FLOWS = frozenset({"triage", "check", "aftermath"})


def reminder_due(turn: Turn) -> None:
    """The daily reminder: a line, and today's card when a plan is under way — but only a line in
    the middle of a triage or after an emergency, where the card would cover the question."""
    _say(turn, "reminder_due", topic="reminder")
    top = turn.session.top
    if turn.records.plan is not None and (top is None or top.flow not in BUSY_FLOWS):
        plan_command(turn)


def show_day(turn: Turn, plan: Plan) -> None:
    today = turn.today()
    day = plan.day_of(today)
    if day >= logic.PLAN_WEEKS * 7:
        _say(turn, "plan_finished", weeks=logic.PLAN_WEEKS)
        return
    text = day_card(turn, plan, day)
    mark = plan.mark(day)
    rest = logic.plan_day(plan, day).rest
    if mark is not None:
        text += "\n\n" + _text(turn, "plan_card_marked", outcome=mark.outcome)
    turn.replies.append(Reply(text, kind="info", topic="plan"))
    if mark is None and not rest:
        _push(turn, "plan", "day", {"day": str(day), "plan": plan.id})
        turn.ask()


# ----- /remind ------------------------------------------------------------------------------------
class Remind:
    """The time zone, asked once, for /remind 07:30."""

    def options(self, render: Renderer, frame: Frame) -> dict[str, str]:
        return {zone: zone.replace("_", " ") for zone in COMMON_ZONES}

    def prompt(self, render: Renderer, frame: Frame, explain: bool) -> str:
        return companion_of(render.knowledge).message("remind_ask_tz")

    def read_first(self, turn: Turn, frame: Frame, message: MessageReading) -> bool:
        zone = parse_timezone(message.text)
        if zone is None:
            return False
        self.on_choice(turn, frame, zone)
        return True

    def on_text(self, turn: Turn, frame: Frame, message: MessageReading) -> None:
        _say(turn, "remind_tz_not_understood", kind="not_understood")
        turn.ask()

    def on_choice(self, turn: Turn, frame: Frame, value: str) -> None:
        zone = parse_timezone(value)
        if zone is None:
            turn.ask()
            return
        set_reminder(turn, frame.values.get("time", "07:30"), zone)
        _end(turn)

    def finish(self, turn: Turn, frame: Frame) -> None:
        _end(turn)


def set_reminder(turn: Turn, time: str, zone: str) -> None:
    from conversations.records import make_reminder

    turn.effects.append(SetReminder(time, zone))
    turn.records = replace(turn.records, reminder=make_reminder(time, zone, turn.engine.now()))
    _say(turn, "remind_set", time=time, tz=zone)


def remind_command(turn: Turn, argument: str) -> None:
    """/remind 07:30, /remind off, or /remind (what is set)."""
    reminder = turn.records.reminder
    argument = argument.strip()
    if argument in ("off", "stop", "cancel", "none"):
        if reminder is not None and reminder.active:
            turn.effects.append(CancelReminders())
            turn.records = replace(turn.records, reminder=replace(reminder, active=False))
            _say(turn, "remind_off")
        else:
            _say(turn, "remind_none")
        return
    time = parse_time(argument) if argument else None
    if time is None:
        if not argument and reminder is not None and reminder.active:
            _say(turn, "remind_current", time=reminder.time, tz=reminder.tz)
        else:
            _say(turn, "remind_help")
        return
    if _blocked(turn):
        return
    if turn.records.timezone:
        set_reminder(turn, time, turn.records.timezone)
        return
    _push(turn, "remind", "timezone", {"time": time})
    turn.ask()


# ----- /mileage -------------------------------------------------------------------------------------
class Mileage:
    """The last weeks' distance, typed, when the log has none."""

    def options(self, render: Renderer, frame: Frame) -> dict[str, str]:
        return {}

    def prompt(self, render: Renderer, frame: Frame, explain: bool) -> str:
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

    def on_text(self, turn: Turn, frame: Frame, message: MessageReading) -> None:
        _say(turn, "mileage_not_understood", kind="not_understood")
        turn.ask()

    def on_choice(self, turn: Turn, frame: Frame, value: str) -> None:
        turn.ask()

    def finish(self, turn: Turn, frame: Frame) -> None:
        _end(turn)


def mileage_command(turn: Turn, argument: str) -> None:
    if _blocked(turn):
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
        _push(turn, "mileage", "weeks")
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
        _text(
            turn,
            "mileage_intro",
            weeks=" → ".join(logic.km(w) for w in weeks),
            longest=f"{logic.km(longest)} km" if longest else c.message("mileage_unknown_longest"),
        )
    ]
    for n, week in enumerate(logic.plan_mileage(c, weeks, longest, injured), start=1):
        days = _text(
            turn,
            "mileage_days",
            long=logic.km(week.long_km),
            tempo=c.message("mileage_tempo") if week.tempo else "",
            easy=week.easy_runs,
            rest=week.rest_days,
        )
        if week.cross_training:
            days += ", 1 cross-training day"
        lines.append(_text(turn, "mileage_week", n=n, km=logic.km(week.km), days=days))
    notes = []
    if injured:
        sore = last_pain > c.number("pain_safe") or logic.worsening(scores)
        key = "mileage_injured" if sore else "mileage_in_rehab"  # a plan under way, not yet run-ready
        notes.append(_text(turn, key, pain=last_pain, cross=c.fact("cross_training")))
    if len(weeks) >= 2 and weeks[-2] > 0 and weeks[-1] / weeks[-2] - 1 > c.number("big_increase"):
        notes.append(_text(turn, "mileage_jump", percent=round(100 * (weeks[-1] / weeks[-2] - 1)), big=c.fact("big_increase")))
    notes.append(_text(turn, "mileage_notes", ten=c.fact("ten_percent"), spike=c.fact("long_run_spike")))
    turn.replies.append(Reply("\n".join(lines) + "\n\n" + "\n\n".join(notes), kind="info", topic="load"))


# ----- /progress, /summary, /export -----------------------------------------------------------------
def progress_command(turn: Turn) -> None:
    c = companion_of(turn.knowledge)
    records = turn.records
    if not records.logs:
        _say(turn, "progress_empty")
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
    problem = _text(turn, "summary_problem", name=condition.name) if condition else _text(turn, "summary_problem_none")

    def names(ids: list[str]) -> str:
        return ", ".join(knowledge.red_flags[f].name for f in ids if f in knowledge.red_flags)

    if session.flags or session.cleared or session.doubtful:
        raised = names(session.flags + session.doubtful) or c.message("summary_flags_raised_none")
        flags = _text(turn, "summary_flags", raised=raised, cleared=names(session.cleared) or "–")
    else:
        flags = _text(turn, "summary_flags_none")
    scored = [e for e in records.logs if e.pain is not None]
    if scored:
        pain = _text(
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
        pain = _text(turn, "summary_pain_none")
    runs = [e for e in records.logs if e.distance_km]
    if runs:
        weekly = [km for _, km in logic.weekly_distance(records, until=today)][-4:]
        running = _text(
            turn,
            "summary_running",
            runs=len(runs),
            km=logic.km(sum(e.distance_km or 0 for e in runs)),
            weeks=" / ".join(logic.km(w) for w in weekly),
        )
    else:
        running = _text(turn, "summary_running_none")
    plan = records.plan
    if plan is not None and plan.condition in knowledge.conditions:
        a = logic.adherence(plan, today)
        day = plan.day_of(today)
        plan_text = _text(
            turn,
            "summary_plan",
            name=knowledge.conditions[plan.condition].name,
            day=day + 1,
            level=_level_name(turn, logic.plan_day(plan, day).level),
            done=a.done,
            scheduled=a.scheduled,
            percent=a.percent,
            painful=a.painful,
            skipped=a.skipped,
        )
    else:
        plan_text = _text(turn, "summary_plan_none")
    text = c.message("summary", problem=problem, flags=flags, pain=pain, running=running, plan=plan_text)
    turn.replies.append(Reply(text, kind="info", topic="summary"))
    if session.top is not None:
        turn.ask(reminder=True)


def export_command(turn: Turn) -> None:
    records = turn.records
    if not (records.logs or records.plans or records.reminder):
        _say(turn, "export_empty")
    else:
        caption = _text(turn, "export_caption")
        turn.effects.append(SendFiles(logic.export_files(records), caption=caption))
        turn.replies.append(Reply(caption, kind="info", topic="export"))
    if turn.session.top is not None:
        turn.ask(reminder=True)


def _esc(text: str) -> str:
    """Advice is built from data already; escape it for the HTML subset."""
    return escape(text, quote=False)


COMPANION_FLOWS = frozenset({"log", "plan", "remind", "mileage"})
COMMANDS = ("plan", "log", "progress", "mileage", "summary", "export", "remind")
