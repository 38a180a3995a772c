"""The recovery companion's reasoning, as pure functions of a runner's records.

Reading a log in words, the day-by-day plan, the advice a log entry calls for (the
pain-monitoring limits, a climbing trend, the day-after rule, a long-run spike), the trend
line, the load planner, the summary for a clinician and the export. No conversation state and
no I/O: the flows (flows/log.py, flows/plan.py ...) call these and turn them into replies and
effects. Wording and thresholds come from knowledge/data/companion.yaml.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

from conversations.events import OutFile
from conversations.recovery_records import ChatRecords, LogEntry, Plan
from knowledge import Exercise
from knowledge.recovery_data import Companion

REST_DAYS = frozenset({3, 6})  # days of the plan's week with no exercises (two a week)
RUN_DAYS = frozenset({0, 2, 4})  # walk-run days once the criteria are met: a day's rest between runs
JOG_MINUTES = (0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5.0)  # per 5-minute block, stage by stage
STAGE_REPEATS = 2  # do each stage at least twice
LEVELS = ("easier", "full", "harder")
DISTANCE_BUTTONS = (3, 5, 8, 10, 15, 21)

_NUMBER = r"(\d+(?:[.,]\d+)?)"
_DISTANCE = re.compile(_NUMBER + r"\s*(k|km|kms|kilomet(?:er|re)s?|mi|mile|miles)\b", re.I)
_HALF = re.compile(r"\b(half[- ]?marathon|half)\b", re.I)
_MINUTES = re.compile(r"(?:(\d+)\s*h(?:ours?|rs?)?\s*)?(\d+)\s*(?:min|mins|minutes|m)\b", re.I)
_HOURS_ONLY = re.compile(r"\b(\d+(?:[.,]\d+)?)\s*(?:h|hr|hrs|hours?)\b", re.I)
_CLOCK = re.compile(r"\b(\d{1,2}):(\d{2})(?::(\d{2}))?\b")
_PAIN = re.compile(r"(?:pain|sore(?:ness)?|hurts?|ache|aching)\D{0,12}?(\d{1,2})(?:\s*/\s*10|\s*out of\s*10)?", re.I)
_SCORE = re.compile(r"\b(\d{1,2})\s*(?:/|out of)\s*10\b", re.I)
_BARE_NUMBER = re.compile(r"(?<![\d.,])(\d{1,2})(?![\d.,]\d)")
_NO_RUN = re.compile(r"\b(no run|didn'?t run|did not run|rest day|no running|not run)\b", re.I)
FEEL_WORDS = {
    "painful": ("painful", "limp", "limping", "sharp", "agony", "hurt a lot", "stabbing"),
    "hard": ("hard", "tough", "heavy", "tired", "struggled", "slog", "difficult"),
    "ok": ("ok", "okay", "alright", "average", "fine-ish", "so-so", "meh"),
    "good": ("easy", "good", "great", "fine", "comfortable", "strong", "felt good", "nice", "relaxed"),
}


# ----- reading a log in words ---------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class LogReading:
    """What a log message says: each part None (or "") when it does not say it."""

    pain: int | None = None
    distance_km: float | None = None
    minutes: float | None = None
    feel: str = ""
    no_run: bool = False

    @property
    def anything(self) -> bool:
        return self.pain is not None or self.distance_km is not None or self.no_run or bool(self.feel)


def read_log(text: str, expect_pain: bool = False) -> LogReading:
    """ "ran 8k in 45 min, felt easy, pain 3" -> pain 3, 8 km, 45 min, good.

    With `expect_pain` (the pain question is pending) a lone number 0–10 is the pain score.
    """
    lowered = text.lower()
    distance = None
    if match := _DISTANCE.search(lowered):
        value = float(match[1].replace(",", "."))
        distance = round(value * 1.609, 1) if match[2].startswith("mi") else value
    elif _HALF.search(lowered):
        distance = 21.1
    rest = _DISTANCE.sub(" ", lowered)
    minutes = None
    if match := _CLOCK.search(rest):
        a, b, c = int(match[1]), int(match[2]), match[3]
        minutes = a * 60 + b + int(c) / 60 if c else a + b / 60  # 1:05:00 or 45:30 (min:s)
        rest = _CLOCK.sub(" ", rest)
    elif match := _MINUTES.search(rest):
        minutes = int(match[1] or 0) * 60 + int(match[2])
        rest = _MINUTES.sub(" ", rest)
    elif match := _HOURS_ONLY.search(rest):
        minutes = float(match[1].replace(",", ".")) * 60
        rest = _HOURS_ONLY.sub(" ", rest)
    pain = None
    if match := _PAIN.search(rest) or _SCORE.search(rest):
        pain = int(match[1])
    elif expect_pain and len(bare := _BARE_NUMBER.findall(rest)) == 1:
        pain = int(bare[0])  # "no run today, hip about a 3": the one number left is the score
    if pain is not None and pain > 10:
        pain = None
    feel = ""
    for kind, words in FEEL_WORDS.items():  # the worst feeling named wins
        if any(re.search(rf"\b{re.escape(w)}\b", rest) for w in words):
            feel = kind
            break
    if distance is not None and not 0 < distance <= 400:
        distance = None
    if minutes is not None and not 0 < minutes <= 72 * 60:
        minutes = None
    return LogReading(pain, distance, minutes, feel, bool(_NO_RUN.search(lowered)))


def describe_entry(entry: LogEntry) -> str:
    """ "pain 3/10; ran 8 km in 45 min, felt good" (for the confirmation)."""
    parts = []
    if entry.pain is not None:
        parts.append(f"pain {entry.pain}/10")
    if entry.distance_km is not None:
        run = f"ran {_km(entry.distance_km)} km"
        if entry.minutes:
            run += f" in {_duration(entry.minutes)}"
        if entry.feel:
            run += f", felt {entry.feel}"
        parts.append(run)
    return "; ".join(parts) or "nothing"


# ----- advice after a log --------------------------------------------------------------------------
def log_advice(companion: Companion, records: ChatRecords, entry: LogEntry, condition: str = "") -> list[str]:
    """What a new entry calls for, most important first (`records` already holds it)."""
    c = companion
    safe, acceptable = int(c.number("pain_safe")), int(c.number("pain_acceptable"))
    said: list[str] = []
    nerve = condition == "disc_irritation"
    if entry.pain is not None:
        if entry.pain >= c.number("pain_severe"):  # one message: rest today, and the check offered
            said.append(c.message("log_pain_severe", pain=entry.pain))
        elif entry.pain > acceptable:
            said.append(c.message("log_pain_too_high", pain=entry.pain, limits=c.fact("pain_limits")))
        elif entry.pain > safe:
            said.append(c.message("log_pain_acceptable", pain=entry.pain, limits=c.fact("pain_limits"), next_day=c.fact("next_day_rule")))
        if entry.pain > safe and nerve:
            said.append(c.message("log_pain_nerve", not_for_nerves=c.fact("not_for_nerves")))
    if entry.feel == "painful":
        said.append(c.message("log_run_painful"))
    before = [e for e in records.logs if e.id != entry.id and e.day < entry.day]
    if entry.pain is not None and before:
        last = before[-1]
        earlier_pain = [e.pain for e in before if e.pain is not None]
        if last.ran and last.pain is not None and entry.pain > last.pain and entry.pain > safe - 1:
            said.append(c.message("log_next_day_worse", pain=entry.pain, before=last.pain, next_day=c.fact("next_day_rule")))
        elif worsening([*earlier_pain, entry.pain]):
            scores = " → ".join(str(p) for p in [*earlier_pain, entry.pain][-3:])
            said.append(c.message("log_worsening", scores=scores, worsening=c.fact("worsening")))
    if entry.distance_km is not None:
        longest = longest_run(records, entry.date, exclude=entry.id)
        if longest and entry.distance_km > longest * (1 + c.number("long_run_spike")):
            said.append(c.message("log_spike", km=_km(entry.distance_km), longest=_km(longest), spike=c.fact("long_run_spike")))
    if not said and entry.pain is not None:
        said.append(c.message("log_pain_safe"))
    return said


def worsening(scores: Sequence[int]) -> bool:
    """Pain climbing: the last three scores each higher, or the last three average two points
    above the three before."""
    if len(scores) >= 3 and scores[-3] < scores[-2] < scores[-1]:
        return True
    if len(scores) >= 6:
        return sum(scores[-3:]) / 3 - sum(scores[-6:-3]) / 3 >= 2
    return False


def longest_run(records: ChatRecords, day: dt.date, exclude: str = "", window: int = 30) -> float | None:
    """The longest run of the `window` days before `day`."""
    runs = [
        e.distance_km
        for e in records.logs
        if e.distance_km is not None and e.id != exclude and 0 <= (day - e.date).days <= window and e.date < day
    ]
    return max(runs) if runs else None


def weekly_distance(records: ChatRecords, until: dt.date | None = None) -> list[tuple[dt.date, float]]:
    """(Monday, km) for every week from the first log to `until` (or the last log), empty weeks 0."""
    if not records.logs:
        return []
    first = _monday(records.logs[0].date)
    last = _monday(until or records.logs[-1].date)
    totals: dict[dt.date, float] = {}
    week = first
    while week <= last:
        totals[week] = 0.0
        week += dt.timedelta(days=7)
    for e in records.logs:
        if e.distance_km is not None and _monday(e.date) in totals:
            totals[_monday(e.date)] += e.distance_km
    return [(w, round(km, 1)) for w, km in totals.items()]


# ----- the plan ---------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class PlanDay:
    """One day of a plan, as the card shows it."""

    day: int
    week: int
    rest: bool
    level: str  # easier, full or harder
    stage: int | None  # the walk-run stage (0-based) when today is a run day, else None


def plan_day(plan: Plan, day: int) -> PlanDay:
    """A day of the plan: the dose follows the stage, not the date — the first two sessions of
    a stage at the easier dose, then the full one; the harder dose only at the last stage."""
    from conversations import plan_stages

    week = day // 7 + 1
    base = 0 if plan.phase_sessions < 2 else 2 if plan_stages.is_final(plan) else 1
    level = LEVELS[max(0, min(2, base + plan.shift))]
    rest = day % 7 in REST_DAYS
    walk_run = plan_stages.stage_of(plan).running == "walk_run"  # entered only after the hop test
    stage = plan.stage if walk_run and day % 7 in RUN_DAYS else None
    return PlanDay(day, week, rest, level, stage)


def dose(exercise: Exercise, level: str) -> str:
    """An exercise's dose at a level: week 1 a set fewer and the shorter hold, then the full dose."""
    if level != "easier":
        return exercise.prescription
    sets = max(1, (exercise.sets or 1) - 1) if exercise.sets else None
    parts = []
    if exercise.hold_seconds is not None:
        parts.append(f"{sets} × {exercise.hold_seconds[0]} s" if sets else f"hold {exercise.hold_seconds[0]} s")
    elif exercise.reps:
        reps = max(5, round(exercise.reps * 0.7))
        parts.append(f"{sets} × {reps}" if sets else f"{reps} reps")
    if exercise.per_side:
        parts.append("each side")
    text = " ".join(parts)
    return f"{text}, rest {exercise.rest_seconds} s" if exercise.rest_seconds else text


