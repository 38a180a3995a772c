"""The console chat through its real stdin and stdout (a pipe, and a pseudo-terminal)."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time

from tests.conftest import ROOT

BASE_ENV = {k: v for k, v in os.environ.items() if k not in ("TELEGRAM_BOT_TOKEN", "NO_COLOR")}


def chat(stdin: str, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env={**BASE_ENV, **(env or {})},
    )


def test_scripted_prevent_prints_the_routine_and_exits_0_at_end_of_input() -> None:
    proc = chat("/prevent\n", "chat")
    assert proc.returncode == 0
    assert "bot> " in proc.stdout and "Glute bridge — 3 × 12" in proc.stdout
    assert "\033[" not in proc.stdout, "no colour when stdout is not a terminal"
    assert proc.stderr == ""


def test_numbers_pick_buttons_and_a_triage_reaches_a_result() -> None:
    proc = chat("1\n1\n1\n2\n2\n2\n", "chat")
    assert "  1. Hip pain" in proc.stdout
    assert "Most likely: Hip flexor strain" in proc.stdout
    assert proc.returncode == 0


def test_bare_runner_bot_without_a_token_is_the_console() -> None:
    proc = chat("my knee hurts\n", env={"TELEGRAM_BOT_TOKEN": "", "DATABASE_PATH": os.devnull})
    assert proc.returncode == 0
    assert "I only cover the hips and lower back" in proc.stdout


def test_unicode_digits_are_text_not_button_numbers() -> None:
    proc = chat("²\n٣\n", "chat")
    assert proc.returncode == 0 and "Traceback" not in proc.stderr
    assert proc.stdout.count("Sorry, I didn't understand that.") == 2


def test_empty_input_just_shows_the_welcome() -> None:
    proc = chat("", "chat")
    assert proc.returncode == 0 and "I'm runner-bot" in proc.stdout


def test_bad_configuration_is_one_line_and_non_zero() -> None:
    proc = chat("", "telegram", env={"TELEGRAM_BOT_TOKEN": "not-a-token"})
    assert proc.returncode != 0
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "TELEGRAM_BOT_TOKEN" in proc.stderr and "not-a-token" not in proc.stderr


def test_telegram_without_a_token_says_how_to_get_one() -> None:
    proc = chat("", "telegram", env={"TELEGRAM_BOT_TOKEN": ""})
    assert proc.returncode != 0
    assert proc.stderr.strip().splitlines() == [
        "runner-bot: TELEGRAM_BOT_TOKEN is not set; put the token from @BotFather in .env (see README.md)"
    ]


def run_on_terminal(keys: bytes, env: dict[str, str]) -> str:
    """Run the console chat on a pseudo-terminal, type `keys`, and return all it printed."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: become the chat
        os.chdir(ROOT)
        os.execve(sys.executable, [sys.executable, "-m", "bot", "chat"], {**BASE_ENV, **env})
    output = b""
    os.write(fd, keys)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
    os.waitpid(pid, 0)
    return output.decode("utf-8", "replace")


def test_terminal_gets_a_prompt_and_colour() -> None:
    printed = run_on_terminal(b"my bladder control has gone\n\x04", {})
    assert "you> " in printed
    assert "\033[31m" in printed, "the emergency warning is coloured on a terminal"
    assert "Bye" in printed


def test_no_color_turns_colour_off_on_a_terminal() -> None:
    printed = run_on_terminal(b"my bladder control has gone\n\x04", {"NO_COLOR": "1"})
    assert "Seek emergency care now" in printed
    assert "\033[" not in printed
