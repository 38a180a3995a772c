"""The real bot process (`python -m bot telegram`) driven through the fake Bot API, turn by turn.

Shared by the end-to-end tests, the fault suite and `docs/render_transcripts.py`. A turn is over
when a probe pushed right after it (an update no handler takes) is logged as handled: a chat's
updates are handled strictly in order, so by then every call of the turn — replies, edits,
the press's answer — has reached the fake API. No sleeps, no guessing.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.fake_bot_api import FakeBotApi, FakeBotApiServer, callback_on, message, probe

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "987654:" + "b" * 35


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
        if not self.log.closed:
            self.log.close()
        return code

    def output(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def handled(self, update_id: int) -> bool:
        return f"update {update_id} handled" in self.output()


def bot_env(server: FakeBotApiServer, database: Path, **extra: str) -> dict[str, str]:
    return {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_BASE_URL": server.base_url, "DATABASE_PATH": str(database),
            "LOG_LEVEL": "DEBUG", **extra}  # fmt: skip


def free_port() -> int:
    with socket.socket() as probe_socket:
        probe_socket.bind(("127.0.0.1", 0))
        return probe_socket.getsockname()[1]


def wait_started(api: FakeBotApi, bot: BotProcess, timeout: float = 30.0) -> None:
    """Until the bot polls (its command menu and profile are set by then)."""
    deadline = time.monotonic() + timeout
    while "deleteWebhook" not in api.tally and "setWebhook" not in api.tally:
        if bot.process.poll() is not None:
            raise AssertionError(f"the bot exited at start-up: {bot.output()[-2000:]}")
        if time.monotonic() > deadline:
            raise AssertionError("the bot did not start")
        time.sleep(0.02)


class Chat:
    """One runner talking to the bot through the fake API; each call is one whole turn."""

    def __init__(self, api: FakeBotApi, bot: BotProcess, chat_id: int) -> None:
        self.api, self.bot, self.chat_id = api, bot, chat_id
        self.turns: list[tuple[str, list[dict[str, Any]]]] = []  # (what the runner did, the calls it got)

    def send(self, update: dict[str, Any], shown_as: str, timeout: float = 20.0) -> list[dict[str, Any]]:
        """Push an update, wait until its turn is over; the chat's calls in that turn."""
        seen = len(self.api.record(self.chat_id))
        self.api.push(update)
        marker = self.api.push(probe(self.chat_id))["update_id"]
        deadline = time.monotonic() + timeout
        while not self.bot.handled(marker):
            if self.bot.process.poll() is not None:
                raise AssertionError(f"the bot exited: {self.bot.output()[-2000:]}")
            if time.monotonic() > deadline:
                raise AssertionError(f"turn {shown_as!r} did not finish; calls: {self.api.record(self.chat_id)[seen:]}")
            time.sleep(0.01)
        calls = self.api.record(self.chat_id)[seen:]
        self.turns.append((shown_as, calls))
        return calls

    def say(self, text: str) -> list[dict[str, Any]]:
        return self.send(message(self.chat_id, text), text)

    def tap(self, label: str) -> list[dict[str, Any]]:
        """Press the newest button with this label the chat shows."""
        data, shown = self.api.button_on_screen(self.chat_id, label)
        return self.send(callback_on(self.chat_id, data, shown), f"[ {label} ]")

    def tap_on(self, shown: dict[str, Any], label: str) -> list[dict[str, Any]]:
        """Press a button on a given message (as it was shown then: a stale tap, say)."""
        data = next(b["callback_data"] for row in shown["reply_markup"]["inline_keyboard"] for b in row
                    if b["text"] == label)  # fmt: skip
        return self.send(callback_on(self.chat_id, data, shown), f"[ {label} ]")


def texts(calls: list[dict[str, Any]], method: str = "sendMessage") -> list[str]:
    """The HTML of the calls of one method (new messages, by default)."""
    return [c["html"] for c in calls if c["method"] == method]


def plain(html: str) -> str:
    """HTML as text, tags dropped and entities read."""
    from tests.fake_bot_api import parse_html

    return parse_html(html)[0]


def labels(markup: dict[str, Any] | None) -> list[list[str]]:
    return [[b["text"] for b in row] for row in (markup or {}).get("inline_keyboard", [])]


def button_data(markup: dict[str, Any] | None) -> list[str]:
    return [b["callback_data"] for row in (markup or {}).get("inline_keyboard", []) for b in row]