def stage_minutes(stage: int) -> tuple[float, float]:
    """(walk, jog) minutes per 5-minute block at a walk-run stage."""
    jog = JOG_MINUTES[min(stage, len(JOG_MINUTES) - 1)]
    return 5 - jog, jog


@dataclass(frozen=True, slots=True)
class Adherence:
    done: int
    painful: int
    skipped: int
    scheduled: int  # exercise days so far (rest days do not count), today included once marked
    streak: int  # exercise days done in a row, up to the latest marked day (rest days do not break it)

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.scheduled) if self.scheduled else 0


def adherence(plan: Plan, today: dt.date) -> Adherence:
    now = plan.day_of(today)
    marks = {m.day: m.outcome for m in plan.marks}
    days = [d for d in range(0, now + 1) if d % 7 not in REST_DAYS and (d < now or d in marks)]
    done = sum(marks.get(d) == "done" for d in days)
    streak = 0
    for d in reversed(days):
        if marks.get(d) == "done":
            streak += 1
        elif d == now and d not in marks:
            continue
        else:
            break
    painful = sum(marks.get(d) == "painful" for d in days)
    skipped = sum(marks.get(d) == "skipped" for d in days)
    return Adherence(done, painful, skipped, len(days), streak)


def status_line(companion: Companion, plan: Plan, today: dt.date) -> str:
    a = adherence(plan, today)
    if not a.scheduled:
        return companion.message("plan_status_none")
    return companion.message("plan_status", streak=a.streak, done=a.done, scheduled=a.scheduled, percent=a.percent)


