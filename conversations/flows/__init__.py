"""Flows: the things a conversation can be in the middle of, one module each.

A flow reads the runner's message as an answer to its pending question, moves to its next
question through the transition table (machine.py), and finishes (a triage result, a check's
verdict). Flows are registered here by name; the session's stack holds their frames, so a flow
can be paused (a question, /prevent, /redflags, a second problem) and resumed where it was.
Safety is not a flow's business: the chain (chain/) has read every warning sign before a flow
sees the message.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from conversations.turn import Flow

if TYPE_CHECKING:
    from conversations.reading import MessageReading
    from conversations.render.base import RendererBase
    from conversations.session import Frame
    from conversations.turn import Turn


class AsksItself(Protocol):
    """A flow whose questions the renderer cannot know from the triage data (the companion's):
    it names its own buttons and prompt, and may read an answer in words before the chain's
    question and small-talk step (never before safety)."""

    def options(self, render: RendererBase, frame: Frame) -> dict[str, str]: ...

    def prompt(self, render: RendererBase, frame: Frame, explain: bool) -> str: ...

    def read_first(self, turn: Turn, frame: Frame, message: MessageReading) -> bool: ...


def _registry() -> dict[str, Flow]:
    from conversations.flows.aftermath import Aftermath
    from conversations.flows.check import Check
    from conversations.flows.forget import ForgetFlow
    from conversations.flows.log import Log
    from conversations.flows.mileage import Mileage
    from conversations.flows.plan import PlanFlow
    from conversations.flows.remind import Remind
    from conversations.flows.triage import Triage

    return {
        "triage": Triage(),
        "check": Check(),
        "aftermath": Aftermath(),
        "log": Log(),
        "plan": PlanFlow(),
        "remind": Remind(),
        "mileage": Mileage(),
        "forget": ForgetFlow(),
    }


FLOWS: dict[str, Flow] = _registry()

__all__ = ["FLOWS", "AsksItself", "Flow"]
