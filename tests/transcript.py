"""Play a transcript (tests/transcripts/*.yaml) against the engine and check every reply.

A transcript is a list of steps. Each step does one thing —
  say: TEXT            the runner types TEXT        tap: LABEL   presses the button labelled LABEL
  command: NAME        sends /NAME                  data: DATA   sends raw button data (stale or forged)
  send: KIND           a photo, sticker, voice note ... (something that is not text)
— and then checks the bot's replies to it:
  expect: [..]         each text appears in the replies        not: [..]   none of these appears
  first: TEXT          the first reply contains TEXT           emergency: true/false  the first reply is
                                                                                       (not) the emergency warning
  buttons: [..]        the last reply offers these buttons     state: NAME  the conversation is now in NAME
  offers: [..]         the last reply offers these buttons (among others)
  asks: NAME           the turn's last question is this one     kinds: [..]  the kinds of the replies, in order
  toast: TEXT          the turn shows this toast (a stale button)
  offers: [..]         the last reply's buttons include these     lacks: [..]  and do not include these
A button stays pressable after later turns (a result's section buttons never expire), so `tap`
looks in the newest replies first, then in earlier ones. A transcript with a top-level
`xfail: REASON` describes the right behaviour for a known engine bug: it must fail (strictly).
States are: idle (no flow in progress), location, trigger, screen (any safety question),
aftermath (after an emergency). Texts are compared without formatting tags.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from conversations.engine import Engine
from conversations.events import (
    Choice,
    Command,
    Event,
    Reply,
    Text,
    Toast,
    TurnResult,
    Unsupported,
    parse_command,
)
from conversations.session import Session

ACTIONS = ("say", "tap", "command", "data", "send")
CHECKS = ("expect", "not", "first", "emergency", "buttons", "offers", "lacks", "state", "asks", "kinds", "toast")
SAFETY = {"emergency_screen", "warning_screen", "warning_item", "age", "duration", "confirm"}


@dataclass
class Player:
    """Replays steps against an engine, keeping the session and the last replies."""

    engine: Engine
    session: Session = field(default_factory=Session)
    replies: list[Reply] = field(default_factory=list)
    history: list[Reply] = field(default_factory=list)  # every reply so far, oldest first

    def event(self, step: dict[str, Any]) -> Event:
        if "say" in step:
            return Text(str(step["say"]))
        if "command" in step:
            return parse_command("/" + str(step["command"])) or Command(str(step["command"]))
        if "data" in step:
            return Choice(str(step["data"]))
        if "send" in step:
            return Unsupported(str(step["send"]))
        label = str(step["tap"])
        buttons = [b for r in self.replies for b in r.buttons if b.label == label]
        buttons = buttons or [b for r in self.history for b in r.buttons if b.label == label]
        assert buttons, f"no button {label!r} among {[b.label for r in self.replies for b in r.buttons]}"
        return Choice(buttons[-1].data)

    def play(self, step: dict[str, Any]) -> TurnResult:
        result = self.engine.handle(self.session, self.event(step))
        self.session = result.session
        if result.replies:
            self.replies = result.replies
            self.history += result.replies
        return result


def state_of(session: Session) -> str:
    """The transcript name of where a conversation stands."""
    frame = session.top
    if frame is None:
        return "idle"
    if frame.flow == "aftermath":
        return "aftermath"
    return "screen" if frame.step in SAFETY else frame.step


def check(step: dict[str, Any], result: TurnResult, where: str) -> None:
    """Assert a step's expectations about the replies it produced."""
    replies, session = result.replies, result.session
    text = "\n".join(r.plain for r in replies)
    for wanted in step.get("expect", []):
        assert wanted in text, f"{where}: expected {wanted!r} in:\n{text}"
    for unwanted in step.get("not", []):
        assert unwanted not in text, f"{where}: did not expect {unwanted!r} in:\n{text}"
    if "first" in step:
        assert replies and step["first"] in replies[0].plain, f"{where}: first reply was {text[:200]!r}"
    if "emergency" in step:
        assert replies and replies[0].emergency is step["emergency"], f"{where}: first reply emergency flag"
    if "buttons" in step:
        labels = [b.label for b in replies[-1].buttons] if replies else []
        assert labels == step["buttons"], f"{where}: buttons were {labels}"
    if "offers" in step:
        labels = [b.label for b in replies[-1].buttons] if replies else []
        missing = [label for label in step["offers"] if label not in labels]
        assert not missing, f"{where}: {missing} not among the buttons {labels}"
    if "lacks" in step:
        labels = [b.label for b in replies[-1].buttons] if replies else []
        assert labels, f"{where}: the last reply has no buttons to check"
        present = [label for label in step["lacks"] if label in labels]
        assert not present, f"{where}: {present} should not be among the buttons {labels}"
    if "state" in step:
        assert state_of(session) == step["state"], f"{where}: state is {state_of(session)}"
    if "asks" in step:
        asked = [r.asks for r in replies if r.kind == "question"]
        assert asked[-1:] == [step["asks"]], f"{where}: asks {asked}"
    if "kinds" in step:
        assert [r.kind for r in replies] == step["kinds"], f"{where}: kinds {[r.kind for r in replies]}"
    if "toast" in step:
        toasts = [e.text for e in result.effects if isinstance(e, Toast)]
        assert any(step["toast"] in t for t in toasts), f"{where}: toasts {toasts}"


def load(path: Path) -> dict[str, Any]:
    """Read and sanity-check a transcript file."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict) and data.get("steps"), f"{path.name}: needs a title and steps"
    for number, step in enumerate(data["steps"], start=1):
        actions = [a for a in ACTIONS if a in step]
        assert len(actions) == 1, f"{path.name} step {number}: exactly one of {ACTIONS}"
        unknown = set(step) - set(ACTIONS) - set(CHECKS)
        assert not unknown, f"{path.name} step {number}: unknown keys {sorted(unknown)}"
    return data


def run_transcript(path: Path, engine: Engine) -> None:
    """Play every step of the transcript at `path`, from a new chat's welcome."""
    data = load(path)
    player = Player(engine)
    welcome = engine.welcome(player.session)
    player.session, player.replies, player.history = welcome.session, welcome.replies, list(welcome.replies)
    for number, step in enumerate(data["steps"], start=1):
        result = player.play(step)
        check(step, result, f"{path.name} step {number}")
        assert not engine.problems(player.session), engine.problems(player.session)
