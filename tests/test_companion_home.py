"""Issue 19: a companion that never drops what the runner typed, and a home.

Save as you go (a typed value survives any command), one entry a day, trend and summary texts
for one day, a week and a month, /forget's confirm step, ☰ Menu as a home that pauses and
resumes, the home of a runner on a plan, reminders that skip a marked day and carry their
buttons, questions inside companion flows, and other languages.
"""

from __future__ import annotations

import datetime as dt

import pytest

from conversations.events import (
    Choice,
    Command,
    Forget,
    ReminderDue,
    SaveLog,
    SnoozeReminder,
    Text,
)
from conversations.recovery_records import Plan
from tests.test_companion import START, Chat, effects, finish_triage


# ----- save as you go ---------------------------------------------------------------------------------
def test_a_typed_pain_score_survives_a_command_before_the_run_question() -> None:
    chat = Chat()
    chat.send("/log")
    result = chat.send("pain 8")
    assert effects(result, SaveLog) and chat.records.logs[0].pain == 8  # saved at once
    assert "Pain 8/10 is a lot" in chat.text()  # the advice at once, not after the run question
    assert "Check warning signs" in [b.label for r in chat.last.replies for b in r.buttons]  # 8–10: the check
    assert chat.asks() == "run" and "Save without run" in [b.label for b in chat.last.replies[-1].buttons]
    chat.send("/progress")
    assert "One entry so far: 8/10 today" in chat.text() and "Nothing logged" not in chat.text()


@pytest.mark.parametrize("then", ["/progress", "/summary", "/cancel", "/help", "/start", "can I run today?"])
def test_no_later_command_or_question_drops_a_typed_value(then: str) -> None:
    chat = Chat()
    chat.send("/log")
    chat.send("hip about a 6")
    chat.send(then)
    assert [e.pain for e in chat.records.logs] == [6]


def test_no_to_the_run_question_saves_without_a_run() -> None:
    chat = Chat()
    chat.send("/log")
    chat.send("4")
    chat.send("no")
    (entry,) = chat.records.logs
    assert entry.pain == 4 and not entry.ran and chat.session.top is None


def test_words_in_any_order_in_the_command_or_after_it() -> None:
    for first, second in (("/log no run today, hip about a 3", None), ("/log", "no run today, hip about a 3")):
        chat = Chat()
        chat.send(first)
        if second:
            chat.send(second)
        (entry,) = chat.records.logs
        assert entry.pain == 3 and not entry.ran
        assert chat.session.top is None and "How much does it hurt" not in chat.text()


def test_one_entry_a_day_updated_by_a_later_log() -> None:
    chat = Chat()
    chat.send("/log pain 6 no run")
    chat.send("/log")
    assert "You logged pain 6/10 today — update it?" in chat.text()
    chat.press("Keep it")
    assert [e.pain for e in chat.records.logs] == [6]
    chat.send("/log")
    chat.press("Update it")
    chat.press("4")
    chat.send("/log ran 5k, felt easy")  # words update today's entry at once
    (entry,) = chat.records.logs
    assert (entry.pain, entry.distance_km, entry.feel) == (4, 5.0, "good")
    chat.day = START + dt.timedelta(days=1)
    chat.send("/log pain 2 no run")
    assert [e.pain for e in chat.records.logs] == [4, 2]


# ----- trend and summary for one day, a week, a month ---------------------------------------------------
def logged_days(chat: Chat, days: int) -> None:
    for offset in range(days):
        chat.day = START + dt.timedelta(days=offset)
        chat.send(f"/log pain {max(1, 6 - offset // 5)}, ran 5k, felt ok" if offset % 2 == 0 else f"/log pain {max(1, 6 - offset // 5)} no run")


