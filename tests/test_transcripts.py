"""Conversations as data: one test per file in tests/transcripts/.

A transcript with a top-level `xfail: REASON` shows the right behaviour for a known engine bug;
it is expected to fail, strictly, so that the fix is noticed (and the marker removed).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from conversations.engine import Engine
from tests.transcript import run_transcript

TRANSCRIPTS = sorted((Path(__file__).parent / "transcripts").glob("*.yaml"))


def _param(path: Path) -> object:
    reason = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("xfail")
    marks = [pytest.mark.xfail(strict=True, reason=str(reason))] if reason else []
    return pytest.param(path, id=path.stem, marks=marks)


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine()


@pytest.mark.parametrize("path", [_param(p) for p in TRANSCRIPTS])
def test_transcript(engine: Engine, path: Path) -> None:
    run_transcript(path, engine)


def test_there_are_transcripts() -> None:
    assert len(TRANSCRIPTS) >= 40
