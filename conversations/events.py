"""What goes into the engine (events) and what comes out (replies), as plain data.

The console, the Telegram adapter and the tests all turn their input into these events and
render these replies the same way, so none of them holds conversation logic.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from conversations.session import Session


@dataclass(frozen=True, slots=True)
class Text:
    """A message the runner typed."""

    text: str


@dataclass(frozen=True, slots=True)
class Choice:
    """A button the runner pressed, with the button's data exactly as it came back."""

    data: str


@dataclass(frozen=True, slots=True)
class Command:
    """A /command, without the slash (``"prevent"``)."""

    name: str


@dataclass(frozen=True, slots=True)
class Unsupported:
    """Something the bot cannot read: a photo, sticker, voice note, location, document ..."""

    kind: str


Event = Text | Choice | Command | Unsupported


@dataclass(frozen=True, slots=True)
class Button:
    """One option: the label shown and the data sent back when it is chosen."""

    label: str
    data: str


@dataclass(frozen=True, slots=True)
class Reply:
    """One message from the bot. `emergency` marks the message that says to get help now."""

    text: str
    buttons: tuple[Button, ...] = ()
    emergency: bool = False


@dataclass(frozen=True, slots=True)
class Forget:
    """Effect: delete everything stored about this chat."""


Effect = Forget


@dataclass(frozen=True, slots=True)
class TurnResult:
    """What one event decided: the new session, the replies to send, and what else to do.

    Adapters carry out `effects` (delete data, later: expire a keyboard, schedule a reminder);
    they never infer them from the replies or the session.
    """

    session: Session
    replies: list[Reply]
    effects: tuple[Effect, ...] = ()


def parse_command(text: str) -> Command | None:
    """The command in a message such as ``/prevent`` or ``/start@runner_bot``, or None."""
    stripped = text.strip()
    if not stripped.startswith("/") or len(stripped) < 2:
        return None
    name = stripped[1:].split(maxsplit=1)[0].split("@", 1)[0].lower()
    return Command(name) if name.isascii() and name.replace("_", "").isalnum() else None
