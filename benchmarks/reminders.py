"""10,000 reminders due in the same minute: the real bot process against the fake Bot API.

Seeds a database with N reminders all due ~15 s after the bot starts (and none sent yet), starts
`python -m bot telegram` with the default rate limit (30 messages a second overall; reminders
take two thirds of it), and measures:

- how long the bot takes to load and schedule them at start-up (from its log);
- whether the bot stays responsive while they go out: a probe chat sends /help every second and
  the time to its reply is recorded;
- the send rate Telegram sees (the most messages in any one second, and overall), and that every
  chat got its reminder exactly once.

    .venv/bin/python -m benchmarks.reminders            # N=10000: about 9 minutes at 20/s
    REMINDERS=1000 .venv/bin/python -m benchmarks.reminders
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from benchmarks.common import ROOT, percentile
from bot.storage.sqlite_records import SqliteRecordStore
from bot.storage.sqlite_sessions import SqliteStore
from conversations.recovery_records import iso
from tests.fake_bot_api import FakeBotApi, FakeBotApiServer, message

TOKEN = "987654:" + "r" * 35
REMINDER = "Time for today's session"
PROBE = 99


def seed(database: Path, count: int, due: dt.datetime) -> None:
    store = SqliteStore(database)
    SqliteRecordStore.sharing(store.db)
    rows = [(1_000_000 + n, "07:30", "UTC", iso(due), 1, iso(due)) for n in range(count)]
    with store.db.conn:
        store.db.conn.execute("BEGIN")
        store.db.conn.executemany(
            "INSERT INTO record_reminders (chat_id, time, tz, next_due, active, updated) VALUES (?, ?, ?, ?, ?, ?)", rows
        )
    store.close()


def main() -> int:
    count = int(os.environ.get("REMINDERS", "10000"))
    lead = 15.0
    folder = Path(tempfile.mkdtemp(prefix="reminders-bench-"))
    database = folder / "bot.sqlite3"
    due = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=lead)
    seed(database, count, due)
    api = FakeBotApi(TOKEN)
    stamps: list[tuple[float, int, str]] = []
    original = api.call

    def call(token: str, method: str, params: dict) -> tuple[int, dict]:
        result = original(token, method, params)
        if method == "sendMessage":
            stamps.append((time.monotonic(), int(params["chat_id"]), str(params.get("text", ""))))
        return result

    api.call = call  # type: ignore[method-assign]
    with FakeBotApiServer(api) as server:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "WEBHOOK_", "RUNNER_BOT_"))}
        env |= {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_BASE_URL": server.base_url, "DATABASE_PATH": str(database),
                "LOG_LEVEL": "INFO"}  # fmt: skip
        log_path = folder / "bot.log"
        with log_path.open("wb") as log:
            bot = subprocess.Popen([sys.executable, "-m", "bot", "telegram"], cwd=ROOT, env=env,
                                   stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
            api.wait_for(lambda: bool(api.sent("setMyCommands")), timeout=60)
            probes: list[float] = []
            deadline = time.monotonic() + lead + count / 10 + 120
            while time.monotonic() < deadline:
                sent_before = len(api.texts(PROBE))
                asked = time.monotonic()
                api.push(message(PROBE, "/help"))
                api.wait_for(lambda n=sent_before: len(api.texts(PROBE)) > n, timeout=60)
                probes.append(time.monotonic() - asked)
                if sum(REMINDER in text for _, _, text in stamps) >= count:
                    break
                time.sleep(max(0.0, 1.0 - (time.monotonic() - asked)))
            bot.send_signal(signal.SIGTERM)
            bot.wait(timeout=60)
    reminders = [(at, chat) for at, chat, text in stamps if REMINDER in text]
    per_chat = Counter(chat for _, chat in reminders)
    times = sorted(at for at, _, _ in stamps)
    busiest, start = 0, 0
    for end, at in enumerate(times):  # the most messages in any sliding one-second window
        while at - times[start] >= 1.0:
            start += 1
        busiest = max(busiest, end - start + 1)
    first, last = min(at for at, _ in reminders), max(at for at, _ in reminders)
    scheduled = re.search(r"scheduled (\d+) reminders in ([\d.]+) s", log_path.read_text())
    during = probes[2:]  # the probes once the reminders were due
    print(f"python {platform.python_version()} on {platform.machine()} ({platform.system()}), {os.cpu_count()} CPUs")
    print(f"reminders due in the same minute: {count}")
    print(f"scheduled at start-up: {scheduled[1] if scheduled else '?'} in {scheduled[2] if scheduled else '?'} s")
    print(f"delivered: {len(per_chat)} chats, each exactly once: {all(n == 1 for n in per_chat.values())}")
    print(f"sent over {last - first:.1f} s: {len(reminders) / max(last - first, 1e-9):.1f} a second on average")
    print(f"most messages in any one second, sliding window (reminders and probe replies): {busiest}")
    print(
        f"probe /help reply while they went out: median {percentile(during, 0.5) * 1000:.0f} ms, "
        f"p95 {percentile(during, 0.95) * 1000:.0f} ms, max {max(during) * 1000:.0f} ms ({len(during)} probes)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
