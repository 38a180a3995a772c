"""The same messages get the same replies whatever PYTHONHASHSEED is.

Set iteration order changes with the hash seed; a reply or a question that follows it (which
explained sign to confirm first, say) would make conversations differ from run to run. The
conversation sets are chatted through `runner-bot chat --jsonl` under several seeds, one
process each, and every trace must be identical.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.conftest import ROOT

# seed 2 asked a different confirm question before the engine ordered the explained signs
SEEDS = ("0", "1", "2", "3")


def conversation_lines() -> str:
    """Every turn of tests/conversations/*.jsonl, each conversation ended by /restart."""
    lines = []
    for path in sorted((ROOT / "tests" / "conversations").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                lines += [turn.replace("\n", " ") for turn in json.loads(line)["turns"]]
                lines.append("/restart")
    return "\n".join(lines) + "\n"


def cli_output(command: str, stdin: str, seed: str) -> str:
    """What `runner-bot COMMAND --jsonl` writes for `stdin`, in a fresh process under `seed`."""
    env = {**os.environ, "PYTHONHASHSEED": seed}
    code = f"import sys; from bot.cli import main; sys.exit(main([{command!r}, '--jsonl']))"
    proc = subprocess.run(
        [sys.executable, "-c", code], input=stdin, capture_output=True, text=True, cwd=ROOT, env=env, check=True
    )
    return proc.stdout


def chat_trace(stdin: str, seed: str) -> str:
    return cli_output("chat", stdin, seed)


def test_conversations_do_not_depend_on_the_hash_seed() -> None:
    stdin = conversation_lines()
    traces = {seed: chat_trace(stdin, seed) for seed in SEEDS}
    first = traces[SEEDS[0]]
    assert first.count("\n") > stdin.count("\n")  # a reply line per line in, plus the welcome
    for seed, trace in traces.items():
        assert trace == first, f"PYTHONHASHSEED={seed} changed the conversation"


MATCH_SEEDS = ("0", "1", "2")


def match_lines() -> str:
    """The text of every message in tests/data/*.jsonl, one a line."""
    lines = []
    for path in sorted((ROOT / "tests" / "data").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                lines.append(json.loads(line)["text"].replace("\n", " "))
    return "\n".join(lines) + "\n"


def test_matching_does_not_depend_on_the_hash_seed() -> None:
    """Candidates, flags and their order in `runner-bot match --jsonl` are the same under every seed."""
    stdin = match_lines()
    outputs = {seed: cli_output("match", stdin, seed) for seed in MATCH_SEEDS}
    first = outputs[MATCH_SEEDS[0]]
    assert first.count("\n") == stdin.count("\n")  # one JSON line per message
    for seed, output in outputs.items():
        assert output == first, f"PYTHONHASHSEED={seed} changed the match output"
