"""Inline keyboards: how a reply's buttons are laid out, as PTB objects or the Bot API's JSON, and
which question message in each chat still carries live buttons."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup


class LiveKeyboards(OrderedDict[int, tuple[int, str]]):
    """Each chat's newest question message (id, text), the most recently used chats only (capped:
    a chat that drops out just keeps its old buttons, which answer "moved on" if tapped)."""

    CAP = 10_000

    def __setitem__(self, chat_id: int, value: tuple[int, str]) -> None:
        super().__setitem__(chat_id, value)
        self.move_to_end(chat_id)
        if len(self) > self.CAP:
            self.popitem(last=False)


def layout(buttons: Sequence[tuple[str, str]]) -> list[list[tuple[str, str]]]:
    """Inline buttons laid out compactly: short labels three to a row, others two, long ones alone."""
    per_row = 3 if all(len(label) <= 10 for label, _ in buttons) else 2
    rows: list[list[tuple[str, str]]] = []
    for label, data in buttons:
        alone = len(label) > 24
        if not rows or alone or len(rows[-1]) >= per_row or (len(rows[-1]) == 1 and len(rows[-1][0][0]) > 24):
            rows.append([])
        rows[-1].append((label, data))
    return rows


def keyboard(buttons: Sequence[tuple[str, str]]) -> InlineKeyboardMarkup | None:
    """The inline keyboard of `layout`, as PTB objects (for photos and documents)."""
    if not buttons:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=data) for label, data in row] for row in layout(buttons)]
    )


def markup_of(buttons: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """The inline keyboard of `layout` as the Bot API's JSON (`reply_markup`), for `Runtime.post`."""
    if not buttons:
        return {}
    rows = [[{"text": label, "callback_data": data} for label, data in row] for row in layout(buttons)]
    return {"reply_markup": {"inline_keyboard": rows}}
