"""Delivery v2 (issue 21): order and retries when Telegram or the disk fails for a while.

Each test runs the real bot process against the fake Bot API (tests/fake_bot_api.py) and checks
the same three things: nothing stranded (every update done in the inbox, the outbox empty),
nothing reordered (each chat gets exactly the engine's replies for its messages, in order; a
send whose answer was lost may repeat once, straight after itself), and whatever the fault was
about (one late note at most; no apology storm; other chats not held up).
"""

from __future__ import annotations

import resource
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from conversations.engine import Engine
from tests.fake_bot_api import FakeBotApi, FakeBotApiServer, message
from tests.telegram_harness import TOKEN, BotProcess, bot_env
from tests.test_telegram_faults import collapse, expected, unfinished

LATE_NOTE = "Sorry for the delay"
APOLOGY = "something went wrong on my side"


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


def start(server: FakeBotApiServer, api: FakeBotApi, database: Path, log: Path, **env: str) -> BotProcess:
    bot = BotProcess(bot_env(server, database, TELEGRAM_RATE_LIMIT="0", **env), log)
    api.wait_for(lambda: "deleteWebhook" in api.tally, timeout=60)
    return bot


def without_note(text: str) -> str:
    return text.split("\n\n", 1)[1] if text.startswith(LATE_NOTE) else text


def received(api: FakeBotApi, chat_id: int) -> list[str]:
    return [without_note(text) for text in api.texts(chat_id)]


def wait_all(api: FakeBotApi, engine: Engine, inputs: dict[int, list[str]], timeout: float) -> None:
    wants = {chat_id: expected(engine, sent) for chat_id, sent in inputs.items()}
    api.wait_for(
        lambda: all(len(collapse(received(api, c), want)[0]) >= len(want) for c, want in wants.items()), timeout
    )


def check_order(api: FakeBotApi, engine: Engine, inputs: dict[int, list[str]], allowed_repeats: int) -> int:
    """Each chat got the engine's replies, in order; repeats only straight after themselves."""
    repeats = 0
    for chat_id, sent in inputs.items():
        want = expected(engine, sent)
        got, extra = collapse(received(api, chat_id), want)
        assert got == want, f"chat {chat_id}: replies lost or out of order"
        repeats += extra
    assert repeats <= allowed_repeats
    return repeats


def outbox(database: Path) -> int:
    with sqlite3.connect(database) as connection:
        return connection.execute("SELECT COUNT(*) FROM outbox").fetchone()[0]


def test_a_4_s_outage_is_retried_in_the_background_with_one_late_note_at_most(
    server: FakeBotApiServer, api: FakeBotApi, engine: Engine, tmp_path: Path
) -> None:
    """Fault 3: replies held up by a 5xx for 4 s arrive once it ends, without the runner writing again."""
    database = tmp_path / "outage.sqlite3"
    bot = start(server, api, database, tmp_path / "outage.log")
    inputs = {81: ["my hip hurts", "front", "when I sprint"], 82: ["/start"]}
    try:
        api.outages["sendMessage"] = time.monotonic() + 4.0
        for chat_id, sent in inputs.items():
            for text in sent:
                api.push(message(chat_id, text))
        wait_all(api, engine, inputs, timeout=40)
        api.wait_for(lambda: outbox(database) == 0 and unfinished(database) == 0, timeout=10)
    finally:
        bot.stop()
    check_order(api, engine, inputs, allowed_repeats=0)
    for chat_id in inputs:
        notes = [text for text in api.texts(chat_id) if text.startswith(LATE_NOTE)]
        assert len(notes) <= 1, f"chat {chat_id}: the late note {len(notes)} times"
        assert all(text.count(LATE_NOTE) <= 1 for text in api.texts(chat_id)), "the note stacked"


def test_a_send_carried_out_after_the_client_timed_out_repeats_next_to_itself(
    server: FakeBotApiServer, api: FakeBotApi, engine: Engine, tmp_path: Path
) -> None:
    """Fault 4: later replies of the chat wait until the uncertain one is settled."""
    database = tmp_path / "uncertain.sqlite3"
    bot = start(server, api, database, tmp_path / "uncertain.log")
    inputs = {83: ["my hip hurts", "front", "when I sprint", "no"]}
    try:
        api.delay["chat:83"] = 6.0  # longer than PTB's 5 s read time-out: carried out, answer lost
        api.push(message(83, inputs[83][0]))
        api.wait_for(lambda: len(api.texts(83)) >= 1)
        del api.delay["chat:83"]
        for text in inputs[83][1:]:
            api.push(message(83, text))
        wait_all(api, engine, inputs, timeout=40)
        api.wait_for(lambda: outbox(database) == 0 and unfinished(database) == 0, timeout=10)
    finally:
        bot.stop()
    # in the order the messages reached the chat (the first one only 6 s after it was sent)
    arrived = [call["html"] for call in api.record(83) if call["method"] == "sendMessage"]
    got, repeats = collapse(arrived, expected(engine, inputs[83]))
    assert got == expected(engine, inputs[83]), "a later reply arrived before the uncertain one was settled"
    assert repeats == 1, "the send Telegram carried out is repeated once, straight after itself"


def test_a_full_disk_mid_traffic_strands_nothing_and_reorders_nothing(
    server: FakeBotApiServer, api: FakeBotApi, engine: Engine, tmp_path: Path
) -> None:
    """Fault 2: turns that fail on a full disk are retried while running, each chat's later ones waiting."""
    database = tmp_path / "full.sqlite3"
    bot = start(server, api, database, tmp_path / "full.log")
    chats = range(84_000, 84_010)
    inputs = {chat_id: ["my hip hurts", "front", "when I sprint", "no", "no"] for chat_id in chats}
    try:
        api.delay["sendMessage"] = 0.05  # slow enough that the burst is still being handled below
        for step in range(5):
            for chat_id in chats:
                api.push(message(chat_id, inputs[chat_id][step]))
        api.wait_for(lambda: inbox_rows(database) == 50, timeout=20)  # all received, few handled
        # the disk fills: no file of the bot's may grow past 4 KB (SQLite then fails every write)
        resource.prlimit(bot.process.pid, resource.RLIMIT_FSIZE, (4096, resource.RLIM_INFINITY))
        time.sleep(3.0)
        resource.prlimit(bot.process.pid, resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
        wait_all(api, engine, inputs, timeout=90)
        api.wait_for(lambda: outbox(database) == 0 and unfinished(database) == 0, timeout=30)
    finally:
        bot.stop()
    assert "trying it again shortly" in bot.output(), "the disk never filled: the test tested nothing"
    check_order(api, engine, inputs, allowed_repeats=0)  # a reply sent but not marked is not sent again
    apologies = [t for chat_id in chats for t in api.texts(chat_id) if APOLOGY in t]
    assert not apologies, "an update retried in the background needs no apology asking to send it again"


def inbox_rows(database: Path) -> int:
    try:
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as connection:
            return connection.execute("SELECT COUNT(*) FROM inbox").fetchone()[0]
    except sqlite3.Error:
        return 0
