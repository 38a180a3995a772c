"""Configuration from the environment (and `.env`, loaded only by the CLI).

`Settings.from_env` takes any mapping, so tests pass plain dicts. Every problem is a
`ConfigError` whose message is one line a person can act on; it never includes the token.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

DEFAULT_DATABASE = "./data/runner-bot.sqlite3"
TOKEN_SHAPE = re.compile(r"^\d{3,20}:[A-Za-z0-9_-]{30,100}$")
SECRET_SHAPE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class ConfigError(ValueError):
    """The configuration cannot be used; the message says what to fix."""


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything runner-bot reads from its environment."""

    telegram_token: str = ""
    telegram_base_url: str = ""
    database_path: Path = Path(DEFAULT_DATABASE)
    log_level: str = "INFO"
    webhook_url: str = ""
    webhook_listen: str = "0.0.0.0"
    webhook_port: int = 8443
    webhook_secret_token: str = ""
    rate_limit: float = 30.0  # messages a second to Telegram overall; 0 turns the limiter off
    database_url: str = ""  # postgresql://… : PostgreSQL (several instances); empty: SQLite at database_path
    test_clock: str = ""  # RUNNER_BOT_TEST_CLOCK: a fast clock for tests and benchmarks (bot/clock.py)
    # RETRY_CAP_S: the longest wait between tries while the database or the Bot API is unreachable,
    # and the longest one storage call waits (a lock, a connection) before the bot backs off
    retry_cap_s: float = 30.0

    def __repr__(self) -> str:  # the token must never reach a log or a traceback
        token = "<set>" if self.telegram_token else "<empty>"
        return f"Settings(telegram_token={token}, database_path={str(self.database_path)!r}, log_level={self.log_level!r})"

    @property
    def has_token(self) -> bool:
        """Whether a Telegram token is configured (the bot then runs on Telegram)."""
        return bool(self.telegram_token)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        """Read and check settings; raises ConfigError with a one-line explanation."""
        value = {key: (env.get(key) or "").strip() for key in _KEYS}
        token = value["TELEGRAM_BOT_TOKEN"]
        if token and not TOKEN_SHAPE.match(token):
            raise ConfigError(
                "TELEGRAM_BOT_TOKEN does not look like a bot token (digits, a colon, then 30+ letters, "
                "digits, - or _); copy it again from @BotFather"
            )
        base_url = value["TELEGRAM_BASE_URL"]
        if base_url and not _is_http_url(base_url):
            raise ConfigError(
                f"TELEGRAM_BASE_URL must be an http(s) URL such as http://127.0.0.1:8081/bot, not {base_url!r}"
            )
        level = (value["LOG_LEVEL"] or "INFO").upper()
        if level not in LOG_LEVELS:
            raise ConfigError(f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, not {value['LOG_LEVEL']!r}")
        webhook_url = value["WEBHOOK_URL"]
        if webhook_url and not webhook_url.startswith("https://"):
            raise ConfigError("WEBHOOK_URL must start with https:// (Telegram only calls https webhooks)")
        secret = value["WEBHOOK_SECRET_TOKEN"]
        if secret and not SECRET_SHAPE.match(secret):
            raise ConfigError("WEBHOOK_SECRET_TOKEN may only hold 1-256 letters, digits, _ and -")
        database_url = value["DATABASE_URL"]
        if database_url and not database_url.startswith(("postgresql://", "postgres://")):
            raise ConfigError(
                "DATABASE_URL must be a PostgreSQL URL such as postgresql://bot@db-host/runner_bot "
                "(leave it unset to use SQLite at DATABASE_PATH)"
            )
        return cls(
            database_url=database_url,
            rate_limit=_rate(value["TELEGRAM_RATE_LIMIT"]),
            telegram_token=token,
            telegram_base_url=base_url,
            database_path=Path(value["DATABASE_PATH"] or DEFAULT_DATABASE).expanduser(),
            log_level=level,
            webhook_url=webhook_url,
            webhook_listen=value["WEBHOOK_LISTEN"] or "0.0.0.0",
            webhook_port=_port(value["WEBHOOK_PORT"]),
            webhook_secret_token=secret,
            test_clock=_test_clock(value["RUNNER_BOT_TEST_CLOCK"]),
            retry_cap_s=_retry_cap(value["RETRY_CAP_S"]),
        )

    @property
    def log_level_number(self) -> int:
        """The logging module's number for `log_level`."""
        return logging.getLevelNamesMapping()[self.log_level]


_KEYS = (
    "TELEGRAM_BOT_TOKEN",
    "TELEGRAM_BASE_URL",
    "DATABASE_PATH",
    "LOG_LEVEL",
    "WEBHOOK_URL",
    "WEBHOOK_LISTEN",
    "WEBHOOK_PORT",
    "WEBHOOK_SECRET_TOKEN",
    "TELEGRAM_RATE_LIMIT",
    "DATABASE_URL",
    "RUNNER_BOT_TEST_CLOCK",
    "RETRY_CAP_S",
)


def _test_clock(text: str) -> str:
    from bot.clock import Clock

    try:
        Clock.parse(text)
    except ValueError:
        raise ConfigError(f"RUNNER_BOT_TEST_CLOCK must be <epoch seconds>:<speed>, not {text!r}") from None
    return text


def _is_http_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _port(text: str) -> int:
    if not text:
        return 8443
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= 65535:
        raise ConfigError(f"WEBHOOK_PORT must be a port number from 1 to 65535, not {text!r}")
    return int(text)


def _rate(text: str) -> float:
    if not text:
        return 30.0
    try:
        rate = float(text)
    except ValueError:
        rate = -1.0
    if not 0 <= rate <= 10_000:
        raise ConfigError(
            f"TELEGRAM_RATE_LIMIT must be messages a second from 0 (no limit) to 10000, not {text!r}"
        )
    return rate


def _retry_cap(text: str) -> float:
    if not text:
        return 30.0
    try:
        cap = float(text)
    except ValueError:
        cap = -1.0
    if not 1 <= cap <= 3600:
        raise ConfigError(f"RETRY_CAP_S must be seconds from 1 to 3600, not {text!r}")
    return cap
