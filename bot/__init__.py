"""Where runner-bot lives: Telegram adapter, console chat, storage, configuration and the CLI."""
