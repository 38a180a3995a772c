"""The real bot process against a fake Bot API server on 127.0.0.1, over real HTTP.

Each test is one runner's conversation, turn by turn (`tests/telegram_harness.py` waits for
each turn to finish); what the runner sees is read from the fake's record of every call. The
issue 11 checks of the same flows (lengths, HTML, keyboards, toasts) are in
`tests/test_telegram_native.py`.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fake_bot_api import PHOTO, VOICE, FakeBotApi, FakeBotApiServer, callback, message
from tests.telegram_harness import (
    ROOT,
    TOKEN,
    BotProcess,
    Chat,
    bot_env,
    free_port,
    texts,
    wait_started,
)

__all__ = ["TOKEN", "BotProcess", "bot_env", "free_port"]  # the fault suite uses them from here
SECRET_WORDS = "zebra-striped-secret"


@pytest.fixture(scope="module")
def api() -> FakeBotApi:
    api = FakeBotApi(TOKEN)
    api.strict_html = api.strict_edits = True  # what Telegram would refuse is refused here too
    return api


@pytest.fixture(scope="module")
def server(api: FakeBotApi) -> Iterator[FakeBotApiServer]:
    with FakeBotApiServer(api) as running:
        yield running


@pytest.fixture(scope="module")
def bot(
    server: FakeBotApiServer, api: FakeBotApi, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[BotProcess]:
    folder = tmp_path_factory.mktemp("bot")
    process = BotProcess(bot_env(server, folder / "runner.sqlite3"), folder / "bot.log")
    wait_started(api, process)
    yield process
    process.stop()


def said(calls: list[dict]) -> str:
    """Everything a turn sent as new messages, as one string."""
    return "\n".join(texts(calls))


def test_triage_by_buttons(bot: BotProcess, api: FakeBotApi) -> None:
    chat = Chat(api, bot, 1001)
    assert "What would you like to do?" in said(chat.say("/start"))
    assert "Where in the hip is the pain?" in said(chat.tap("Hip pain"))
    assert "What sets it off" in said(chat.tap("Side of the hip (aching)"))
    assert "Safety first." in said(chat.tap("Lying on that side"))
    assert "Do you have any of these?" in said(chat.tap("No"))
    assert "How old are you?" in said(chat.tap("None of these"))
    assert "How long has it been bothering you" in said(chat.tap("20–49"))
    result = said(chat.tap("Under a week"))
    assert "Most likely: Gluteal tendinopathy" in result and "general information, not a diagnosis" in result
    assert "Clamshell" in "\n".join(texts(chat.tap("💪 Exercises"), "editMessageText"))  # a tab of the card
    assert len(api.sent("answerCallbackQuery")) >= 6
    assert any(e["text"].endswith("✓ No") for e in api.sent("editMessageText", 1001))


def test_triage_by_free_text(bot: BotProcess, api: FakeBotApi) -> None:
    chat = Chat(api, bot, 1002)
    assert "Safety first." in said(chat.say(f"{SECRET_WORDS}: sharp pain at the front of my hip when I lift my knee"))
    assert "Do you have any of these?" in said(chat.say("no"))
    assert "How old are you?" in said(chat.say("none of these"))
    assert "Most likely: Hip flexor strain" in said(chat.say("4 days")), "a duration answer skips the age"


def test_prevent_and_redflags(bot: BotProcess, api: FakeBotApi) -> None:
    chat = Chat(api, bot, 1003)
    routine = said(chat.say("/prevent"))
    assert "Glute bridge</b> — 3 × 12" in routine
    assert texts(chat.tap("Running form"), "editMessageText"), "a part of the routine is a tab of its card"
    assert "Safety first." in said(chat.say("/redflags"))
    assert "Do you have any of these?" in said(chat.tap("No"))
    assert "How long" in said(chat.tap("None of these"))
    assert "No warning signs from your answers" in said(chat.tap("Under a week"))


def test_emergency_interrupts_a_triage(bot: BotProcess, api: FakeBotApi) -> None:
    chat = Chat(api, bot, 1004)
    assert "Where in the lower back" in said(chat.say("my lower back hurts"))
    sent = texts(chat.say("and I can't feel anything when I wipe"))
    assert sent[-1].startswith("🚨 <b>Seek emergency care now.</b>")


def test_non_text_long_text_and_forged_buttons(bot: BotProcess, api: FakeBotApi) -> None:
    chat = Chat(api, bot, 1005)
    chat.say("my hip hurts")
    assert "I can only read text" in said(chat.send(message(1005, None, **PHOTO), "a photo"))
    assert "I can only read text" in said(chat.send(message(1005, None, **VOICE), "a voice note"))
    assert "Sorry, I didn't catch that" in said(chat.say(("la " * 2000)[:4096]))
    for data in ("forged:data", "1:hip", "x:section:nothing:here"):  # forged, stale, and a forged "lasting" one
        calls = chat.send(callback(1005, data), f"a forged button {data}")
        assert texts(calls) == [], "a forged or stale button sends nothing"
        assert [c["toast"] for c in calls if c["method"] == "answerCallbackQuery"] == [
            "That question has moved on — use the newest buttons."
        ]
    assert "What sets it off" in said(chat.tap("Front of the hip / groin"))
    # a photo's caption is read as text
    assert "Safety first." in said(chat.send(message(1005, None, caption="when I sprint", **PHOTO), "a captioned photo"))


def test_logs_hold_neither_message_text_nor_token(bot: BotProcess, api: FakeBotApi) -> None:
    if not api.texts(1002):  # the free-text triage is what carries the secret words
        test_triage_by_free_text(bot, api)
    log = bot.output()
    assert "Application started" in log, "the bot logged at DEBUG"
    assert SECRET_WORDS not in log and "front of my hip" not in log
    assert TOKEN not in log and TOKEN.split(":")[1] not in log


def test_forget_deletes_the_chats_row(bot: BotProcess, api: FakeBotApi) -> None:
    chat = Chat(api, bot, 1006)
    chat.say("my hip hurts")
    database = bot_db(bot)
    assert rows_for(database, 1006) == 1
    assert "Delete everything I keep" in said(chat.say("/forget"))
    assert rows_for(database, 1006) == 1  # nothing goes before the confirm
    assert "deleted everything" in said(chat.say("yes, delete"))
    assert rows_for(database, 1006) <= 1  # at most the fresh session that keeps the new menu's number
    with sqlite3.connect(database) as connection:
        assert connection.execute("SELECT COUNT(*) FROM outbox WHERE chat_id = 1006").fetchone()[0] == 0
        assert connection.execute("SELECT COUNT(*) FROM inbox WHERE chat_id = 1006").fetchone()[0] == 0
    assert "What sets it off" not in said(chat.say("front")), "the forgotten triage does not carry on"


def bot_db(bot: BotProcess) -> Path:
    return bot.log_path.parent / "runner.sqlite3"


def rows_for(database: Path, chat_id: int) -> int:
    with sqlite3.connect(database) as connection:
        return connection.execute("SELECT COUNT(*) FROM sessions WHERE chat_id = ?", [chat_id]).fetchone()[0]


def test_kill_9_mid_conversation_then_a_second_process_carries_on(
    server: FakeBotApiServer, api: FakeBotApi, tmp_path: Path, bot: BotProcess
) -> None:
    bot.stop()  # the shared bot must not compete for updates
    database = tmp_path / "crash.sqlite3"
    first = BotProcess(bot_env(server, database), tmp_path / "first.log")
    wait_started(api, first)
    chat = Chat(api, first, 2001)
    chat.say("/start")
    chat.tap("Lower-back pain")
    assert "Safety first." in said(chat.tap("One side of the lower back / buttock"))
    assert first.stop(signal.SIGKILL) == -signal.SIGKILL
    chat.bot = BotProcess(bot_env(server, database), tmp_path / "second.log")
    try:
        assert "Do you have any of these?" in said(chat.tap("No"))
        assert "How old are you?" in said(chat.tap("None of these"))
        assert "How long" in said(chat.tap("Skip"))
        assert "Most likely: Sacroiliac (SI) joint dysfunction" in said(chat.tap("Over a week"))
    finally:
        chat.bot.stop()


def test_webhook_mode_with_a_secret_token(server: FakeBotApiServer, api: FakeBotApi, tmp_path: Path) -> None:
    port, secret = free_port(), "s3cret_token-1"
    env = bot_env(server, tmp_path / "hook.sqlite3", WEBHOOK_URL="https://runner.example/telegram",
                  WEBHOOK_LISTEN="127.0.0.1", WEBHOOK_PORT=str(port), WEBHOOK_SECRET_TOKEN=secret)  # fmt: skip
    hooks_before = len(api.sent("setWebhook"))
    process = BotProcess(env, tmp_path / "hook.log")
    try:
        api.wait_for(lambda: len(api.sent("setWebhook")) > hooks_before, timeout=30)
        registered = api.sent("setWebhook")[-1]
        assert registered["url"] == "https://runner.example/telegram" and registered["secret_token"] == secret
        update = json.dumps({"update_id": 99001, **message(3001, "/prevent")}).encode()

        def post(headers: dict[str, str]) -> int:
            request = urllib.request.Request(f"http://127.0.0.1:{port}/telegram", data=update, method="POST",
                                             headers={"Content-Type": "application/json", **headers})  # fmt: skip
            for _ in range(100):  # the webhook server may still be starting
                try:
                    with urllib.request.urlopen(request, timeout=10) as response:
                        return response.status
                except urllib.error.HTTPError as error:
                    return error.code
                except urllib.error.URLError:
                    time.sleep(0.1)
            raise AssertionError("the webhook server never answered")

        assert post({}) == 403
        assert post({"X-Telegram-Bot-Api-Secret-Token": secret}) == 200
        api.wait_for(lambda: any("Glute bridge" in t for t in api.texts(3001)))
    finally:
        process.stop()


@pytest.mark.parametrize(
    ("env_change", "expected"),
    [
        ({"TELEGRAM_BOT_TOKEN": "111111:" + "z" * 35}, "Telegram rejected TELEGRAM_BOT_TOKEN"),
        ({"DATABASE_PATH": "/proc/runner-bot/cannot/be/here.sqlite3"}, "cannot use the database"),
        ({"TELEGRAM_BASE_URL": "http://127.0.0.1:9/bot"}, "could not reach the Telegram Bot API"),
    ],
    ids=["rejected token", "unusable database", "unreachable api"],
)
def test_start_up_problems_are_one_line_and_non_zero(
    server: FakeBotApiServer, tmp_path: Path, env_change: dict[str, str], expected: str
) -> None:
    env = {**bot_env(server, tmp_path / "x.sqlite3", LOG_LEVEL="INFO"), **env_change}
    base = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "WEBHOOK_"))}
    proc = subprocess.run([sys.executable, "-m", "bot", "telegram"], cwd=ROOT, env={**base, **env},
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert proc.returncode != 0
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert proc.stderr.startswith(f"runner-bot: {expected}")
    assert "Traceback" not in proc.stderr and "z" * 35 not in proc.stderr


def test_webhook_without_a_configured_secret_still_requires_one(
    server: FakeBotApiServer, api: FakeBotApi, tmp_path: Path
) -> None:
    port = free_port()
    env = bot_env(server, tmp_path / "hook2.sqlite3", WEBHOOK_URL="https://runner.example/hook",
                  WEBHOOK_LISTEN="127.0.0.1", WEBHOOK_PORT=str(port))  # fmt: skip
    hooks_before = len(api.sent("setWebhook"))
    process = BotProcess(env, tmp_path / "hook2.log")
    try:
        api.wait_for(lambda: len(api.sent("setWebhook")) > hooks_before, timeout=30)
        assert len(api.sent("setWebhook")[-1].get("secret_token", "")) >= 32
    finally:
        process.stop()
