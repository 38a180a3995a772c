"""The layers point one way: bot -> conversations -> knowledge."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import ROOT


def modules_after_import(package: str) -> set[str]:
    code = (
        f"import sys, {package}, importlib, pkgutil\n"
        f"for m in pkgutil.walk_packages({package}.__path__, '{package}.'):\n"
        f"    importlib.import_module(m.name)\n"
        f"print('\\n'.join(sys.modules))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    return {name.split(".")[0] for name in proc.stdout.split()}


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("knowledge", {"bot", "conversations", "telegram", "sqlite_utils"}),
        ("conversations", {"bot", "telegram", "sqlite_utils"}),
    ],
)
def test_lower_layers_do_not_import_upper_ones(package: str, forbidden: set[str]) -> None:
    assert not modules_after_import(package) & forbidden
