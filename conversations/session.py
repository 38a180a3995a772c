"""A chat's conversation state: small, plain, and round-tripped through JSON.

It holds ids only (states, concepts, red flags, option ids) — never what the runner wrote — so
storing it is both trivial and safe, and a restart continues exactly where a chat stood.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields, replace
from enum import StrEnum
from typing import Any

SCHEMA_VERSION = 1
MAX_BACK_STEPS = 10


class State(StrEnum):
    """Where a conversation is."""

    IDLE = "idle"  # the main menu: nothing in progress
    LOCATION = "location"  # asking where it hurts
    TRIGGER = "trigger"  # asking what sets it off
    SCREEN = "screen"  # asking the red-flag questions (triage screen or the /redflags check)


class Flow(StrEnum):
    """What the runner is doing."""

    NONE = ""
    TRIAGE = "triage"  # finding out what the problem is
    CHECK = "check"  # the /redflags warning-sign check


class SessionError(ValueError):
    """Stored session data that cannot be read back."""


@dataclass(slots=True)
class Session:
    """Everything the engine needs to carry on a chat's conversation."""

    state: State = State.IDLE
    flow: Flow = Flow.NONE
    region: str = ""  # "hip" or "lower_back" once known
    location: str = ""  # the location option chosen, or "elsewhere"
    trigger_done: bool = False  # the trigger question was answered
    concepts: list[str] = field(default_factory=list)  # clues the runner affirmed
    negated: list[str] = field(default_factory=list)  # clues the runner denied ("no numbness")
    flags: list[str] = field(default_factory=list)  # red flags raised
    cleared: list[str] = field(default_factory=list)  # red flags the runner said no to
    screen: list[str] = field(default_factory=list)  # red-flag screen steps still to ask
    screen_started: bool = False
    menu: int = 0  # id of the newest button menu; older buttons have expired
    back: list[dict[str, Any]] = field(default_factory=list)  # earlier questions, for /back
    last_condition: str = ""
    version: int = SCHEMA_VERSION

    def copy(self) -> Session:
        """A deep enough copy: the engine never changes a session it was given."""
        return replace(
            self,
            concepts=list(self.concepts),
            negated=list(self.negated),
            flags=list(self.flags),
            cleared=list(self.cleared),
            screen=list(self.screen),
            back=[_copy_step(step) for step in self.back],
        )

    def snapshot(self) -> dict[str, Any]:
        """This session without its /back history, as plain data."""
        data = self.to_dict()
        data.pop("back")
        return data

    def to_dict(self) -> dict[str, Any]:
        """Plain data, ready for JSON (fresh lists, so the copy and the session never share one)."""
        # Written out rather than dataclasses.asdict, whose deep copy was most of a turn's cost.
        data: dict[str, Any] = {name: getattr(self, name) for name in _FIELD_NAMES}
        data["state"], data["flow"] = self.state.value, self.flow.value
        for name in _LIST_FIELDS:
            data[name] = list(data[name])
        data["back"] = [_copy_step(step) for step in self.back]
        return data

    def to_json(self) -> str:
        """The session as compact JSON."""
        return json.dumps(self.to_dict(), separators=(",", ":"))

    @classmethod
    def from_dict(cls, data: Any) -> Session:
        """Rebuild a session from `to_dict` output; anything malformed raises SessionError."""
        if not isinstance(data, dict):
            raise SessionError("session data is not an object")
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise SessionError(f"unknown session fields: {sorted(unknown)}")
        try:
            values = _copy_step(data)
            values["back"] = [
                _copy_step(step) if isinstance(step, dict) else step for step in values.get("back", [])
            ]
            values["state"] = State(values.get("state", State.IDLE))
            values["flow"] = Flow(values.get("flow", Flow.NONE))
            session = cls(**values)
        except (TypeError, ValueError) as error:
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


_LIST_FIELDS = ("concepts", "negated", "flags", "cleared", "screen")
_FIELD_NAMES = tuple(f.name for f in fields(Session))


def _copy_step(step: dict[str, Any]) -> dict[str, Any]:
    """A copy of a snapshot with its lists copied too (snapshots hold no deeper nesting)."""
    return {key: list(value) if isinstance(value, list) else value for key, value in step.items()}


def _check_types(session: Session) -> None:
    for name in ("region", "location", "last_condition"):
        if not isinstance(getattr(session, name), str):
            raise SessionError(f"field {name} must be text")
    for name in ("trigger_done", "screen_started"):
        if not isinstance(getattr(session, name), bool):
            raise SessionError(f"field {name} must be true or false")
    if not isinstance(session.menu, int) or isinstance(session.menu, bool) or session.menu < 0:
        raise SessionError("field menu must be a whole number")
    for name in _LIST_FIELDS:
        value = getattr(session, name)
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise SessionError(f"field {name} must be a list of text")
    if not isinstance(session.back, list) or not all(isinstance(step, dict) for step in session.back):
        raise SessionError("field back must be a list of objects")
    if session.version != SCHEMA_VERSION:
        raise SessionError(f"session version {session.version!r} is not {SCHEMA_VERSION}")
