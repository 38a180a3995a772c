"""Long polling of raw updates: each batch is written to the inbox before the next getUpdates
confirms it; unreadable updates are skipped (offset advanced, logged by id only); a 401 stops the
bot; server and network errors back off."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from telegram.error import Conflict, InvalidToken, RetryAfter, TelegramError

from bot.telegram.updates import Fatal, seconds

if TYPE_CHECKING:
    from telegram.ext import Application

    from bot.telegram.runtime import Runtime

log = logging.getLogger(__name__)

POLL_TIMEOUT_S = 10


async def poll(application: Application, runtime: Runtime, allowed_updates: list[str]) -> None:
    """Long-poll until cancelled; raises Fatal on a 401."""
    offset: int | None = None
    failures = 0
    while True:
        try:
            raw = await application.bot._post(  # the raw JSON, so one unreadable update cannot wedge polling
                "getUpdates",
                {"offset": offset, "timeout": POLL_TIMEOUT_S, "allowed_updates": allowed_updates},
                read_timeout=POLL_TIMEOUT_S + 10,
            )
        except InvalidToken:
            raise Fatal("Telegram rejected TELEGRAM_BOT_TOKEN while running; check it with @BotFather") from None
        except RetryAfter as error:
            await asyncio.sleep(seconds(error))
            continue
        except (Conflict, TelegramError, ValueError) as error:
            failures += 1
            delay = min(0.5 * 2 ** min(failures, 6), 30.0)
            log.warning("getUpdates failed (%s); trying again in %.1f s", type(error).__name__, delay)
            await asyncio.sleep(delay)
            continue
        failures = 0
        if isinstance(raw, list) and raw:
            next_offset = await runtime.intake(application, raw)
            if next_offset is not None:
                offset = max(offset or 0, next_offset)
