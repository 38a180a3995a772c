"""Long polling of raw updates: each batch is written to the inbox before the next getUpdates
confirms it; unreadable updates are skipped (offset advanced, logged by id only).

Nothing but a rejected token (401) stops polling: a Bot API that fails or answers nonsense, and a
database that is locked, full or unreachable, are waited out with back-off (capped by
RETRY_CAP_S). While the inbox cannot be written the offset stays where it was, so Telegram keeps
the batch and sends it again; nothing is confirmed before it is kept. A database file deleted
while running (StorageGone) stops the bot too: no retry can bring its chats back.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from telegram.error import InvalidToken, RetryAfter, TelegramError

from bot.storage.sessions import StorageGone
from bot.telegram.outage import health_of
from bot.telegram.updates import Fatal, seconds

if TYPE_CHECKING:
    from telegram.ext import Application

    from bot.telegram.runtime import Runtime

log = logging.getLogger(__name__)

POLL_TIMEOUT_S = 10
RETRY_CAP_S = 30.0


def backoff(failures: int, cap: float) -> float:
    """Seconds to wait after `failures` failures in a row: 1, 2, 4 ... up to `cap`."""
    return min(0.5 * 2 ** min(failures, 12), cap)


async def poll(
    application: Application, runtime: Runtime, allowed_updates: list[str], retry_cap_s: float = RETRY_CAP_S
) -> None:
    """Long-poll until cancelled; raises Fatal on a 401 or a deleted database file."""
    offset: int | None = None
    failures = 0
    health = health_of(application)
    while True:
        try:
            raw = await application.bot._post(  # the raw JSON, so one unreadable update cannot wedge polling
                "getUpdates",
                {"offset": offset, "timeout": POLL_TIMEOUT_S, "allowed_updates": allowed_updates},
                read_timeout=POLL_TIMEOUT_S + 10,
            )
            if not isinstance(raw, list):
                raise ValueError("the answer's result is not a list")
        except InvalidToken:
            raise Fatal("Telegram rejected TELEGRAM_BOT_TOKEN while running; check it with @BotFather") from None
        except RetryAfter as error:
            await asyncio.sleep(seconds(error))
            continue
        except (TelegramError, KeyError, ValueError, TypeError) as error:  # KeyError: {"ok": true} without "result"
            failures += 1
            delay = backoff(failures, retry_cap_s)
            log.warning("getUpdates failed (%s); trying again in %.1f s", type(error).__name__, delay)
            await asyncio.sleep(delay)
            continue
        if raw:
            try:
                next_offset = await runtime.intake(application, raw)
            except StorageGone as error:
                raise Fatal(str(error)) from None
            except Exception as error:  # locked, full, unreachable: keep the offset, so Telegram keeps the batch
                health.failed(error)
                failures += 1
                delay = backoff(failures, retry_cap_s)
                log.warning(
                    "could not keep %d updates in the inbox (%s); they stay unconfirmed, trying again in %.1f s",
                    len(raw), type(error).__name__, delay,
                )  # fmt: skip
                await asyncio.sleep(delay)
                continue
            health.recovered()
            if next_offset is not None:
                offset = max(offset or 0, next_offset)
        failures = 0
