"""/forget, with a confirm step: [Delete everything] [Keep my data]. Only the confirm button, or
the runner typing that they want it deleted ("yes, delete"), deletes; anything else keeps it.
The buttons are a question's, so they expire: an old "Delete everything" deletes nothing.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import TYPE_CHECKING

from conversations.events import Forget, Reply
from conversations.flows.recovery_common import companion_of, companion_text
from conversations.recovery_records import EMPTY
from conversations.session import Frame, Session

if TYPE_CHECKING:
    from conversations.reading import MessageReading
    from conversations.render.base import RendererBase
    from conversations.turn import Turn

_DELETE = re.compile(r"\b(delete|erase|remove|wipe)\b", re.I)
_KEEP = re.compile(r"\b(no|don'?t|do not|not|keep|cancel|stop)\b", re.I)


class ForgetFlow:
    """The question before everything about the chat is deleted."""

    def options(self, render: RendererBase, frame: Frame) -> dict[str, str]:
        c = companion_of(render.knowledge)
        return {"delete": c.message("forget_option_delete"), "keep": c.message("forget_option_keep")}

    def prompt(self, render: RendererBase, frame: Frame, explain: bool) -> str:
        return companion_of(render.knowledge).message("forget_ask")

    def read_first(self, turn: Turn, frame: Frame, message: MessageReading) -> bool:
        text = message.text
        if _DELETE.search(text) and not _KEEP.search(text):
            self.on_choice(turn, frame, "delete")
        elif _KEEP.search(text):
            self.on_choice(turn, frame, "keep")
        else:
            return False
        return True

    def on_text(self, turn: Turn, frame: Frame, message: MessageReading) -> None:
        turn.replies.append(Reply(companion_text(turn, "forget_not_understood"), kind="not_understood"))
        ask(turn)

    def on_choice(self, turn: Turn, frame: Frame, value: str) -> None:
        if value == "delete":
            turn.effects.append(Forget())
            turn.records = EMPTY
            turn.session = Session(menu=turn.session.menu)
            turn.ask()  # the menu's buttons under the one line that says it is done
            turn.replies[-1] = replace(turn.replies[-1], text=turn.render.say("forgotten"))
            return
        turn.session.stack.pop()
        turn.replies.append(Reply(companion_text(turn, "forget_kept"), kind="info"))
        if turn.session.top is not None:
            turn.ask(reminder=True)

    def finish(self, turn: Turn, frame: Frame) -> None:
        turn.session.stack.pop()


def forget_command(turn: Turn) -> None:
    """/forget (or the Delete button of /privacy): ask before deleting anything."""
    stack = turn.session.stack
    if not (stack and stack[-1].flow == "forget"):
        stack.append(Frame("forget", step="delete"))
    ask(turn)


def ask(turn: Turn) -> None:
    """The confirm question — asked even after an emergency (deleting is always the runner's)."""
    turn.session.menu += 1
    turn.replies = [r for r in turn.replies if r.kind != "question"]
    turn.replies.append(turn.render.question(turn.session))
