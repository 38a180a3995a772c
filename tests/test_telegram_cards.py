"""bot/telegram/cards.py on its own: how a tab keeps its card's keyboard, and when a question
gets an input hint (ForceReply) — the rules the end-to-end tests see only through their cases."""

from __future__ import annotations

from bot.storage.sessions import Outgoing
from bot.telegram.cards import force_reply, tab_buttons

CARD = (("💪 Exercises", "x:section:exercises:gt"), ("🩹 What helps", "x:section:helps:gt"),
        ("❓ Ask a question", "x:ask:gt"), ("☰ Menu", "x:menu"))  # fmt: skip


def test_the_tab_pressed_is_marked_and_the_card_keeps_its_buttons() -> None:
    section = (("📈 How to progress", "x:section:progress:gt"), ("🩹 What helps", "x:section:helps:gt"),
               ("☰ Menu", "x:menu"))  # fmt: skip
    shown = tab_buttons(CARD, section, "x:section:exercises:gt")
    assert [label for label, _ in shown] == [
        "• 💪 Exercises", "📈 How to progress", "🩹 What helps", "❓ Ask a question", "☰ Menu"]  # fmt: skip
    # the next tab moves the mark; nothing is added twice
    again = tab_buttons(shown, (("💪 Exercises", "x:section:exercises:gt"), ("☰ Menu", "x:menu")), "x:section:helps:gt")
    assert [label for label, _ in again] == [
        "💪 Exercises", "📈 How to progress", "• 🩹 What helps", "❓ Ask a question", "☰ Menu"]  # fmt: skip


def test_a_tab_missing_from_the_card_goes_where_the_section_has_it() -> None:
    card = (("B", "x:p:b"), ("F", "x:p:f"), ("☰", "x:menu"))
    section = (("S", "x:p:s"), ("B", "x:p:b"), ("☰", "x:menu"))
    assert tab_buttons(card, section, "x:p:f") == (("S", "x:p:s"), ("B", "x:p:b"), ("• F", "x:p:f"), ("☰", "x:menu"))


def test_without_the_card_the_sections_own_buttons_are_used() -> None:
    section = (("🩹 What helps", "x:section:helps:gt"),)
    assert tab_buttons((), section, "x:section:exercises:gt") == section


def test_an_input_hint_only_on_a_new_text_message_without_buttons() -> None:
    asks = Outgoing(1, 5, "Ask away", placeholder="can I still run?")
    hint = force_reply(asks)
    assert hint is not None and hint.input_field_placeholder == "can I still run?"
    assert force_reply(Outgoing(1, 5, "How much?", (("3", "1:pain:3"),), placeholder="pain 3")) is None
    assert force_reply(Outgoing(1, 5, "Ask away", edit=77, placeholder="can I still run?")) is None
    assert force_reply(Outgoing(1, 5, "Hello")) is None
    # the hint survives the outbox (a restart between the turn and the send)
    assert Outgoing.of(1, 5, asks.body()).placeholder == "can I still run?"
