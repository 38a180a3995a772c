"""The Telegram wiring, fast: Application.process_update with an offline request object."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
from telegram import Update
from telegram.ext import Application

from bot.config import Settings
from bot.storage.memory import MemoryStore
from bot.telegram.application import MENU_COMMANDS, build_application, post_init, post_shutdown
from bot.telegram.bridge import coalesce, split_text
from conversations.engine import Engine
from conversations.events import Button, Reply
from conversations.session import Session
from tests.fake_bot_api import PHOTO, STICKER, FakeBotApi, OfflineRequest, callback, edited, message

TOKEN = "123456:" + "A" * 35
CHAT = 777


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine()


@pytest.fixture
def api() -> FakeBotApi:
    return FakeBotApi(TOKEN)


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


@pytest.fixture
async def app(api: FakeBotApi, store: MemoryStore, engine: Engine) -> AsyncIterator[Application]:
    settings = Settings.from_env({"TELEGRAM_BOT_TOKEN": TOKEN})
    application = build_application(settings, engine=engine, store=store, request=OfflineRequest(api))
    await application.initialize()
    await post_init(application)
    yield application
    await post_shutdown(application)
    await application.shutdown()


async def feed(app: Application, api: FakeBotApi, update: dict[str, Any]) -> None:
    await app.process_update(Update.de_json(api.push(update), app.bot))


async def test_command_menu_is_registered_at_start_up(app: Application, api: FakeBotApi) -> None:
    commands = api.sent("setMyCommands")[0]["commands"]
    assert [c["command"] for c in commands] == list(MENU_COMMANDS)
    assert all(c["description"] for c in commands)


async def test_start_sends_welcome_and_menu_keyboard(app: Application, api: FakeBotApi) -> None:
    await feed(app, api, message(CHAT, "/start"))
    sent = api.sent("sendMessage", CHAT)
    assert "I'm runner-bot" in sent[0]["text"]
    labels = [b["text"] for row in sent[-1]["reply_markup"]["inline_keyboard"] for b in row]
    assert labels == ["Hip pain", "Lower-back pain", "Prevention routine", "Warning-sign check"]


async def test_button_press_is_answered_and_the_keyboard_shows_the_choice(
    app: Application, api: FakeBotApi, store: MemoryStore
) -> None:
    await feed(app, api, message(CHAT, "/start"))
    data, shown = api.button(CHAT, "Hip pain")
    await feed(app, api, callback(CHAT, data, {**shown, "message_id": 1000}))
    assert len(api.sent("answerCallbackQuery")) == 1
    edit = api.sent("editMessageText")[-1]
    assert edit["text"].endswith("✓ Hip pain") and "reply_markup" not in edit
    assert "Where in the hip is the pain?" in api.texts(CHAT)[-1]
    assert store.load(CHAT).top.step == "location"  # type: ignore[union-attr]


async def test_stale_and_forged_buttons_are_answered_with_a_toast_and_expire_politely(
    app: Application, api: FakeBotApi, store: MemoryStore
) -> None:
    await feed(app, api, message(CHAT, "/start"))
    data, shown = api.button(CHAT, "Hip pain")
    await feed(app, api, callback(CHAT, data, shown))
    sent_before = len(api.texts(CHAT))
    for forged in (data, "garbage", "", "9" * 64):
        await feed(app, api, callback(CHAT, forged, shown))
    answers = api.sent("answerCallbackQuery")
    assert len(answers) == 5
    assert all("moved on" in a.get("text", "") for a in answers[1:]), "a toast, not a message"
    assert len(api.texts(CHAT)) == sent_before, "no message for a stale button"
    assert store.load(CHAT).top.step == "location"  # type: ignore[union-attr]
    assert api.sent("editMessageReplyMarkup"), "an expired keyboard is removed"


async def test_a_late_yes_to_the_emergency_question_is_taken_as_a_report(
    app: Application, api: FakeBotApi, store: MemoryStore
) -> None:
    await feed(app, api, message(CHAT, "front of my hip hurts when I sprint"))
    data, shown = api.button(CHAT, "Yes")
    await feed(app, api, callback(CHAT, api.button(CHAT, "No")[0], shown))
    await feed(app, api, callback(CHAT, data, shown))
    assert "Seek emergency care now" in api.texts(CHAT)[-1]
    assert store.load(CHAT).top.flow == "aftermath"  # type: ignore[union-attr]


@pytest.mark.parametrize("content", [PHOTO, STICKER], ids=["photo", "sticker"])
async def test_non_text_gets_an_explanation_and_the_question_again(
    app: Application, api: FakeBotApi, content: dict[str, Any]
) -> None:
    await feed(app, api, message(CHAT, "my hip hurts"))
    await feed(app, api, message(CHAT, None, **content))
    assert "I can only read text" in api.texts(CHAT)[-1]
    assert "Where in the hip is the pain?" in api.texts(CHAT)[-1]


async def test_edited_message_is_not_reread(app: Application, api: FakeBotApi, store: MemoryStore) -> None:
    await feed(app, api, message(CHAT, "my hip hurts"))
    await feed(app, api, edited(CHAT, "my hip hurts at the front when I sprint"))
    assert "not edits" in api.texts(CHAT)[-1]
    assert store.load(CHAT).top.step == "location"  # type: ignore[union-attr]
    assert not store.load(CHAT).flags  # type: ignore[union-attr]


async def test_a_warning_sign_added_in_an_edit_is_still_answered(
    app: Application, api: FakeBotApi, store: MemoryStore
) -> None:
    await feed(app, api, message(CHAT, "my hip hurts"))
    await feed(app, api, edited(CHAT, "my hip hurts and I can't control my bladder"))
    assert "Seek emergency care now" in api.texts(CHAT)[-1]
    assert "cauda_equina" in store.load(CHAT).flags  # type: ignore[union-attr]


async def test_groups_get_pointed_to_a_private_chat_and_channels_are_ignored(
    app: Application, api: FakeBotApi
) -> None:
    await feed(app, api, message(-100, "/start", chat_type="group"))
    await feed(app, api, message(-100, "my hip hurts", chat_type="supergroup"))
    assert [t[:28] for t in api.texts(-100)] == ["I talk about health, so let'"]


async def test_forget_deletes_the_chat_and_confirms(
    app: Application, api: FakeBotApi, store: MemoryStore
) -> None:
    await feed(app, api, message(CHAT, "my hip hurts"))
    assert store.load(CHAT) is not None
    await feed(app, api, message(CHAT, "/forget"))
    assert store.load(CHAT) is not None and "Delete everything I keep" in api.texts(CHAT)[-1]
    await feed(app, api, message(CHAT, "yes, delete"))
    assert store.load(CHAT) is None, "nothing about the chat is stored after /forget"
    kept = app.bot_data["bridge"].forgotten[CHAT]
    assert kept == Session(menu=kept.menu) and kept.menu > 0, "only the new menu's number, in memory"
    assert "deleted everything" in "\n".join(api.texts(CHAT))


async def test_telegram_errors_are_logged_without_text_and_do_not_stop_the_bot(
    app: Application, api: FakeBotApi, caplog: pytest.LogCaptureFixture
) -> None:
    api.fail_next("sendMessage", 403, description="Forbidden: bot was blocked by the user")
    with caplog.at_level(logging.INFO):
        await feed(app, api, message(CHAT, "secret-words-about-my-hip"))
    assert "blocked the bot" in caplog.text
    assert "secret-words" not in caplog.text and TOKEN not in caplog.text
    await feed(app, api, message(CHAT + 1, "/start"))
    assert api.texts(CHAT + 1), "the next chat is served as usual"


async def test_rate_limited_send_is_retried(app: Application, api: FakeBotApi) -> None:
    api.fail_next(
        "sendMessage", 429, description="Too Many Requests: retry after 1", parameters={"retry_after": 1}
    )
    await feed(app, api, message(CHAT, "/prevent"))
    assert any("Strength and stability" in t for t in api.texts(CHAT))


async def test_a_4096_character_message_is_handled(app: Application, api: FakeBotApi) -> None:
    await feed(app, api, message(CHAT, ("my hip hurts at the front when I sprint. " * 120)[:4096]))
    assert "Safety first." in api.texts(CHAT)[-1]


def test_long_replies_are_split_within_telegrams_limit() -> None:
    text = "\n\n".join(["x" * 3000, "y" * 3000, "z" * 100])
    pieces = split_text(text)
    assert all(len(p) <= 4096 for p in pieces) and "".join(pieces).replace("\n", "") == text.replace("\n", "")


def test_replies_are_joined_into_few_messages_but_the_emergency_stands_alone() -> None:
    menu = Reply("What next?", (Button("Hip pain", "1:hip"),))
    warning = Reply("🚨 Seek emergency care now.", kind="emergency")
    joined = coalesce([Reply("That menu has expired."), Reply("Noted."), warning, Reply("Result"), menu])
    assert [r.text for r in joined] == [
        "That menu has expired.\n\nNoted.",
        warning.text,
        "Result\n\nWhat next?",
    ]
    assert joined[1].emergency and joined[2].buttons == menu.buttons
    assert len(coalesce([Reply("x" * 3000), Reply("y" * 3000)])) == 2


async def test_a_storage_failure_gets_an_apology_not_silence(
    app: Application, api: FakeBotApi, store: MemoryStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_save(chat_id: int, session: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(store, "save", broken_save)
    await feed(app, api, message(CHAT, "my hip hurts"))
    assert len(api.texts(CHAT)) == 1 and "something went wrong on my side" in api.texts(CHAT)[0]


async def test_a_stored_session_that_no_longer_fits_the_data_starts_afresh(
    app: Application, api: FakeBotApi, store: MemoryStore, engine: Engine
) -> None:
    await feed(app, api, message(CHAT, "my hip hurts"))
    stale = store.load(CHAT)
    stale.stack[-1].concepts.append("a_clue_renamed_since")  # type: ignore[union-attr]
    stale.flags = ["a_flag_removed_since"]  # type: ignore[union-attr]
    store.save(CHAT, stale)  # type: ignore[arg-type]
    await feed(app, api, message(CHAT, "front"))
    assert "something went wrong" not in api.texts(CHAT)[-1]
    fresh = store.load(CHAT)
    assert fresh is not None and not engine.problems(fresh)
    assert fresh.flags == [] and all("a_clue_renamed_since" not in f.concepts for f in fresh.stack)


def test_the_live_keyboards_kept_in_memory_are_capped() -> None:
    from bot.telegram.keyboards import LiveKeyboards

    live = LiveKeyboards()
    for chat_id in range(LiveKeyboards.CAP + 50):
        live[chat_id] = (chat_id, "question")
    assert len(live) == LiveKeyboards.CAP
    assert 0 not in live and LiveKeyboards.CAP + 49 in live
