"""A runner's own records: pain and run log entries, exercise plans and their progress, reminders.

They outlive a conversation (a /cancel or /restart keeps them; /forget deletes them) and so are
kept apart from the session, in a record store (bot/records.py). The engine never reads a store:
the adapter hands it the chat's records as a `ChatRecords` snapshot and carries out the effects
the engine returns (SaveLog, SavePlan, SetReminder, CancelReminders). Everything here is plain,
frozen data that round-trips through JSON; every time is UTC, and a date is the runner's own
calendar day. No free text is stored — only numbers and option ids — as with the session.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
import zoneinfo
from dataclasses import asdict, dataclass, replace
from typing import Any

FEELS = ("good", "ok", "hard", "painful")  # how a run felt, as the log stores it
OUTCOMES = ("done", "painful", "skipped")  # what the runner said about a plan day
_TIME = re.compile(r"^([01]?\d|2[0-3])[:.h]([0-5]\d)$")


class RecordError(ValueError):
    """Record data that is not valid (a stored row, or a value a flow produced)."""


def new_id() -> str:
    """A fresh record id (random, so two processes never pick the same one)."""
    return uuid.uuid4().hex


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def iso(moment: dt.datetime) -> str:
    """A UTC time as stored: ISO 8601 with seconds and +00:00."""
    if moment.tzinfo is None:
        raise RecordError("times must be timezone-aware (UTC)")
    return moment.astimezone(dt.UTC).isoformat(timespec="seconds")


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One /log: today's pain 0–10 and, optionally, today's run."""

    id: str
    at: str  # when it was logged, UTC ISO
    day: str  # the runner's date it is about, YYYY-MM-DD
    pain: int | None = None
    distance_km: float | None = None
    minutes: float | None = None
    feel: str = ""  # "", or one of FEELS

    def __post_init__(self) -> None:
        if self.pain is not None and not (isinstance(self.pain, int) and 0 <= self.pain <= 10):
            raise RecordError(f"pain must be 0–10, not {self.pain!r}")
        if self.distance_km is not None and not 0 < self.distance_km <= 400:
            raise RecordError(f"distance must be between 0 and 400 km, not {self.distance_km!r}")
        if self.minutes is not None and not 0 < self.minutes <= 72 * 60:
            raise RecordError(f"minutes must be between 0 and 4320, not {self.minutes!r}")
        if self.feel not in ("", *FEELS):
            raise RecordError(f"unknown feel {self.feel!r}")
        dt.date.fromisoformat(self.day)

    @property
    def date(self) -> dt.date:
        return dt.date.fromisoformat(self.day)

    @property
    def ran(self) -> bool:
        return self.distance_km is not None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LogEntry:
        try:
            return cls(**data)
        except (TypeError, ValueError) as error:
            raise RecordError(f"bad log entry: {error}") from None


@dataclass(frozen=True, slots=True)
class Mark:
    """What the runner said about one day of a plan."""

    day: int  # days since the plan started (0 = the first day)
    outcome: str  # one of OUTCOMES

    def __post_init__(self) -> None:
        if self.outcome not in OUTCOMES or self.day < 0:
            raise RecordError(f"bad plan mark {self.day!r} {self.outcome!r}")


@dataclass(frozen=True, slots=True)
class Plan:
    """A day-by-day exercise programme for one condition, and how it is going.

    `shift` lowers (negative) the dose the calendar would give: each "too painful" takes one
    step down. `run_ready` is set once the runner passes the hop test (the return-to-run check);
    `stage` is then the walk-run step reached and `stage_done` the sessions done at it. `phase`
    is the staged plan's stage, moved by the next morning's log (conversations/plan_stages.py).
    """

    id: str
    condition: str
    start: str  # the runner's date of day 0, YYYY-MM-DD
    marks: tuple[Mark, ...] = ()
    shift: int = 0
    run_ready: bool = False
    stage: int = 0
    stage_done: int = 0
    active: bool = True
    updated: str = ""  # UTC ISO
    phase: str = ""  # the staged plan's current stage id (knowledge/plans.py); "" is the first
    phase_sessions: int = 0  # sessions marked done at that stage
    checked: str = ""  # the day (YYYY-MM-DD) whose morning log last moved (or held) the stage
    moved: str = ""  # how the plan came to its stage: "" (the start), "on" or "back"

    @property
    def start_date(self) -> dt.date:
        return dt.date.fromisoformat(self.start)

    def day_of(self, today: dt.date) -> int:
        return (today - self.start_date).days

    def mark(self, day: int) -> Mark | None:
        return next((m for m in self.marks if m.day == day), None)

    def with_mark(self, mark: Mark) -> Plan:
        marks = tuple(sorted((*(m for m in self.marks if m.day != mark.day), mark), key=lambda m: m.day))
        return replace(self, marks=marks)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["marks"] = [[m.day, m.outcome] for m in self.marks]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Plan:
        try:
            values = dict(data)
            values["marks"] = tuple(Mark(int(day), str(outcome)) for day, outcome in values.get("marks", []))
            plan = cls(**values)
            plan.start_date  # noqa: B018 - validates the date
            return plan
        except (TypeError, ValueError) as error:
            raise RecordError(f"bad plan: {error}") from None


