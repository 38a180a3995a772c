"""runner-bot's Telegram pipeline against a bare python-telegram-bot echo bot, in the same run.

    python -m benchmarks.telegram_pipeline [--chats N] [--repeat N]

Every bot is a real process polling its own local fake Bot API server (tests/fake_bot_api.py, on
127.0.0.1). Three bots, interleaved (so a slow patch of a shared machine hits each alike):

- the echo bot, sequential (PTB's default): the yardstick;
- the echo bot with `concurrent_updates(True)` (PTB's own concurrency, no per-chat order);
- runner-bot with its rate limiter off: chats concurrently, each in order, every update through
  the SQLite inbox and every reply through the outbox.

Burst: whole conversations of many chats are queued at once and timed until every update has
been handled — for the echo bots, one reply each; for runner-bot, every inbox row done and the
outbox empty (read from its SQLite file, since a turn may send, edit, or both). Figures: updates a
second, the bot process's CPU per update, Bot API calls per update.

Paced: runner-bot as deployed (the default rate limiter) gets updates at a steady rate (20 a
second by default, each chat writing every few seconds), and the latency from an update being
offered to the first Bot API call for its chat is taken (p50, p99).
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.common import ROOT, machine, percentile, print_table
from tests.fake_bot_api import FakeBotApi, FakeBotApiServer, message

TOKEN = "555555:" + "q" * 35
CONVERSATION = [
    "/start", "front of my hip hurts when I sprint", "no", "no", "no", "/prevent",
    "my lower back hurts", "one side near my bum", "no", "no", "no", "thanks",
]  # fmt: skip
REPLY_METHODS = ("sendMessage", "editMessageText", "editMessageReplyMarkup", "answerCallbackQuery",
                 "sendPhoto", "sendDocument")  # fmt: skip


class TimedBotApi(FakeBotApi):
    """The fake Bot API, also noting when each chat was last sent anything (for latencies)."""

    def __init__(self, token: str) -> None:
        super().__init__(token)
        self.reply_times: dict[int, list[float]] = {}

    def call(self, token: str, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if method in REPLY_METHODS and params.get("chat_id") is not None:
            with self._changed:
                self.reply_times.setdefault(int(params["chat_id"]), []).append(time.monotonic())
        return super().call(token, method, params)


@dataclass
class Run:
    label: str
    updates_per_s: float
    cpu_ms_per_update: float
    calls_per_update: float
    peak_rss_mb: float


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def reply_calls(api: FakeBotApi) -> int:
    return sum(api.tally.get(method, 0) for method in REPLY_METHODS)


def echoed(total: int) -> Callable[[FakeBotApi, Path], bool]:
    return lambda api, database: api.tally.get("sendMessage", 0) >= total


def all_handled(total: int) -> Callable[[FakeBotApi, Path], bool]:
    """Every update done in runner-bot's inbox and nothing left in its outbox."""

    def check(api: FakeBotApi, database: Path) -> bool:
        if not database.exists():
            return False
        try:
            with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=1) as db:
                done = db.execute("SELECT count(*) FROM inbox WHERE done IS NOT NULL").fetchone()[0]
                waiting = db.execute("SELECT count(*) FROM outbox").fetchone()[0]
        except sqlite3.Error:
            return False
        return done >= total and waiting == 0

    return check


class Bot:
    """One bot process against its own fake Bot API server."""

    def __init__(self, command: list[str], env: dict[str, str]) -> None:
        self.command, self.env = command, env

    def __enter__(self) -> Bot:
        self.api = TimedBotApi(TOKEN)
        self.server = FakeBotApiServer(self.api).__enter__()
        self.folder = tempfile.TemporaryDirectory()
        self.database = Path(self.folder.name) / "bench.sqlite3"
        base = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "WEBHOOK_"))}
        full_env = {**base, "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_BASE_URL": self.server.base_url,
                    "DATABASE_PATH": str(self.database), "LOG_LEVEL": "WARNING", **self.env}  # fmt: skip
        self.process = subprocess.Popen(
            self.command, cwd=ROOT, env=full_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        self.api.wait_for(lambda: self.api.first_poll is not None, timeout=60)
        time.sleep(0.5)  # start-up calls (the command menu) are over
        return self

    def __exit__(self, *exc: object) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)
        self.server.__exit__(*exc)
        self.folder.cleanup()

    def wait(self, done: Callable[[FakeBotApi, Path], bool], timeout: float = 600) -> None:
        deadline = time.monotonic() + timeout
        while not done(self.api, self.database):  # polled, not under the server's lock
            if time.monotonic() > deadline:
                raise SystemExit(f"{self.command}: not finished after {timeout} s; tally {self.api.tally}")
            time.sleep(0.05)


