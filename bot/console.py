"""A console chat with the conversation engine: the bot in a terminal, or scripted through a pipe.

On a terminal it prompts and colours (unless NO_COLOR is set); otherwise it reads one message a
line and prints the replies, so `printf '/prevent\\n' | runner-bot chat` works. End of input
exits cleanly. Buttons are shown as numbered options: type the number, the label, or anything.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import TextIO

from conversations.engine import Engine
from conversations.events import Button, Choice, Event, Reply, Text
from conversations.session import Session

RED, DIM, BOLD, RESET = "\033[31m", "\033[2m", "\033[1m", "\033[0m"
PROMPT = "you> "


class Console:
    """Runs one conversation between the engine and a text stream."""

    def __init__(self, engine: Engine, out: TextIO, colour: bool) -> None:
        self.engine = engine
        self.out = out
        self.colour = colour
        self.session: Session = engine.new_session()
        self.buttons: tuple[Button, ...] = ()

    def start(self) -> None:
        """Show the welcome and the main menu."""
        result = self.engine.welcome(self.session)
        self.session, replies = result.session, result.replies
        self.show(replies)

    def send(self, line: str) -> None:
        """Handle one line the runner typed."""
        result = self.engine.handle(self.session, self.event_for(line))
        self.session, replies = result.session, result.replies
        self.show(replies)

    def event_for(self, line: str) -> Event:
        """A number picks that button of the last menu; anything else is text for the engine."""
        choice = line.strip()
        if choice.isascii() and choice.isdigit() and 1 <= int(choice) <= len(self.buttons):
            return Choice(self.buttons[int(choice) - 1].data)
        return Text(line)

    def show(self, replies: Iterable[Reply]) -> None:
        """Print replies, with buttons as numbered options."""
        for reply in replies:
            text = f"{BOLD}{RED}{reply.text}{RESET}" if reply.emergency and self.colour else reply.text
            self.out.write(f"bot> {text}\n")
            if reply.buttons:
                self.buttons = reply.buttons
                for number, button in enumerate(reply.buttons, start=1):
                    line = f"  {number}. {button.label}"
                    self.out.write(f"{DIM}{line}{RESET}\n" if self.colour else f"{line}\n")
        self.out.flush()


def wants_colour(stream: TextIO, env: dict[str, str] | os._Environ[str]) -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org)."""
    return stream.isatty() and "NO_COLOR" not in env


def run_console(engine: Engine, stdin: TextIO, stdout: TextIO, hint: str = "") -> int:
    """Chat until end of input (or Ctrl-C / Ctrl-D on a terminal); returns the exit status."""
    interactive = stdin.isatty()
    console = Console(engine, stdout, colour=wants_colour(stdout, os.environ))
    if hint and interactive:
        stdout.write(f"{hint}\n")
    console.start()
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
    if interactive:
        stdout.write("\nBye — look after yourself.\n")
    return 0