@dataclass(frozen=True, slots=True)
class Reminder:
    """A daily reminder at a time of day in the runner's time zone.

    `next_due` is the next moment it fires, in UTC; a sender claims it by moving `next_due` on
    (compare-and-set in the store), so two senders or a restart never send one twice.
    """

    time: str  # HH:MM, the runner's local time
    tz: str  # an IANA time zone name, e.g. Europe/London
    next_due: str  # UTC ISO
    active: bool = True
    chat_id: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Reminder:
        try:
            return cls(**data)
        except TypeError as error:
            raise RecordError(f"bad reminder: {error}") from None

    @property
    def due(self) -> dt.datetime:
        return dt.datetime.fromisoformat(self.next_due)


@dataclass(frozen=True, slots=True)
class ChatRecords:
    """Everything recorded for one chat, as the engine sees it (a snapshot, never a store)."""

    logs: tuple[LogEntry, ...] = ()  # oldest first
    plans: tuple[Plan, ...] = ()  # oldest first
    reminder: Reminder | None = None

    @property
    def plan(self) -> Plan | None:
        """The plan in progress, if any."""
        active = [p for p in self.plans if p.active]
        return active[-1] if active else None

    @property
    def timezone(self) -> str:
        """The runner's time zone, once they have given it ("" before)."""
        return self.reminder.tz if self.reminder else ""

    def with_log(self, entry: LogEntry) -> ChatRecords:
        logs = tuple(sorted((*(e for e in self.logs if e.id != entry.id), entry), key=lambda e: (e.day, e.at)))
        return replace(self, logs=logs)

    def with_plan(self, plan: Plan) -> ChatRecords:
        others = [p for p in self.plans if p.id != plan.id]
        if plan.active:
            others = [replace(p, active=False) if p.active else p for p in others]
        return replace(self, plans=(*others, plan))

    def to_dict(self) -> dict[str, Any]:
        """The runner's own data, as exported."""
        return {
            "logs": [e.to_dict() for e in self.logs],
            "plans": [p.to_dict() for p in self.plans],
            "reminder": self.reminder.to_dict() if self.reminder else None,
        }


EMPTY = ChatRecords()


# ----- time of day and time zones ----------------------------------------------------------------
def parse_time(text: str) -> str | None:
    """ "07:30", "7.30", "7h30", "7am", "7:30pm" as HH:MM, or None."""
    cleaned = text.strip().lower().replace(" ", "")
    match = re.fullmatch(r"(\d{1,2})(?:[:.h](\d{2}))?(am|pm)?", cleaned)
    if not match:
        return None
    hour, minute, half = int(match[1]), int(match[2] or 0), match[3]
    if half:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if half == "pm" else 0)
    elif match[2] is None:
        return None  # a bare number is not a time
    if hour > 23 or minute > 59:
        return None
    return f"{hour:02d}:{minute:02d}"


def parse_timezone(text: str) -> str | None:
    """An IANA zone ("Europe/London", "europe/paris", "London") or a UTC offset ("UTC+2"), or None."""
    cleaned = text.strip().replace(" ", "_")
    if not cleaned:
        return None
    offset = re.fullmatch(r"(?i)(?:utc|gmt)?([+-])(\d{1,2})(?::?00)?", cleaned)
    if offset:
        hours = int(offset[2])
        if hours > 14:
            return None
        # the Etc zones' signs are inverted (POSIX): UTC+2 is Etc/GMT-2
        return "UTC" if hours == 0 else f"Etc/GMT{'-' if offset[1] == '+' else '+'}{hours}"
    if cleaned.upper() in ("UTC", "GMT", "Z"):
        return "UTC"
    zones = _zones()
    lowered = cleaned.lower()
    if lowered in zones:
        return zones[lowered]
    cities = [z for key, z in zones.items() if key.rsplit("/", 1)[-1] == lowered]
    return cities[0] if len(cities) == 1 else None


def _zones() -> dict[str, str]:
    global _ZONES
    if _ZONES is None:
        _ZONES = {z.lower(): z for z in zoneinfo.available_timezones() if "/" in z and not z.startswith(("posix/", "right/"))}
    return _ZONES


_ZONES: dict[str, str] | None = None


def next_due(time: str, tz: str, after: dt.datetime) -> dt.datetime:
    """The first moment strictly after `after` at which the local clock in `tz` reads `time`, in UTC."""
    match = _TIME.match(time)
    if match is None:
        raise RecordError(f"not a time of day: {time!r}")
    zone = zoneinfo.ZoneInfo(tz)
    clock = dt.time(int(match[1]), int(match[2]))
    local_day = after.astimezone(zone).date()
    for offset in range(3):
        candidate = dt.datetime.combine(local_day + dt.timedelta(days=offset), clock, tzinfo=zone)
        # a time skipped by a clock change (spring forward) is normalised by the round trip
        moment = candidate.astimezone(dt.UTC)
        if moment > after:
            return moment
    raise AssertionError("unreachable: a day always has the time")  # pragma: no cover


def make_reminder(time: str, tz: str, now: dt.datetime, chat_id: int = 0) -> Reminder:
    """A daily reminder at `time` in `tz`, next due after `now`."""
    return Reminder(time=time, tz=tz, next_due=iso(next_due(time, tz, now)), chat_id=chat_id)
