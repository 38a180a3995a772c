"""`runner-bot match` through its real command line, and the shared evaluation set."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT, shared_path

COMMAND = [sys.executable, "-m", "bot"]


def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*COMMAND, *args], input=stdin, capture_output=True, text=True, timeout=60, cwd=ROOT
    )


def test_readable_answer() -> None:
    proc = run("match", "front of my hip hurts when I lift my knee")
    assert proc.returncode == 0
    assert "Hip flexor strain" in proc.stdout
    assert "pain at the front of the hip" in proc.stdout


def test_json_answer() -> None:
    proc = run("match", "--json", "sciatica in both legs and I can't control my bladder")
    data = json.loads(proc.stdout)
    assert data["urgency"] == "emergency"
    assert "cauda_equina" in data["red_flags"]


def test_jsonl_answers_every_line_in_order() -> None:
    lines = [
        "front of hip hurts when I sprint",
        "",
        "   ",
        "my knee hurts",
        "snapping outside of my hip on runs",
    ]
    proc = run("match", "--jsonl", stdin="\n".join(lines) + "\n")
    answers = [json.loads(line) for line in proc.stdout.splitlines()]
    assert proc.returncode == 0
    assert [a["condition"] for a in answers] == ["hip_flexor_strain", None, None, None, "it_band_syndrome"]
    assert answers[1] == {**answers[1], "red_flags": [], "urgency": "self_care", "candidates": []}


@pytest.mark.parametrize(
    "args",
    [
        ("match",),
        ("match", "--jsonl", "text"),
        ("match", "--json", "--jsonl"),
        ("frobnicate",),
        ("match", "--nope"),
    ],
    ids=str,
)
def test_bad_usage_is_one_line_and_exit_2(args: tuple[str, ...]) -> None:
    proc = run(*args)
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "Traceback" not in proc.stderr


def test_shared_evaluation_set_meets_the_bar() -> None:
    """shared/eval/score.py on the public set: the targets of the matcher issue."""
    score = shared_path("eval/score.py")
    command = " ".join([sys.executable, "-m", "bot", "match", "--jsonl"])
    proc = subprocess.run(
        [sys.executable, str(score), "--cmd", command, "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr
    figures = json.loads(proc.stdout)
    assert figures["condition_accuracy"] >= 0.95
    assert figures["flagged_messages_caught"] == 1.0
    assert figures["emergencies_caught"] == 1.0
    assert figures["false_alarms"] <= 0.03
