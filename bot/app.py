"""Start runner-bot: read the configuration, then run the console chat or the Telegram bot."""

from __future__ import annotations

import os
import sys

from bot.config import ConfigError, Settings
from knowledge import KnowledgeError

CONSOLE_HINT = "(No TELEGRAM_BOT_TOKEN is set, so this is a console chat. To run on Telegram, see README.md.)"
EXIT_CONFIG = 1


def fail(message: str) -> int:
    """One clear line on stderr and a non-zero exit status — never a traceback."""
    sys.stderr.write(f"runner-bot: {message}\n")
    return EXIT_CONFIG


def run_bot(command: str | None, trace: bool = False) -> int:
    """Run `command` ("chat", "telegram", or None to choose by whether a token is set)."""
    try:
        settings = Settings.from_env(os.environ)
        if command == "chat" or (command is None and not settings.has_token):
            return run_chat(hint=CONSOLE_HINT if command is None else "", trace=trace)
        if not settings.has_token:
            return fail(
                "TELEGRAM_BOT_TOKEN is not set; put the token from @BotFather in .env (see README.md)"
            )
        from bot.telegram_app import run_telegram  # Telegram's imports are only paid for when needed

        return run_telegram(settings)
    except (ConfigError, KnowledgeError) as error:
        return fail(str(error))


def run_chat(hint: str = "", trace: bool = False) -> int:
    """The console chat on this process's stdin and stdout."""
    from bot.console import run_console
    from conversations.engine import Engine

    return run_console(Engine(), sys.stdin, sys.stdout, hint=hint, trace=trace)
