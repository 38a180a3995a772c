"""Shared fixtures: the real knowledge base and matcher, and the optional ../shared folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from knowledge import Knowledge, Matcher, default_knowledge
from tests.pg_server import pg_server, pg_url  # noqa: F401 - fixtures: a throwaway PostgreSQL server

ROOT = Path(__file__).resolve().parent.parent
TEST_DATA = Path(__file__).resolve().parent / "data"
SHARED = ROOT.parent / "shared"


def shared_path(relative: str) -> Path:
    """A file in ../shared, or a skip that says why when it is not there (a plain clone)."""
    path = SHARED / relative
    if not path.exists():
        pytest.skip(f"../shared/{relative} is not present (a plain clone has no ../shared)")
    return path


def read_jsonl(path: Path) -> list[dict]:
    """The rows of a JSON Lines file."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="session")
def knowledge() -> Knowledge:
    return default_knowledge()


@pytest.fixture(scope="session")
def matcher(knowledge: Knowledge) -> Matcher:
    return Matcher(knowledge)
