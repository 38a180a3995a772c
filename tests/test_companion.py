"""The recovery companion: each flow in words and by buttons, the chart, the export, /forget."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import struct
from pathlib import Path

import pytest

from bot.storage.memory import MemoryRecordStore
from bot.storage.records import RecordStore, apply_effects
from bot.storage.sqlite_records import SqliteRecordStore
from conversations.engine import Engine
from conversations.events import (
    Choice,
    Event,
    Forget,
    Reply,
    SaveLog,
    SendChart,
    SendFiles,
    SetReminder,
    Text,
    TurnResult,
)
from conversations.recovery_records import ChatRecords, LogEntry
from conversations.session import Session

START = dt.date(2025, 3, 3)  # a Monday
NOW = dt.datetime(2025, 3, 3, 12, tzinfo=dt.UTC)


class Chat:
    """One chat against the engine, with a record store, as an adapter would run it."""

    def __init__(self, store: RecordStore | None = None) -> None:
        self.day = START
        self.engine = Engine(today=lambda: self.day)
        self.store = store or MemoryRecordStore()
        self.session = Session()
        self.last: TurnResult | None = None

    def send(self, event: Event | str) -> TurnResult:
        event = Text(event) if isinstance(event, str) else event
        result = self.engine.handle(self.session, event, self.store.records(1))
        self.session = result.session
        apply_effects(self.store, 1, result.effects, NOW)
        self.last = result
        return result

    def press(self, label: str) -> TurnResult:
        """Press the button labelled `label` in the last replies."""
        assert self.last is not None
        for reply in reversed(self.last.replies):
            for button in reply.buttons:
                if button.label == label:
                    return self.send(Choice(button.data))
        raise AssertionError(f"no button {label!r} in {[b.label for r in self.last.replies for b in r.buttons]}")

    @property
    def records(self) -> ChatRecords:
        return self.store.records(1)

    def text(self) -> str:
        assert self.last is not None
        return "\n".join(r.plain for r in self.last.replies)

    def asks(self) -> str:
        assert self.last is not None
        questions = [r for r in self.last.replies if r.kind == "question"]
        return questions[-1].asks if questions else ""


def effects(result: TurnResult, kind: type) -> list:
    return [e for e in result.effects if isinstance(e, kind)]


def finish_triage(chat: Chat) -> Reply:
    chat.send("outside of my hip aches on stairs and when I lie on it")
    for _ in range(3):
        chat.send("no")
    (result,) = [r for r in chat.last.replies if r.kind == "result"] if chat.last else []
    return result


# ----- /log ----------------------------------------------------------------------------------------
def test_log_in_words_in_one_message() -> None:
    chat = Chat()
    chat.send("/log")
    assert chat.asks() == "pain"
    result = chat.send("ran 8k in 45 min, felt easy, pain 3")
    (saved,) = effects(result, SaveLog)
    assert (saved.entry.pain, saved.entry.distance_km, saved.entry.minutes, saved.entry.feel) == (3, 8.0, 45, "good")
    assert saved.entry.day == "2025-03-03"
    assert "Logged: pain 3/10; ran 8 km in 45 min, felt good" in chat.text()
    assert "comfortable range" in chat.text()
    assert chat.session.top is None


def test_log_with_the_command() -> None:
    chat = Chat()
    chat.send("/log ran 8k, pain 3")
    chat.press("Easy / good")
    assert chat.records.logs[0].distance_km == 8.0 and chat.records.logs[0].feel == "good"


def test_log_by_buttons() -> None:
    chat = Chat()
    chat.send("/log")
    chat.press("2")
    assert chat.asks() == "run"
    chat.press("10 km")
    assert chat.asks() == "feel"
    chat.press("Hard")
    (entry,) = chat.records.logs
    assert (entry.pain, entry.distance_km, entry.feel) == (2, 10.0, "hard")


def test_no_run_today() -> None:
    chat = Chat()
    chat.send("/log")
    chat.send("4")
    assert "above the comfortable range" in chat.text() and "next morning" in chat.text()  # at once
    chat.send("no run today")
    (entry,) = chat.records.logs
    assert entry.pain == 4 and not entry.ran


def test_pain_above_the_limit_gets_advice_at_once() -> None:
    chat = Chat()
    chat.send("/log pain 7, no run")
    assert "too much to train through" in chat.text()


def test_a_climbing_trend_is_named() -> None:
    chat = Chat()
    for pain in (2, 3, 4):
        chat.send(f"/log pain {pain}, no run")
        chat.day += dt.timedelta(days=1)
    assert "climbing (2 → 3 → 4)" in chat.text()


def test_pain_higher_the_day_after_a_run() -> None:
    chat = Chat()
    chat.send("/log ran 10k felt fine pain 2")
    chat.day += dt.timedelta(days=1)
    chat.send("/log pain 4 no run")
    assert "higher today (4/10) than before your last run (2/10)" in chat.text()


def test_a_long_run_spike_is_warned() -> None:
    chat = Chat()
    chat.send("/log ran 10k felt fine pain 1")
    chat.day += dt.timedelta(days=3)
    chat.send("/log ran 16k felt fine pain 1")
    assert "much longer than your longest in the 30 days before (10 km)" in chat.text()


def test_a_red_flag_in_a_log_note_is_an_emergency() -> None:
    chat = Chat()
    chat.send("/log")
    result = chat.send("ran 5k pain 4 and now numbness in both legs")
    assert result.replies[0].kind == "emergency"
    assert not effects(result, SaveLog)
    result = chat.send("/log ran 5k, pain 4, my bladder is leaking")
    assert result.replies[0].kind in ("emergency", "info")
    assert not chat.records.logs


def test_a_question_mid_log_is_answered_and_the_log_resumes() -> None:
    chat = Chat()
    chat.send("/log")
    chat.send("can I still run?")
    assert chat.asks() == "pain"
    assert any(r.kind == "answer" for r in chat.last.replies)  # type: ignore[union-attr]


# ----- /plan ---------------------------------------------------------------------------------------
def test_a_plan_starts_from_a_result_and_tracks_the_days() -> None:
    chat = Chat()
    result = finish_triage(chat)
    assert any(b.label == "📅 Start a plan" for b in result.buttons)
    chat.press("📅 Start a plan")
    assert "plan for Gluteal tendinopathy starts today — about 12 weeks, in 4 stages" in chat.text()
    assert "Day 1 · week 1 · easier dose" in chat.text() and "Stage 1 of 4: Isometric holds" in chat.text()
    assert "Clamshell" not in chat.text()  # side-lying work waits for its stage
    chat.press("Done ✓")
    assert "Streak: 1 · Done 1 of 1 sessions (100%)" in chat.text()
    chat.day += dt.timedelta(days=1)
    chat.send("/plan")
    chat.send("skip")
    assert "Streak: 0 · Done 1 of 2 sessions (50%)" in chat.text()
    chat.day += dt.timedelta(days=2)  # day 4 is a rest day
    chat.send("/plan")
    assert "rest day" in chat.text() and chat.session.top is None


def test_too_painful_lowers_the_dose_and_twice_refers() -> None:
    chat = Chat()
    finish_triage(chat)
    chat.press("📅 Start a plan")
    for _ in range(2):  # two sessions done: the stage's full dose
        chat.press("Done ✓")
        chat.day += dt.timedelta(days=1)
        chat.send("/plan")
    assert "full dose" in chat.text()
    chat.press("Too painful")
    assert "lowered the dose: easier dose" in chat.text()
    assert chat.records.plan is not None and chat.records.plan.shift == -1
    chat.day += dt.timedelta(days=2)  # day 4 is a rest day
    chat.send("/plan")
    assert "easier dose" in chat.text()
    result = chat.press("Too painful")
    assert any(r.kind == "warning" and "physiotherapist" in r.plain for r in result.replies)


def test_plan_without_a_result_explains() -> None:
    chat = Chat()
    chat.send("/plan")
    assert "need to know what the problem is likely to be" in chat.text()


def test_a_stale_day_button_does_not_count_twice() -> None:
    chat = Chat()
    finish_triage(chat)
    chat.send("/plan")
    card = chat.last
    chat.press("Done ✓")
    chat.last = card
    chat.press("Done ✓")
    assert chat.records.plan is not None and len(chat.records.plan.marks) == 1


# ----- /progress and the chart ---------------------------------------------------------------------
def logged_week(chat: Chat) -> None:
    for offset, text in enumerate(["ran 8k pain 3", "pain 4 no run", "ran 5k pain 2", "pain 1 no run"]):
        chat.day = START + dt.timedelta(days=offset)
        chat.send(f"/log {text}")
        if chat.asks() == "feel":
            chat.press("OK")


def test_progress_sends_a_chart_of_what_was_logged() -> None:
    chat = Chat()
    logged_week(chat)
    result = chat.send("/progress")
    (chart,) = effects(result, SendChart)
    assert chart.spec.pain == (("2025-03-03", 3), ("2025-03-04", 4), ("2025-03-05", 2), ("2025-03-06", 1))
    assert chart.spec.runs == (("2025-03-03", 8.0), ("2025-03-05", 5.0))
    assert chart.spec.weekly == (("2025-03-03", 13.0),)
    assert "Pain is going down: 3/10 to 1/10 over 3 days (4 entries)." in chat.text()


def test_progress_with_nothing_logged() -> None:
    chat = Chat()
    result = chat.send("/progress")
    assert not effects(result, SendChart) and "Nothing logged yet" in chat.text()


def test_the_chart_is_a_png_with_the_logged_points() -> None:
    from matplotlib.dates import date2num

    from bot.charts import figure, plotted, render_png

    chat = Chat()
    logged_week(chat)
    (chart,) = effects(chat.send("/progress"), SendChart)
    png = render_png(chart.spec)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    assert (width, height) == (800, 500)
    drawn = plotted(figure(chart.spec))
    day = lambda text: float(date2num(dt.date.fromisoformat(text)))  # noqa: E731
    assert drawn["pain"] == [(day(d), float(p)) for d, p in chart.spec.pain]
    assert [round(h, 1) for _, h in drawn["runs"]] == [8.0, 5.0]
    assert "weekly" not in drawn  # four days are not weeks to compare


def _spec_over(days: int) -> SendChart:
    from conversations import trend
    from conversations.flows.recovery_common import companion_of
    from knowledge import default_knowledge

    def entry(d: int) -> LogEntry:
        day = (START + dt.timedelta(days=d)).isoformat()
        return LogEntry(str(d), "2025-03-03T12:00:00+00:00", day, pain=(d % 5) + 1, distance_km=5.0 if d % 2 == 0 else None)

    logs = tuple(entry(d) for d in range(days))
    return SendChart(trend.chart_spec(companion_of(default_knowledge()), ChatRecords(logs=logs), START))


@pytest.mark.parametrize("days", [1, 3, 60])
def test_the_chart_fits_the_days_logged(days: int) -> None:
    """One day is a point on a narrow axis (not a line in an empty week); weeks appear with weeks."""
    from matplotlib.dates import date2num

    from bot.charts import figure, plotted

    fig = figure(_spec_over(days).spec)
    pain_line = next(line for ax in fig.axes for line in ax.get_lines() if line.get_gid() == "pain")
    assert (pain_line.get_linestyle() == "None") == (days == 1)
    low, high = fig.axes[1].get_xlim()
    first, last = float(date2num(START)), float(date2num(START + dt.timedelta(days=days - 1)))
    assert low < first and last < high and (high - low) <= days * 1.1 + 2
    assert ("weekly" in plotted(fig)) == (days >= 14)


def test_matplotlib_is_not_imported_until_a_chart_is_drawn() -> None:
    import subprocess
    import sys

    code = "import sys, bot.charts, bot.console, bot.storage.sqlite_records; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# ----- /mileage ------------------------------------------------------------------------------------
def test_mileage_typed_weeks() -> None:
    chat = Chat()
    chat.send("/mileage")
    assert chat.asks() == "weeks"
    chat.send("20 22 24")
    text = chat.text()
    assert "Week 1: 24 km" in text and "Week 2: 25 km" in text  # 10% over the 4-week average (22 km)
    assert "1 tempo run" in text
    assert "sensible cap, not a proven law" in text


def test_mileage_from_the_log_warns_on_a_big_jump_and_holds_back_when_sore() -> None:
    chat = Chat()
    for week, km in enumerate((10, 15)):
        chat.day = START + dt.timedelta(days=7 * week)
        chat.send(f"/log ran {km}k felt fine pain 5")
    chat.day = START + dt.timedelta(days=15)
    chat.send("/mileage")
    text = chat.text()
    assert "from 10 → 15 km" in text
    assert "Pain 5/10 is above the comfortable range: hold next week at 10 km" in text  # and back from the spike
    assert "cycling" in text and "Week 2" not in text  # one week at a time while sore
    assert "1 tempo run" not in text


# ----- /summary, /export, /remind, /forget ----------------------------------------------------------
def test_summary_for_a_physio() -> None:
    chat = Chat()
    finish_triage(chat)
    chat.send("/plan")
    chat.press("Done ✓")
    logged_week(chat)
    chat.send("/summary")
    text = chat.text()
    assert "Problem: Gluteal tendinopathy" in text
    assert "ruled out: possible nerve compression" in text
    assert "4 days scored, 3–6 Mar 2025: first 3/10, latest 1/10, range 1–4/10; falling" in text
    assert "/log" not in text and "ease off" not in text  # written for a clinician, not advice
    assert "2 runs, 13 km in all" in text
    assert "done 1 of" in text


def test_export_parses_back_to_what_was_logged() -> None:
    chat = Chat()
    logged_week(chat)
    result = chat.send("/export")
    (sent,) = effects(result, SendFiles)
    csv_file, json_file = sent.files
    assert (csv_file.name, csv_file.media_type) == ("runner-bot-log.csv", "text/csv")
    rows = list(csv.DictReader(io.StringIO(csv_file.data.decode())))
    logs = chat.records.logs
    assert [(r["day"], int(r["pain"]), r["distance_km"]) for r in rows] == [
        (e.day, e.pain, "" if e.distance_km is None else str(e.distance_km)) for e in logs
    ]
    data = json.loads(json_file.data)
    assert [LogEntry.from_dict(e) for e in data["logs"]] == list(logs)


def test_remind_asks_the_time_zone_once() -> None:
    chat = Chat()
    chat.send("/remind 07:30")
    assert chat.asks() == "timezone"
    result = chat.press("Europe/London")
    assert effects(result, SetReminder) == [SetReminder("07:30", "Europe/London")]
    result = chat.send("/remind 6pm")
    assert effects(result, SetReminder) == [SetReminder("18:00", "Europe/London")]
    assert chat.asks() == ""
    chat.send("/remind off")
    assert chat.store.active_reminders() == [] and "off" in chat.text()
    chat.send("/remind 07:00")
    assert chat.asks() == ""  # the zone is remembered
    chat.send("/remind")
    assert "07:00 (Europe/London)" in chat.text()


def test_remind_typed_zone() -> None:
    chat = Chat()
    chat.send("/remind 7:15")
    chat.send("new york")
    assert chat.records.reminder is not None and chat.records.reminder.tz == "America/New_York"


@pytest.mark.parametrize("backend", ["memory", "sqlite"])
def test_forget_removes_every_record(backend: str, tmp_path: Path) -> None:
    store = MemoryRecordStore() if backend == "memory" else SqliteRecordStore(tmp_path / "bot.sqlite3")
    chat = Chat(store)
    finish_triage(chat)
    chat.send("/plan")
    logged_week(chat)
    chat.send("/remind 07:30")
    chat.send("UTC")
    assert chat.records.logs and chat.records.plans and chat.records.reminder
    asked = chat.send("/forget")
    assert not effects(asked, Forget) and chat.records.logs  # nothing goes before the confirm
    chat.press("Keep my data")
    assert chat.records.logs and chat.records.reminder
    chat.send("/forget")
    result = chat.press("Delete everything")
    assert effects(result, Forget)
    assert chat.records == ChatRecords() and store.active_reminders() == []
    chat.send("/summary")
    assert "not assessed yet" in chat.text() and "nothing logged" in chat.text()


def test_a_session_in_a_companion_flow_round_trips() -> None:
    chat = Chat()
    chat.send("/log pain 3")
    assert Session.from_json(chat.session.to_json()) == chat.session
    assert chat.session.top is not None and chat.session.top.values["pain"] == "3"
    assert chat.engine.problems(chat.session) == []


def test_every_companion_message_key_used_exists() -> None:
    import re

    from knowledge.recovery_data import default_companion

    root = Path(__file__).resolve().parent.parent
    flows = ("recovery_common", "log", "plan", "remind", "mileage", "progress", "forget")
    paths = [root / "conversations" / "flows" / f"{flow}.py" for flow in flows]
    paths += [root / "conversations" / f"{name}.py" for name in ("recovery", "trend", "home")]
    source = "".join(path.read_text() for path in paths)
    used = set(re.findall(r'(?:_say|_text|message)\(\s*(?:turn,\s*)?"([a-z_]+)"', source))
    used |= {f"log_ask_{s}" for s in ("pain", "run", "feel")} | {f"plan_level_{lv}" for lv in ("easier", "full", "harder")}
    used |= {f"log_option_{f}" for f in ("good", "ok", "hard", "painful")}
    assert used - set(default_companion().messages) == set()
    used_facts = set(re.findall(r'fact\("([a-z_]+)"\)', source))
    assert used_facts <= set(default_companion().facts)


# ----- the console -----------------------------------------------------------------------------------
def test_the_console_saves_charts_and_prints_reminders_once_when_due(tmp_path: Path) -> None:
    from bot.console import Console

    clock = [NOW]
    out = io.StringIO()
    store = SqliteRecordStore(tmp_path / "bot.sqlite3")
    console = Console(Engine(today=lambda: START), out, colour=False, records=store, files_dir=tmp_path, now=lambda: clock[0])
    console.start()
    for line in ("/log ran 8k pain 3", "OK", "/progress", "/export", "/remind 13:00", "UTC"):
        console.send(line)
    text = out.getvalue()
    assert f"(saved {tmp_path / 'progress.png'})" in text
    assert (tmp_path / "progress.png").read_bytes()[:4] == b"\x89PNG"
    assert (tmp_path / "runner-bot-log.csv").exists() and (tmp_path / "runner-bot-data.json").exists()
    assert console.remind_due() == 0  # 12:00: not yet
    clock[0] = NOW + dt.timedelta(hours=1, seconds=1)
    assert console.remind_due() == 1
    assert console.remind_due() == 0  # once
    again = Console(Engine(today=lambda: START), out, colour=False, records=SqliteRecordStore(tmp_path / "bot.sqlite3"), now=lambda: clock[0])
    assert again.remind_due() == 0  # a restart does not send it again
    assert out.getvalue().count("Time for today's session") == 1
