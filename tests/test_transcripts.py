"""Conversations as data: one test per file in tests/transcripts/."""

from __future__ import annotations

from pathlib import Path

import pytest

from conversations.engine import Engine
from tests.transcript import run_transcript

TRANSCRIPTS = sorted((Path(__file__).parent / "transcripts").glob("*.yaml"))


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine()


@pytest.mark.parametrize("path", TRANSCRIPTS, ids=[p.stem for p in TRANSCRIPTS])
def test_transcript(engine: Engine, path: Path) -> None:
    run_transcript(path, engine)


def test_there_are_transcripts() -> None:
    assert len(TRANSCRIPTS) >= 20
