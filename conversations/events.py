"""What goes into the engine (events) and what comes out (replies and effects), as plain data.

The console, the Telegram adapter and the tests all turn their input into these events and
render these replies the same way, so none of them holds conversation logic. A reply carries
what it *means* (its kind, the question it asks, the urgency it states) besides its text, so
adapters can present it and `runner-bot chat --jsonl` can trace it.

Reply text uses a small HTML subset — <b>, <i> and <blockquote expandable> — with every piece of
data escaped; `Reply.plain` is the same text without tags, for the console and the trace.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from conversations.phone import fit
from conversations.recovery_records import LogEntry, Plan

if TYPE_CHECKING:
    from conversations.session import Session

_TAG = re.compile(r"</?(?:b|i|u|code|blockquote)(?: expandable)?>")

# What a reply is, for adapters and the trace (shared/eval/README.md, conversations section).
KINDS = frozenset(
    "question emergency warning result answer info small_talk out_of_scope not_understood".split()
)


@dataclass(frozen=True, slots=True)
class Text:
    """A message the runner typed, and the language their app is set to (Telegram's
    `language_code`, such as "de"; "" when unknown)."""

    text: str
    language: str = ""


@dataclass(frozen=True, slots=True)
class Choice:
    """A button the runner pressed, with the button's data exactly as it came back."""

    data: str


@dataclass(frozen=True, slots=True)
class Command:
    """A /command, without the slash (``"prevent"``), and what followed it (``/start hip``)."""

    name: str
    argument: str = ""


@dataclass(frozen=True, slots=True)
class Edited:
    """A message the runner edited after sending it: read for warning signs only."""

    text: str


@dataclass(frozen=True, slots=True)
class ReminderDue:
    """The runner's daily reminder has fallen due (the adapter has claimed it)."""


@dataclass(frozen=True, slots=True)
class Unsupported:
    """Something the bot cannot read: a photo, sticker, voice note, location, document ..."""

    kind: str


Event = Text | Choice | Command | Edited | ReminderDue | Unsupported


@dataclass(frozen=True, slots=True)
class Button:
    """One option: the label shown and the data sent back when it is chosen."""

    label: str
    data: str


@dataclass(frozen=True, slots=True)
class Reply:
    """One message from the bot, with what it means.

    kind:      question, emergency, warning, result, answer, info, small_talk, out_of_scope,
               not_understood
    asks:      for a question, which one (menu, location, trigger, emergency_screen, ...)
    urgency:   for an emergency, warning or result, the urgency it states
    flags:     the red-flag ids it is about
    condition: the condition a result or answer is about
    other:     the problem outside the six a result is about
    topic:     the question topic an answer (or an info card) is about
    in_place:  the same question, updated (a checklist box ticked): adapters edit the message
    """

    text: str
    buttons: tuple[Button, ...] = ()
    kind: str = "info"
    asks: str = ""
    urgency: str = ""
    flags: tuple[str, ...] = ()
    condition: str | None = None
    topic: str = ""
    in_place: bool = False  # a question re-shown with its boxes ticked: edit the tapped message
    replaces: bool = False  # a section tab of the card it was opened from: edit that card in place
    placeholder: str = ""  # the question waits for words: a hint for the input field (ForceReply)
    other: str | None = None  # a result about a problem outside the six (other_conditions.yaml)

    def __post_init__(self) -> None:
        # no message is longer than a phone screen: what does not fit is folded (phone.py)
        object.__setattr__(self, "text", fit(self.text))

    @property
    def emergency(self) -> bool:
        """Whether this is the message that says to get emergency help now."""
        return self.kind == "emergency"

    @property
    def plain(self) -> str:
        """The text without formatting tags, as a terminal or a log would show it."""
        return html.unescape(_TAG.sub("", self.text))

    def trace(self) -> dict[str, Any]:
        """The reply as one entry of `runner-bot chat --jsonl` (shared/eval/README.md)."""
        entry: dict[str, Any] = {"kind": self.kind, "text": self.plain, "buttons": [b.label for b in self.buttons]}
        if self.kind == "question":
            entry["asks"] = self.asks
        if self.kind in ("emergency", "warning", "result"):
            entry["urgency"] = self.urgency
            entry["flags"] = list(self.flags)
        if self.kind in ("result", "answer", "info") and (self.condition or self.kind == "result"):
            entry["condition"] = self.condition
        if self.kind == "result":
            entry["other"] = self.other
        if self.topic:
            entry["topic"] = self.topic
        return entry


