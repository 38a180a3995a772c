"""The log read back in words: the pain trend for the runner (/progress, the chart's caption) and
the same facts, plainly, for a clinician (/summary) — right for one day, a week or months.

Dates read as people write them ("6 Dec 2026", "1–7 Dec 2026"); a span of days as "today",
"over 5 days", "over 3 weeks", never "over 0 days".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from conversations.events import ChartSpec
from conversations.recovery import weekly_distance, worsening
from conversations.recovery_records import ChatRecords, LogEntry
from knowledge.recovery_data import Companion


def span(days: int) -> str:
    """A stretch of days in words: "since yesterday", "over 5 days", "over 3 weeks", "over 2 months"."""
    if days <= 0:
        return "today"
    if days == 1:
        return "since yesterday"
    if days < 14:
        return f"over {days} days"
    if days < 61:
        return f"over {round(days / 7)} weeks"
    return f"over {round(days / 30.4)} months"


def when(day: dt.date, today: dt.date) -> str:
    """A day relative to today: "today", "yesterday", or "on 6 Dec"."""
    if day == today:
        return "today"
    if day == today - dt.timedelta(days=1):
        return "yesterday"
    return f"on {day.day} {day:%b}"


def date_range(first: dt.date, last: dt.date) -> str:
    """ "6 Dec 2026", "1–7 Dec 2026", "28 Nov – 6 Dec 2026", "20 Dec 2025 – 6 Jan 2026"."""
    if first == last:
        return f"{first.day} {first:%b %Y}"
    if (first.year, first.month) == (last.year, last.month):
        return f"{first.day}–{last.day} {last:%b %Y}"
    if first.year == last.year:
        return f"{first.day} {first:%b} – {last.day} {last:%b %Y}"
    return f"{first.day} {first:%b %Y} – {last.day} {last:%b %Y}"


def direction(scored: Sequence[LogEntry]) -> str:
    """ "up", "down" or "flat": the last third of the scores against the first third."""
    pains = [e.pain for e in scored if e.pain is not None]
    third = max(1, len(pains) // 3)
    early, late = sum(pains[:third]) / third, sum(pains[-third:]) / third
    if late - early >= 1 or (worsening(pains) and pains[-1] > pains[0]):  # never "up: 6/10 to 3/10"
        return "up"
    if early - late >= 1:
        return "down"
    return "flat"


def scored_days(records: ChatRecords) -> list[LogEntry]:
    """The entries with a pain score, the latest of each day (an old store may hold two a day)."""
    latest: dict[str, LogEntry] = {}
    for entry in records.logs:
        if entry.pain is not None:
            latest[entry.day] = entry
    return sorted(latest.values(), key=lambda e: e.day)


def trend_line(companion: Companion, records: ChatRecords, today: dt.date) -> str:
    """One line reading the pain trend (and the running), for /progress and the chart."""
    scored = scored_days(records)
    if not scored:
        return companion.message("progress_empty")
    first, last = scored[0], scored[-1]
    if len(scored) == 1:
        line = companion.message("progress_trend_single", last=last.pain, when=when(last.date, today))
    else:
        key = f"progress_trend_{direction(scored)}"
        line = companion.message(
            key, first=first.pain, last=last.pain, count=len(scored), days=span((last.date - first.date).days)
        )
    runs = [e for e in records.logs if e.distance_km]
    if runs:
        total = sum(e.distance_km or 0 for e in runs)
        line += " " + companion.message("progress_runs", runs=len(runs), km=f"{total:.1f}".rstrip("0").rstrip("."))
    return line


def chart_spec(companion: Companion, records: ChatRecords, today: dt.date) -> ChartSpec:
    """The data /progress draws: pain over time, the runs, the weekly distance; its caption is
    the trend in a sentence."""

    pain = tuple((e.day, e.pain) for e in records.logs if e.pain is not None)
    runs = tuple((e.day, e.distance_km) for e in records.logs if e.distance_km is not None)
    return ChartSpec(
        title=companion.message("progress_title"),
        pain=pain,
        runs=runs,
        weekly=tuple((w.isoformat(), km) for w, km in weekly_distance(records)),
        limit=int(companion.number("pain_safe")),
        caption=trend_line(companion, records, today),
    )
