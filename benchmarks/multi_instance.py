"""One and two runner-bot instances on PostgreSQL against one on SQLite (issue 14).

    python -m benchmarks.multi_instance [--chats 200] [--per-chat 6] [--runs 3]

Every bot is a real process in webhook mode with the limiter off, answering a local fake Bot
API (tests/fake_bot_api.py). Updates are posted as Telegram would: each chat's next message only
after its last was answered 200, many chats at once (16 connections), round-robin over the
instances. Throughput: updates over the time from the first post to the last reply. Latency
per update: from the start of its post to the arrival of its last reply at the fake API. The
PostgreSQL server is local (tests/pg_server.py, or RUNNER_BOT_TEST_PG), fsync off as in the tests.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.common import machine, percentile, print_table
from bot.storage.memory import MemoryStore
from bot.telegram.bridge import Bridge
from conversations.engine import Engine
from conversations.events import Text, parse_command
from tests.fake_bot_api import FakeBotApi, FakeBotApiServer
from tests.pg_server import LocalServer, free_port, fresh_database
from tests.test_pg_cluster import Poster, wait_ready, webhook_env
from tests.test_telegram_e2e import TOKEN, BotProcess
from tests.test_telegram_faults import SCRIPT


class TimedApi(FakeBotApi):
    """The fake API, noting when each chat's messages arrive."""

    def __init__(self, token: str) -> None:
        super().__init__(token)
        self.arrivals: dict[int, list[float]] = {}

    def call(self, token: str, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        status, body = super().call(token, method, params)
        if method == "sendMessage" and status == 200:
            with self._changed:
                self.arrivals.setdefault(int(params["chat_id"]), []).append(time.monotonic())
        return status, body


def replies_per_turn(engine: Engine, per_chat: int) -> list[int]:
    bridge, counts = Bridge(engine, MemoryStore()), []
    for step in range(per_chat):
        text = SCRIPT[step % len(SCRIPT)]
        turn = bridge.turn(1, parse_command(text) or Text(text))
        counts.append(len(turn.queued))
        for row in turn.queued:
            bridge.store.delivered(row.id)
    return counts


class TimedPoster(Poster):
    def __init__(self, ports: list[int]) -> None:
        super().__init__(ports)
        self.posted: dict[int, float] = {}

    def deliver(self, update: dict) -> None:
        self.posted[update["update_id"]] = time.monotonic()
        super().deliver(update)


def run(label: str, instances: int, database_url: str, chats: int, per_chat: int, engine: Engine,
        folder: Path) -> dict[str, Any]:  # fmt: skip
    api = TimedApi(TOKEN)
    with FakeBotApiServer(api) as server:
        ports = [free_port() for _ in range(instances)]
        bots = []
        for index, port in enumerate(ports):
            env = webhook_env(server, database_url, port, folder)
            if not database_url:
                env.pop("DATABASE_URL")
                env["DATABASE_PATH"] = str(folder / f"{label}.sqlite3")
            env["LOG_LEVEL"] = "WARNING"
            bots.append(BotProcess(env, folder / f"{label}-{index}.log"))
        try:
            for port in ports:
                wait_ready(port)
            poster = TimedPoster(ports)
            counts = replies_per_turn(engine, per_chat)
            total = sum(counts) * chats
            started = time.monotonic()
            poster.burst(chats, per_chat)
            api.wait_for(lambda: sum(len(a) for a in api.arrivals.values()) >= total, timeout=600)
            elapsed = max(t for a in api.arrivals.values() for t in a) - started
        finally:
            for bot in bots:
                bot.stop()
    latencies = []
    first_chat = 70_000
    for chat in range(chats):
        arrivals = api.arrivals[first_chat + chat]
        seen = 0
        for step in range(per_chat):
            seen += counts[step]
            update_id = 1 + step * chats + chat
            latencies.append(arrivals[seen - 1] - poster.posted[update_id])
    return {
        "label": label,
        "updates/s": chats * per_chat / elapsed,
        "p50 ms": percentile(latencies, 0.5) * 1000,
        "p99 ms": percentile(latencies, 0.99) * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--chats", type=int, default=200)
    parser.add_argument("--per-chat", type=int, default=6)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    engine = Engine()
    server = None
    base = os.environ.get("RUNNER_BOT_TEST_PG")
    if not base:
        server = LocalServer()
        base = server.url
    results: dict[str, list[dict[str, Any]]] = {}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for number in range(args.runs):  # interleaved, so drift on a shared machine hits all alike
                for label, instances, pg in (("SQLite, 1 instance", 1, False), ("PostgreSQL, 1 instance", 1, True),
                                             ("PostgreSQL, 2 instances", 2, True)):  # fmt: skip
                    url = fresh_database(base) if pg else ""
                    folder = Path(tmp) / f"{number}"
                    folder.mkdir(exist_ok=True)
                    results.setdefault(label, []).append(
                        run(label.replace(" ", "").replace(",", "-"), instances, url, args.chats, args.per_chat, engine, folder)
                    )
    finally:
        if server is not None:
            server.stop()
    rows = []
    for label, runs in results.items():
        rows.append([label] + [f"{statistics.median(r[key] for r in runs):.0f}" for key in ("updates/s", "p50 ms", "p99 ms")])
    print(f"{machine()}; {args.chats} chats × {args.per_chat} messages, webhook, limiter off, median of {args.runs} runs")
    print_table(["setup", "updates/s", "p50 ms", "p99 ms"], rows)


if __name__ == "__main__":
    main()