@pytest.mark.parametrize(
    ("days", "trend", "summary"),
    [
        (1, "One entry so far: 6/10 today.", "one score, 3 Mar 2025: 6/10"),
        (7, "Pain is going down: 6/10 to 5/10 over 6 days (7 entries).", "7 days scored, 3–9 Mar 2025: first 6/10, latest 5/10, range 5–6/10; falling"),
        (30, "Pain is going down: 6/10 to 1/10 over 4 weeks (30 entries).", "30 days scored, 3 Mar – 1 Apr 2025: first 6/10, latest 1/10, range 1–6/10; falling"),
    ],
)
def test_trend_and_summary_read_right(days: int, trend: str, summary: str) -> None:
    chat = Chat()
    logged_days(chat, days)
    chat.send("/progress")
    assert trend in chat.text() and "over 0 days" not in chat.text()
    chat.send("/summary")
    text = chat.text()
    assert summary in text
    assert "/log" not in text and "ease off" not in text and "2025-03-03 to" not in text


def test_the_summary_is_for_a_clinician() -> None:
    chat = Chat()
    finish_triage(chat)
    chat.send("/plan")
    chat.press("Done ✓")
    chat.send("/log pain 3, ran 5k")
    chat.send("/summary")
    text = chat.text()
    assert text.startswith("Summary for a physio or doctor")
    for part in ("Problem: Gluteal tendinopathy", "Warning signs:", "ruled out:", "Pain: one score, 3 Mar 2025: 3/10",
                 "Running: 1 run, 5 km", "done 1 of 1 sessions"):  # fmt: skip
        assert part in text, part


# ----- /forget with a confirm step -----------------------------------------------------------------------
def test_forget_deletes_only_once_confirmed_and_privacy_offers_it() -> None:
    chat = Chat()
    chat.send("/log pain 3 no run")
    chat.send("/privacy")
    assert [b.label for b in chat.last.replies[-1].buttons] == ["Export", "Delete"]
    chat.press("Delete")
    assert not effects(chat.last, Forget) and chat.records.logs
    for answer in ("yes", "ok", "sure"):
        chat.send(answer)
        assert chat.records.logs, answer
    chat.send("yes, delete")
    assert effects(chat.last, Forget) and not chat.records.logs


# ----- the home ------------------------------------------------------------------------------------------
def test_menu_never_re_asks_and_carries_on_where_we_were() -> None:
    chat = Chat()
    chat.send("my hip hurts")
    asked = chat.asks()
    chat.send(Choice("x:menu"))
    assert chat.asks() == "menu" and chat.session.top is None
    assert "Back to where we were" not in chat.text()
    labels = [b.label for b in chat.last.replies[-1].buttons]
    assert labels[0] == "↩ Carry on where we were" and "Hip pain" in labels
    chat.press("↩ Carry on where we were")
    assert chat.asks() == asked and "Back to where we were" in chat.text()


def test_the_home_of_a_runner_on_a_plan() -> None:
    chat = Chat()
    chat.store.save_plan(1, Plan(id="p", condition="gluteal_tendinopathy", start=(START - dt.timedelta(days=2)).isoformat()))
    chat.send("/remind 07:30")
    chat.send("UTC")
    chat.send("/log pain 2 no run")
    chat.send(Choice("x:menu"))
    home = chat.last.replies[-1]
    assert "Day 3 of 84 — today: stage 1, 1 exercise, easier dose" in home.plain and "Last log today: pain 2/10." in home.plain
    labels = [b.label for b in home.buttons]
    assert labels[:4] == ["Today's session", "Log pain", "Progress", "Reminder 07:30"]
    assert labels[4:] == ["Hip pain", "Lower-back pain", "Prevention routine", "Warning-sign check"]
    chat.press("Today's session")
    assert chat.asks() == "day"


def test_a_returning_runner_gets_a_short_welcome_back() -> None:
    chat = Chat()
    chat.send("/start")
    first = chat.text()
    chat.send("/log pain 2 no run")
    chat.send("/start")
    again = chat.text()
    assert "Welcome back" in again and "I'm runner-bot" not in again and len(again) < len(first)


# ----- reminders -----------------------------------------------------------------------------------------
def test_a_reminder_skips_a_marked_day_and_carries_its_buttons() -> None:
    chat = Chat()
    chat.store.save_plan(1, Plan(id="p", condition="gluteal_tendinopathy", start=START.isoformat()))
    chat.send(ReminderDue())
    assert "Time for today's session" in chat.last.replies[0].plain and "Day 1" in chat.last.replies[0].plain
    labels = [b.label for b in chat.last.replies[-1].buttons]
    assert labels == ["Done ✓", "Too painful", "Skip", "Snooze 1 h", "Change time", "Off"]
    assert chat.asks() == "day"  # today's card, with Done / Too painful / Skip
    chat.press("Skip")
    assert chat.send(ReminderDue()).replies == []  # the day is marked: no reminder
    chat.day = START + dt.timedelta(days=1)
    assert chat.send(ReminderDue()).replies


