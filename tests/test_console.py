"""The console chat through its real stdin and stdout (a pipe, and a pseudo-terminal)."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.conftest import ROOT

BASE_ENV = {k: v for k, v in os.environ.items() if k not in ("TELEGRAM_BOT_TOKEN", "NO_COLOR")}
# the console on a terminal keeps its records at DATABASE_PATH: never the repo's ./data here
BASE_ENV["DATABASE_PATH"] = str(Path(tempfile.mkdtemp(prefix="runner-bot-console-")) / "console.sqlite3")


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


def test_numbers_and_labels_pick_buttons_and_a_triage_reaches_a_result() -> None:
    # Hip pain, Front of the hip / groin, Lifting the knee, No, then labels typed
    proc = chat("1\n1\n1\n2\nnone of these\nUnder a week\n", "chat")
    assert proc.returncode == 0 and proc.stderr == ""
    assert "  1. Hip pain" in proc.stdout and "  2. No" in proc.stdout
    assert "🩺 Most likely: Hip flexor strain" in proc.stdout
    assert "<b>" not in proc.stdout and "&amp;" not in proc.stdout, "replies are printed plain"
    assert proc.stdout.rstrip().endswith("  8. ☰ Menu"), "the result's section buttons, numbered"


def test_prevent_during_the_check_shows_the_routine_then_the_question_again() -> None:
    proc = chat("/redflags\nNo\n/prevent\n", "chat")
    assert proc.returncode == 0
    assert "Strength and stability" in proc.stdout and "Back to where we were:" in proc.stdout


def jsonl(stdin: str) -> list[dict]:
    proc = chat(stdin, "chat", "--jsonl")
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    assert "\033[" not in proc.stdout
    return [json.loads(line) for line in proc.stdout.splitlines()]


def test_chat_jsonl_traces_one_line_for_the_welcome_and_one_per_line_in() -> None:
    lines = [
        "my hip hurts at the front when I sprint",
        "1",  # in the trace a number is text, not a button
        "No",  # a button's label presses it
        "☐ Wakes me at night",  # a checklist box, ticked by its label (as text it would be a warning)
        "☑ Wakes me at night",  # and unticked
        "None of these",
        "",
        "under a week",
        "💪 Exercises",
        "I can't control my bladder",
    ]
    trace = jsonl("\n".join(lines) + "\n")
    assert [entry["in"] for entry in trace] == [None, *lines]
    for entry in trace:
        assert set(entry) == {"in", "replies"} and entry["replies"], entry
        for reply in entry["replies"]:
            assert {"kind", "text", "buttons"} <= set(reply)
            assert "<b>" not in reply["text"] and "</i>" not in reply["text"]
            assert all(isinstance(label, str) for label in reply["buttons"])
            if reply["kind"] == "question":
                assert reply["asks"], reply
            if reply["kind"] in ("emergency", "warning", "result"):
                assert "urgency" in reply and isinstance(reply["flags"], list)
    welcome = trace[0]["replies"]
    assert welcome[-1]["asks"] == "menu" and welcome[-1]["buttons"][:2] == ["Hip pain", "Lower-back pain"]
    kinds = [[r["kind"] for r in entry["replies"]] for entry in trace]
    assert trace[1]["replies"][-1]["asks"] == "emergency_screen"
    assert trace[2]["replies"][-1]["asks"] == "emergency_screen", "'1' is not the Yes button"
    assert trace[3]["replies"][-1]["asks"] == "warning_screen"
    assert kinds[4] == ["question"] and "☑ Wakes me at night" in trace[4]["replies"][0]["buttons"]
    assert "☐ Wakes me at night" in trace[5]["replies"][0]["buttons"]
    assert trace[6]["replies"][-1]["asks"] == "age"  # skippable: "under a week" below answers how long
    assert "empty" in trace[7]["replies"][0]["text"]
    result = trace[8]["replies"][-1]
    assert result["kind"] == "result" and result["condition"] == "hip_flexor_strain"
    assert result["urgency"] == "self_care" and result["flags"] == []
    assert result["buttons"][0] == "💪 Exercises"
    exercises = trace[9]["replies"][0]
    assert exercises["kind"] == "answer" and exercises["condition"] == "hip_flexor_strain"
    assert exercises["topic"] == "exercises"
    assert kinds[10] == ["emergency"], "the emergency, and nothing after it"
    emergency = trace[10]["replies"][0]
    assert emergency["urgency"] == "emergency" and emergency["flags"] == ["cauda_equina"]
    assert emergency["buttons"] == ["What should I do now?", "Start over"]


def test_chat_jsonl_presses_the_emergency_buttons_by_label() -> None:
    trace = jsonl("I can't control my bladder and my back hurts\nWhat should I do now?\nStart over\n")
    assert [r["kind"] for r in trace[1]["replies"]] == ["emergency"]
    assert trace[2]["replies"][0]["topic"] == "see_clinician"
    assert trace[3]["replies"][-1]["asks"] == "menu"


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


def test_a_number_that_is_a_button_label_presses_that_button_not_the_nth() -> None:
    # the pain scale's buttons are 0..10: "4" is pain 4, not the fourth button (pain 3)
    proc = chat("/log\n4\nNo run today\n", "chat")
    assert "Logged: pain 4/10" in proc.stdout, proc.stdout[-800:]
