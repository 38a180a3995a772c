"""How long /progress takes to draw its chart: the first chart (matplotlib imported, fonts
loaded) and every chart after it, for 30, 90 and 365 days of logs.

    .venv/bin/python -m benchmarks.chart_draw
"""

from __future__ import annotations

import datetime as dt
import platform
import statistics
import sys
import time

from conversations.events import ChartSpec


def spec(days: int) -> ChartSpec:
    """A runner logging every day and running every other day, for `days` days."""
    start = dt.date(2025, 1, 6)
    dates = [start + dt.timedelta(days=i) for i in range(days)]
    pain = tuple((d.isoformat(), (i * 7) % 11) for i, d in enumerate(dates))
    runs = tuple((d.isoformat(), 5.0 + i % 9) for i, d in enumerate(dates) if i % 2 == 0)
    weekly: dict[str, float] = {}
    for d, km in runs:
        monday = dt.date.fromisoformat(d) - dt.timedelta(days=dt.date.fromisoformat(d).weekday())
        weekly[monday.isoformat()] = weekly.get(monday.isoformat(), 0.0) + km
    return ChartSpec("Pain and running", pain=pain, runs=runs, weekly=tuple(weekly.items()))


def main() -> int:
    assert "matplotlib" not in sys.modules
    started = time.perf_counter()
    from bot.charts import render_png

    png = render_png(spec(30))
    first = time.perf_counter() - started
    print(f"python {platform.python_version()} on {platform.machine()} ({platform.system()})")
    print(f"first chart, including importing matplotlib: {first * 1000:7.0f} ms ({len(png) / 1024:.0f} KB)")
    print(f"{'days logged':>12} {'median ms':>10} {'max ms':>8} {'PNG KB':>7}")
    worst = 0.0
    for days in (30, 90, 365):
        data = spec(days)
        times = []
        for _ in range(10):
            t = time.perf_counter()
            png = render_png(data)
            times.append(time.perf_counter() - t)
        worst = max(worst, max(times))
        print(f"{days:>12} {statistics.median(times) * 1000:>10.0f} {max(times) * 1000:>8.0f} {len(png) / 1024:>7.0f}")
    return 0 if worst < 1.0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
