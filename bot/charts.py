"""Draw a progress chart (a ChartSpec from the engine) as PNG bytes, with matplotlib.

matplotlib is imported on the first chart, not at start-up: the bot's start-up time and memory
do not pay for it until someone asks for /progress. The Agg backend needs no display.
"""

from __future__ import annotations

import datetime as dt
import io
import threading
from typing import TYPE_CHECKING, Any

from conversations.events import ChartSpec

if TYPE_CHECKING:
    from matplotlib.figure import Figure

WIDTH_IN, HEIGHT_IN, DPI = 8.0, 5.0, 100  # 800 × 500 px: clear on a phone, small to send
PAIN_COLOUR, RUN_COLOUR, WEEK_COLOUR, LIMIT_COLOUR = "#c0392b", "#2471a3", "#aed6f1", "#27ae60"
WEEK_LABEL, RUN_LABEL = "km per week", "run (km)"
SERIES = {WEEK_LABEL: "weekly", RUN_LABEL: "runs"}
WEEKS_FROM_DAYS = 14  # the weekly bars appear once the log spans two weeks
SHORT_DAYS = 10  # up to this many days, a tick for each day
_lock = threading.Lock()  # pyplot-free, but font caches are shared: draw one chart at a time


def figure(spec: ChartSpec) -> Figure:
    """The chart as a matplotlib Figure: pain over time above, runs and weekly distance below."""
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter, DateFormatter, DayLocator
    from matplotlib.figure import Figure

    # fixed margins rather than a layout engine: constrained layout doubled the drawing time
    fig = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI)
    fig.subplots_adjust(left=0.08, right=0.98, top=0.92, bottom=0.08, hspace=0.08)
    pain_ax, run_ax = fig.subplots(2, 1, sharex=True, height_ratios=(3, 2))
    fig.suptitle(spec.title)
    first, last = _span(spec)
    days = (last - first).days
    if spec.pain:
        xs = [_day(d) for d, _ in spec.pain]
        size = 7 if len(xs) < 15 else 4  # a point per day: smaller when there are many
        style = "none" if len(xs) == 1 else "-"  # one day is a point, not a line
        pain_ax.plot(xs, [p for _, p in spec.pain], marker="o", markersize=size, linestyle=style,
                     color=PAIN_COLOUR, label="pain", gid="pain")  # fmt: skip
    pain_ax.axhline(spec.limit, color=LIMIT_COLOUR, linestyle="--", linewidth=1, label=f"comfortable ≤ {spec.limit}")
    pain_ax.set_ylim(-0.5, 10.5)
    pain_ax.set_ylabel("pain 0–10")
    pain_ax.legend(loc="upper right", fontsize="small")
    if spec.weekly and days >= WEEKS_FROM_DAYS:  # weekly totals only once there are weeks to compare
        weeks = [_day(d) for d, _ in spec.weekly]
        run_ax.bar(
            weeks, [km for _, km in spec.weekly], width=6.5, align="edge", color=WEEK_COLOUR, label=WEEK_LABEL
        )
    if spec.runs:
        run_ax.bar(
            [_day(d) for d, _ in spec.runs], [km for _, km in spec.runs], width=0.3 if days <= SHORT_DAYS else 0.6, color=RUN_COLOUR, label=RUN_LABEL
        )
    run_ax.set_ylabel("km")
    if spec.runs or (spec.weekly and days >= WEEKS_FROM_DAYS):
        run_ax.legend(loc="upper left", fontsize="small")
    # the x axis spans the days logged (at least three), not an empty week around one point
    pad = dt.timedelta(days=max(1.0, days * 0.03))
    run_ax.set_xlim(first - pad, last + pad)
    if days <= SHORT_DAYS:  # a tick a day, named by its date ("8 Oct"), never hours
        run_ax.xaxis.set_major_locator(DayLocator())
        run_ax.xaxis.set_major_formatter(DateFormatter("%d %b"))
    else:
        locator = AutoDateLocator(minticks=3, maxticks=8)
        run_ax.xaxis.set_major_locator(locator)
        run_ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    return fig


def render_png(spec: ChartSpec) -> bytes:
    """The chart as PNG bytes."""
    with _lock:
        fig = figure(spec)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png")
    return buffer.getvalue()


def plotted(fig: Any) -> dict[str, list[tuple[float, float]]]:
    """What a figure drew, by series (pain, runs, weekly), as (matplotlib date number, value)."""
    from matplotlib.dates import date2num

    found: dict[str, list[tuple[float, float]]] = {}
    for ax in fig.axes:
        for line in ax.get_lines():
            if line.get_gid():
                xs = [float(date2num(x)) if isinstance(x, dt.date) else float(x) for x in line.get_xdata()]
                found[line.get_gid()] = list(zip(xs, map(float, line.get_ydata()), strict=True))
        for container in ax.containers:
            series = SERIES.get(str(container.get_label()), str(container.get_label()))
            found[series] = [(float(p.get_x()), float(p.get_height())) for p in container.patches]
    return found


def _span(spec: ChartSpec) -> tuple[dt.date, dt.date]:
    """The first and last day with a pain score or a run."""
    days = [_day(d) for d, _ in (*spec.pain, *spec.runs)] or [_day(d) for d, _ in spec.weekly] or [dt.date.today()]
    return min(days), max(days)


def _day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)
