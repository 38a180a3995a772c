"""A runner's week on Telegram (issue 19): the real bot process against the fake Bot API, a real
SQLite file, and the bot's clock moved on a day at each start (RUNNER_BOT_TEST_CLOCK, 720× so a
snooze of an hour takes five seconds).

A result read section by section (tabs of one card), a plan, daily reminders with their buttons
(one snoozed, and arriving only after the snooze; one moved with Change time), daily logs in
words and by buttons, /progress, /summary, /export and /forget with its confirm. Checked from
the fake's record: no message over 20 phone lines, nothing lost, no section stacked as a message
of its own, and nothing about the chat left in the database after /forget.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.clock import Clock
from tests.fake_bot_api import FakeBotApi, FakeBotApiServer, parse_html
from tests.telegram_harness import TOKEN, BotProcess, Chat, bot_env
from tests.test_phone_lines import PHONE_LINES, phone_lines

SPEED = 720.0  # bot seconds a real second: an hour in five seconds
MONDAY = dt.datetime(2025, 3, 3, tzinfo=dt.UTC)
REMINDER = "Time for today's session"
CHAT = 9100


def clock_at(moment: dt.datetime, lead_s: float = 0.0) -> Clock:
    """A fast clock that reads `moment` `lead_s` real seconds from now (bot/clock.py's formula)."""
    real = time.time() + lead_s
    return Clock((moment.timestamp() - real * SPEED) / (1 - SPEED), SPEED)


class Week:
    """The bot restarted each day on a clock set to that day; one chat talking to it."""

    def __init__(self, api: FakeBotApi, server: FakeBotApiServer, folder: Path) -> None:
        self.api, self.server, self.folder = api, server, folder
        self.database = folder / "bot.sqlite3"
        self.bot: BotProcess | None = None
        self.clock = Clock()
        self.chat = Chat(api, None, CHAT)  # type: ignore[arg-type]  # the bot is set at each start

    def start(self, moment: dt.datetime) -> None:
        self.stop()
        self.clock = clock_at(moment)
        started = self.api.tally.get("deleteWebhook", 0)
        env = bot_env(self.server, self.database, RUNNER_BOT_TEST_CLOCK=f"{self.clock.epoch}:{self.clock.speed}")
        self.bot = BotProcess(env, self.folder / f"bot-{moment:%a}.log")
        self.chat.bot = self.bot
        self.api.wait_for(lambda: self.api.tally.get("deleteWebhook", 0) > started, timeout=30)

    def stop(self) -> None:
        if self.bot is not None:
            assert self.bot.stop() == 0
            self.bot = None

    def reminders(self) -> int:
        return sum(REMINDER in c.get("html", "") for c in self.api.record(CHAT) if c["method"] == "sendMessage")

    def said(self, calls: list[dict[str, Any]]) -> str:
        return "\n".join(parse_html(c["html"])[0] for c in calls if c["method"] == "sendMessage")

    def buttons_shown(self) -> bool:
        """Whether the chat's latest message carries buttons."""
        latest = [c for c in self.api.record(CHAT) if c["method"] == "sendMessage"]
        return bool(latest) and bool(latest[-1].get("reply_markup"))

    def rest_day(self) -> bool:
        """Whether the latest reminder brought a rest day's card."""
        latest = [c["html"] for c in self.api.record(CHAT) if c["method"] == "sendMessage" and REMINDER in c["html"]]
        return bool(latest) and "rest day" in latest[-1]


@pytest.fixture
def week(tmp_path: Path) -> Iterator[Week]:
    api = FakeBotApi(TOKEN)
    api.strict_html = api.strict_edits = True
    with FakeBotApiServer(api) as server:
        running = Week(api, server, tmp_path)
        try:
            yield running
        finally:
            running.stop()


def rows(database: Path, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(database) as connection:
        return connection.execute(sql).fetchall()


def test_a_runners_week_on_telegram(week: Week) -> None:
    chat, api = week.chat, week.api
    week.start(MONDAY.replace(hour=8))
    chat.say("the outside of my hip aches on stairs and when I lie on it")
    for _ in range(3):
        chat.say("no")
    result = next(c for c in reversed(api.record(CHAT)) if c["method"] == "sendMessage")
    assert "Gluteal tendinopathy" in result["html"]
    for tab in ("💪 Exercises", "🩹 What helps"):  # sections are tabs of the result card, not new messages
        calls = chat.tap(tab)
        assert not [c for c in calls if c["method"] == "sendMessage"]
        assert [c["message_id"] for c in calls if c["method"] == "editMessageText"] == [result["message_id"]]
    assert "Your plan for Gluteal tendinopathy" in week.said(chat.tap("📅 Start a plan"))
    assert "Well done" in week.said(chat.tap("Done ✓"))
    chat.say("/remind 07:30")
    assert "every day at 07:30" in week.said(chat.tap("UTC"))

    for offset in range(1, 7):
        day = MONDAY + dt.timedelta(days=offset)
        before = week.reminders()
        week.start(day.replace(hour=7, minute=29))
        api.wait_for(lambda b=before: week.reminders() > b, timeout=30)  # the day's reminder, with its card
        api.wait_for(week.buttons_shown, timeout=30)  # and its buttons (a second message when the card is long)
        if offset == 2:
            snoozed_at = week.clock.now()
            assert "again in 60 minutes" in week.said(chat.tap("Snooze 1 h"))
            while week.clock.now() < snoozed_at + dt.timedelta(minutes=55):
                time.sleep(0.05)
            assert week.reminders() == before + 1, "the snoozed reminder came early"
            api.wait_for(lambda b=before: week.reminders() > b + 1, timeout=30)
            api.wait_for(week.buttons_shown, timeout=30)
            assert week.clock.now() >= snoozed_at + dt.timedelta(minutes=60)
        if offset == 5:  # the reminder's own buttons: move it (the card's question has then moved on)
            assert "What time" in week.said(chat.tap("Change time"))
            assert "07:30" in week.said(chat.say("07:30"))
            assert "How did today's session go?" in week.said(chat.say("/plan"))  # the card again
        if not week.rest_day():  # a rest day's card has nothing to mark
            assert "Well done" in week.said(chat.tap("Done ✓"))
        if offset % 2:  # by buttons
            chat.say("/log")
            chat.tap(str(4 - offset // 2))
            chat.tap("5 km")
            assert "Logged" in week.said(chat.tap("Easy / good"))
        else:  # in words
            assert "Logged" in week.said(chat.say(f"/log no run today, hip about a {3 - offset // 3}"))
    assert rows(week.database, f"SELECT COUNT(DISTINCT day) FROM record_logs WHERE chat_id = {CHAT}") == [(6,)]
    assert week.reminders() == 7, "one reminder a day, and the snoozed one again"

    chat.say("/progress")
    assert [c["file"] for c in api.record(CHAT) if c["method"] == "sendPhoto"] == ["progress.png"]
    summary = week.said(chat.say("/summary"))
    assert "Summary for a physio or doctor" in summary and "4–9 Mar 2025" in summary
    chat.say("/export")
    assert [c["file"] for c in api.record(CHAT) if c["method"] == "sendDocument"] == [
        "runner-bot-log.csv", "runner-bot-data.json"]  # fmt: skip
    assert "Delete everything I keep" in week.said(chat.say("/forget"))
    assert rows(week.database, f"SELECT COUNT(*) FROM record_logs WHERE chat_id = {CHAT}") == [(6,)], "asked first"
    assert "deleted everything" in week.said(chat.tap("Delete everything"))
    week.stop()

    for table in ("record_logs", "record_plans", "record_reminders", "outbox", "sessions"):
        assert rows(week.database, f"SELECT COUNT(*) FROM {table} WHERE chat_id = {CHAT}") == [(0,)], table
    assert rows(week.database, f"SELECT COUNT(*) FROM inbox WHERE chat_id = {CHAT} OR payload IS NOT NULL") == [(0,)]
    shown = [c for c in api.record(CHAT) if c["method"] in ("sendMessage", "editMessageText", "sendPhoto")]
    too_long = {parse_html(c["html"])[0][:60]: phone_lines(c["html"]) for c in shown
                if phone_lines(c["html"]) > PHONE_LINES}  # fmt: skip
    assert not too_long, f"messages over {PHONE_LINES} phone lines: {too_long}"


def test_reminder_buttons_snoozes_and_a_marked_day(week: Week) -> None:
    """Four runners on one bot. A snoozes and turns reminders off, B snoozes and forgets the chat:
    neither snoozed reminder comes. C (no plan) snoozes: it comes after the hour, with its Done
    button opening the log. D marks the day before the reminder is due: nothing is sent, and the
    reminder still moves on to the next day."""
    api = week.api
    chats = {name: Chat(api, None, 9200 + n) for n, name in enumerate("ABCD")}  # type: ignore[arg-type]

    def on(chat: Chat) -> Chat:
        chat.bot = week.bot  # type: ignore[assignment]
        return chat

    def reminders(chat: Chat) -> int:
        return sum(REMINDER in c.get("html", "") for c in api.record(chat.chat_id) if c["method"] == "sendMessage")

    def said(calls: list[dict[str, Any]]) -> str:
        return week.said(calls)

    week.start(MONDAY.replace(hour=8))
    for name, chat in chats.items():
        if name != "C":
            on(chat).say("/plan gluteal_tendinopathy")
        on(chat).say("/remind 07:30")
        assert "every day at 07:30" in said(chat.tap("UTC"))
    week.start((MONDAY + dt.timedelta(days=1)).replace(hour=6, minute=30))  # D marks the day before 07:30
    a, b, c, d = (on(chat) for chat in chats.values())
    d.say("/plan")
    assert "Well done" in said(d.tap("Done ✓"))
    assert week.clock.now().time() < dt.time(7, 30), "the set-up took too long for the fast clock"
    def buttons_shown(chat: Chat) -> bool:  # the reminder's buttons (a second message when its card is long)
        latest = [m for m in api.record(chat.chat_id) if m["method"] == "sendMessage"]
        return bool(latest) and bool(latest[-1].get("reply_markup"))

    api.wait_for(lambda: all(reminders(chat) == 1 and buttons_shown(chat) for chat in (a, b, c)), timeout=30)
    assert "again in 60 minutes" in said(a.tap("Snooze 1 h"))
    assert "reminder" in said(a.tap("Off")).lower()
    assert "again in 60 minutes" in said(b.tap("Snooze 1 h"))
    b.say("/forget")
    assert "deleted everything" in said(b.tap("Delete everything"))
    snoozed_at = week.clock.now()
    assert "again in 60 minutes" in said(c.tap("Snooze 1 h"))
    api.wait_for(lambda: reminders(c) == 2 and buttons_shown(c), timeout=30)
    assert week.clock.now() >= snoozed_at + dt.timedelta(minutes=60)
    time.sleep(0.5)  # six minutes of the bot's clock: a snooze of A or B would be here by now
    assert [reminders(chat) for chat in (a, b, c, d)] == [1, 1, 2, 0], "A off, B forgotten, D marked the day"
    assert "How much does it hurt" in said(c.tap("Done ✓")), "the reminder's Done opens the log"
    week.stop()
    [(due,)] = rows(week.database, f"SELECT next_due FROM record_reminders WHERE chat_id = {d.chat_id}")
    assert due.startswith("2025-03-05T07:30"), "the marked day's reminder was claimed and moved on"
    assert rows(week.database, f"SELECT COUNT(*) FROM record_reminders WHERE chat_id = {b.chat_id}") == [(0,)]
