"""Delivery v2 on PostgreSQL (issue 21, fault 6): no waits under a chat's lock; the one-poller guard survives.

The real bot process polls the fake Bot API with DATABASE_URL set (so it runs the cluster's
advisory locks, bot/telegram/cluster.py). Skipped without a PostgreSQL server (tests/pg_server.py).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.telegram.cluster import POLLER_LOCK
from tests.fake_bot_api import FakeBotApi, FakeBotApiServer, message
from tests.telegram_harness import TOKEN, BotProcess, bot_env

WAIT_S = 8  # what Telegram tells the first chats to wait


@pytest.fixture
def api() -> FakeBotApi:
    return FakeBotApi(TOKEN)


@pytest.fixture
def server(api: FakeBotApi) -> Iterator[FakeBotApiServer]:
    with FakeBotApiServer(api) as running:
        yield running


def test_chats_told_to_wait_do_not_hold_up_another_chat(
    server: FakeBotApiServer, api: FakeBotApi, pg_url: str, tmp_path: Path
) -> None:
    """20 chats get `retry_after`; an unrelated chat is answered at once, and the 20 after the wait."""
    bot = BotProcess(bot_env(server, tmp_path / "unused.sqlite3", DATABASE_URL=pg_url, TELEGRAM_RATE_LIMIT="0"),
                     tmp_path / "wait.log")  # fmt: skip
    waiting = range(73_000, 73_020)
    try:
        api.wait_for(lambda: "deleteWebhook" in api.tally, timeout=60)
        for _ in waiting:
            api.fail_next("sendMessage", 429, description=f"Too Many Requests: retry after {WAIT_S}",
                          parameters={"retry_after": WAIT_S})  # fmt: skip
        for chat_id in waiting:
            api.push(message(chat_id, "/start"))
        api.wait_for(lambda: api.tally.get("sendMessage", 0) >= len(waiting), timeout=30)
        started = time.monotonic()
        api.push(message(73_999, "/start"))
        api.wait_for(lambda: bool(api.texts(73_999)), timeout=30)
        unrelated = time.monotonic() - started
        api.wait_for(lambda: all(len(api.texts(chat_id)) >= 2 for chat_id in waiting), timeout=60)
    finally:
        bot.stop()
    assert unrelated < 2.0, f"an unrelated chat waited {unrelated:.1f} s behind chats told to wait"
    for chat_id in waiting:
        refused, *again = api.texts(chat_id)
        assert [text.split("\n\n", 1)[1] if text.startswith("Sorry for the delay") else text
                for text in again] == [refused], "the refused message went again, once (late: with the note)"  # fmt: skip


def test_a_terminated_poller_connection_keeps_the_one_poller_guard(
    server: FakeBotApiServer, api: FakeBotApi, pg_url: str, tmp_path: Path
) -> None:
    """`pg_terminate_backend` on the lock's connection: the poller takes it again; a second is refused."""
    import psycopg

    env = bot_env(server, tmp_path / "unused.sqlite3", DATABASE_URL=pg_url)
    first = BotProcess(env, tmp_path / "first.log")
    try:
        api.wait_for(lambda: "deleteWebhook" in api.tally, timeout=60)
        with psycopg.connect(pg_url, autocommit=True) as conn:
            holders = conn.execute(
                "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND classid = %s AND granted "
                "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
                [POLLER_LOCK % 2**32],
            ).fetchall()
            assert len(holders) == 1, "the poller holds its lock"
            conn.execute("SELECT pg_terminate_backend(%s)", [holders[0][0]])
        time.sleep(3.0)  # the poller notices within a second and takes the lock again
        second = BotProcess(env, tmp_path / "second.log")
        code = second.process.wait(timeout=60)
        second.log.close()
        api.push(message(74_000, "/start"))
        api.wait_for(lambda: bool(api.texts(74_000)), timeout=30)  # the first one still polls
    finally:
        first.stop()
    assert code != 0, "a second poller started after the first one's lock connection was dropped"
    assert "already polling Telegram" in second.output()
    assert "taking the lock again" in first.output()


def test_chats_held_by_a_stopped_instance_do_not_stall_this_one(
    server: FakeBotApiServer, api: FakeBotApi, pg_url: str, tmp_path: Path
) -> None:
    """Another instance holds 8 chats' locks and does nothing (SIGSTOPped, say): this instance's
    few workers do not wait on them — an unrelated chat is answered at once, the 8 once let go."""
    import psycopg

    bot = BotProcess(bot_env(server, tmp_path / "unused.sqlite3", DATABASE_URL=pg_url, TELEGRAM_RATE_LIMIT="0"),
                     tmp_path / "held.log")  # fmt: skip
    held = range(75_000, 75_008)
    try:
        api.wait_for(lambda: "deleteWebhook" in api.tally, timeout=60)
        with psycopg.connect(pg_url) as frozen:  # one transaction holding the chats' locks, as a turn does
            for chat_id in held:
                frozen.execute("SELECT pg_advisory_xact_lock(%s)", [chat_id])
            for chat_id in held:
                api.push(message(chat_id, "/start"))
            time.sleep(0.5)
            started = time.monotonic()
            api.push(message(75_999, "/start"))
            api.wait_for(lambda: bool(api.texts(75_999)), timeout=30)
            unrelated = time.monotonic() - started
            assert not any(api.texts(chat_id) for chat_id in held), "a chat was handled without its lock"
        api.wait_for(lambda: all(api.texts(chat_id) for chat_id in held), timeout=30)  # let go: handled
    finally:
        bot.stop()
    assert unrelated < 2.0, f"an unrelated chat waited {unrelated:.1f} s behind chats another instance holds"
    for chat_id in held:
        assert len(api.texts(chat_id)) == 1, "each held chat answered once"
