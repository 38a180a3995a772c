"""Configuration from plain dicts, and logs that never hold the token or message text."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.config import ConfigError, Settings
from bot.logs import QUIET_LOGGERS, configure_logging

TOKEN = "123456789:" + "AbC_-" * 7


def test_defaults() -> None:
    settings = Settings.from_env({})
    assert not settings.has_token
    assert settings.database_path == Path("data/runner-bot.sqlite3")
    assert (settings.log_level, settings.webhook_port) == ("INFO", 8443)


def test_full_configuration() -> None:
    settings = Settings.from_env(
        {
            "TELEGRAM_BOT_TOKEN": f"  {TOKEN} ",
            "TELEGRAM_BASE_URL": "http://127.0.0.1:8081/bot",
            "DATABASE_PATH": "/tmp/x.sqlite3",
            "LOG_LEVEL": "debug",
            "WEBHOOK_URL": "https://bot.example/hook",
            "WEBHOOK_PORT": "8080",
            "WEBHOOK_SECRET_TOKEN": "abc_DEF-1",
        }
    )
    assert settings.telegram_token == TOKEN and settings.log_level == "DEBUG"
    assert settings.webhook_port == 8080 and settings.database_path == Path("/tmp/x.sqlite3")


@pytest.mark.parametrize(
    ("env", "problem"),
    [
        ({"TELEGRAM_BOT_TOKEN": "abc"}, "TELEGRAM_BOT_TOKEN does not look like a bot token"),
        ({"TELEGRAM_BOT_TOKEN": "12345:short"}, "TELEGRAM_BOT_TOKEN"),
        ({"TELEGRAM_BASE_URL": "ftp://x"}, "TELEGRAM_BASE_URL must be an http(s) URL"),
        ({"LOG_LEVEL": "loud"}, "LOG_LEVEL must be one of"),
        ({"WEBHOOK_URL": "http://insecure.example"}, "WEBHOOK_URL must start with https://"),
        ({"WEBHOOK_PORT": "99999"}, "WEBHOOK_PORT must be a port number"),
        ({"WEBHOOK_PORT": "eighty"}, "WEBHOOK_PORT must be a port number"),
        ({"WEBHOOK_PORT": "²"}, "WEBHOOK_PORT must be a port number"),
        ({"WEBHOOK_SECRET_TOKEN": "has spaces"}, "WEBHOOK_SECRET_TOKEN may only hold"),
    ],
)
def test_bad_settings_explain_themselves_in_one_line(env: dict[str, str], problem: str) -> None:
    with pytest.raises(ConfigError) as raised:
        Settings.from_env(env)
    assert str(raised.value).startswith(problem) and "\n" not in str(raised.value)


def test_token_never_appears_in_repr_or_errors() -> None:
    assert TOKEN not in repr(Settings.from_env({"TELEGRAM_BOT_TOKEN": TOKEN}))
    with pytest.raises(ConfigError) as raised:
        Settings.from_env({"TELEGRAM_BOT_TOKEN": TOKEN + " x"})
    assert TOKEN not in str(raised.value)


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """Logging configured as the bot does it, writing to a string; restored afterwards."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level, {n: logging.getLogger(n).level for n in QUIET_LOGGERS})
    stream = io.StringIO()
    configure_logging(Settings.from_env({"TELEGRAM_BOT_TOKEN": TOKEN, "LOG_LEVEL": "DEBUG"}), stream)
    yield stream
    root.handlers[:], root.level = saved[0], saved[1]
    for name, level in saved[2].items():
        logging.getLogger(name).setLevel(level)


def test_token_is_masked_wherever_it_appears(captured: io.StringIO) -> None:
    logging.getLogger("bot.anything").info("calling https://api.telegram.org/bot%s/getMe", TOKEN)
    logging.getLogger("bot.anything").warning("secret half %s", TOKEN.split(":")[1])
    assert TOKEN.split(":")[1] not in captured.getvalue()
    assert captured.getvalue().count("<token>") == 2


def test_leaky_library_loggers_are_held_back_even_at_debug(captured: io.StringIO) -> None:
    logging.getLogger("telegram.ext.ExtBot").debug(
        "Calling Bot API endpoint `sendMessage` with text `my hip`"
    )
    logging.getLogger("httpx").info("HTTP Request: POST https://api.telegram.org/bot/sendMessage")
    logging.getLogger("bot.telegram.handlers").debug("our own debug line")
    assert "my hip" not in captured.getvalue() and "HTTP Request" not in captured.getvalue()
    assert "our own debug line" in captured.getvalue()


def test_library_errors_are_one_line(captured: io.StringIO) -> None:
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        logging.getLogger("telegram.ext.Application").exception("bootstrap failed")
    assert captured.getvalue().strip().endswith("bootstrap failed (RuntimeError)")
    assert "Traceback" not in captured.getvalue()
