"""Logging that is safe for health information: no message text, no token, ever.

python-telegram-bot logs request parameters (message text) at DEBUG and the API URL (which holds
the token) when it starts; httpx logs every request URL (token included) at INFO. So those
loggers are held at a safe level whatever LOG_LEVEL says, and a filter masks the token in
anything that still gets through.
"""

from __future__ import annotations

import logging
import sys
from typing import TextIO

from bot.config import Settings

QUIET_LOGGERS = {"httpx": logging.WARNING, "httpcore": logging.WARNING, "telegram": logging.INFO,
                 "apscheduler": logging.WARNING, "tornado": logging.WARNING}  # fmt: skip
MASK = "<token>"


class RedactToken(logging.Filter):
    """Masks the bot token (and its secret half alone) in every record."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.secrets = [s for s in (token, token.partition(":")[2]) if len(s) >= 8]

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secrets:
            message = record.getMessage()
            if any(secret in message for secret in self.secrets):
                for secret in self.secrets:
                    message = message.replace(secret, MASK)
                record.msg, record.args = message, None
        return True


class LibraryErrorsInOneLine(logging.Filter):
    """Errors that the libraries log (a rejected token, an unreachable server) as one line, no traceback.

    runner-bot reports such start-up problems itself in one clear line; its own unexpected errors
    keep their tracebacks for whoever runs it.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and not record.name.startswith(("bot", "conversations", "knowledge")):
            error = record.exc_info[1]
            record.msg, record.args = f"{record.getMessage()} ({type(error).__name__})", None
            record.exc_info, record.exc_text = None, None
        return True


def configure_logging(settings: Settings, stream: TextIO | None = None) -> logging.Handler:
    """Log to stderr at LOG_LEVEL, with the noisy and leaky libraries held back."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(LibraryErrorsInOneLine())
    handler.addFilter(RedactToken(settings.telegram_token))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level_number)
    for name, floor in QUIET_LOGGERS.items():
        logging.getLogger(name).setLevel(max(floor, settings.log_level_number))
    return handler