def painful_recently(plan: Plan, day: int, window: int = 7) -> int:
    return sum(1 for m in plan.marks if m.outcome == "painful" and 0 <= day - m.day < window)


# ----- the load planner ----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Week:
    km: float
    long_km: float
    tempo: bool
    easy_runs: int
    rest_days: int
    cross_training: bool
    easy_km: float = 0.0  # each easy (or tempo) run, about


def week_shape(companion: Companion, km: float, longest: float | None, easy_only: bool) -> Week:
    """How a week's distance splits into runs: the long run about a third of the week and at
    most `long_run_spike` over the longest of the last 30 days — once, not week on week; no tempo while
    sore; and no easy run longer than the long run — the runs even out instead."""
    km = round(km * 2) / 2
    spike = companion.number("long_run_spike")
    runs = 2 if km < 12 else 3 if km < 30 else 4
    if easy_only:
        runs = max(2, runs - 1)
    cap = longest * (1 + spike) if longest else km * 0.35
    long_km = min(km * 0.35, cap)
    easy_km = (km - long_km) / (runs - 1)
    while easy_km > long_km and runs < 6:  # no easy run longer than the long run: one run more
        runs += 1
        easy_km = (km - long_km) / (runs - 1)
    if easy_km > long_km:  # still: spread the week evenly
        long_km = easy_km = km / runs
    tempo = not easy_only and km >= 15
    easy = runs - 1 - int(tempo)
    return Week(km, round(long_km * 2) / 2, tempo, easy, 7 - runs - int(easy_only), easy_only, round(easy_km * 2) / 2)


