"""The type hints hold: mypy checks the three packages (knowledge, conversations, bot)."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from tests.conftest import ROOT


def test_mypy_finds_no_type_errors() -> None:
    if shutil.which("mypy", path=str(ROOT / ".venv" / "bin")) is None and not _importable("mypy"):
        pytest.skip("mypy is not installed (it comes with the test extra: pip install -e '.[test]')")
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "knowledge", "conversations", "bot"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-3000:]


def _importable(name: str) -> bool:
    try:
        __import__(name)
    except ImportError:
        return False
    return True
