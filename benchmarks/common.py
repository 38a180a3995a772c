"""Helpers shared by the benchmark scripts: labelled messages, timing, table printing."""

from __future__ import annotations

import json
import platform
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED_VIGNETTES = ROOT.parent / "shared" / "eval" / "vignettes.jsonl"
PROJECT_MESSAGES = ROOT / "tests" / "data" / "runner_messages.jsonl"


def read_rows(path: Path) -> list[dict]:
    """The rows of a labelled JSON Lines file."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def labelled_messages() -> tuple[str, list[dict]]:
    """The shared evaluation set when it is beside the repo, else the project's own labelled set."""
    path = SHARED_VIGNETTES if SHARED_VIGNETTES.exists() else PROJECT_MESSAGES
    return path.name, read_rows(path)


def percentile(values: Sequence[float], fraction: float) -> float:
    """The value below which `fraction` of `values` fall (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


def time_each(function: Callable[[str], object], messages: Sequence[str], rounds: int) -> list[float]:
    """Seconds per call of `function` for every message, over `rounds` passes (after one warm-up pass)."""
    for message in messages:
        function(message)
    timings = []
    for _ in range(rounds):
        for message in messages:
            started = time.perf_counter()
            function(message)
            timings.append(time.perf_counter() - started)
    return timings


def describe_timings(timings: Sequence[float]) -> dict[str, float]:
    """Mean, p50 and p99 in milliseconds."""
    return {
        "mean_ms": statistics.fmean(timings) * 1000,
        "p50_ms": percentile(timings, 0.50) * 1000,
        "p99_ms": percentile(timings, 0.99) * 1000,
    }


def machine() -> str:
    """One line about the machine the numbers came from."""
    import os

    return f"{platform.python_implementation()} {platform.python_version()}, {platform.machine()}, {os.cpu_count()} cores"


def print_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """A Markdown table on stdout."""
    cells = [[str(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    print("| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in cells:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |")
