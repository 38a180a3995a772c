"""A chat's conversation state: small, plain, and round-tripped through JSON.

It holds ids only (flows, steps, concepts, red flags, option ids) — never what the runner wrote —
so storing it is both trivial and safe, and a restart continues exactly where a chat stood.

The session is a *stack of flows*. The top frame is the flow in progress (a triage, the
warning-sign check, the advice after an emergency); frames below it are paused and resume,
exactly where they were, when the top one ends. An empty stack is the main menu.

What the runner said about warning signs belongs to the person, not to one flow: `flags`,
`cleared` and `doubtful` live on the session, so a second problem is not screened twice and
nothing a flow does can quietly undo a warning.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from typing import Any

SCHEMA_VERSION = 2
MAX_BACK_STEPS = 12


class SessionError(ValueError):
    """Stored session data that cannot be read back."""


@dataclass(slots=True)
class Frame:
    """One flow in progress: which flow, the question it has pending, and what it has learnt."""

    flow: str  # "triage", "check" (the /redflags check) or "aftermath" (after an emergency)
    step: str = ""  # the question pending: location, trigger, emergency_screen, warning_screen, ...
    region: str = ""  # "hip" or "lower_back" once known
    location: str = ""  # the location option chosen, or "elsewhere"
    trigger_done: bool = False
    duration: str = ""  # "", "short", "long" or "unknown" (asked, and they could not say)
    concepts: list[str] = field(default_factory=list)  # clues the runner affirmed for this problem
    negated: list[str] = field(default_factory=list)  # clues the runner denied
    confirm: str = ""  # the red flag being checked, when step is "confirm"
    resume: str = ""  # the step to go back to after a confirm question
    unsure: list[str] = field(default_factory=list)  # steps already answered "not sure" once
    items: list[str] = field(default_factory=list)  # warning signs still offered in a checklist
    ticked: list[str] = field(default_factory=list)  # signs ticked in the checklist, said at "Done"
    someone_else: bool = False  # the runner is asking about another person
    referred: list[str] = field(default_factory=list)  # other problems named and referred on (not the six)
    values: dict[str, str] = field(default_factory=dict)  # a companion flow's answers so far (numbers, ids)

    def copy(self) -> Frame:
        """A copy whose lists are its own."""
        return Frame(**_copied(self.to_dict()))

    def to_dict(self) -> dict[str, Any]:
        """Plain data, ready for JSON."""
        return {name: _plain(getattr(self, name)) for name in _FRAME_FIELDS}


@dataclass(slots=True)
class Session:
    """Everything the engine needs to carry on a chat's conversation."""

    stack: list[Frame] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)  # red flags raised in this conversation
    cleared: list[str] = field(default_factory=list)  # red flags the runner said no to
    doubtful: list[str] = field(default_factory=list)  # could not say, asked twice: the safer answer
    concerns: list[str] = field(default_factory=list)  # pictures that need a clinician (knowledge.concerns)
    urgency: str = ""  # the highest urgency the bot has stated; never quietly lowered
    clues: list[str] = field(default_factory=list)  # clues said in this conversation, for the safety rules
    age: str = ""  # an age band of safety.yaml, "skipped" (asked once, not answered), or "" (not known)
    last_condition: str = ""  # the subject of follow-up questions after a result
    last_topic: str = ""  # the topic just answered (or shown: /prevent), for "how often should I do it?"
    menu: int = 0  # id of the newest question's buttons; older ones have expired
    back: list[dict[str, Any]] = field(default_factory=list)  # earlier questions, for /back
    paused: list[Frame] = field(default_factory=list)  # the flows ☰ Menu set aside ("Carry on")
    version: int = SCHEMA_VERSION

    @property
    def top(self) -> Frame | None:
        """The flow in progress, or None at the main menu."""
        return self.stack[-1] if self.stack else None

    def copy(self) -> Session:
        """A deep enough copy: the engine never changes a session it was given."""
        return Session.from_dict(self.to_dict())

    def snapshot(self) -> dict[str, Any]:
        """What /back restores: the flows and the screen answers (warnings are never undone)."""
        return {
            "stack": [frame.to_dict() for frame in self.stack],
            "cleared": list(self.cleared),
            "doubtful": list(self.doubtful),
        }

    def to_dict(self) -> dict[str, Any]:
        """Plain data, ready for JSON (fresh lists, so the copy and the session never share one)."""
        data = {name: _plain(getattr(self, name)) for name in _SESSION_FIELDS}
        data["stack"] = [frame.to_dict() for frame in self.stack]
        data["paused"] = [frame.to_dict() for frame in self.paused]
        data["back"] = [_copied(step) for step in self.back]
        return data

    def to_json(self) -> str:
        """The session as compact JSON."""
        return json.dumps(self.to_dict(), separators=(",", ":"))

    @classmethod
    def from_dict(cls, data: Any) -> Session:
        """Rebuild a session from `to_dict` output; anything malformed raises SessionError."""
        if not isinstance(data, dict):
            raise SessionError("session data is not an object")
        data = upgrade(data)
        unknown = set(data) - set(_SESSION_FIELDS)
        if unknown:
            raise SessionError(f"unknown session fields: {sorted(unknown)}")
        values = _copied(data)
        values["stack"] = [_frame(item) for item in _list(values.get("stack", []), "stack")]
        values["paused"] = [_frame(item) for item in _list(values.get("paused", []), "paused")]
        values["back"] = [_snapshot(item) for item in _list(values.get("back", []), "back")]
        try:
            session = cls(**values)
        except TypeError as error:
            raise SessionError(str(error)) from None
        _check_types(session)
        return session

    @classmethod
    def from_json(cls, text: str) -> Session:
        """Rebuild a session from `to_json` output; anything malformed raises SessionError."""
        try:
            data = json.loads(text)
        except (TypeError, ValueError) as error:
            raise SessionError(f"session is not JSON: {error}") from None
        return cls.from_dict(data)


