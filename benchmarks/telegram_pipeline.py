"""runner-bot's Telegram pipeline against a bare python-telegram-bot echo bot, in the same run.

    python -m benchmarks.telegram_pipeline [--chats N]

Both bots run as real processes against the same kind of local fake Bot API server
(tests/fake_bot_api.py, on 127.0.0.1). For each: the time from starting the process to its first
getUpdates; then whole conversations of many chats are queued at once and timed until every
update has been answered (updates a second); and the process's peak RSS (VmHWM).

The echo bot runs sequentially (PTB's default) and concurrently (`concurrent_updates(True)`).
runner-bot always runs chats concurrently, each chat in order, with every update going through
the SQLite inbox and every reply through the outbox. It runs twice: with its rate limiter off (the pipeline's own speed, comparable with the
echo bot, which has none) and at its default of 30 messages a second (what Telegram allows).
A second echo bot then answers every message with a reply of the same average size as
runner-bot's (characters and buttons), with no engine or storage behind it: the difference
between that one and runner-bot is what runner-bot's own pipeline costs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from benchmarks.common import ROOT, machine, print_table
from tests.fake_bot_api import FakeBotApi, FakeBotApiServer, message

TOKEN = "555555:" + "q" * 35
CONVERSATION = [
    "/start", "front of my hip hurts when I sprint", "no", "no", "no", "/prevent",
    "my lower back hurts", "one side near my bum", "no", "no", "no", "thanks",
]  # fmt: skip


@dataclass
class Run:
    label: str
    start_to_first_poll_s: float
    updates_per_s: float
    peak_rss_mb: float
    messages_sent: int
    cpu_ms_per_update: float
    mean_chars: float
    mean_buttons: float


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def measure(
    label: str, command: list[str], env: dict[str, str], chats: int, answered: Callable[[FakeBotApi], int]
) -> Run:
    api = FakeBotApi(TOKEN)
    with FakeBotApiServer(api) as server, tempfile.TemporaryDirectory() as folder:
        base = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "WEBHOOK_"))}
        full_env = {**base, "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_BASE_URL": server.base_url,
                    "DATABASE_PATH": str(Path(folder) / "bench.sqlite3"), "LOG_LEVEL": "WARNING", **env}  # fmt: skip
        started = time.monotonic()
        process = subprocess.Popen(
            command, cwd=ROOT, env=full_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            api.wait_for(lambda: api.first_poll is not None, timeout=60)
            first_poll = (api.first_poll or started) - started
            total = chats * len(CONVERSATION)
            cpu_before = cpu_seconds(process.pid)
            pushed_at = time.monotonic()
            for step in CONVERSATION:
                for chat in range(1, chats + 1):
                    api.push(message(10_000 + chat, step))
            api.wait_for(lambda: answered(api) >= total, timeout=600)
            elapsed = time.monotonic() - pushed_at
            cpu_per_update = (cpu_seconds(process.pid) - cpu_before) / total * 1000
            rss = peak_rss_mb(process.pid)
        finally:
            process.terminate()
            process.wait(timeout=30)
        sent = api.sent("sendMessage")
        chars = sum(len(p.get("text", "")) for p in sent) / len(sent)
        buttons = sum(len((p.get("reply_markup") or {}).get("inline_keyboard", [])) for p in sent) / len(sent)
        return Run(label, first_poll, total / elapsed, rss, len(sent), cpu_per_update, chars, buttons)


def median_run(runs: list[Run]) -> Run:
    """The median of each figure over repeated runs of one bot."""

    def mid(values: list[float]) -> float:
        return statistics.median(values)

    first = runs[0]
    return Run(
        first.label,
        mid([r.start_to_first_poll_s for r in runs]),
        mid([r.updates_per_s for r in runs]),
        mid([r.peak_rss_mb for r in runs]),
        first.messages_sent,
        mid([r.cpu_ms_per_update for r in runs]),
        first.mean_chars,
        first.mean_buttons,
    )


def turns_answered(api: FakeBotApi) -> int:
    """runner-bot ends every turn with a question or the menu, which carries buttons."""
    return api.tally.get("keyboards", 0)


def echoes(api: FakeBotApi) -> int:
    return api.tally.get("sendMessage", 0)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--chats", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each bot; the table shows medians")
    args = parser.parse_args()
    python = sys.executable
    configs = [
        ("echo bot (bare PTB)", [python, "-m", "benchmarks.echo_bot"], {}, echoes),
        ("echo bot, concurrent", [python, "-m", "benchmarks.echo_bot"], {"ECHO_CONCURRENT": "1"}, echoes),
        (
            "runner-bot, limiter off",
            [python, "-m", "bot", "telegram"],
            {"TELEGRAM_RATE_LIMIT": "0"},
            turns_answered,
        ),
        ("runner-bot, 30 msg/s", [python, "-m", "bot", "telegram"], {}, turns_answered),
    ]
    trials: dict[str, list[Run]] = {}
    for _ in range(args.repeat):  # interleaved, so a slow patch of the machine hits every bot alike
        for label, command, env, answered in configs:
            trials.setdefault(label, []).append(measure(label, command, env, args.chats, answered))
        sized = trials["runner-bot, limiter off"][-1]
        size = {
            "ECHO_REPLY_CHARS": str(round(sized.mean_chars)),
            "ECHO_REPLY_BUTTONS": str(round(sized.mean_buttons)),
        }
        label = "echo bot, runner-bot-sized replies"
        trials.setdefault(label, []).append(
            measure(label, [python, "-m", "benchmarks.echo_bot"], size, args.chats, echoes)
        )
    runs = [median_run(r) for r in trials.values()]
    echo = runs[0]
    print(
        f"machine: {machine()}; {args.chats} chats × {len(CONVERSATION)} messages = {args.chats * len(CONVERSATION)} updates"
    )
    print_table(
        ["bot", "start → first getUpdates s", "updates/s", "× echo", "peak RSS MB", "× echo", "bot CPU ms/update",
         "messages sent", "mean chars, buttons"],
        [
            [r.label, f"{r.start_to_first_poll_s:.2f}", f"{r.updates_per_s:.0f}", f"{r.updates_per_s / echo.updates_per_s:.2f}",
             f"{r.peak_rss_mb:.1f}", f"{r.peak_rss_mb / echo.peak_rss_mb:.2f}", f"{r.cpu_ms_per_update:.2f}", r.messages_sent,
             f"{r.mean_chars:.0f}, {r.mean_buttons:.1f}"]
            for r in runs
        ],
    )  # fmt: skip
    by_label = {r.label: r for r in runs}
    ours, sized = by_label["runner-bot, limiter off"], by_label["echo bot, runner-bot-sized replies"]
    print(
        f"\nrunner-bot (limiter off) against the echo bot with replies of the same size: "
        f"{ours.updates_per_s / sized.updates_per_s:.2f}× the throughput, "
        f"{ours.peak_rss_mb / sized.peak_rss_mb:.2f}× the peak RSS; against the concurrent echo bot: "
        f"{ours.updates_per_s / by_label['echo bot, concurrent'].updates_per_s:.2f}×"
    )


if __name__ == "__main__":
    main()
