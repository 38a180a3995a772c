"""The cost of one conversation turn, including the SQLite write, over a realistic mix.

    python -m benchmarks.engine_turn [--chats N]

Each turn is what the Telegram handler does around sending: load the chat's session from a real
SQLite file (WAL), read the message, run the engine, then in one transaction save the session,
queue the replies in the outbox and mark the update done (bot.telegram `Bridge.turn`). Many chats run interleaved through scripted conversations that mix free text,
button presses, commands, red flags, and the odd photo or stale button.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path

from benchmarks.common import describe_timings, machine, print_table
from bot.storage.sqlite_sessions import SqliteStore
from bot.telegram.bridge import Bridge
from conversations.engine import Engine
from conversations.events import Button, Choice, Command, Event, Reply, Text, Unsupported

# A step is typed text, ("tap", label) for a button, or an event as it is.
SCRIPTS: list[list[object]] = [
    [Command("start"), ("tap", "Hip pain"), ("tap", "Front of the hip / groin"), ("tap", "Lifting the knee"),
     ("tap", "No"), ("tap", "None of these"), ("tap", "Under a week"), Command("prevent")],
    ["outside of my hip snaps when I run", "no", "no", "no", "thanks!"],
    ["my lower back hurts", "one side near my bum", "can I still run?", ("tap", "No"), ("tap", "☐ Limping"),
     ("tap", "☐ Wakes me at night"), ("tap", "Done ✓"), "about 3 weeks", ("tap", "💪 Exercises")],
    [Command("redflags"), "not sure", ("tap", "No"), ("tap", "None of these"), ("tap", "Under a week")],
    ["pain shoots down my leg from my back and my foot tingles", "no", "no", "no", Command("back"), "no"],
    ["my hip hurts", Unsupported("photo"), Choice("1:stale"), "side", "stairs", "no", "no", "no"],
    ["sciatica in both legs and I can't control my bladder"],
    ["my knee hurts", "hello", "asdf", Command("help"), Command("forget")],
]  # fmt: skip


def play(bridge: Bridge, chats: int, seed: int) -> list[float]:
    """Run `chats` conversations interleaved at random; the seconds each turn took."""
    rng = random.Random(seed)
    queues = {chat: list(SCRIPTS[chat % len(SCRIPTS)]) for chat in range(1, chats + 1)}
    last: dict[int, list[Reply]] = {}
    timings = []
    while queues:
        chat = rng.choice(list(queues))
        event = to_event(queues[chat].pop(0), last.get(chat, []))
        started = time.perf_counter()
        turn = bridge.turn(chat, event)
        timings.append(time.perf_counter() - started)
        # the replies, to find the buttons the next step presses (not timed)
        if turn.queued:  # a stale tap queues nothing (a toast): the old buttons stay
            last[chat] = [Reply(row.text, tuple(Button(label, data) for label, data in row.buttons)) for row in turn.queued]
        for row in turn.queued:  # delivered at once: the outbox stays small, as it does live
            bridge.store.delivered(row.id)
        if not queues[chat]:
            del queues[chat]
    return timings


def to_event(step: object, replies: list[Reply]) -> Event:
    if isinstance(step, str):
        return Text(step)
    if isinstance(step, tuple):
        buttons = [b for r in replies for b in r.buttons if b.label == step[1]]
        return Choice(buttons[-1].data) if buttons else Text(step[1])
    return step  # type: ignore[return-value]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--chats", type=int, default=2000)
    args = parser.parse_args()
    engine = Engine()
    with tempfile.TemporaryDirectory() as folder:
        store = SqliteStore(Path(folder) / "bench.sqlite3")
        bridge = Bridge(engine, store)
        play(bridge, 50, seed=1)  # warm up
        timings = play(bridge, args.chats, seed=2)
        store.close()
    figures = describe_timings(timings)
    print(f"machine: {machine()}; {len(timings)} turns in {args.chats} chats")
    print_table(
        ["turn (load + engine + SQLite save)", "mean ms", "p50 ms", "p99 ms"],
        [
            [
                "mixed conversation turns",
                f"{figures['mean_ms']:.3f}",
                f"{figures['p50_ms']:.3f}",
                f"{figures['p99_ms']:.3f}",
            ]
        ],
    )


if __name__ == "__main__":
    main()