def burst(label: str, command: list[str], env: dict[str, str], chats: int,
          done: Callable[[int], Callable[[FakeBotApi, Path], bool]]) -> Run:  # fmt: skip
    """Queue every chat's whole conversation at once; time until all is handled."""
    total = chats * len(CONVERSATION)
    with Bot(command, env) as bot:
        calls_before = reply_calls(bot.api)
        cpu_before = cpu_seconds(bot.process.pid)
        pushed_at = time.monotonic()
        for step in CONVERSATION:
            for chat in range(1, chats + 1):
                bot.api.push(message(10_000 + chat, step))
        bot.wait(done(total))
        elapsed = time.monotonic() - pushed_at
        cpu = cpu_seconds(bot.process.pid) - cpu_before
        rss = peak_rss_mb(bot.process.pid)
        calls = reply_calls(bot.api) - calls_before
    return Run(label, total / elapsed, cpu / total * 1000, calls / total, rss)


def paced(command: list[str], env: dict[str, str], chats: int, rate: float) -> list[float]:
    """Offer updates at `rate` a second; seconds from each to the first call for its chat after it."""
    total = chats * len(CONVERSATION)
    offered: list[tuple[int, float]] = []
    with Bot(command, env) as bot:
        started = time.monotonic()
        index = 0
        for step in CONVERSATION:
            for chat in range(1, chats + 1):
                time.sleep(max(0.0, started + index / rate - time.monotonic()))
                offered.append((10_000 + chat, time.monotonic()))
                bot.api.push(message(10_000 + chat, step))
                index += 1
        bot.wait(all_handled(total))
        times = {chat: list(ts) for chat, ts in bot.api.reply_times.items()}
    latencies = []
    for chat, at in offered:
        after = [t for t in times.get(chat, []) if t >= at]
        if after:
            latencies.append(after[0] - at)
    return latencies


def median_run(runs: list[Run]) -> Run:
    """The median of each figure over repeated runs of one bot."""
    mid = statistics.median
    return Run(runs[0].label, mid(r.updates_per_s for r in runs), mid(r.cpu_ms_per_update for r in runs),
               mid(r.calls_per_update for r in runs), mid(r.peak_rss_mb for r in runs))  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chats", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each bot; the table shows medians")
    parser.add_argument("--rate", type=float, default=20.0, help="updates a second in the paced run (0: skip it)")
    args = parser.parse_args()
    python = sys.executable
    echo = [python, "-m", "benchmarks.echo_bot"]
    runner = [python, "-m", "bot", "telegram"]
    configs: list[tuple[str, list[str], dict[str, str], Callable[[int], Callable[[FakeBotApi, Path], bool]]]] = [
        ("echo bot, sequential", echo, {}, echoed),
        ("echo bot, concurrent_updates(True)", echo, {"ECHO_CONCURRENT": "1"}, echoed),
        ("runner-bot, limiter off", runner, {"TELEGRAM_RATE_LIMIT": "0"}, all_handled),
    ]
    trials: dict[str, list[Run]] = {}
    for _ in range(args.repeat):  # interleaved
        for label, command, env, done in configs:
            trials.setdefault(label, []).append(burst(label, command, env, args.chats, done))
    runs = [median_run(r) for r in trials.values()]
    yardstick = runs[0]
    total = args.chats * len(CONVERSATION)
    print(f"machine: {machine()}; {args.chats} chats × {len(CONVERSATION)} messages = {total} updates, "
          f"medians of {args.repeat} interleaved runs")  # fmt: skip
    print_table(
        ["bot", "updates/s", "× sequential echo", "CPU ms/update", "× sequential echo", "calls/update", "peak RSS MB"],
        [[r.label, f"{r.updates_per_s:.0f}", f"{r.updates_per_s / yardstick.updates_per_s:.2f}",
          f"{r.cpu_ms_per_update:.2f}", f"{r.cpu_ms_per_update / yardstick.cpu_ms_per_update:.2f}",
          f"{r.calls_per_update:.2f}", f"{r.peak_rss_mb:.1f}"] for r in runs],
    )  # fmt: skip
    if args.rate:
        latencies = paced(runner, {}, args.chats, args.rate)
        print(f"\nrunner-bot, default rate limiter, {args.rate:g} updates/s offered: {len(latencies)} of {total} "
              f"answered; latency p50 {percentile(latencies, 0.5) * 1000:.0f} ms, "
              f"p99 {percentile(latencies, 0.99) * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms")  # fmt: skip


if __name__ == "__main__":
    main()