# ----- effects: what an adapter must do besides sending the replies ---------------------------
@dataclass(frozen=True, slots=True)
class Forget:
    """Delete everything stored about this chat."""


@dataclass(frozen=True, slots=True)
class CloseKeyboard:
    """The chat's last live keyboard was answered by typing (or has moved on): close it.

    `label` is the option the typed answer picked ("" when it picked none), for the adapter to
    show as "✓ label" where the buttons were.
    """

    label: str = ""


@dataclass(frozen=True, slots=True)
class Toast:
    """A short notice for a button press (Telegram shows it over the chat, not as a message)."""

    text: str


# ----- the recovery companion's effects: records to keep, charts and files to send -------------
@dataclass(frozen=True, slots=True)
class SaveLog:
    """Keep a pain / run log entry (add, or replace the entry with the same id)."""

    entry: LogEntry


@dataclass(frozen=True, slots=True)
class SavePlan:
    """Keep a plan and its progress (add, or replace the plan with the same id)."""

    plan: Plan


@dataclass(frozen=True, slots=True)
class SetReminder:
    """Remind the runner daily at `time` (HH:MM) in the IANA time zone `tz`; replaces any other."""

    time: str
    tz: str


@dataclass(frozen=True, slots=True)
class CancelReminders:
    """Turn the chat's reminders off (their time zone is kept)."""


@dataclass(frozen=True, slots=True)
class ChartSpec:
    """The data of a progress chart; an adapter draws it (bot/charts.py) and sends it as a photo.

    pain:   (date, 0–10) for every logged pain score
    runs:   (date, km) for every logged run
    weekly: (Monday of the week, km) for each week from the first log to the last
    """

    title: str
    pain: tuple[tuple[str, int], ...] = ()
    runs: tuple[tuple[str, float], ...] = ()
    weekly: tuple[tuple[str, float], ...] = ()
    limit: int = 3  # the pain-monitoring "safe" line
    caption: str = ""  # the one-line reading of the trend, sent with the picture


@dataclass(frozen=True, slots=True)
class SendChart:
    """Draw the chart and send it (a photo on Telegram, a PNG file on the console)."""

    spec: ChartSpec


@dataclass(frozen=True, slots=True)
class OutFile:
    """A file to send: its name, media type and content."""

    name: str
    media_type: str
    data: bytes


@dataclass(frozen=True, slots=True)
class SendFiles:
    """Send these files (documents on Telegram, files written on the console)."""

    files: tuple[OutFile, ...]
    caption: str = ""


@dataclass(frozen=True, slots=True)
class ChatAction:
    """Show the runner that slow work is under way ("upload_photo", "upload_document") before
    the chart or files are made; sent before any reply of the turn."""

    action: str


@dataclass(frozen=True, slots=True)
class SnoozeReminder:
    """Send today's reminder again in `minutes` (once; the daily time is unchanged)."""

    minutes: int


Effect = (
    Forget | CloseKeyboard | Toast | SaveLog | SavePlan | SetReminder | CancelReminders | SendChart | SendFiles
    | ChatAction | SnoozeReminder
)


@dataclass(frozen=True, slots=True)
class TurnResult:
    """What one event decided: the new session, the replies to send, and what else to do.

    Adapters carry out `effects` (delete data, close a keyboard, show a toast); they never infer
    them from the replies or the session.
    """

    session: Session
    replies: list[Reply]
    effects: tuple[Effect, ...] = field(default=())


def parse_command(text: str) -> Command | None:
    """The command in a message such as ``/prevent``, ``/start@runner_bot`` or ``/start hip``."""
    stripped = text.strip()
    if not stripped.startswith("/") or len(stripped) < 2:
        return None
    head, _, argument = stripped[1:].partition(" ")
    name = head.split("@", 1)[0].lower()
    if not (name.isascii() and name.replace("_", "").isalnum()):
        return None
    return Command(name, argument.strip().lower())
