"""The companion's wiring in-process: one transaction per turn and per reminder (bot/telegram/bridge.py and bot/telegram/reminders.py).

Run on SQLite and on PostgreSQL, each with the record store the bot itself would use
(`record_store_for`: sharing the session store's connection or pool)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.storage.backends import record_store_for
from bot.storage.records import NotClaimed
from bot.storage.sessions import KEEP, SessionStore
from bot.storage.sessions import Message as Queued
from bot.storage.sqlite_sessions import SqliteStore
from bot.telegram.bridge import Bridge
from conversations.engine import Engine
from conversations.events import Command, Text
from conversations.recovery_records import Reminder


@pytest.fixture(params=["sqlite", "postgresql"])
def bridge(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Bridge]:
    store: SessionStore
    if request.param == "postgresql":
        from bot.storage.pg_records import PgRecordStore
        from bot.storage.pg_sessions import PgStore

        store = PgStore(request.getfixturevalue("pg_url"))
    else:
        store = SqliteStore(tmp_path / "bot.sqlite3")
    clock = [dt.datetime(2026, 3, 2, 6, 0, tzinfo=dt.UTC)]
    engine = Engine(now=lambda: clock[0])
    records = record_store_for(store)
    if request.param == "postgresql":
        assert isinstance(records, PgRecordStore)  # not the in-memory stand-in it once was
    bridge = Bridge(engine, store, records)
    bridge.clock = clock  # type: ignore[attr-defined]
    yield bridge
    records.close()
    store.close()


def test_records_share_the_turns_transaction(bridge: Bridge, monkeypatch: pytest.MonkeyPatch) -> None:
    bridge.store.receive([(1, 5, "{}")])
    bridge.turn(5, Command("log"), update_id=1)
    bridge.store.receive([(2, 5, "{}")])

    def fail(*args: object) -> None:
        raise RuntimeError("the disk went away")

    monkeypatch.setattr(type(bridge.store), "_finish", staticmethod(fail))  # the last write of the transaction
    with pytest.raises(RuntimeError):
        bridge.turn(5, Text("ran 8k, felt easy, pain 3"), update_id=2)
    assert bridge.records.records(5).logs == ()  # rolled back with the session and the outbox
    assert [uid for uid, _ in bridge.store.unfinished()] == [2]
    monkeypatch.undo()
    bridge.turn(5, Text("ran 8k, felt easy, pain 3"), update_id=2)
    assert [(e.pain, e.distance_km) for e in bridge.records.records(5).logs] == [(3, 8.0)]
    assert bridge.store.unfinished() == []


def test_a_reminder_is_claimed_and_queued_once_and_forget_deletes_it(bridge: Bridge) -> None:
    bridge.turn(6, Command("plan", "lumbar_strain"))
    bridge.turn(6, Command("remind", "07:00"))
    bridge.turn(6, Text("UTC"))
    for row in bridge.store.queued(6):
        bridge.store.delivered(row.id)
    reminder = bridge.records.records(6).reminder
    assert reminder is not None and reminder.next_due == "2026-03-02T07:00:00+00:00"
    bridge.clock[0] = dt.datetime(2026, 3, 2, 7, 0, 1, tzinfo=dt.UTC)  # type: ignore[attr-defined]
    [(chat, queued, after)] = bridge.remind([reminder])
    assert (chat, queued) == (6, True) and after is not None and after.next_due == "2026-03-03T07:00:00+00:00"
    messages = bridge.store.queued(6)  # the card and its question: one message, or two past a phone screen
    text = "\n".join(m.text for m in messages)
    assert 1 <= len(messages) <= 2 and "Time for today's session" in text and "Day 1" in text and messages[-1].buttons
    assert bridge.remind([reminder]) == [(6, False, after)]  # the same occurrence again: nothing
    assert len(bridge.store.queued(6)) == len(messages)
    asked = bridge.turn(6, Command("forget"))
    assert not asked.reminder_changed and bridge.records.records(6).reminder is not None  # it asks first
    turn = bridge.turn(6, Text("yes, delete"))
    assert turn.reminder_changed and turn.reminder is None
    assert bridge.records.records(6).reminder is None and bridge.records.active_reminders() == []


def test_a_claim_lost_to_another_sender_rolls_back_its_message(bridge: Bridge) -> None:
    bridge.turn(8, Command("remind", "07:00"))
    bridge.turn(8, Text("UTC"))
    for row in bridge.store.queued(8):
        bridge.store.delivered(row.id)
    reminder = bridge.records.records(8).reminder
    assert reminder is not None
    now = dt.datetime(2026, 3, 2, 7, 0, 1, tzinfo=dt.UTC)
    assert bridge.records.claim(reminder, now) is not None  # another instance won it
    claimed: list[Reminder] = []
    with pytest.raises(NotClaimed):
        bridge.store.commit(8, None, KEEP, [Queued("Time")], also=bridge.records.claiming(reminder, now, claimed))
    assert claimed == [] and bridge.store.queued(8) == []
