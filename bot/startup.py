"""Start-up failures: one clear line on stderr and a non-zero exit status, never a traceback.

Both the command line (bot/app.py) and the Telegram start-up (bot/telegram/application.py)
report through `fail`.
"""

from __future__ import annotations

import sys

EXIT_CONFIG = 1


def fail(message: str) -> int:
    """One clear line on stderr and a non-zero exit status — never a traceback."""
    sys.stderr.write(f"runner-bot: {message}\n")
    return EXIT_CONFIG
