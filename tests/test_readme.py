"""README.md's commands stay true: CI runs exactly README's test command."""

from __future__ import annotations

import re

from tests.conftest import ROOT


def readme_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.findall(r"```sh\n(.*?)\n```", readme, flags=re.S)


def test_ci_runs_the_readme_test_command_word_for_word() -> None:
    test_command = next(block for block in readme_commands() if "pytest" in block)
    ci_lines = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert test_command in ci_lines
