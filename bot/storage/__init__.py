"""Where the bot keeps things: the contracts (sessions; records) and their backends — in memory,
SQLite and PostgreSQL. Nothing here knows about Telegram."""
