"""Memory over a long run: runner-bot at a steady message rate against the fake Bot API.

    python -m benchmarks.telegram_soak [--minutes 10] [--rate 40]

New chats keep arriving (each runs a short conversation), so sessions, the inbox, the outbox
and the per-chat locks all see traffic. Prints the bot's RSS every 30 s and the turns answered.
With --chats N the same N chats come back again and again: memory should then stay flat, since
every per-chat cache is full after the first rounds (a leak per turn would still show).
Not run by CI.
"""

from __future__ import annotations

import argparse
import itertools
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import ROOT, machine
from benchmarks.telegram_pipeline import CONVERSATION, TOKEN, turns_answered
from tests.fake_bot_api import FakeBotApi, FakeBotApiServer, message


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--rate", type=float, default=40, help="messages a second")
    parser.add_argument(
        "--chats", type=int, default=0,
        help="cycle through this many chats (0: new chats keep arriving, so caches fill up over the run)",
    )  # fmt: skip
    args = parser.parse_args()
    api = FakeBotApi(TOKEN)
    with FakeBotApiServer(api) as server, tempfile.TemporaryDirectory() as folder:
        base = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "WEBHOOK_"))}
        env = {**base, "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_BASE_URL": server.base_url,
               "DATABASE_PATH": str(Path(folder) / "soak.sqlite3"), "LOG_LEVEL": "WARNING", "TELEGRAM_RATE_LIMIT": "0"}  # fmt: skip
        bot = subprocess.Popen([sys.executable, "-m", "bot", "telegram"], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        try:
            api.wait_for(lambda: api.first_poll is not None, timeout=60)
            print(f"machine: {machine()}; {args.rate:.0f} messages/s for {args.minutes:g} min")
            print("| minute | RSS MB | turns answered | messages pushed |\n|---|---|---|---|")
            started = time.monotonic()
            next_report, pushed, chats = started, 0, itertools.count(1)
            live: list[tuple[int, int]] = []  # (chat, next step)
            while (now := time.monotonic()) - started < args.minutes * 60:
                if now >= next_report:
                    print(f"| {(now - started) / 60:.1f} | {rss_mb(bot.pid):.1f} | {turns_answered(api)} | {pushed} |", flush=True)
                    next_report += 30
                if len(live) < 50:
                    number = next(chats)
                    live.append((100_000 + (number % args.chats if args.chats else number), 0))
                chat, step = live.pop(0)
                api.push(message(chat, CONVERSATION[step]))
                pushed += 1
                if step + 1 < len(CONVERSATION):
                    live.append((chat, step + 1))
                time.sleep(max(0.0, started + pushed / args.rate - time.monotonic()))
            api.wait_for(lambda: turns_answered(api) >= pushed, timeout=60)
            print(f"| {(time.monotonic() - started) / 60:.1f} | {rss_mb(bot.pid):.1f} | {turns_answered(api)} | {pushed} |")
        finally:
            bot.terminate()
            bot.wait(timeout=30)
        api.calls.clear()


if __name__ == "__main__":
    main()