_FRAME_FIELDS = tuple(f.name for f in fields(Frame))
_SESSION_FIELDS = tuple(f.name for f in fields(Session))
_V1_FIELDS = frozenset(
    "state flow region location trigger_done concepts negated flags cleared screen screen_started "
    "menu back last_condition version".split()
)


def upgrade(data: dict[str, Any]) -> dict[str, Any]:
    """A session stored by an older version, in today's shape (so a deploy loses no chat).

    Version 1 had one flow and no stack: its warning-sign answers and clues carry over, and a
    triage that was under way starts its next question afresh from what it knew.
    """
    if data.get("version", SCHEMA_VERSION) != 1:
        return data
    if set(data) - _V1_FIELDS:
        raise SessionError(f"unknown session fields: {sorted(set(data) - _V1_FIELDS)}")
    stack = []
    if data.get("flow") == "triage":
        stack.append(
            {
                "flow": "triage",
                "region": data.get("region", ""),
                "location": data.get("location", ""),
                "trigger_done": data.get("trigger_done", False),
                "concepts": data.get("concepts", []),
                "negated": data.get("negated", []),
            }
        )
    elif data.get("flow") == "check":
        stack.append({"flow": "check"})
    return {
        "stack": stack,
        "flags": data.get("flags", []),
        "cleared": data.get("cleared", []),
        "menu": data.get("menu", 0),
        "last_condition": data.get("last_condition", ""),
    }


def _frame(data: Any) -> Frame:
    if not isinstance(data, dict):
        raise SessionError("a flow frame is not an object")
    unknown = set(data) - set(_FRAME_FIELDS)
    if unknown:
        raise SessionError(f"unknown frame fields: {sorted(unknown)}")
    try:
        frame = Frame(**_copied(data))
    except TypeError as error:
        raise SessionError(str(error)) from None
    for name in _FRAME_FIELDS:
        value, default = getattr(frame, name), getattr(Frame("x"), name)
        if isinstance(default, list):
            _text_list(value, f"frame.{name}")
        elif isinstance(default, dict):
            if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
                raise SessionError(f"frame field {name} must map text to text")
        elif not isinstance(value, type(default)):
            raise SessionError(f"frame field {name} must be {type(default).__name__}")
    return frame


def _snapshot(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict) or set(data) - {"stack", "cleared", "doubtful"}:
        raise SessionError("field back must be a list of snapshots")
    for item in _list(data.get("stack", []), "back.stack"):
        _frame(item)
    return _copied(data)


def _check_types(session: Session) -> None:
    for name in ("urgency", "age", "last_condition", "last_topic"):
        if not isinstance(getattr(session, name), str):
            raise SessionError(f"field {name} must be text")
    for name in ("flags", "cleared", "doubtful", "concerns", "clues"):
        _text_list(getattr(session, name), name)
    if not isinstance(session.menu, int) or isinstance(session.menu, bool) or session.menu < 0:
        raise SessionError("field menu must be a whole number")
    if session.version != SCHEMA_VERSION:
        raise SessionError(f"session version {session.version!r} is not {SCHEMA_VERSION}")


def _list(value: Any, name: str) -> list[Any]:
    if not isinstance(value, list):
        raise SessionError(f"field {name} must be a list")
    return value


def _text_list(value: Any, name: str) -> None:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise SessionError(f"field {name} must be a list of text")


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return dict(value)
    return list(value) if isinstance(value, list) else value


def _copied(data: dict[str, Any]) -> dict[str, Any]:
    """A copy of a mapping with its lists (and lists of mappings) copied too."""
    return {
        key: [_copied(v) if isinstance(v, dict) else v for v in value]
        if isinstance(value, list)
        else dict(value)
        if isinstance(value, dict)
        else value
        for key, value in data.items()
    }
