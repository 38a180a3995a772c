"""The whole product in one week, through the console and a real SQLite file: a result, a plan,
daily logs in words and by buttons, a reminder (snoozed once, then skipped on a marked day),
/progress, /summary, /export and /forget with its confirm step."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

from bot.console import Console
from bot.storage.sqlite_records import SqliteRecordStore
from conversations.engine import Engine

MONDAY = dt.date(2025, 3, 3)


def test_a_runners_week(tmp_path: Path) -> None:
    day = [MONDAY]
    clock = [dt.datetime(2025, 3, 3, 6, tzinfo=dt.UTC)]
    out = io.StringIO()
    store = SqliteRecordStore(tmp_path / "bot.sqlite3")
    console = Console(Engine(today=lambda: day[0]), out, colour=False, records=store, files_dir=tmp_path, now=lambda: clock[0])
    console.start()

    def said(*lines: str) -> str:
        start = len(out.getvalue())
        for line in lines:
            console.send(line)
        return out.getvalue()[start:]

    result = said("the outside of my hip aches on stairs and when I lie on it", "no", "no", "no")
    assert "Gluteal tendinopathy" in result
    assert "📅 Start a plan" in result
    assert "about 12 weeks, in 4 stages" in said("📅 Start a plan")
    assert "Well done" in said("Done ✓")
    assert "every day at 07:30" in said("/remind 07:30", "UTC")
    for offset in range(1, 7):
        day[0] = MONDAY + dt.timedelta(days=offset)
        clock[0] = dt.datetime.combine(day[0], dt.time(7, 31), dt.UTC)
        assert console.remind_due() == 1, offset  # the reminder, with today's card
        if offset == 2:
            assert "again in 60 minutes" in said("Snooze 1 h")
            clock[0] += dt.timedelta(minutes=61)
            assert console.remind_due() == 1
        if offset not in (3, 6):  # days 4 and 7 of the plan are rest days, with nothing to mark
            assert "Well done" in said("Done ✓")
        if offset % 2:  # by buttons
            said("/log", str(4 - offset // 2), "5 km", "Easy / good")
        else:  # in words
            said(f"/log no run today, hip about a {3 - offset // 3}")
        clock[0] += dt.timedelta(hours=1)
        assert console.remind_due() == 0  # marked, or not due again today
    logs = store.records(0).logs
    assert len(logs) == 6 and len({e.day for e in logs}) == 6  # one entry a day
    progress = said("/progress")
    assert "Pain is" in progress and "over 5 days" in progress and (tmp_path / "progress.png").exists()
    summary = said("/summary")
    assert "Summary for a physio or doctor" in summary and "4–9 Mar 2025" in summary and "/log" not in summary
    said("/export")
    rows = list(csv.DictReader((tmp_path / "runner-bot-log.csv").read_text().splitlines()))
    assert [r["day"] for r in rows] == [e.day for e in logs]
    assert "Delete everything I keep" in said("/forget")
    assert store.records(0).logs  # nothing goes before the confirm
    assert "deleted everything" in said("Delete everything")
    assert not store.records(0).logs and not store.records(0).plans and store.active_reminders() == []
