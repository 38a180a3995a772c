"""Charts and files as outbox rows: the engine's SendChart / SendFiles effects, kept durably.

A turn's chart and files are queued in the outbox in the same transaction as its replies (after
them), so a crash or `kill -9` before they are sent loses nothing: they go out on restart, like
any queued reply. A chart is kept as its data (the ChartSpec, a few hundred bytes) and drawn when
sent; a file is kept whole (base64), and like every outbox row it is deleted once Telegram has
it, or by /forget.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from dataclasses import asdict
from html import escape
from typing import Any

from bot.storage.sessions import Message
from conversations.events import ChartSpec, OutFile, SendChart, SendFiles

CHART, DOCUMENT = "chart", "document"
CAPTION_LIMIT = 1024  # Telegram's limit for a photo's or a document's caption


def messages_for(effects: Iterable[object]) -> list[Message]:
    """The outbox rows for a turn's charts and files, in the order the effects came."""
    rows: list[Message] = []
    for effect in effects:
        if isinstance(effect, SendChart):
            # the trend line goes out as the turn's text reply; the picture carries its title
            caption = escape(effect.spec.title, quote=False)[:CAPTION_LIMIT]
            rows.append(Message(caption, kind=CHART, attachment=json.dumps(asdict(effect.spec))))
        elif isinstance(effect, SendFiles):
            for file in effect.files:
                data = {"name": file.name, "media_type": file.media_type, "data": base64.b64encode(file.data).decode()}
                rows.append(Message("", kind=DOCUMENT, attachment=json.dumps(data)))
    return rows


def chart_of(attachment: str) -> ChartSpec:
    data: dict[str, Any] = json.loads(attachment)
    for key in ("pain", "runs", "weekly"):
        data[key] = tuple(tuple(point) for point in data.get(key, ()))
    return ChartSpec(**data)


def file_of(attachment: str) -> OutFile:
    data = json.loads(attachment)
    return OutFile(data["name"], data["media_type"], base64.b64decode(data["data"]))
