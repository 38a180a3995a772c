"""The recovery companion end to end (issue 13): the real bot process against the fake Bot API.

One bot on the real clock takes a runner through /plan, /log by buttons and in words, /progress
(a real PNG, decoded), /export (files parsed back) and /forget (the SQLite file checked row by
row). A second bot runs on a fast clock (RUNNER_BOT_TEST_CLOCK, 30× — a minute every two
seconds) for the reminders: one claimed and then killed with `kill -9` before Telegram accepted
it, one due while no bot was running, and one due while the restarted bot runs — each delivered
exactly once.
"""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.clock import Clock
from tests.conftest import ROOT
from tests.fake_bot_api import FakeBotApi, FakeBotApiServer, callback, message

TOKEN = "987654:" + "c" * 35
REMINDER = "Time for today's session"
SPEED = 30.0


class Bot:
    """`python -m bot telegram` as a child process, its log in a file."""

    def __init__(self, server: FakeBotApiServer, database: Path, log_path: Path, **env: str) -> None:
        base = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "WEBHOOK_", "RUNNER_BOT_"))}
        self.log_path, self.log = log_path, log_path.open("ab")
        env = {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_BASE_URL": server.base_url, "DATABASE_PATH": str(database),
               "LOG_LEVEL": "DEBUG", **env}  # fmt: skip
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot", "telegram"], cwd=ROOT, env={**base, **env},
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT,
        )  # fmt: skip

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        code = self.process.wait(timeout=30)
        self.log.close()
        return code


class Chat:
    def __init__(self, api: FakeBotApi, chat_id: int) -> None:
        self.api, self.chat_id = api, chat_id

    def texts(self) -> list[str]:
        return self.api.texts(self.chat_id)

    def send(self, update: dict, expect: str) -> list[str]:
        seen = len(self.texts())
        self.api.push(update)
        self.api.wait_for(lambda: any(expect in t for t in self.texts()[seen:]), timeout=20)
        return self.texts()[seen:]

    def say(self, text: str, expect: str) -> list[str]:
        return self.send(message(self.chat_id, text), expect)

    def tap(self, label: str, expect: str) -> list[str]:
        data, shown = self.api.button(self.chat_id, label)
        return self.send(callback(self.chat_id, data, shown), expect)


def rows(database: Path, sql: str, *params: object) -> list[tuple]:
    with sqlite3.connect(database) as connection:
        return connection.execute(sql, params).fetchall()


@pytest.fixture(scope="module")
def api() -> FakeBotApi:
    return FakeBotApi(TOKEN)


@pytest.fixture(scope="module")
def server(api: FakeBotApi) -> Iterator[FakeBotApiServer]:
    with FakeBotApiServer(api) as running:
        yield running


def test_plan_log_progress_export_and_forget(server: FakeBotApiServer, api: FakeBotApi, tmp_path: Path) -> None:
    database = tmp_path / "runner.sqlite3"
    bot = Bot(server, database, tmp_path / "bot.log")
    try:
        def private_menu() -> list[dict]:  # the menu of private chats (groups get only /start and /help)
            return [c for c in api.sent("setMyCommands") if (c.get("scope") or {}).get("type") == "all_private_chats"]

        api.wait_for(lambda: bool(private_menu()), timeout=30)
        menu = [c["command"] for c in private_menu()[-1]["commands"]]
        assert {"plan", "log", "progress", "mileage", "summary", "export", "remind"} <= set(menu)
        chat = Chat(api, 7001)

        # a plan started: today's card, with its buttons
        chat.say("/plan gluteal_tendinopathy", "How did today's session go?")
        assert any("plan for" in t and "starts today" in t for t in chat.texts())
        assert rows(database, "SELECT COUNT(*) FROM record_plans WHERE chat_id = 7001 AND active = 1") == [(1,)]

        # /log by buttons: pain, the run's distance, how it felt
        chat.say("/log", "How much does it hurt today")
        chat.tap("3", "Did you run today?")
        chat.tap("8 km", "How did the run feel?")
        chat.tap("Easy / good", "Logged:")
        # /log in words: today's entry is updated, not doubled
        chat.say("/log", "update it?")
        said = chat.send(message(7001, "ran 5k in 30 min, felt hard, pain 2"), "Logged:")
        assert any("pain 2/10" in t and "5 km" in t and "30 min" in t for t in said)
        logged = rows(database, "SELECT pain, distance_km, minutes, feel FROM record_logs WHERE chat_id = 7001 ORDER BY at")
        assert logged == [(2, 5.0, 30.0, "hard")]

        # /progress: a real PNG, sized, with the pain line and the runs drawn
        chat.say("/progress", "/10")
        api.wait_for(lambda: bool(api.uploads("sendPhoto", "photo", 7001)), timeout=20)
        png = api.uploads("sendPhoto", "photo", 7001)[-1]
        from PIL import Image

        picture = Image.open(io.BytesIO(png.data))
        picture.load()
        assert picture.format == "PNG" and picture.size == (800, 500)
        rgb = picture.convert("RGB").tobytes()
        colours = {rgb[i : i + 3] for i in range(0, len(rgb), 3)}
        assert bytes.fromhex("c0392b") in colours, "the pain line is not drawn"
        assert bytes.fromhex("2471a3") in colours, "the runs are not drawn"

        # /export: a CSV and a JSON file that parse back to what was logged
        chat.say("/export", "")
        api.wait_for(lambda: len(api.uploads("sendDocument", "document", 7001)) >= 2, timeout=20)
        files = {u.filename: u.data for u in api.uploads("sendDocument", "document", 7001)}
        table = list(csv.DictReader(io.StringIO(files["runner-bot-log.csv"].decode())))
        assert [(int(r["pain"]), float(r["distance_km"]), r["minutes"], r["feel"]) for r in table] == [(2, 5.0, "30.0", "hard")]
        data = json.loads(files["runner-bot-data.json"])
        assert [(e["pain"], e["distance_km"]) for e in data["logs"]] == [(2, 5.0)]
        assert data["plans"][0]["condition"] == "gluteal_tendinopathy"

        # /forget: every row about the chat goes
        chat.say("/remind 07:30", "Which time zone")
        chat.tap("UTC", "I'll remind you every day at 07:30")
        chat.say("/forget", "Delete everything I keep")
        chat.say("yes, delete", "")
        api.wait_for(lambda: any("delet" in t.lower() for t in chat.texts()[-2:]), timeout=20)
        time.sleep(0.3)  # the outbox row of the last reply is deleted just after the send
        for table in ("record_logs", "record_plans", "record_reminders", "outbox"):
            assert rows(database, f"SELECT COUNT(*) FROM {table} WHERE chat_id = 7001") == [(0,)], table
        assert rows(database, "SELECT COUNT(*) FROM inbox WHERE chat_id = 7001 OR payload IS NOT NULL") == [(0,)]
        assert rows(database, "SELECT COUNT(*) FROM sessions WHERE chat_id = 7001") == [(0,)]  # not even a fresh one
    finally:
        assert bot.stop() == 0


