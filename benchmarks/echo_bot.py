"""A bare python-telegram-bot echo bot: the yardstick for runner-bot's Telegram pipeline.

Run by benchmarks/telegram_pipeline.py with TELEGRAM_BOT_TOKEN and TELEGRAM_BASE_URL set. With
ECHO_REPLY_CHARS and ECHO_REPLY_BUTTONS set it answers every message with a reply of that many
characters and buttons instead — the size of runner-bot's replies, with no engine behind them.
With ECHO_CONCURRENT=1 it handles updates concurrently (PTB's `concurrent_updates(True)`),
without any per-chat ordering.
"""

from __future__ import annotations

import os

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, ContextTypes, MessageHandler, filters

SAMPLE = "Most likely: hip flexor strain (the front of the hip). Ice it during the first 48 hours. "
REPLY_CHARS = int(os.environ.get("ECHO_REPLY_CHARS") or 0)
REPLY_BUTTONS = int(os.environ.get("ECHO_REPLY_BUTTONS") or 0)


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if not (update.effective_message and update.effective_chat):
        return
    if not REPLY_CHARS:
        await context.bot.send_message(update.effective_chat.id, update.effective_message.text or "…")
        return
    text = (SAMPLE * (REPLY_CHARS // len(SAMPLE) + 1))[:REPLY_CHARS]
    buttons = [
        [InlineKeyboardButton(f"Option {i}", callback_data=f"7:option_{i}")] for i in range(REPLY_BUTTONS)
    ]
    await context.bot.send_message(update.effective_chat.id, text, reply_markup=InlineKeyboardMarkup(buttons))


def main() -> None:
    application = (
        Application.builder()
        .token(os.environ["TELEGRAM_BOT_TOKEN"])
        .base_url(os.environ["TELEGRAM_BASE_URL"])
        .concurrent_updates(os.environ.get("ECHO_CONCURRENT") == "1")
        .build()
    )
    application.add_handler(MessageHandler(filters.TEXT, echo))
    application.run_polling(allowed_updates=[Update.MESSAGE])


if __name__ == "__main__":
    main()
