"""Scripted conversations and what must hold across them (the format of shared/eval/README.md).

A conversation is `{"id", "turns": [message, ...], "expect": [check, ...], "note"}`. It is played
in-process through the same console the `runner-bot chat --jsonl` command uses, so the trace is
exactly what that command prints; each check is then judged on the trace. `broken(conversation)`
lists the checks that fail, with why.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Callable
from typing import Any

from bot.console import Console
from conversations.engine import Engine

URGENCY = ("self_care", "soon", "urgent", "emergency")
RESTARTS = frozenset({"/start", "/restart", "/cancel"})
SAFETY_CHECKS = frozenset({"emergency", "no_result_after_emergency", "not_taken_as_no", "flags", "no_de_escalation"})
Trace = list[list[dict[str, Any]]]


def play(engine: Engine, turns: list[str]) -> Trace:
    """The replies to each turn, as `runner-bot chat --jsonl` traces them."""
    out = io.StringIO()
    console = Console(engine, out, colour=False, trace=True)
    console.start()
    for turn in turns:
        console.send(turn)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    return [line["replies"] for line in lines[1:]]


def broken(engine: Engine, conversation: dict[str, Any]) -> list[str]:
    """The checks of `conversation` that fail, each as "check: why"."""
    turns = conversation["turns"]
    trace = play(engine, turns)
    failures = []
    for expectation in conversation["expect"]:
        why = judge(expectation, turns, trace)
        if why:
            failures.append(f"{expectation['check']}: {why}")
    return failures


def level(urgency: str | None) -> int:
    return URGENCY.index(urgency) if urgency in URGENCY else -1


def judge(check: dict[str, Any], turns: list[str], trace: Trace) -> str | None:
    """None when the check holds on the trace, else why not."""
    judges: dict[str, Callable[[dict[str, Any], list[str], Trace], str | None]] = {
        "emergency": _emergency,
        "no_emergency": _no_emergency,
        "no_result_after_emergency": _no_result_after_emergency,
        "flags": _flags,
        "no_flags": _no_flags,
        "result": _result,
        "urgency": _urgency,
        "no_de_escalation": _no_de_escalation,
        "answer": _answer,
        "resumes": _resumes,
        "not_taken_as_no": _not_taken_as_no,
        "asks": _asks,
        "kind": _kind,
        "no_result": _no_result,
        "understood": _understood,
    }
    judge_one = judges.get(check["check"])
    return judge_one(check, turns, trace) if judge_one else f"unknown check {check['check']!r}"


def _every(trace: Trace) -> list[tuple[int, dict[str, Any]]]:
    return [(i, reply) for i, replies in enumerate(trace) for reply in replies]


def _at(trace: Trace, turn: Any) -> list[dict[str, Any]]:
    if turn == "any":
        return [reply for _, reply in _every(trace)]
    return trace[turn] if isinstance(turn, int) and 0 <= turn < len(trace) else []


def _emergency(check: dict[str, Any], turns: list[str], trace: Trace) -> str | None:
    turn = check.get("turn", "any")
    return None if any(r["kind"] == "emergency" for r in _at(trace, turn)) else f"no emergency at turn {turn}"


def _no_emergency(check: dict[str, Any], turns: list[str], trace: Trace) -> str | None:
    hits = [i for i, r in _every(trace) if r["kind"] == "emergency"]
    return f"emergency at turn {hits[0]}" if hits else None


def _no_result_after_emergency(check: dict[str, Any], turns: list[str], trace: Trace) -> str | None:
    armed = False
    for i, replies in enumerate(trace):
        if turns[i].strip().split(" ")[0].lower() in RESTARTS:
            armed = False
        for reply in replies:
            if reply["kind"] == "emergency":
                armed = True
            elif armed and reply["kind"] == "result":
                return f"a result ({reply.get('condition')}) after the emergency, at turn {i}"
    return None


def _raised(trace: Trace) -> set[str]:
    return {f for _, r in _every(trace) for f in r.get("flags") or []}


def _flags(check: dict[str, Any], turns: list[str], trace: Trace) -> str | None:
    missing = sorted(set(check["include"]) - _raised(trace))
    return f"flags missing {missing} (got {sorted(_raised(trace))})" if missing else None


def _no_flags(check: dict[str, Any], turns: list[str], trace: Trace) -> str | None:
    raised = _raised(trace)
    bad = sorted(raised) if check["exclude"] == "any" else sorted(raised & set(check["exclude"]))
    return f"flags raised {bad}" if bad else None


def _results(trace: Trace) -> list[tuple[int, dict[str, Any]]]:
    return [(i, r) for i, r in _every(trace) if r["kind"] == "result"]


def _result(check: dict[str, Any], turns: list[str], trace: Trace) -> str | None:
    results = _results(trace)
    if not results:
        return "no result"
    got = results[-1][1].get("condition")
    return None if got in (check["condition"], *check.get("also", [])) else f"result {got}, want {check['condition']}"


def _urgency(check: dict[str, Any], turns: list[str], trace: Trace) -> str | None:
    results = _results(trace)
    if results:
        got = level(results[-1][1].get("urgency"))
    else:  # no triage result (a referral, say): the highest urgency the bot stated
        stated = [level(r.get("urgency")) for _, r in _every(trace) if r["kind"] in ("warning", "emergency")]
        if not stated:
            return "no result and no warning"
        got = max(stated)
    if "at_least" in check and got < level(check["at_least"]):
        return f"urgency {URGENCY[got] if got >= 0 else None}, want at least {check['at_least']}"
    if "at_most" in check and got > level(check["at_most"]):
        return f"urgency {URGENCY[got]}, want at most {check['at_most']}"
    return None


def _no_de_escalation(check: dict[str, Any], turns: list[str], trace: Trace) -> str | None:
    results = _results(trace)
    if not results:
        return "no result"
    last_turn, last = results[-1]
    earlier = [
        level(r.get("urgency"))
        for i, r in _every(trace)
        if i <= last_turn and r["kind"] in ("warning", "emergency") and r is not last
    ]
    top = max(earlier, default=-1)
    return None if level(last.get("urgency")) >= top else f"result {last.get('urgency')} below an earlier {URGENCY[top]}"


def _answer(check: dict[str, Any], turns: list[str], trace: Trace) -> str | None:
    topics = {check["topic"], *check.get("also", [])}
    answers = [r for r in _at(trace, check["turn"]) if r["kind"] in ("answer", "info")]
    if not answers:
        return f"no answer at turn {check['turn']}"
    for reply in answers:
        if reply.get("topic") in topics and ("condition" not in check or reply.get("condition") == check["condition"]):
            return None
    return f"answers at turn {check['turn']}: {[(r.get('topic'), r.get('condition')) for r in answers]}"


def _pending_before(trace: Trace, turn: int) -> str | None:
    pending = None
    for replies in trace[:turn]:
        for reply in replies:
            if reply["kind"] == "question":
                pending = reply.get("asks")
    return pending


def _asked(trace: Trace, turn: int) -> list[str | None]:
    return [r.get("asks") for r in _at(trace, turn) if r["kind"] == "question"]


def _resumes(check: dict[str, Any], turns: list[str], trace: Trace) -> str | None:
    turn = check["turn"]
    pending, asked = _pending_before(trace, turn), _asked(trace, turn)
    return None if asked and asked[-1] == pending else f"turn {turn} asks {asked}, pending was {pending}"


def _not_taken_as_no(check: dict[str, Any], turns: list[str], trace: Trace) -> str | None:
    turn = check["turn"]
    pending, asked = _pending_before(trace, turn), _asked(trace, turn)
    if any(r["kind"] == "emergency" for r in _at(trace, turn)) or pending in asked or "confirm" in asked:
        return None
    return f"turn {turn} moved on: asks {asked}, pending was {pending}"


def _asks(check: dict[str, Any], turns: list[str], trace: Trace) -> str | None:
    if "after" in check:
        pool = [r for i, r in _every(trace) if i > check["after"]]
    else:
        pool = _at(trace, check["turn"])
    asked = [r.get("asks") for r in pool if r["kind"] == "question"]
    return None if check["asks"] in asked else f"asks {asked}, want {check['asks']}"


def _kind(check: dict[str, Any], turns: list[str], trace: Trace) -> str | None:
    kinds = [r["kind"] for r in _at(trace, check["turn"])]
    return None if check["kind"] in kinds else f"turn {check['turn']} gives {kinds}"


def _no_result(check: dict[str, Any], turns: list[str], trace: Trace) -> str | None:
    results = _results(trace)
    return f"a result at turn {results[0][0]}" if results else None


def _understood(check: dict[str, Any], turns: list[str], trace: Trace) -> str | None:
    bad = [n for n in check["turns"] if any(r["kind"] == "not_understood" for r in _at(trace, n))]
    return f"not understood at turns {bad}" if bad else None


def fixed_engine() -> Engine:
    """An engine whose today is fixed, so "since Sunday" means the same on every run."""
    return Engine(today=lambda: dt.date(2026, 11, 26))
