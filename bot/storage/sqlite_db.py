"""sqlite-utils, imported without pandas and numpy: every SQLite store imports it from here."""

from __future__ import annotations

import importlib
import sys


def _import_sqlite_utils_without_dataframes() -> None:
    """Import sqlite-utils while keeping pandas and numpy out of the bot's process.

    sqlite-utils imports both whenever they are installed (say, with the `bench` extra), only to
    map their column types; the bot stores text and integers, and numpy alone would add about
    15 MB to every bot process. The blocks are lifted straight after, so other code can still
    import them.
    """
    blocked = [name for name in ("numpy", "pandas") if name not in sys.modules]
    sys.modules.update(dict.fromkeys(blocked))  # type: ignore[arg-type]  # None blocks an import
    try:
        importlib.import_module("sqlite_utils")
    finally:
        for name in blocked:
            sys.modules.pop(name, None)


_import_sqlite_utils_without_dataframes()
from sqlite_utils import Database  # noqa: E402 - imported just above, without numpy
from sqlite_utils.migrations import Migrations  # noqa: E402

__all__ = ["Database", "Migrations"]