def test_reminders_are_sent_once_across_kill_9(server: FakeBotApiServer, api: FakeBotApi, tmp_path: Path) -> None:
    database = tmp_path / "runner.sqlite3"
    clock = Clock(time.time(), SPEED)  # the bots' clock: shared across their restarts
    env = {"RUNNER_BOT_TEST_CLOCK": f"{clock.epoch}:{clock.speed}"}
    registered = len(api.sent("setMyCommands"))
    first = Bot(server, database, tmp_path / "first.log", **env)
    second = None
    try:
        api.wait_for(lambda: len(api.sent("setMyCommands")) > registered, timeout=30)
        minute = int(clock.timestamp() // 60 * 60)
        due = {8001: minute + 5 * 60, 8002: minute + 6 * 60, 8003: minute + 9 * 60}  # bot-clock seconds
        for chat_id, at in due.items():
            chat = Chat(api, chat_id)
            chat.say("/plan lumbar_strain", "How did today's session go?")
            hhmm = time.strftime("%H:%M", time.gmtime(at))
            chat.say(f"/remind {hhmm}", "Which time zone")
            chat.tap("UTC", f"every day at {hhmm}")
        assert clock.timestamp() < due[8001] - 30, "the set-up took too long for the fast clock"

        # 8001 is due first: its claim and its message are committed together, then Telegram
        # refuses the send for 30 s, and the bot is killed -9 before it tries again
        api.fail_next("sendMessage", 429, description="Too Many Requests: retry after 30", parameters={"retry_after": 30})
        queued = "SELECT COUNT(*) FROM outbox WHERE chat_id = 8001 AND body LIKE '%Time for today%'"
        api.wait_for(lambda: rows(database, queued) == [(1,)], timeout=30)
        api.wait_for(lambda: any(REMINDER in t for t in api.texts(8001)), timeout=30)  # refused, under any load
        first.stop(signal.SIGKILL)
        refused = sum(REMINDER in t for t in api.texts(8001))
        assert refused == 1  # the refused attempt (the fake API records every call)

        # 8002 falls due while no bot runs
        while clock.timestamp() < due[8002] + 20:
            time.sleep(0.1)
        second = Bot(server, database, tmp_path / "second.log", **env)
        # 8001 from the outbox, 8002 late (claimed at start-up), 8003 on time (a job of the new bot)
        for chat_id in due:
            api.wait_for(lambda c=chat_id: sum(REMINDER in t for t in api.texts(c)) >= 1 + (c == 8001), timeout=30)
        time.sleep(2.0)  # a minute of bot time: nothing more may come
        assert clock.timestamp() < due[8001] + 23 * 3600, "the test ran into the next day's reminders"
        for chat_id in due:
            sent = sum(REMINDER in t for t in api.texts(chat_id)) - (chat_id == 8001)
            assert sent == 1, f"chat {chat_id}: the reminder was delivered {sent} times"
        # the day's card comes with the reminder, with its buttons (in a second message when together
        # they would not fit a phone screen)
        api.wait_for(lambda: bool(api.sent("sendMessage", 8003)[-1].get("reply_markup")), timeout=30)
        reminder = "\n".join(m["text"] for m in api.sent("sendMessage", 8003)[-2:])
        assert REMINDER in reminder and "Day 1" in reminder
        next_due = rows(database, "SELECT chat_id, next_due FROM record_reminders ORDER BY chat_id")
        for chat_id, when in next_due:
            assert when > time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(due[chat_id])), "not moved to the next day"
    finally:
        first.stop(signal.SIGKILL)
        if second is not None:
            assert second.stop() == 0
