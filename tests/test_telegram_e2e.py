"""The real bot process against a fake Bot API server on 127.0.0.1, over real HTTP."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.fake_bot_api import PHOTO, VOICE, FakeBotApi, FakeBotApiServer, callback, message

TOKEN = "987654:" + "b" * 35
SECRET_WORDS = "zebra-striped-secret"


class Chat:
    """One runner talking to the bot through the fake API."""

    def __init__(self, api: FakeBotApi, chat_id: int) -> None:
        self.api, self.chat_id = api, chat_id

    def send(self, update: dict, expect: str, timeout: float = 20.0) -> list[str]:
        """Push an update and wait for a reply containing `expect`; return the new texts."""
        seen = len(self.api.texts(self.chat_id))
        self.api.push(update)
        self.api.wait_for(lambda: any(expect in t for t in self.api.texts(self.chat_id)[seen:]), timeout)
        self.api.wait_for(self.turn_finished, timeout)
        return self.api.texts(self.chat_id)[seen:]

    def turn_finished(self) -> bool:
        """Every turn ends with a question or the menu, which carries buttons."""
        sent = self.api.sent("sendMessage", self.chat_id)
        return bool(sent and sent[-1].get("reply_markup"))

    def say(self, text: str, expect: str) -> list[str]:
        return self.send(message(self.chat_id, text), expect)

    def tap(self, label: str, expect: str) -> list[str]:
        data, shown = self.api.button(self.chat_id, label)
        return self.send(callback(self.chat_id, data, shown), expect)


class BotProcess:
    """`python -m bot telegram` as a child process, its log in a file."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.log_path = log_path
        self.log = log_path.open("ab")
        base = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "WEBHOOK_"))}
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

    def output(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


def bot_env(server: FakeBotApiServer, database: Path, **extra: str) -> dict[str, str]:
    return {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_BASE_URL": server.base_url, "DATABASE_PATH": str(database),
            "LOG_LEVEL": "DEBUG", **extra}  # fmt: skip


@pytest.fixture(scope="module")
def api() -> FakeBotApi:
    return FakeBotApi(TOKEN)


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
    api.wait_for(lambda: bool(api.sent("setMyCommands")), timeout=30)
    yield process
    process.stop()


def test_triage_by_buttons(bot: BotProcess, api: FakeBotApi) -> None:
    chat = Chat(api, 1001)
    chat.say("/start", "What would you like to do?")
    chat.tap("Hip pain", "Where in the hip is the pain?")
    chat.tap("Side of the hip (aching)", "What sets it off")
    chat.tap("Lying on that side", "Safety first.")
    chat.tap("No", "Do you have any of these?")
    chat.tap("No", "lasted more than 7–10 days")
    texts = chat.tap("No", "Most likely: Gluteal tendinopathy")
    assert any("general information, not a diagnosis" in t for t in texts)
    assert api.sent("answerCallbackQuery") and any(
        e["text"].endswith("✓ No") for e in api.sent("editMessageText")
    )


def test_triage_by_free_text(bot: BotProcess, api: FakeBotApi) -> None:
    chat = Chat(api, 1002)
    chat.say(f"{SECRET_WORDS}: sharp pain at the front of my hip when I lift my knee", "Safety first.")
    chat.say("no", "Do you have any of these?")
    chat.say("no", "lasted more than")
    chat.say("no", "Most likely: Hip flexor strain")


def test_prevent_and_redflags(bot: BotProcess, api: FakeBotApi) -> None:
    chat = Chat(api, 1003)
    chat.say("/prevent", "Glute bridge — 3 × 12")
    chat.say("/redflags", "Safety first.")
    chat.tap("No", "Do you have any of these?")
    chat.tap("No", "lasted more than")
    chat.tap("No", "No warning signs from your answers")


def test_emergency_interrupts_a_triage(bot: BotProcess, api: FakeBotApi) -> None:
    chat = Chat(api, 1004)
    chat.say("my lower back hurts", "Where in the lower back")
    texts = chat.say("and I can't feel anything when I wipe", "Seek emergency care now")
    assert texts[0].startswith("🚨 Seek emergency care now")


def test_non_text_long_text_and_forged_buttons(bot: BotProcess, api: FakeBotApi) -> None:
    chat = Chat(api, 1005)
    chat.say("my hip hurts", "Where in the hip")
    chat.send(message(1005, None, **PHOTO), "I can only read text")
    chat.send(message(1005, None, **VOICE), "I can only read text")
    chat.say(("la " * 2000)[:4096], "Sorry, I didn't catch that")
    chat.send(callback(1005, "forged:data"), "That menu has expired")
    chat.send(callback(1005, "1:hip"), "That menu has expired")
    chat.tap("Front of the hip / groin", "What sets it off")


def test_logs_hold_neither_message_text_nor_token(bot: BotProcess, api: FakeBotApi) -> None:
    if not api.texts(1002):  # the free-text triage is what carries the secret words
        test_triage_by_free_text(bot, api)
    log = bot.output()
    assert "Application started" in log, "the bot logged at DEBUG"
    assert SECRET_WORDS not in log and "front of my hip" not in log
    assert TOKEN not in log and TOKEN.split(":")[1] not in log


def test_forget_deletes_the_chats_row(bot: BotProcess, api: FakeBotApi) -> None:
    chat = Chat(api, 1006)
    chat.say("my hip hurts", "Where in the hip")
    database = bot_db(bot)
    assert rows_for(database, 1006) == 1
    chat.say("/forget", "deleted everything")
    assert rows_for(database, 1006) == 0


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
    chat = Chat(api, 2001)
    chat.say("/start", "What would you like to do?")
    chat.tap("Lower-back pain", "Where in the lower back")
    chat.tap("One side of the lower back / buttock", "Safety first.")
    assert first.stop(signal.SIGKILL) == -signal.SIGKILL
    second = BotProcess(bot_env(server, database), tmp_path / "second.log")
    try:
        chat.tap("No", "Do you have any of these?")
        chat.tap("No", "lasted more than")
        chat.tap("No", "Most likely: Sacroiliac (SI) joint dysfunction")
    finally:
        second.stop()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


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