def test_reminder_buttons_without_a_plan() -> None:
    chat = Chat()
    chat.send("/remind 07:30")
    chat.send("UTC")
    chat.send(ReminderDue())
    assert [b.label for b in chat.last.replies[0].buttons] == ["Done ✓", "Snooze 1 h", "Change time", "Off"]
    chat.press("Snooze 1 h")
    assert effects(chat.last, SnoozeReminder) == [SnoozeReminder(60)]
    chat.send(ReminderDue())
    chat.press("Change time")
    chat.send("18:00")
    assert chat.records.reminder is not None and chat.records.reminder.time == "18:00"
    chat.send(ReminderDue())
    chat.press("Off")
    assert chat.records.reminder is not None and not chat.records.reminder.active
    chat.send(ReminderDue())
    chat.press("Done ✓")
    assert chat.asks() == "pain"


# ----- questions inside companion flows, and other languages ------------------------------------------------
@pytest.mark.parametrize("command", ["/log", "/remind 07:30", "/mileage"])
def test_a_question_inside_a_companion_flow_is_answered_and_the_flow_resumes(command: str) -> None:
    chat = Chat()
    chat.send(command)
    asked = chat.asks()
    chat.send("what should my pain be?")
    assert "pain up to 3 out of 10 is fine" in chat.text() and "didn't catch" not in chat.text()
    assert chat.asks() == asked


@pytest.mark.parametrize(
    ("language", "text", "line"),
    [
        ("de", "Meine Hüfte tut weh beim Laufen", "Ich spreche vorerst nur Englisch"),
        ("es", "Me duele la cadera cuando corro", "Por ahora solo hablo inglés"),
        ("fr", "J'ai mal à la hanche quand je cours", "je ne parle qu'anglais"),
        ("it", "Mi fa male l'anca quando corro", "Per ora parlo solo inglese"),
        ("pt", "Dói-me o quadril quando corro", "Por enquanto só falo inglês"),
        ("nl", "Mijn heup doet pijn bij het hardlopen", "Ik spreek voorlopig alleen Engels"),
    ],
)
def test_another_language_gets_one_line_in_it_with_the_menu(language: str, text: str, line: str) -> None:
    chat = Chat()
    chat.send(Text(text, language=language))
    assert line in chat.text() and "I read English" not in chat.text()
    assert chat.asks() == "menu"


def test_english_from_a_german_phone_is_read_as_english() -> None:
    chat = Chat()
    chat.send(Text("my hip hurts at the side when I climb stairs", language="de"))
    assert "Ich spreche" not in chat.text() and chat.session.top is not None


def test_the_home_is_a_command_too() -> None:
    chat = Chat()
    chat.send(Command("menu"))
    assert chat.asks() == "menu"


# ----- what Telegram needs to present it natively ------------------------------------------------------------
def test_replies_and_effects_say_how_telegram_may_show_them() -> None:
    from conversations.events import ChatAction, SendChart, SendFiles

    chat = Chat()
    finish_triage(chat)
    chat.press("❓ Ask a question")
    assert chat.last.replies[-1].placeholder == "can I still run?"
    chat = Chat()
    finish_triage(chat)
    chat.press("💪 Exercises")
    assert chat.last.replies[-1].replaces  # a section tab: edit the card it came from
    chat.send("/log")
    assert chat.last.replies[-1].placeholder  # the log waits for words
    chat.send("pain 3 no run")
    kinds = [type(e) for e in chat.send("/progress").effects]
    assert kinds.index(ChatAction) < kinds.index(SendChart)  # "uploading a photo" first
    kinds = [type(e) for e in chat.send("/export").effects]
    assert kinds.index(ChatAction) < kinds.index(SendFiles)
