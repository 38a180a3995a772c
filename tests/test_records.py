"""The record store contract, run against every backend: memory, a SQLite file and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.storage.memory import MemoryRecordStore
from bot.storage.records import NotClaimed, RecordStore, apply_effects
from bot.storage.sessions import SessionStore
from bot.storage.sqlite_records import SqliteRecordStore
from bot.storage.sqlite_sessions import SqliteStore
from conversations.events import CancelReminders, Forget, SaveLog, SavePlan, SetReminder
from conversations.recovery_records import (
    ChatRecords,
    LogEntry,
    Mark,
    Plan,
    RecordError,
    Reminder,
    next_due,
    parse_time,
    parse_timezone,
)
from tests.pg_server import fresh_database

NOW = dt.datetime(2025, 3, 28, 12, 0, tzinfo=dt.UTC)


def entry(day: str, pain: int | None = 3, km: float | None = None, i: str = "") -> LogEntry:
    return LogEntry(id=i or f"log-{day}-{pain}", at=f"{day}T08:00:00+00:00", day=day, pain=pain, distance_km=km)


@pytest.fixture(params=["memory", "sqlite", "sqlite-shared", "postgresql", "postgresql-shared"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RecordStore]:
    """Each backend on its own, and as the bot uses it: sharing the session store's connection
    (SQLite) or pool (PostgreSQL)."""
    made: RecordStore
    owner: SessionStore | None = None
    if request.param.startswith("postgresql"):
        from bot.storage.pg_records import PgRecordStore
        from bot.storage.pg_sessions import PgStore

        url = fresh_database(request.getfixturevalue("pg_server"))
        if request.param == "postgresql-shared":
            owner = PgStore(url)
            made = PgRecordStore.sharing(owner)
        else:
            made = PgRecordStore(url)
    elif request.param == "sqlite-shared":
        owner = SqliteStore(tmp_path / "bot.sqlite3")
        made = SqliteRecordStore.sharing(owner.db)
    else:
        made = MemoryRecordStore() if request.param == "memory" else SqliteRecordStore(tmp_path / "r.sqlite3")
    yield made
    if owner is not None:
        owner.close()  # the connection or pool is the session store's to close
    else:
        made.close()


class TestRecordStoreContract:
    def test_a_new_chat_has_no_records(self, store: RecordStore) -> None:
        assert store.records(1) == ChatRecords()

    def test_logs_come_back_in_date_order_and_replace_by_id(self, store: RecordStore) -> None:
        store.save_log(1, entry("2025-03-02", 4))
        store.save_log(1, entry("2025-03-01", 5, km=8.0))
        store.save_log(1, LogEntry(id="log-2025-03-02-4", at="2025-03-02T09:00:00+00:00", day="2025-03-02", pain=2))
        logs = store.records(1).logs
        assert [(e.day, e.pain, e.distance_km) for e in logs] == [("2025-03-01", 5, 8.0), ("2025-03-02", 2, None)]

    def test_chats_are_apart(self, store: RecordStore) -> None:
        store.save_log(1, entry("2025-03-01"))
        assert store.records(2).logs == ()

    def test_a_new_active_plan_ends_the_old_one(self, store: RecordStore) -> None:
        first = Plan(id="p1", condition="lumbar_strain", start="2025-03-01", updated="2025-03-01T00:00:00+00:00")
        store.save_plan(1, first)
        second = Plan(id="p2", condition="it_band_syndrome", start="2025-03-05", updated="2025-03-05T00:00:00+00:00")
        store.save_plan(1, second.with_mark(Mark(0, "done")))
        records = store.records(1)
        assert [p.id for p in records.plans] == ["p1", "p2"]
        assert records.plan is not None and records.plan.id == "p2"
        assert records.plan.marks == (Mark(0, "done"),)
        assert not records.plans[0].active

    def test_a_reminder_is_due_once_and_claimed_by_one(self, store: RecordStore) -> None:
        reminder = store.set_reminder(7, "07:30", "Europe/London", NOW)
        assert reminder.due == dt.datetime(2025, 3, 29, 7, 30, tzinfo=dt.UTC)  # GMT until the 30th
        assert store.due_reminders(NOW) == []
        later = reminder.due + dt.timedelta(seconds=1)
        (due,) = store.due_reminders(later)
        claimed = store.claim(due, later)
        assert claimed is not None and claimed.due == dt.datetime(2025, 3, 30, 6, 30, tzinfo=dt.UTC)  # BST
        assert store.claim(due, later) is None  # the same occurrence, a second time
        assert store.due_reminders(later) == []

    def test_a_reminder_missed_for_days_is_sent_once(self, store: RecordStore) -> None:
        store.set_reminder(7, "07:30", "UTC", NOW)
        much_later = NOW + dt.timedelta(days=5)
        (due,) = store.due_reminders(much_later)
        claimed = store.claim(due, much_later)
        assert claimed is not None and claimed.due > much_later

    def test_off_keeps_the_time_zone(self, store: RecordStore) -> None:
        store.set_reminder(7, "07:30", "Asia/Tokyo", NOW)
        store.cancel_reminders(7)
        records = store.records(7)
        assert records.timezone == "Asia/Tokyo"
        assert store.active_reminders() == [] and store.due_reminders(NOW + dt.timedelta(days=2)) == []
        (stale,) = [r for r in [records.reminder] if r]
        assert store.claim(stale, NOW + dt.timedelta(days=2)) is None

    def test_setting_a_reminder_again_replaces_it(self, store: RecordStore) -> None:
        store.set_reminder(7, "07:30", "UTC", NOW)
        store.set_reminder(7, "18:00", "UTC", NOW)
        (reminder,) = store.active_reminders()
        assert reminder.time == "18:00" and reminder.chat_id == 7

    def test_forget_deletes_every_record_of_the_chat_only(self, store: RecordStore) -> None:
        for chat in (1, 2):
            store.save_log(chat, entry("2025-03-01", i=f"l{chat}"))
            store.save_plan(chat, Plan(id=f"p{chat}", condition="lumbar_strain", start="2025-03-01"))
            store.set_reminder(chat, "07:30", "UTC", NOW)
        store.forget(1)
        assert store.records(1) == ChatRecords()
        assert [r.chat_id for r in store.active_reminders()] == [2]
        assert store.records(2).logs

    def test_effects_are_carried_out(self, store: RecordStore) -> None:
        plan = Plan(id="p", condition="lumbar_strain", start="2025-03-01")
        apply_effects(store, 3, [SaveLog(entry("2025-03-01")), SavePlan(plan), SetReminder("06:00", "UTC")], NOW)
        records = store.records(3)
        assert len(records.logs) == 1 and records.plan == plan and records.reminder is not None
        apply_effects(store, 3, [CancelReminders()], NOW)
        assert store.active_reminders() == []
        apply_effects(store, 3, [Forget()], NOW)
        assert store.records(3) == ChatRecords()

    def test_writes_and_claims_outside_a_shared_transaction_get_their_own(self, store: RecordStore) -> None:
        plan = Plan(id="p", condition="lumbar_strain", start="2025-03-01")
        store.writes(4, [SaveLog(entry("2025-03-01")), SavePlan(plan), SetReminder("06:00", "UTC")], NOW)(None)
        records = store.records(4)
        assert len(records.logs) == 1 and records.plan == plan and records.reminder is not None
        later = records.reminder.due + dt.timedelta(seconds=1)
        claimed: list[Reminder] = []
        store.claiming(records.reminder, later, claimed)(None)
        assert [r.chat_id for r in claimed] == [4] and claimed[0].due > later
        with pytest.raises(NotClaimed):  # the same occurrence again
            store.claiming(records.reminder, later, claimed)(None)
        assert len(claimed) == 1
        store.writes(4, [Forget()], NOW)(None)
        assert store.records(4) == ChatRecords()


def test_sqlite_records_survive_reopening_and_share_a_file_with_sessions(tmp_path: Path) -> None:
    from bot.storage.sqlite_sessions import SqliteStore

    path = tmp_path / "bot.sqlite3"
    sessions = SqliteStore(path)
    store = SqliteRecordStore(path)
    store.save_log(1, entry("2025-03-01", km=5.0))
    store.set_reminder(1, "07:30", "UTC", NOW)
    store.close()
    sessions.close()
    again = SqliteRecordStore(path)
    assert again.records(1).logs[0].distance_km == 5.0
    assert len(again.active_reminders()) == 1
    again.forget(1)
    again.close()
    with sqlite3.connect(path) as conn:
        for table in ("record_logs", "record_plans", "record_reminders"):
            assert conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone() == (0,)
        assert {"sessions", "record_logs"} <= {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}


def test_two_processes_claiming_the_same_reminder_send_it_once(tmp_path: Path) -> None:
    path = tmp_path / "r.sqlite3"
    SqliteRecordStore(path).set_reminder(1, "07:30", "UTC", NOW)
    stores = [SqliteRecordStore(path) for _ in range(4)]
    due_at = NOW + dt.timedelta(days=1)
    (due,) = stores[0].due_reminders(due_at)
    wins: list[object] = []
    threads = [threading.Thread(target=lambda s=s: wins.append(s.claim(due, due_at))) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(w is not None for w in wins) == 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [("07:30", "07:30"), ("7.30", "07:30"), ("7am", "07:00"), ("7:15pm", "19:15"), ("19h05", "19:05"), ("25:00", None), ("7", None)],
)
def test_times_of_day(text: str, expected: str | None) -> None:
    assert parse_time(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("Europe/London", "Europe/London"), ("europe/paris", "Europe/Paris"), ("Tokyo", "Asia/Tokyo"), ("UTC+2", "Etc/GMT-2"), ("utc", "UTC"), ("Narnia", None)],
)
def test_time_zones(text: str, expected: str | None) -> None:
    assert parse_timezone(text) == expected


def test_a_local_time_skipped_by_the_clocks_still_fires_that_day() -> None:
    before = dt.datetime(2025, 3, 30, 0, 0, tzinfo=dt.UTC)
    due = next_due("01:30", "Europe/London", before)  # 01:30 does not exist on 30 March in London
    assert before < due < before + dt.timedelta(hours=3)


def test_bad_values_are_refused() -> None:
    with pytest.raises(RecordError):
        LogEntry(id="x", at="", day="2025-03-01", pain=11)
    with pytest.raises(RecordError):
        Plan.from_dict({"id": "p", "condition": "x", "start": "not a date"})