def parse_weeks(text: str) -> list[float]:
    """ "20 22 25", "20, 22.5 and 25 km" -> [20, 22.5, 25] (weekly km, oldest first)."""
    values = [float(n.replace(",", ".")) for n in re.findall(r"\d+(?:[.,]\d+)?", text.replace(", ", " "))]
    miles = bool(re.search(r"\bmi(les?)?\b", text, re.I))
    return [round(v * 1.609, 1) if miles else v for v in values if 0 <= v <= 1000][-8:]


# ----- the summary and the export -----------------------------------------------------------------
def export_files(records: ChatRecords, stem: str = "runner-bot") -> tuple[OutFile, OutFile]:
    """The runner's own data: the log as CSV, everything as JSON."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    columns = ("day", "logged_at_utc", "pain", "distance_km", "minutes", "feel", "id")
    writer.writerow(columns)
    for e in records.logs:
        writer.writerow([e.day, e.at, _blank(e.pain), _blank(e.distance_km), _blank(e.minutes), e.feel, e.id])
    data = json.dumps({"format": "runner-bot-export/1", **records.to_dict()}, indent=2, ensure_ascii=False)
    return (
        OutFile(f"{stem}-log.csv", "text/csv", buffer.getvalue().encode("utf-8")),
        OutFile(f"{stem}-data.json", "application/json", data.encode("utf-8")),
    )


def _monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def _mean(values: Sequence[int | None]) -> float:
    numbers = [v for v in values if v is not None]
    return sum(numbers) / len(numbers) if numbers else 0.0


def _km(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _duration(minutes: float) -> str:
    whole = round(minutes)
    return f"{whole // 60} h {whole % 60:02d} min" if whole >= 60 else f"{whole} min"


def _blank(value: object) -> object:
    return "" if value is None else value


km = _km
