"""Start runner-bot: read the configuration, then run the console chat or the Telegram bot."""

from __future__ import annotations

import os
import sys

from bot.config import ConfigError, Settings
from bot.startup import fail
from knowledge import KnowledgeError

CONSOLE_HINT = "(No TELEGRAM_BOT_TOKEN is set, so this is a console chat. To run on Telegram, see README.md.)"


def run_bot(command: str | None, trace: bool = False) -> int:
    """Run `command` ("chat", "telegram", or None to choose by whether a token is set)."""
    try:
        settings = Settings.from_env(os.environ)
        if command == "chat" or (command is None and not settings.has_token):
            return run_chat(hint=CONSOLE_HINT if command is None else "", trace=trace, settings=settings)
        if not settings.has_token:
            return fail(
                "TELEGRAM_BOT_TOKEN is not set; put the token from @BotFather in .env (see README.md)"
            )
        from bot.telegram.application import run_telegram  # Telegram's imports are only paid for when needed
        from bot.telegram.runtime import run_on_one_core

        run_on_one_core()  # the bot's threads on one core: GIL hand-overs across cores cost CPU
        return run_telegram(settings)
    except (ConfigError, KnowledgeError) as error:
        return fail(str(error))


def run_chat(hint: str = "", trace: bool = False, settings: Settings | None = None) -> int:
    """The console chat on this process's stdin and stdout.

    On a terminal the runner's records (log, plan, reminder) are kept in the SQLite file at
    DATABASE_PATH, so they are there next time; a scripted run (a pipe, `--jsonl`) keeps them in
    memory, so scripts and evaluations never write to, or read from, a runner's data.
    """
    from bot.console import run_console
    from conversations.engine import Engine

    records = None
    if settings is not None and sys.stdin.isatty() and not trace:
        from bot.storage.sessions import StorageError
        from bot.storage.sqlite_records import SqliteRecordStore

        try:
            records = SqliteRecordStore(settings.database_path)
        except StorageError as error:
            sys.stderr.write(f"runner-bot: {error}; your log is kept only until you quit\n")
    return run_console(Engine(), sys.stdin, sys.stdout, hint=hint, trace=trace, records=records)
