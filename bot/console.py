"""A console chat with the conversation engine: the bot in a terminal, or scripted through a pipe.

On a terminal it prompts and colours (unless NO_COLOR is set); otherwise it reads one message a
line and prints the replies, so `printf '/prevent\\n' | runner-bot chat` works. End of input
exits cleanly. Buttons are shown as numbered options: type the number, the label, or anything.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TextIO

from bot.storage.memory import MemoryRecordStore
from bot.storage.records import RecordStore, apply_effects
from conversations.engine import Engine
from conversations.events import (
    Button,
    Choice,
    Event,
    ReminderDue,
    Reply,
    SendChart,
    SendFiles,
    SnoozeReminder,
    Text,
    Toast,
)
from conversations.session import Session

RED, DIM, BOLD, RESET = "\033[31m", "\033[2m", "\033[1m", "\033[0m"
PROMPT = "you> "


class Console:
    """Runs one conversation between the engine and a text stream."""

    CHAT_ID = 0  # the console is one chat

    def __init__(
        self,
        engine: Engine,
        out: TextIO,
        colour: bool,
        trace: bool = False,
        records: RecordStore | None = None,
        files_dir: Path | None = None,
        now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self.engine = engine
        self.out = out
        self.colour = colour
        self.trace = trace  # `chat --jsonl`: one JSON line per line in, for scripts and scoring
        self.session: Session = engine.new_session()
        self.buttons: tuple[Button, ...] = ()
        self.records: RecordStore = records if records is not None else MemoryRecordStore()
        self.files_dir = files_dir  # where charts and exports are written (a temporary folder if None)
        self.now = now
        self.lock = threading.Lock()  # the reminder loop writes to `out` too
        self.snoozed_until: dt.datetime | None = None  # a snoozed reminder comes back then, once

    def start(self) -> None:
        """Show the welcome and the main menu."""
        result = self.engine.welcome(self.session)
        self.session = result.session
        self.show(None, result.replies, ())

    def send(self, line: str) -> None:
        """Handle one line the runner typed: the chat's records go in, effects are carried out."""
        with self.lock:
            records = self.records.records(self.CHAT_ID)
            result = self.engine.handle(self.session, self.event_for(line), records)
            self.session = result.session
            apply_effects(self.records, self.CHAT_ID, result.effects, self.now())
            self.show(line, result.replies, result.effects)
            self.deliver(result.effects)

    def deliver(self, effects: Iterable[object]) -> None:
        """Charts and exports become files; the path is shown. A snooze is remembered."""
        for effect in effects:
            if isinstance(effect, SnoozeReminder):
                self.snoozed_until = self.now() + dt.timedelta(minutes=effect.minutes)
            elif isinstance(effect, SendChart):
                from bot.charts import render_png  # matplotlib only when a chart is drawn

                self.write_file("progress.png", render_png(effect.spec))
            elif isinstance(effect, SendFiles):
                for file in effect.files:
                    self.write_file(file.name, file.data)

    def write_file(self, name: str, data: bytes) -> None:
        if self.files_dir is None:
            self.files_dir = Path(tempfile.mkdtemp(prefix="runner-bot-"))
        self.files_dir.mkdir(parents=True, exist_ok=True)
        path = self.files_dir / name
        path.write_bytes(data)
        if not self.trace:  # the trace stays one JSON line per line read
            self.out.write(f"bot> (saved {path})\n")
            self.out.flush()

    def remind_due(self) -> int:
        """Print every reminder that is due (claimed first, so each occurrence prints once)."""
        sent = 0
        now = self.now()
        due = sum(self.records.claim(r, now) is not None for r in self.records.due_reminders(now))
        if self.snoozed_until is not None and now >= self.snoozed_until:
            self.snoozed_until = None
            due += 1  # the snoozed one, again
        for _ in range(due):
            with self.lock:
                result = self.engine.handle(self.session, ReminderDue(), self.records.records(self.CHAT_ID))
                self.session = result.session
                apply_effects(self.records, self.CHAT_ID, result.effects, now)
                if result.replies:  # nothing on a day already marked
                    self.out.write("\n")
                    self.show(None, result.replies, result.effects)
                self.deliver(result.effects)
            sent += bool(result.replies)
        return sent

    def event_for(self, line: str) -> Event:
        """A button's label or its number presses it; anything else is text.

        The label comes first, so on a 0–10 pain scale "4" means 4, not the fourth button.
        """
        choice = line.strip()
        for button in self.buttons:
            if choice.casefold() == button.label.casefold():
                return Choice(button.data)
        if not self.trace and choice.isascii() and choice.isdigit() and 1 <= int(choice) <= len(self.buttons):
            return Choice(self.buttons[int(choice) - 1].data)
        return Text(line)

    def show(self, line: str | None, replies: Iterable[Reply], effects: Iterable[object]) -> None:
        """Print replies, with buttons as numbered options (or their trace, one JSON line)."""
        replies = list(replies)
        buttons = [b for reply in replies for b in reply.buttons]
        if buttons:
            self.buttons = tuple(buttons)
        if self.trace:
            entry = {"in": line, "replies": [reply.trace() for reply in replies]}
            self.out.write(json.dumps(entry, ensure_ascii=False) + "\n")
            self.out.flush()
            return
        for effect in effects:
            if isinstance(effect, Toast):
                self.out.write(f"bot> ({effect.text})\n")
        number = 0
        for reply in replies:
            text = f"{BOLD}{RED}{reply.plain}{RESET}" if reply.emergency and self.colour else reply.plain
            self.out.write(f"bot> {text}\n")
            for button in reply.buttons:
                number += 1
                option = f"  {number}. {button.label}"
                self.out.write(f"{DIM}{option}{RESET}\n" if self.colour else f"{option}\n")
        self.out.flush()


def wants_colour(stream: TextIO, env: dict[str, str] | os._Environ[str]) -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org)."""
    return stream.isatty() and "NO_COLOR" not in env


def _remind_loop(console: Console, stop: threading.Event, every: float = 20.0) -> None:
    while not stop.wait(every):
        console.remind_due()


def run_console(
    engine: Engine,
    stdin: TextIO,
    stdout: TextIO,
    hint: str = "",
    trace: bool = False,
    records: RecordStore | None = None,
) -> int:
    """Chat until end of input (or Ctrl-C / Ctrl-D on a terminal); returns the exit status.

    With `trace` (``runner-bot chat --jsonl``) every reply is written as JSON, one line per
    line read plus one for the welcome, as shared/eval/README.md describes.
    """
    interactive = stdin.isatty() and not trace
    console = Console(
        engine, stdout, colour=not trace and wants_colour(stdout, os.environ), trace=trace, records=records
    )
    if hint and interactive:
        stdout.write(f"{hint}\n")
    console.start()
    stop = threading.Event()
    if interactive:  # reminders print when due while the console runs
        threading.Thread(target=_remind_loop, args=(console, stop), daemon=True, name="reminders").start()
    try:
        while True:
            if interactive:
                stdout.write(PROMPT)
                stdout.flush()
            line = stdin.readline()
            if not line:
                break
            console.send(line.rstrip("\r\n"))
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
    if interactive:
        stdout.write("\nBye — look after yourself.\n")
    return 0
