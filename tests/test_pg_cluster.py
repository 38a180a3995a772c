"""Several bot processes on one PostgreSQL (issue 14), end to end over real HTTP.

Two bots in webhook mode share a database; updates for many chats are posted round-robin to
both, as a load balancer in front of them would. One bot is killed with `kill -9` mid-burst
and restarted; meanwhile its share goes to the other (Telegram re-sends an update that was not
answered 200, and the proxy fails over). Every update must be handled once and every reply
delivered once, in order per chat — allowing, as the single-bot fault suite does, a repeat
straight after itself when a send's answer was lost in the kill.

PG_CHATS (default 200) and PG_PER_CHAT (default 4) size the burst.

Reminders too: two instances on a fast clock, reminders set through both, one instance killed
with `kill -9` at the moment the first ones fall due — each reminder is delivered once.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from bot.clock import Clock
from conversations.engine import Engine
from tests.fake_bot_api import FakeBotApi, FakeBotApiServer, message
from tests.pg_server import free_port
from tests.test_telegram_e2e import TOKEN, BotProcess, bot_env
from tests.test_telegram_faults import SCRIPT, check_delivery, handled_ids, wait_delivered

CHATS = int(os.environ.get("PG_CHATS", "200"))
PER_CHAT = int(os.environ.get("PG_PER_CHAT", "4"))
SECRET = "shared-s3cret"


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


def webhook_env(server: FakeBotApiServer, database_url: str, port: int, tmp: Path) -> dict[str, str]:
    return bot_env(
        server, tmp / "unused.sqlite3", DATABASE_URL=database_url, TELEGRAM_RATE_LIMIT="0",
        WEBHOOK_URL="https://runner.example/telegram", WEBHOOK_LISTEN="127.0.0.1", WEBHOOK_PORT=str(port),
        WEBHOOK_SECRET_TOKEN=SECRET,
    )  # fmt: skip


def get(port: int, path: str) -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as error:
        return int(error.code)
    except OSError:
        return 0


def wait_ready(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while get(port, "/readyz") != 200:
        assert time.monotonic() < deadline, f"the bot on port {port} never became ready"
        time.sleep(0.1)


def post(port: int, update: dict) -> bool:
    """Post an update as Telegram does; True once a bot answered 200."""
    body = json.dumps(update).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/telegram", data=body, method="POST",
        headers={"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": SECRET},
    )  # fmt: skip
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status == 200
    except (OSError, urllib.error.HTTPError):
        return False


class Poster:
    """Telegram plus a round-robin proxy: each chat's updates in turn, many chats at once; an
    update that was not answered 200 goes again, to the other bot."""

    def __init__(self, ports: list[int]) -> None:
        self.ports = ports
        self.count = 0
        self.resent = 0
        self.lock = threading.Lock()

    def deliver(self, update: dict) -> None:
        with self.lock:
            index = self.count % len(self.ports)
            self.count += 1
        deadline = time.monotonic() + 60
        while not post(self.ports[index], update):
            assert time.monotonic() < deadline, f"update {update['update_id']} was never accepted"
            with self.lock:
                self.resent += 1
            index = (index + 1) % len(self.ports)
            time.sleep(0.05)

    def burst(self, chats: int, per_chat: int, during: list[tuple[int, object]] = ()) -> dict[int, list[str]]:
        """Post `per_chat` messages from each chat; `during`: (step, action) to run before a step."""
        inputs: dict[int, list[str]] = {70_000 + c: [] for c in range(chats)}
        update_id = 1
        actions = dict(during)
        with ThreadPoolExecutor(16) as pool:
            for step in range(per_chat):
                if step in actions:
                    actions[step]()  # type: ignore[operator]
                updates = []
                for chat_id, sent in inputs.items():
                    text = SCRIPT[step % len(SCRIPT)]
                    sent.append(text)
                    updates.append({"update_id": update_id, **message(chat_id, text)})
                    update_id += 1
                list(pool.map(self.deliver, updates))  # a chat's next update only after this one's 200
        return inputs


def unfinished(database_url: str) -> int:
    import psycopg

    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT COUNT(*) FROM inbox WHERE done IS NULL").fetchone()
        return int(row[0]) if row else -1


def test_two_instances_one_killed_mid_burst_lose_nothing_and_repeat_nothing(
    server: FakeBotApiServer, api: FakeBotApi, engine: Engine, pg_url: str, tmp_path: Path
) -> None:
    ports = [free_port(), free_port()]
    logs = [tmp_path / "a1.log", tmp_path / "b.log", tmp_path / "a2.log"]
    bots = {0: BotProcess(webhook_env(server, pg_url, ports[0], tmp_path), logs[0]),
            1: BotProcess(webhook_env(server, pg_url, ports[1], tmp_path), logs[1])}  # fmt: skip
    for port in ports:
        wait_ready(port)
    poster = Poster(ports)
    killed: dict[str, int] = {}

    def kill() -> None:
        time.sleep(0.2)  # mid-step: some of this step's turns are under way
        killed["sent before"] = api.tally.get("sendMessage", 0)
        assert bots[0].stop(signal.SIGKILL) == -signal.SIGKILL

    def restart() -> None:
        bots[2] = BotProcess(webhook_env(server, pg_url, ports[0], tmp_path), logs[2])
        wait_ready(ports[0])

    started = time.monotonic()
    kill_thread = threading.Thread(target=kill)
    steps = [(1, kill_thread.start), (max(2, PER_CHAT - 1), lambda: (kill_thread.join(), restart()))]
    try:
        inputs = poster.burst(CHATS, PER_CHAT, during=steps)
        wait_delivered(api, engine, inputs, timeout=120)
        api.wait_for(lambda: unfinished(pg_url) == 0, timeout=30)
        elapsed = time.monotonic() - started
    finally:
        for bot in bots.values():
            bot.stop()
    outputs = [log.read_text(errors="replace") for log in logs]
    handled = handled_ids(*outputs)
    assert len(handled) == len(set(handled)), "an update was handled twice"
    assert "Traceback" not in outputs[1] + outputs[2]
    # a repeat is only possible for the sends the killed bot had in flight
    repeats = check_delivery(api, engine, inputs, allowed_repeats=16)
    print(f"\ntwo instances, {CHATS} chats × {PER_CHAT}: {CHATS * PER_CHAT} updates in {elapsed:.1f} s, "
          f"{poster.resent} re-sent after the kill, {repeats} replies repeated; "
          f"{killed['sent before']} sent before the kill")  # fmt: skip


def test_health_and_readiness_and_a_graceful_stop(server: FakeBotApiServer, api: FakeBotApi, pg_url: str, tmp_path: Path) -> None:
    port = free_port()
    bot = BotProcess(webhook_env(server, pg_url, port, tmp_path), tmp_path / "hook.log")
    try:
        wait_ready(port)
        assert get(port, "/healthz") == 200
        assert post(port, {"update_id": 1, **message(5, "/prevent")})
        api.wait_for(lambda: bool(api.texts(5)))
    finally:
        started = time.monotonic()
        assert bot.stop() == 0
    assert time.monotonic() - started < 10
    assert unfinished(pg_url) == 0


def test_a_second_poller_on_the_same_token_is_refused(server: FakeBotApiServer, api: FakeBotApi, pg_url: str, tmp_path: Path) -> None:
    env = bot_env(server, tmp_path / "unused.sqlite3", DATABASE_URL=pg_url)
    first = BotProcess(env, tmp_path / "first.log")
    try:
        api.wait_for(lambda: api.first_poll is not None, timeout=60)
        second = BotProcess(env, tmp_path / "second.log")
        code = second.process.wait(timeout=60)
        second.log.close()
    finally:
        first.stop()
    assert code != 0
    last = second.output().strip().splitlines()[-1]
    assert last.startswith("runner-bot: another runner-bot instance is already polling Telegram for @runner_test_bot")
    assert first.process.returncode == 0


REMINDER = "Time for today's session"


def test_two_instances_deliver_each_reminder_once_when_one_is_killed_at_the_due_time(
    server: FakeBotApiServer, api: FakeBotApi, pg_url: str, tmp_path: Path
) -> None:
    """Six chats set reminders, half through each instance (the one that handles the turn holds
    the job); three fall due at one minute, three at the next. The instance holding half the
    jobs is killed -9 as the first minute falls due: what it had claimed and queued is sent by
    the other one's sweeper, and what it never claimed is taken up by the other one's reminder
    sweep. Claim and message commit together, so nothing is sent twice."""
    clock = Clock(time.time(), 30.0)  # a minute every two seconds; the same clock in both bots
    env = {"RUNNER_BOT_TEST_CLOCK": f"{clock.epoch}:{clock.speed}"}
    ports = [free_port(), free_port()]
    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    bots = [BotProcess({**webhook_env(server, pg_url, port, tmp_path), **env}, log) for port, log in zip(ports, logs, strict=True)]
    try:
        for port in ports:
            wait_ready(port)
        first = int(clock.timestamp() // 60 * 60) + 3 * 60  # bot-clock seconds: 4–6 s from now
        chats = {8100 + i: first + 60 * (i % 2) for i in range(6)}  # two due minutes, both instances each
        update_id = 1
        for index, (chat_id, at) in enumerate(chats.items()):
            hhmm = time.strftime("%H:%M", time.gmtime(at))
            # the time zone answer sets the reminder: its instance schedules the job
            for text, port in ((f"/remind {hhmm}", ports[(index + 1) % 2]), ("UTC", ports[index // 2 % 2])):
                assert post(port, {"update_id": update_id, **message(chat_id, text)})
                update_id += 1
        for chat_id, at in chats.items():
            hhmm = time.strftime("%H:%M", time.gmtime(at))
            api.wait_for(lambda c=chat_id, h=hhmm: any(f"every day at {h}" in t for t in api.texts(c)), timeout=20)
        assert clock.timestamp() < first - 20, "the set-up took too long for the fast clock"

        while clock.timestamp() < first:
            time.sleep(0.01)
        assert bots[0].stop(signal.SIGKILL) == -signal.SIGKILL  # as its first jobs fire

        for chat_id in chats:
            api.wait_for(lambda c=chat_id: any(REMINDER in t for t in api.texts(c)), timeout=25)
        time.sleep(3.0)  # a sweep and a minute and a half of bot time: nothing more may come
        assert clock.timestamp() < first + 23 * 3600, "the test ran into the next day's reminders"
    finally:
        for bot in bots:
            bot.stop(signal.SIGKILL)
    delivered = {chat_id: sum(REMINDER in t for t in api.texts(chat_id)) for chat_id in chats}
    assert delivered == dict.fromkeys(chats, 1), f"each reminder once: {delivered}"
    survivor = logs[1].read_text(errors="replace")
    assert "Traceback" not in survivor
    import psycopg

    with psycopg.connect(pg_url) as conn:
        moved = conn.execute("SELECT chat_id, next_due FROM record_reminders ORDER BY chat_id").fetchall()
    assert len(moved) == len(chats)
    for chat_id, next_due in moved:
        assert next_due > time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(chats[chat_id])), "not moved to the next day"
