"""runner-bot on Telegram: the application, polling and the webhook, inbox and outbox delivery,
several instances on one database, and reminders. It uses bot.storage; storage never uses it."""
