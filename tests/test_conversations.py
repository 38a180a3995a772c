"""Whole conversations: the project's own scripted conversations, and the shared set when present.

tests/conversations/*.jsonl hold conversations written before the engine they test (each file
was scored blind first; docs/benchmarks.md records the figures). Every check of every
conversation must hold; the safety checks above all.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conversations.engine import Engine
from tests.conftest import read_jsonl, shared_path
from tests.conversation_checks import broken, fixed_engine

HERE = Path(__file__).resolve().parent / "conversations"
OWN = [c for path in sorted(HERE.glob("*.jsonl")) for c in read_jsonl(path)]


@pytest.fixture(scope="module")
def engine() -> Engine:
    return fixed_engine()


@pytest.mark.parametrize("conversation", OWN, ids=lambda c: c["id"])
def test_own_conversation(engine: Engine, conversation: dict) -> None:
    assert not broken(engine, conversation), conversation["note"]


def test_own_conversations_are_well_formed() -> None:
    ids = [c["id"] for c in OWN]
    assert len(ids) == len(set(ids)), "conversation ids repeat"
    assert all(c["turns"] and c["expect"] for c in OWN)


def test_shared_conversations(engine: Engine) -> None:
    conversations = read_jsonl(shared_path("eval/conversations.jsonl"))
    failures = {c["id"]: broken(engine, c) for c in conversations}
    assert not {k: v for k, v in failures.items() if v}
