"""Issue 11, "Done when": Telegram that feels native, checked end to end against the fake Bot API.

The real bot process runs every flow of `docs/render_transcripts.py` (triage by buttons and in
words, a question mid-triage, /prevent, the /redflags checklist, an emergency, stale taps,
/forget, deep links, /privacy and captions), each in a chat of its own, once for the module.
Each turn is then checked from the fake's record: how many messages, how long, parse mode and
valid HTML, compact keyboards, no live keyboard left behind, a toast for every stale tap, the
emergency bubble last; and issue 19's Telegram side: section tabs edited into the one card, an
input hint on a question that waits for words, a chat action before a chart or a file, the
German line, and the command menus per scope. The committed transcripts must be what this same run renders.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from docs.render_transcripts import FLOWS, OUT, Flow, files, in_order, run_clocked_flows, run_flows
from tests.fake_bot_api import FakeBotApi, FakeBotApiServer, parse_html
from tests.telegram_harness import TOKEN, BotProcess, Chat, bot_env, button_data, labels, wait_started

CARD_LIMIT = 1000  # characters: no result, answer or routine message over this (issue 11)
TOAST = "That question has moved on — use the newest buttons."
REPORT_TOAST = "Taken as a yes — that matters, so see my advice below."  # a late "yes" to a safety question


@pytest.fixture(scope="module")
def api() -> FakeBotApi:
    api = FakeBotApi(TOKEN)
    api.strict_html = api.strict_edits = True
    return api


@pytest.fixture(scope="module")
def run(api: FakeBotApi, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Chat]]:
    folder = tmp_path_factory.mktemp("native")
    with FakeBotApiServer(api) as server:
        clocked = run_clocked_flows(api, server, folder)  # their own bots, on a fast clock, first
        bot = BotProcess(bot_env(server, folder / "bot.sqlite3"), folder / "bot.log")
        try:
            wait_started(api, bot)
            yield in_order({**run_flows(api, bot), **clocked})
        finally:
            bot.stop()


def turns(flow: Flow, chat: Chat) -> Iterator[tuple[Any, list[dict[str, Any]]]]:
    """(step, calls) for each step that talked to the bot."""
    for step, (_, calls) in zip(flow.steps, chat.turns, strict=True):
        if step.do != "keep":
            yield step, calls


def sent(calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [c for c in calls if c["method"] == "sendMessage"]


def is_lasting(markup: dict[str, Any] | None) -> bool:
    """Section, menu and command buttons (data "x:…") never expire; question buttons do."""
    return all(data.startswith("x:") for data in button_data(markup))


@pytest.mark.parametrize("flow", FLOWS, ids=[f.name for f in FLOWS])
def test_message_count_per_turn(run: dict[str, Chat], flow: Flow) -> None:
    counts = [len(sent(calls)) for _, calls in turns(flow, run[flow.name])]
    assert counts == [step.messages for step in flow.steps if step.do != "keep"]
    assert max(counts) <= 2, "a turn is one card, or an answer and the question again"


@pytest.mark.parametrize("flow", FLOWS, ids=[f.name for f in FLOWS])
def test_every_text_is_html_within_limits(run: dict[str, Chat], api: FakeBotApi, flow: Flow) -> None:
    for step, calls in turns(flow, run[flow.name]):
        for call in calls:
            if call["method"] in ("sendMessage", "editMessageText"):
                assert call["parse_mode"] == "HTML", f"{step}: {call['method']} without parse_mode"
                text, entities = parse_html(call["html"])  # allowed tags, balanced, entities escaped
                assert len(entities) <= 100
                if call["method"] == "sendMessage":
                    assert len(text) <= CARD_LIMIT, f"{step}: a message of {len(text)} characters"
    assert api.html_errors == []


@pytest.mark.parametrize("flow", FLOWS, ids=[f.name for f in FLOWS])
def test_keyboards_are_compact(run: dict[str, Chat], flow: Flow) -> None:
    for step, calls in turns(flow, run[flow.name]):
        for call in calls:
            rows = labels(call.get("reply_markup"))
            if not rows:
                continue
            buttons = sum(len(row) for row in rows)
            assert len(rows) <= math.ceil(buttons / 2) + 1, f"{step}: {rows}"
            assert all(len(row) <= 3 for row in rows), f"{step}: {rows}"
            flat = [label for row in rows for label in row]
            if {"Yes", "No"} <= set(flat):
                assert next(row for row in rows if "Yes" in row)[:3] == ["Yes", "No", "Not sure"][: len(rows[0])]
            assert not any("What would you like to do?" in call["html"] and step.do == "tap" and "Menu" not in step.arg
                           for _ in [0]), f"{step}: the long menu prompt repeated"  # fmt: skip


@pytest.mark.parametrize("flow", FLOWS, ids=[f.name for f in FLOWS])
def test_no_live_keyboard_is_left_behind(run: dict[str, Chat], api: FakeBotApi, flow: Flow) -> None:
    """After every turn (above all a typed answer), only the newest question may still have buttons;
    cards whose buttons never expire (sections, the menu) are the exception."""
    chat = run[flow.name]
    screen: dict[int, dict[str, Any] | None] = {}
    for step, calls in turns(flow, chat):
        for call in calls:
            if "message_id" in call:  # not a press's answer or a chat action
                screen[call["message_id"]] = call["reply_markup"]
        expiring = [message_id for message_id, markup in screen.items() if markup and not is_lasting(markup)]
        assert len(expiring) <= 1, f"after {step}: live keyboards on messages {expiring}"
        if expiring:
            newest_question = max(i for i, m in screen.items() if m and not is_lasting(m))
            assert expiring == [newest_question]
    # the replayed record agrees with what the fake shows
    assert [m["message_id"] for m in api.live_buttons(chat.chat_id) if not is_lasting(m.get("reply_markup"))] == [
        i for i, m in screen.items() if m and not is_lasting(m)
    ]


@pytest.mark.parametrize("flow", FLOWS, ids=[f.name for f in FLOWS])
def test_every_tap_is_answered_and_stale_ones_get_a_toast(run: dict[str, Chat], flow: Flow) -> None:
    for step, calls in turns(flow, run[flow.name]):
        answers = [c["toast"] for c in calls if c["method"] == "answerCallbackQuery"]
        if step.do == "tap":
            assert answers == [""], f"{step}: a live tap is answered once, quietly"
        elif step.do == "tap_kept":
            want = REPORT_TOAST if step.arg == "Yes" else TOAST
            assert answers == [want], f"{step}: a stale tap gets a toast"
            if step.arg != "Yes":
                assert sent(calls) == [], "and no new message"
        else:
            assert answers == []


def test_a_late_yes_to_the_safety_question_is_a_report(run: dict[str, Chat]) -> None:
    _, calls = run["stale_tap"].turns[-1]
    assert [c["toast"] for c in calls if c["method"] == "answerCallbackQuery"] == [REPORT_TOAST]
    assert sent(calls)[-1]["html"].startswith("🚨 <b>Seek emergency care now.</b>")


def test_the_emergency_bubble_is_last_with_its_action_first_in_bold(run: dict[str, Chat]) -> None:
    _, calls = run["emergency"].turns[1]
    bubble = sent(calls)[-1]
    assert calls[-1] is bubble, "nothing follows the emergency bubble in its turn"
    text, entities = parse_html(bubble["html"])
    first_bold = entities[0]
    assert first_bold["type"] == "bold" and first_bold["offset"] <= 3  # after the 🚨
    units = text.encode("utf-16-le")[first_bold["offset"] * 2 : (first_bold["offset"] + first_bold["length"]) * 2]
    assert units.decode("utf-16-le") == "Seek emergency care now."


def test_checklist_boxes_tick_in_place(run: dict[str, Chat]) -> None:
    chat = run["redflags"]
    ticks = [calls for did, calls in chat.turns if did.startswith("[ ☐") or did.startswith("[ ☑")]
    assert len(ticks) == 3
    edited = {c["message_id"] for calls in ticks for c in calls if c["method"] == "editMessageText"}
    assert len(edited) == 1, "every tick re-draws the same message"
    last = next(c for c in ticks[-1] if c["method"] == "editMessageText")
    flat = [label for row in labels(last["reply_markup"]) for label in row]
    assert "☑ Wakes me at night" in flat and "☐ Limping" in flat and "Done ✓" in flat


def test_typed_answers_close_their_keyboards(run: dict[str, Chat]) -> None:
    chat = run["triage_text"]
    for _, calls in chat.turns[1:]:
        assert calls[0]["method"] in ("editMessageReplyMarkup", "editMessageText")
        assert not calls[0]["reply_markup"]


def test_profile_texts_are_set_at_start_up(run: dict[str, Chat], api: FakeBotApi) -> None:
    description, short = api.profile["description"], api.profile["short_description"]
    assert 0 < len(description) <= 512 and 0 < len(short) <= 120
    assert "not for emergencies" in description.lower() and "not for emergencies" in short.lower()
    commands = [c["command"] for c in api.sent("setMyCommands")[-1]["commands"]]
    assert "privacy" in commands and "forget" in commands


def test_deep_links_privacy_and_captions(run: dict[str, Chat]) -> None:
    turns_ = run["links_privacy_captions"].turns
    assert "Where in the hip is the pain?" in sent(turns_[0][1])[-1]["html"]
    assert "What sets it off" not in sent(turns_[1][1])[-1]["html"], "the caption answered where and what"
    privacy = sent(turns_[2][1])[0]
    assert "/forget" in privacy["html"] and "Telegram" in privacy["html"]
    assert "Export" in str(privacy.get("reply_markup")) and "Delete" in str(privacy.get("reply_markup"))
    assert "Glute bridge" in sent(turns_[3][1])[-1]["html"]
    assert "Most likely: Gluteal tendinopathy" in sent(run["triage_buttons"].turns[7][1])[-1]["html"]
    redflags = run["redflags"].turns[0][1]
    assert "Safety first." in sent(redflags)[-1]["html"]


def test_forget_starts_afresh(run: dict[str, Chat]) -> None:
    chat = run["forget"]
    assert "Delete everything I keep" in sent(chat.turns[1][1])[-1]["html"]  # a question first
    assert "deleted everything" in sent(chat.turns[2][1])[0]["html"]
    assert "What sets it off" not in sent(chat.turns[3][1])[-1]["html"]


def test_the_committed_transcripts_are_current(run: dict[str, Chat]) -> None:
    fresh = files(run)
    committed = {path.name: path.read_text(encoding="utf-8") for path in Path(OUT).glob("*.md")}
    stale = sorted(name for name in fresh if committed.get(name) != fresh[name])
    assert not stale, f"run `python -m docs.render_transcripts`: {stale} are out of date"
    assert set(committed) == set(fresh)


# ----- issue 19: tabs, input hints, chat actions, language, command menus ------------------------
def edits(calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [c for c in calls if c["method"] == "editMessageText"]


def marked(markup: dict[str, Any] | None) -> list[str]:
    return [label for row in labels(markup) for label in row if label.startswith("• ")]


def test_result_sections_are_tabs_of_one_card(run: dict[str, Chat]) -> None:
    chat = run["triage_buttons"]
    card = sent(chat.turns[7][1])[-1]
    assert "Most likely: Gluteal tendinopathy" in card["html"]
    for (did, calls), tab in zip(chat.turns[8:11], ("💪 Exercises", "📈 How to progress", "🩺 When to see someone"),
                                 strict=True):  # fmt: skip
        assert sent(calls) == [], f"{did}: a section is not a new message"
        [edit] = edits(calls)
        assert edit["message_id"] == card["message_id"], "the result card itself is edited"
        assert marked(edit["reply_markup"]) == [f"• {tab}"], "the tab shown is marked"
        flat = [label for row in labels(edit["reply_markup"]) for label in row]
        assert "❓ Ask a question" in flat and "📅 Start a plan" in flat, "the card keeps its keyboard"
    assert "See a doctor or physiotherapist" in edits(chat.turns[10][1])[0]["html"]


def test_prevention_groups_are_tabs_of_one_card(run: dict[str, Chat]) -> None:
    chat = run["prevent"]
    card = sent(chat.turns[0][1])[-1]
    for (_, calls), tab in zip(chat.turns[1:3], ("Running form", "Strength and stability"), strict=True):
        assert sent(calls) == []
        [edit] = edits(calls)
        assert edit["message_id"] == card["message_id"] and marked(edit["reply_markup"]) == [f"• {tab}"]
    flat = [label for row in labels(edits(chat.turns[2][1])[0]["reply_markup"]) for label in row]
    assert flat[0] == "• Strength and stability", "a tab the first card lacked goes where it belongs"


def test_a_stale_cards_tab_still_works(run: dict[str, Chat], api: FakeBotApi) -> None:
    """A card Telegram will not edit any more (too old): the section comes as a new message."""
    chat = Chat(api, run["triage_buttons"].bot, 7900)
    chat.say("/start hip")
    for label in ("Side of the hip (aching)", "Lying on that side", "No", "None of these", "20–49", "Under a week"):
        chat.tap(label)
    api.fail_next("editMessageText", 400, description="Bad Request: message can't be edited")
    calls = chat.tap("🩹 What helps")
    assert [c["toast"] for c in calls if c["method"] == "answerCallbackQuery"] == [""]
    [section] = sent(calls)
    assert "Gluteal tendinopathy" in section["html"] and "💪 Exercises" in str(section["reply_markup"])


def test_a_question_waiting_for_words_gets_an_input_hint(run: dict[str, Chat]) -> None:
    _, calls = run["triage_buttons"].turns[11]
    [ask] = sent(calls)
    assert ask["reply_markup"] == {"force_reply": True, "input_field_placeholder": "can I still run?"}
    # a log question has buttons: it keeps them (one markup a message), and so no hint
    _, logged = run["companion"].turns[0]
    [question] = sent(logged)
    assert "How much does it hurt" in question["html"] and labels(question["reply_markup"])
    assert "force_reply" not in question["reply_markup"]


def test_a_status_shows_before_the_chart_and_the_files(run: dict[str, Chat]) -> None:
    chat = run["companion"]
    for (did, calls), action, method in ((chat.turns[5], "upload_photo", "sendPhoto"),
                                         (chat.turns[6], "upload_document", "sendDocument")):  # fmt: skip
        methods = [c["method"] for c in calls]
        assert methods.count("sendChatAction") == 1 and method in methods, did
        assert methods.index("sendChatAction") < methods.index(method), f"{did}: the status comes first"
        assert next(c["action"] for c in calls if c["method"] == "sendChatAction") == action
    assert [c["file"] for c in chat.turns[6][1] if c["method"] == "sendDocument"] == [
        "runner-bot-log.csv", "runner-bot-data.json"]


def test_a_runner_whose_app_is_in_german_gets_the_german_line(run: dict[str, Chat]) -> None:
    [reply] = sent(run["german"].turns[0][1])
    assert reply["html"].startswith("Ich spreche vorerst nur Englisch")


def test_command_menus_per_scope(run: dict[str, Chat], api: FakeBotApi) -> None:
    by_scope = {(c.get("scope") or {}).get("type", "default"): [x["command"] for x in c["commands"]]
                for c in api.sent("setMyCommands")}  # fmt: skip
    assert by_scope["all_group_chats"] == ["start", "help"], "groups are pointed to a private chat"
    private = by_scope["all_private_chats"]
    assert {"menu", "plan", "log", "progress", "remind", "forget"} <= set(private)
    assert by_scope["default"] == private


def test_a_snoozed_reminder_comes_again_with_the_first_ones_buttons_closed(run: dict[str, Chat]) -> None:
    chat = run["reminders"]
    # the day's card and its question: one message, or two when together they would not fit a phone
    first = sent(chat.turns[3][1])
    assert len(first) <= 2 and first[0]["html"].startswith("⏰ Time for today's session")
    buttons = first[-1]["reply_markup"]
    assert {"Snooze 1 h", "Change time", "Off"} <= {label for row in labels(buttons) for label in row}
    again = chat.turns[5][1]
    assert [c["method"] for c in again] == ["editMessageReplyMarkup", *["sendMessage"] * len(first)]
    assert again[0]["message_id"] == first[-1]["message_id"] and not again[0]["reply_markup"]
    assert [c["html"] for c in again[1:]] == [m["html"] for m in first], "the same reminder, once more"
    assert "Reminders are off" in sent(chat.turns[6][1])[0]["html"]
