"""How runner-bot talks: the conversation state machine. Transport-free: no Telegram, no database."""
