"""Outages the bot must ride out, and the two faults it must stop on (issue 21, items 1 and 5).

The real bot process against the fake Bot API. Storage that is locked past the wait, a disk that
fills, a PostgreSQL server that goes away, a getUpdates answer without `result`: the bot backs
off, says so in its log (never a message's text), keeps the updates unconfirmed until they are
in the inbox, and carries on when the fault is over — every update handled once and answered,
in order. A rejected token (tests/test_telegram_faults.py) and a database file deleted while
running stop it, non-zero, with one line.

RETRY_CAP_S=2 scales the back-off and the lock wait down from 30 s, so each outage takes seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import re
import resource
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conversations.engine import Engine
from tests.fake_bot_api import FakeBotApi, FakeBotApiServer, message
from tests.telegram_harness import ROOT, TOKEN, BotProcess, bot_env, free_port, wait_started
from tests.test_telegram_faults import SCRIPT, check_delivery, handled_ids, wait_delivered

FAST = {"TELEGRAM_RATE_LIMIT": "0", "RETRY_CAP_S": "2"}
SECRET_WORDS = "my-secret-hip-words"


@pytest.fixture
def api() -> FakeBotApi:
    return FakeBotApi(TOKEN)


@pytest.fixture
def server(api: FakeBotApi) -> Iterator[FakeBotApiServer]:
    with FakeBotApiServer(api) as running:
        yield running


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine()


def say(api: FakeBotApi, inputs: dict[int, list[str]], steps: range) -> list[int]:
    """Each chat sends SCRIPT[step] for these steps, interleaved; the update ids pushed."""
    ids = []
    for step in steps:
        for chat_id, sent in inputs.items():
            text = SCRIPT[step % len(SCRIPT)]
            sent.append(text)
            ids.append(api.push(message(chat_id, text))["update_id"])
    return ids


def wait_logged(bot: BotProcess, pattern: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not re.search(pattern, bot.output()):
        assert bot.process.poll() is None, f"the bot exited: {bot.output()[-2000:]}"
        assert time.monotonic() < deadline, f"{pattern!r} never logged: {bot.output()[-1500:]}"
        time.sleep(0.05)


def check_all_handled_once(bot: BotProcess, ids: list[int]) -> None:
    handled = handled_ids(bot.output())
    assert sorted(set(handled) & set(ids)) == sorted(ids), "an update was never handled"
    assert all(handled.count(i) == 1 for i in ids), "an update was handled twice"


class PipedBot(BotProcess):
    """The bot with its output through a pipe (copied to the log by this process), so a file-size
    limit put on the bot fails its database writes but not its log."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.log_path = log_path
        self.log = log_path.open("ab")
        base = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "WEBHOOK_"))}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot", "telegram"], cwd=ROOT, env={**base, **env},
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )  # fmt: skip
        self.copier = threading.Thread(target=self._copy, daemon=True)
        self.copier.start()

    def _copy(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.log.write(line)
            self.log.flush()

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        code = self.process.wait(timeout=30)
        self.copier.join(timeout=5)
        if self.process.stdout is not None:
            self.process.stdout.close()
        self.log.close()
        return code


# ----- SQLite --------------------------------------------------------------------------------
def test_a_sqlite_lock_held_past_the_wait_is_ridden_out(
    server: FakeBotApiServer, api: FakeBotApi, engine: Engine, tmp_path: Path
) -> None:
    database = tmp_path / "locked.sqlite3"
    bot = BotProcess(bot_env(server, database, **FAST), tmp_path / "locked.log")
    try:
        wait_started(api, bot)
        inputs: dict[int, list[str]] = {61_000 + c: [] for c in range(3)}
        ids = say(api, inputs, range(2))
        wait_delivered(api, engine, inputs, timeout=20)
        holder = sqlite3.connect(database, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # another process holds the write lock (as a backup tool might)
        try:
            during = say(api, inputs, range(2, 4))
            wait_logged(bot, r"could not keep \d+ updates in the inbox \(StorageBusy\); they stay unconfirmed")
            time.sleep(3)  # several rounds of back-off
            assert set(during) <= set(api.unconfirmed()), "an update was confirmed before it was kept"
            assert bot.process.poll() is None
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        ids += during + say(api, inputs, range(4, 6))
        wait_delivered(api, engine, inputs, timeout=30)
        check_delivery(api, engine, inputs, allowed_repeats=0)
        check_all_handled_once(bot, ids)
        assert "the database cannot be used (StorageBusy)" in bot.output()
        assert "the database works again" in bot.output()
    finally:
        assert bot.stop() == 0, bot.output()[-2000:]


def test_a_disk_that_fills_is_ridden_out(
    server: FakeBotApiServer, api: FakeBotApi, engine: Engine, tmp_path: Path
) -> None:
    """RLIMIT_FSIZE of 0 on the bot process: every write that would grow a file fails (EFBIG, as
    ENOSPC would on a full disk), the database's included; lifted, the bot carries on."""
    database = tmp_path / "full.sqlite3"
    bot = PipedBot(bot_env(server, database, **FAST), tmp_path / "full.log")
    try:
        wait_started(api, bot)
        inputs: dict[int, list[str]] = {62_000 + c: [] for c in range(3)}
        ids = say(api, inputs, range(2))
        wait_delivered(api, engine, inputs, timeout=20)
        _, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
        resource.prlimit(bot.process.pid, resource.RLIMIT_FSIZE, (0, hard))
        try:
            during = say(api, inputs, range(2, 4))
            wait_logged(bot, r"could not keep \d+ updates in the inbox \(StorageError\); they stay unconfirmed")
            time.sleep(3)
            assert set(during) <= set(api.unconfirmed()), "an update was confirmed before it was kept"
        finally:
            resource.prlimit(bot.process.pid, resource.RLIMIT_FSIZE, (hard, hard))
        ids += during + say(api, inputs, range(4, 6))
        wait_delivered(api, engine, inputs, timeout=30)
        check_delivery(api, engine, inputs, allowed_repeats=0)
        check_all_handled_once(bot, ids)
        assert "the database works again" in bot.output()
    finally:
        assert bot.stop() == 0, bot.output()[-2000:]


def test_a_getupdates_answer_without_result_is_ridden_out(
    server: FakeBotApiServer, api: FakeBotApi, engine: Engine, tmp_path: Path
) -> None:
    bot = BotProcess(bot_env(server, tmp_path / "odd.sqlite3", **FAST), tmp_path / "odd.log")
    try:
        wait_started(api, bot)
        for body in ({"ok": True}, {"ok": True, "result": {"not": "a list"}}, {"ok": True, "result": None}):
            api.answer_next("getUpdates", body)
        inputs: dict[int, list[str]] = {63_000: []}
        ids = say(api, inputs, range(3))
        wait_delivered(api, engine, inputs, timeout=30)
        check_delivery(api, engine, inputs, allowed_repeats=0)
        check_all_handled_once(bot, ids)
        assert "getUpdates failed (KeyError)" in bot.output()
        assert "Traceback" not in bot.output()
    finally:
        assert bot.stop() == 0, bot.output()[-2000:]


def test_a_database_file_deleted_while_running_stops_the_bot_with_one_line(
    server: FakeBotApiServer, api: FakeBotApi, engine: Engine, tmp_path: Path
) -> None:
    database = tmp_path / "deleted.sqlite3"
    bot = BotProcess(bot_env(server, database, **FAST), tmp_path / "deleted.log")
    try:
        wait_started(api, bot)
        inputs: dict[int, list[str]] = {64_000: []}
        say(api, inputs, range(2))
        wait_delivered(api, engine, inputs, timeout=20)
        for path in tmp_path.glob("deleted.sqlite3*"):
            path.unlink()
        started = time.monotonic()
        code = bot.process.wait(timeout=15)
        took = time.monotonic() - started
    finally:
        bot.stop()
    assert code != 0
    last = bot.output().strip().splitlines()[-1]
    assert last.startswith("runner-bot: the database file") and "was deleted while the bot was running" in last
    assert "Traceback" not in bot.output()
    assert took < 5, f"noticed after {took:.1f} s"


def test_readyz_says_not_ready_while_the_store_fails_and_the_webhook_answers_503(
    server: FakeBotApiServer, api: FakeBotApi, engine: Engine, tmp_path: Path
) -> None:
    import json
    import urllib.error
    import urllib.request

    database = tmp_path / "hook.sqlite3"
    port = free_port()
    env = bot_env(server, database, WEBHOOK_URL="https://runner.example/hook", WEBHOOK_LISTEN="127.0.0.1",
                  WEBHOOK_PORT=str(port), WEBHOOK_SECRET_TOKEN="s3cret", **FAST)  # fmt: skip
    bot = BotProcess(env, tmp_path / "hook.log")

    def status(path: str, body: dict[str, object] | None = None) -> int:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method="POST" if data else "GET",
                                         headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret",
                                                  "Content-Type": "application/json"})  # fmt: skip
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                return int(answer.status)
        except urllib.error.HTTPError as error:
            return int(error.code)

    try:
        wait_started(api, bot)
        deadline = time.monotonic() + 20
        while status("/readyz") != 200:
            assert time.monotonic() < deadline
            time.sleep(0.1)
        update = {"update_id": 900, **message(65_000, SECRET_WORDS)}
        holder = sqlite3.connect(database, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            assert status("/hook", update) == 503, "an update that was not kept must not be answered 200"
            assert status("/readyz") == 503
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        deadline = time.monotonic() + 20
        while status("/readyz") != 200:
            assert time.monotonic() < deadline, "never ready again"
            time.sleep(0.2)
        assert status("/hook", update) == 200  # Telegram's re-send
        api.wait_for(lambda: bool(api.texts(65_000)), timeout=20)
        assert SECRET_WORDS not in bot.output()
    finally:
        assert bot.stop() == 0, bot.output()[-2000:]


# ----- PostgreSQL ----------------------------------------------------------------------------
class CuttableProxy:
    """A TCP proxy on 127.0.0.1 in a thread of its own: `cut()` drops every connection and refuses
    new ones (the server is down, as far as the bot can tell); `restore()` serves again."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self.loop = asyncio.new_event_loop()
        self.server: asyncio.base_events.Server | None = None
        self.writers: set[asyncio.StreamWriter] = set()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.restore()

    def _run(self, coroutine: object) -> object:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(10)  # type: ignore[arg-type]

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.CancelledError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        self.writers |= {writer, up_writer}
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))
        self.writers -= {writer, up_writer}

    async def _start(self) -> None:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", self.port, reuse_address=True)

    async def _stop(self) -> None:
        if self.server is not None:
            self.server.close()
            self.server = None
        for writer in list(self.writers):
            writer.transport.abort()
        self.writers.clear()

    def cut(self) -> None:
        self._run(self._stop())

    def restore(self) -> None:
        self._run(self._start())

    def close(self) -> None:
        self.cut()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)
        self.loop.close()


def test_postgresql_going_away_is_ridden_out(
    server: FakeBotApiServer, api: FakeBotApi, engine: Engine, tmp_path: Path, pg_url: str
) -> None:
    from urllib.parse import urlsplit

    parts = urlsplit(pg_url)
    proxy = CuttableProxy(parts.hostname or "127.0.0.1", parts.port or 5432)
    via_proxy = parts._replace(netloc=f"{parts.username}@127.0.0.1:{proxy.port}").geturl()
    bot = BotProcess(bot_env(server, tmp_path / "unused.sqlite3", DATABASE_URL=via_proxy, **FAST),
                     tmp_path / "pg.log")  # fmt: skip
    try:
        wait_started(api, bot, timeout=40)
        inputs: dict[int, list[str]] = {66_000 + c: [] for c in range(3)}
        ids = say(api, inputs, range(2))
        wait_delivered(api, engine, inputs, timeout=20)
        proxy.cut()
        try:
            during = say(api, inputs, range(2, 4))
            wait_logged(bot, r"could not keep \d+ updates in the inbox \(\w+\); they stay unconfirmed")
            time.sleep(4)
            assert set(during) <= set(api.unconfirmed()), "an update was confirmed before it was kept"
            assert bot.process.poll() is None
        finally:
            proxy.restore()
            restored = time.monotonic()
        ids += during + say(api, inputs, range(4, 6))
        wait_delivered(api, engine, inputs, timeout=45)
        check_delivery(api, engine, inputs, allowed_repeats=0)
        check_all_handled_once(bot, ids)
        time.sleep(max(0.0, 12 - (time.monotonic() - restored)))  # the issue saw an exit 10 s after the server came back
        assert bot.process.poll() is None, bot.output()[-2000:]
        more = say(api, inputs, range(6, 7))
        wait_delivered(api, engine, inputs, timeout=20)
        check_all_handled_once(bot, ids + more)
    finally:
        code = bot.stop()
        proxy.close()
    assert code == 0, bot.output()[-2000:]


# ----- reminders that cannot be read (item 7) -----------------------------------------------
BAD_REMINDERS = {"next_due": "not a time", "tz": "Mars/Olympus_Mons", "time": "25:99"}


def set_due_reminders(records: Any, chats: list[int]) -> None:
    """A reminder for each chat at 07:00 London time, already due (set two days ago)."""
    two_days_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=2)
    for chat_id in chats:
        records.set_reminder(chat_id, "07:00", "Europe/London", two_days_ago)


def spoil(execute: Any, chats: list[int], placeholder: str) -> None:
    """Give each chat's reminder one unusable field (as an older version or another host might)."""
    for chat_id, (column, value) in zip(chats, BAD_REMINDERS.items(), strict=True):
        execute(f"UPDATE record_reminders SET {column} = {placeholder} WHERE chat_id = {placeholder}", [value, chat_id])


def test_unreadable_reminders_are_skipped_and_the_rest_are_sent(
    server: FakeBotApiServer, api: FakeBotApi, tmp_path: Path
) -> None:
    from bot.storage.sqlite_records import SqliteRecordStore
    from bot.storage.sqlite_sessions import SqliteStore

    database = tmp_path / "reminders.sqlite3"
    store = SqliteStore(database)
    bad, good = [67_001, 67_002, 67_003], [67_010, 67_011]
    set_due_reminders(SqliteRecordStore.sharing(store.db), bad + good)
    spoil(lambda sql, params: store.db.execute(sql, params), bad, "?")
    store.close()
    bot = BotProcess(bot_env(server, database, **FAST), tmp_path / "reminders.log")
    try:
        wait_started(api, bot)
        api.wait_for(lambda: all(api.texts(chat) for chat in good), timeout=20)
        time.sleep(1)
        assert all(not api.texts(chat) for chat in bad)
        for chat in bad:
            assert f"chat {chat}: its stored reminder cannot be used" in bot.output()
        assert "Traceback" not in bot.output() and bot.process.poll() is None
    finally:
        assert bot.stop() == 0, bot.output()[-2000:]


def test_postgresql_skips_unreadable_reminders_too(pg_url: str) -> None:
    from bot.storage.pg_records import PgRecordStore
    from bot.storage.pg_sessions import PgStore

    store = PgStore(pg_url)
    try:
        records = PgRecordStore.sharing(store)
        bad, good = [68_001, 68_002, 68_003], [68_010]
        set_due_reminders(records, bad + good)
        with store.connection() as conn:
            spoil(conn.execute, bad, "%s")
        assert [r.chat_id for r in records.active_reminders()] == good
        assert [r.chat_id for r in records.due_reminders(dt.datetime.now(dt.UTC))] == good
        assert records.records(bad[0]).reminder is None and records.records(good[0]).reminder is not None
    finally:
        store.close()


# ----- /forget leaves nothing (item 8) -------------------------------------------------------
def sqlite_rows_about(database: Path, chat_id: int) -> dict[str, int]:
    """Rows that name the chat, by table (every table with a chat_id column)."""
    with contextlib.closing(sqlite3.connect(database)) as connection:
        tables = [row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        found = {}
        for table in tables:
            columns = [row[1] for row in connection.execute(f"PRAGMA table_info({table})")]
            if "chat_id" in columns:
                found[table] = connection.execute(f"SELECT COUNT(*) FROM {table} WHERE chat_id = ?", [chat_id]).fetchone()[0]
    return found


def test_forget_leaves_no_row_and_no_words_in_the_sqlite_file_or_its_wal(
    server: FakeBotApiServer, api: FakeBotApi, tmp_path: Path
) -> None:
    from tests.telegram_harness import Chat

    database = tmp_path / "forget.sqlite3"
    bot = BotProcess(bot_env(server, database, **FAST), tmp_path / "forget.log")
    try:
        wait_started(api, bot)
        chat = Chat(api, bot, 69_000)
        chat.say("my hip hurts")
        chat.say(f"it hurts when I run, {SECRET_WORDS}")
        chat.say("/remind 07:30 Europe/London")
        assert any(count for count in sqlite_rows_about(database, 69_000).values())
        chat.say("/forget")  # it asks first (issue 19); the typed confirmation deletes
        chat.say("yes, delete")
        api.wait_for(lambda: any("deleted everything" in t for t in api.texts(69_000)))
        deadline = time.monotonic() + 10
        while any(sqlite_rows_about(database, 69_000).values()):  # the confirmation leaves the outbox once sent
            assert time.monotonic() < deadline, sqlite_rows_about(database, 69_000)
            time.sleep(0.1)
        for path in tmp_path.glob("forget.sqlite3*"):
            assert SECRET_WORDS.encode() not in path.read_bytes(), f"the runner's words remain in {path.name}"
        assert bot.process.poll() is None
    finally:
        assert bot.stop() == 0, bot.output()[-2000:]


def test_forget_leaves_no_row_in_postgresql_and_the_inbox_is_vacuumed(pg_url: str) -> None:
    import psycopg

    from bot.storage.pg_records import PgRecordStore
    from bot.storage.pg_sessions import PgStore
    from bot.telegram.bridge import Bridge
    from conversations.events import Text, parse_command

    store = PgStore(pg_url)
    try:
        bridge = Bridge(Engine(), store, PgRecordStore.sharing(store))
        chat_id, update_id = 70_000, 1
        for text in ["my hip hurts", f"it hurts when I run, {SECRET_WORDS}", "/remind 07:30 Europe/London", "/forget", "yes, delete"]:
            store.receive([(update_id, chat_id, json_update(chat_id, text))])
            turn = bridge.turn(chat_id, parse_command(text) or Text(text), update_id)
            for row in turn.queued:
                store.delivered(row.id)
            update_id += 1
        with psycopg.connect(pg_url, autocommit=True) as conn:
            tables = [row[0] for row in conn.execute(
                "SELECT table_name FROM information_schema.columns WHERE column_name = 'chat_id' "
                "AND table_schema = 'public'")]  # fmt: skip
            assert {"sessions", "inbox", "outbox", "record_reminders"} <= set(tables)
            for table in tables:
                count = conn.execute(f"SELECT COUNT(*) FROM {table} WHERE chat_id = %s", [chat_id]).fetchone()  # type: ignore[arg-type]
                assert count == (0,), f"{table} still holds the forgotten chat"
        assert bridge.load(chat_id).menu > 0, "the confirmation's menu still works (kept in memory only)"
        assert store.vacuum_inbox() is True
    finally:
        store.close()


def json_update(chat_id: int, text: str) -> str:
    import json

    return json.dumps({"update_id": 0, **message(chat_id, text)})


async def test_a_reminder_that_fails_on_its_own_does_not_hold_up_its_batch() -> None:
    """A batch whose claim fails because of one reminder is claimed one by one: that one is
    dropped (logged by chat id), the others are sent; a database failure keeps the batch."""
    from collections import deque
    from types import SimpleNamespace
    from zoneinfo import ZoneInfoNotFoundError

    from bot.clock import Clock
    from bot.storage.sessions import StorageBusy
    from bot.telegram.reminders import Reminders
    from conversations.recovery_records import Reminder

    failures: list[BaseException] = []

    def remind(batch: list[Reminder]) -> list[tuple[int, bool, Reminder | None]]:
        if failures:
            raise failures.pop()
        if any(r.chat_id == 2 for r in batch):
            raise ZoneInfoNotFoundError("Mars/Olympus_Mons")
        return [(r.chat_id, True, None) for r in batch]

    async def db(function: Any, *args: Any) -> Any:
        return function(*args)

    runtime = SimpleNamespace(cluster=None, db=db, bridge=SimpleNamespace(remind=remind))
    reminders = Reminders(SimpleNamespace(job_queue=object()), runtime, Clock())  # type: ignore[arg-type]
    due = [Reminder("07:00", "Europe/London", "2026-01-01T07:00:00+00:00", True, chat) for chat in (1, 2, 3)]
    failures.append(StorageBusy("locked"))  # first the database fails: the whole batch waits
    reminders.due = deque(due)
    await reminders._drain()
    sent = [reminders.to_send.get_nowait() for _ in range(reminders.to_send.qsize())]
    assert sent == [1, 3] and reminders.claimed == 2
