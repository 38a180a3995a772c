"""A small fake of the Telegram Bot API, for tests: in-process, and over real HTTP on 127.0.0.1.

`FakeBotApi` holds the logic: it queues updates for getUpdates, answers the methods runner-bot
uses, records every call, and can be told to fail a method (429, 403, 500 ...), to fail a share
of its calls at random (`fault_rate`, including connection resets), or to answer slowly (`delay`). `OfflineRequest`
plugs it into python-telegram-bot as a request object (no network at all); `FakeBotApiServer`
serves it over HTTP so a real bot process can be pointed at it with TELEGRAM_BASE_URL.
"""

from __future__ import annotations

import contextlib
import email.parser
import email.policy
import itertools
import json
import random
import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

from telegram.error import NetworkError
from telegram.request import BaseRequest, RequestData

BOT_USER = {"id": 424242, "is_bot": True, "first_name": "runner-bot", "username": "runner_test_bot",
            "can_join_groups": False, "can_read_all_group_messages": False, "supports_inline_queries": False}  # fmt: skip
LONG_POLL_SECONDS = 0.5


RESET = 0  # a "status" that makes the HTTP server drop the connection after doing the work
RANDOM_FAULTS = [
    (429, {"description": "Too Many Requests: retry after 1", "parameters": {"retry_after": 1}}),
    (500, {"description": "Internal Server Error"}),
    (502, {"description": "Bad Gateway"}),
    (RESET, {"description": "connection reset"}),
]


class FakeBotApi:
    """The Bot API's behaviour, as far as runner-bot uses it, plus a record of every call."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.failures: dict[str, list[tuple[int, dict[str, Any]]]] = {}
        self.answers: dict[str, list[dict[str, Any]]] = {}  # method -> whole bodies to answer with (200)
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1000)
        self._callback_ids = itertools.count(1)
        self._changed = threading.Condition()
        self.first_poll: float | None = None  # time.monotonic() of the first getUpdates
        self.tally: dict[str, int] = {}  # calls per method, and "keyboards": messages sent with buttons
        self.delay: dict[str, float] = {}  # method -> seconds before answering (chat_id -> seconds: "chat:<id>")
        self.fault_rate: dict[str, float] = {}  # method -> share of calls that fail at random
        # method -> time.monotonic() until which every call of it fails with a 502 (an outage);
        # such calls are recorded as "failed:<method>", so `texts` shows only what arrived
        self.outages: dict[str, float] = {}
        self.random = random.Random(12)
        self.faults_injected = 0
        # what each chat shows, as Telegram would: message_id -> the message (plain text and
        # entities parsed from the HTML, its keyboard); and the chat's calls in order (`record`)
        self.screens: dict[int, dict[int, dict[str, Any]]] = {}
        self.records: dict[int, list[dict[str, Any]]] = {}
        self.callback_chats: dict[str, int] = {}  # callback query id -> chat, for toasts
        self.html_errors: list[tuple[str, str]] = []  # (method, problem) for text Telegram would refuse
        self.strict_html = False  # refuse text that is not valid Telegram HTML (400), as Telegram does
        self.strict_edits = False  # refuse an edit that changes nothing (400 "not modified"), as Telegram does
        self.profile: dict[str, str] = {}  # the description and short description set by the bot

    # ----- what tests do -----------------------------------------------------------------
    def push(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queue an update (without update_id; one is given) for getUpdates."""
        with self._changed:
            update = {"update_id": next(self._update_ids), **update}
            if "callback_query" in update:
                query = update["callback_query"]
                self.callback_chats[query["id"]] = int(query["message"]["chat"]["id"])
            self._updates.append(update)
            self._changed.notify_all()
        return update

    def push_raw(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queue an update exactly as given (its own update_id: a re-send, or one PTB cannot read)."""
        with self._changed:
            self._updates.append(update)
            self._updates.sort(key=lambda u: u["update_id"])
            self._changed.notify_all()
        return update

    def fail_next(self, method: str, status: int, **payload: Any) -> None:
        """Make the next call of `method` fail with this HTTP status and error payload."""
        self.failures.setdefault(method, []).append((status, payload))

    def answer_next(self, method: str, body: dict[str, Any]) -> None:
        """Make the next call of `method` answer 200 with exactly this body (`{"ok": True}` without
        a result, say: an answer the bot cannot read)."""
        self.answers.setdefault(method, []).append(body)

    def unconfirmed(self) -> list[int]:
        """The ids of the updates getUpdates has not yet been told were received (offset not past them)."""
        with self._changed:
            return [u["update_id"] for u in self._updates]

    def sent(self, method: str = "sendMessage", chat_id: int | None = None) -> list[dict[str, Any]]:
        """The parameters of every recorded call of `method` (to `chat_id`, if given)."""
        with self._changed:
            return [
                p
                for m, p in self.calls
                if m == method and (chat_id is None or int(p.get("chat_id", 0)) == chat_id)
            ]

    def texts(self, chat_id: int) -> list[str]:
        """Every text sent to a chat, in order."""
        return [p["text"] for p in self.sent("sendMessage", chat_id)]

    def wait_for(self, check: Callable[[], bool], timeout: float = 20.0) -> None:
        """Wait until `check()` is true; fail the test after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not check():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(
                        f"timed out waiting; calls so far: {[m for m, _ in self.calls][-15:]}"
                    )
                self._changed.wait(min(remaining, 0.2))

    def wait_for_texts(self, chat_id: int, count: int, timeout: float = 20.0) -> list[str]:
        """Wait until a chat has been sent at least `count` messages; return them all."""
        self.wait_for(lambda: len(self.texts(chat_id)) >= count, timeout)
        return self.texts(chat_id)

    def button(self, chat_id: int, label: str) -> tuple[str, dict[str, Any]]:
        """The callback data of the newest button with this label sent to a chat, and its message."""
        for params in reversed(self.sent("sendMessage", chat_id)):
            markup = params.get("reply_markup") or {}
            for row in markup.get("inline_keyboard", []):
                for button in row:
                    if button["text"] == label:
                        return button["callback_data"], params
        raise AssertionError(f"no button {label!r} was sent to chat {chat_id}")

    # ----- the API -------------------------------------------------------------------------
    def call(self, token: str, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """Answer one Bot API call: (HTTP status, JSON body)."""
        if token != self.token:
            return HTTPStatus.UNAUTHORIZED, {"ok": False, "error_code": 401, "description": "Unauthorized"}
        if method == "getUpdates" and self.first_poll is None:
            self.first_poll = time.monotonic()
        if method != "getUpdates":
            with self._changed:
                self.calls.append((method, params))
                index = len(self.calls) - 1  # this call's record (other threads may append after it)
                self.tally[method] = self.tally.get(method, 0) + 1
                if method == "sendMessage" and params.get("reply_markup"):
                    self.tally["keyboards"] = self.tally.get("keyboards", 0) + 1
                self._changed.notify_all()
        if self.failures.get(method):
            status, payload = self.failures[method].pop(0)
            return status, {"ok": False, "error_code": status, **payload}
        if self.answers.get(method):
            return HTTPStatus.OK, self.answers[method].pop(0)
        if method != "getUpdates" and time.monotonic() < self.outages.get(method, 0.0):
            with self._changed:
                self.calls[index] = (f"failed:{method}", params)
                self.tally[method] -= 1
            return HTTPStatus.BAD_GATEWAY, {"ok": False, "error_code": 502, "description": "Bad Gateway"}
        pause = self.delay.get(method, 0.0) + self.delay.get(f"chat:{params.get('chat_id')}", 0.0)
        if pause:
            time.sleep(pause)
        if self.fault_rate.get(method) and self.random.random() < self.fault_rate[method]:
            self.faults_injected += 1
            status, payload = self.random.choice(RANDOM_FAULTS)
            if status != RESET and method != "getUpdates":  # a reset is done by the transport
                with self._changed:
                    self.calls[index] = (f"failed:{method}", params)
                    self.tally[method] -= 1
            return status, {"ok": False, "error_code": status, **payload}
        if self.strict_edits and self._not_modified(method, params):
            with self._changed:
                self.calls[-1] = (f"failed:{method}", params)
            return HTTPStatus.BAD_REQUEST, {"ok": False, "error_code": 400, "description":
                                            "Bad Request: message is not modified"}  # fmt: skip
        problem = self._html_problem(method, params)
        if problem:
            with self._changed:
                self.html_errors.append((method, problem))
            if self.strict_html:
                return HTTPStatus.BAD_REQUEST, {"ok": False, "error_code": 400,
                                                "description": f"Bad Request: can't parse entities: {problem}"}  # fmt: skip
        handler = getattr(self, f"_{method}", None)
        if handler is None:
            return HTTPStatus.NOT_FOUND, {
                "ok": False,
                "error_code": 404,
                "description": "Not Found: method not found",
            }
        return HTTPStatus.OK, {"ok": True, "result": handler(params)}

    def _getMe(self, params: dict[str, Any]) -> Any:
        return BOT_USER

    def _getUpdates(self, params: dict[str, Any]) -> Any:
        offset = int(params.get("offset") or 0)
        wait = min(float(params.get("timeout") or 0), LONG_POLL_SECONDS)
        deadline = time.monotonic() + wait
        with self._changed:
            while True:
                ready = [u for u in self._updates if u["update_id"] >= offset]
                remaining = deadline - time.monotonic()
                if ready or remaining <= 0:
                    self._updates = ready  # confirmed updates are gone, as on Telegram
                    return ready[: int(params.get("limit") or 100)]
                self._changed.wait(remaining)

    def _sendMessage(self, params: dict[str, Any]) -> Any:
        return self._shown("sendMessage", params, self._message(params, next(self._message_ids)))

    def _editMessageText(self, params: dict[str, Any]) -> Any:
        return self._shown("editMessageText", params, self._message(params, int(params["message_id"])))

    def _editMessageReplyMarkup(self, params: dict[str, Any]) -> Any:
        message = self._message({**params, "text": "(edited)"}, int(params["message_id"]))
        return self._shown("editMessageReplyMarkup", params, message)

    def _answerCallbackQuery(self, params: dict[str, Any]) -> Any:
        chat_id = self.callback_chats.get(str(params.get("callback_query_id")))
        if chat_id is not None:
            with self._changed:
                self.records.setdefault(chat_id, []).append(
                    {"method": "answerCallbackQuery", "toast": params.get("text") or ""}
                )
        return True

    def _setMyDescription(self, params: dict[str, Any]) -> Any:
        self.profile["description"] = params.get("description", "")
        return True

    def _setMyShortDescription(self, params: dict[str, Any]) -> Any:
        self.profile["short_description"] = params.get("short_description", "")
        return True

    def _getMyDescription(self, params: dict[str, Any]) -> Any:
        return {"description": self.profile.get("description", "")}

    def _getMyShortDescription(self, params: dict[str, Any]) -> Any:
        return {"short_description": self.profile.get("short_description", "")}

    def _sendPhoto(self, params: dict[str, Any]) -> Any:
        sent = self._message({**params, "text": None}, next(self._message_ids))
        size = len(params["photo"].data) if isinstance(params.get("photo"), Upload) else 0
        self._attached("sendPhoto", params, sent, "photo")
        return {**sent, "photo": [{"file_id": f"photo{size}", "file_unique_id": "pu", "width": 800, "height": 500}]}

    def _sendDocument(self, params: dict[str, Any]) -> Any:
        sent = self._message({**params, "text": None}, next(self._message_ids))
        upload = params.get("document")
        name = upload.filename if isinstance(upload, Upload) else "file"
        self._attached("sendDocument", params, sent, "document")
        return {**sent, "document": {"file_id": name, "file_unique_id": "du", "file_name": name}}

    def _attached(self, method: str, params: dict[str, Any], sent: dict[str, Any], field: str) -> None:
        """A photo or a document in the chat's record: its file name and caption."""
        upload = params.get(field)
        with self._changed:
            self.records.setdefault(int(params["chat_id"]), []).append({
                "method": method, "message_id": sent["message_id"], "html": params.get("caption") or "",
                "parse_mode": params.get("parse_mode"), "reply_markup": params.get("reply_markup") or None,
                "file": upload.filename if isinstance(upload, Upload) else "",
            })  # fmt: skip

    def _sendChatAction(self, params: dict[str, Any]) -> Any:
        with self._changed:
            self.records.setdefault(int(params["chat_id"]), []).append(
                {"method": "sendChatAction", "action": params.get("action", "")}
            )
        return True

    def uploads(self, method: str, field: str, chat_id: int) -> list[Upload]:
        """The files uploaded to a chat with `method` (sendPhoto: "photo", sendDocument: "document")."""
        return [p[field] for p in self.sent(method, chat_id) if isinstance(p.get(field), Upload)]

    _setMyCommands = _deleteWebhook = _setWebhook = _close = _answerCallbackQuery

    def _getMyCommands(self, params: dict[str, Any]) -> Any:
        commands = self.sent("setMyCommands")
        return commands[-1]["commands"] if commands else []

    def _message(self, params: dict[str, Any], message_id: int) -> dict[str, Any]:
        chat_id = int(params["chat_id"])
        message = {"message_id": message_id, "date": int(time.time()), "chat": {"id": chat_id, "type": "private"},
                   "from": BOT_USER, "text": params.get("text", "")}  # fmt: skip
        if message["text"] is None:  # a photo or a document
            del message["text"]
        if (params.get("reply_markup") or {}).get("inline_keyboard"):  # a ForceReply is not part of the message
            message["reply_markup"] = params["reply_markup"]
        return message

    def _shown(self, method: str, params: dict[str, Any], message: dict[str, Any]) -> dict[str, Any]:
        """Keep what the chat now shows for this message, and the call in the chat's record."""
        chat_id, message_id = int(params["chat_id"]), int(message["message_id"])
        with self._changed:
            screen = self.screens.setdefault(chat_id, {})
            old = screen.get(message_id, {})
            if method == "editMessageReplyMarkup":
                text, entities, html = old.get("text", ""), old.get("entities", []), old.get("html", "")
            else:
                html = params.get("text", "")
                try:
                    text, entities = parse_html(html) if params.get("parse_mode") == "HTML" else (html, [])
                except ValueError:
                    text, entities = html, []
            shown = {"message_id": message_id, "date": message["date"], "chat": message["chat"], "from": BOT_USER,
                     "text": text, "html": html}  # fmt: skip
            if entities:
                shown["entities"] = entities
            if (params.get("reply_markup") or {}).get("inline_keyboard"):
                shown["reply_markup"] = params["reply_markup"]
            screen[message_id] = shown
            self.records.setdefault(chat_id, []).append({
                "method": method, "message_id": message_id, "html": html,
                "parse_mode": params.get("parse_mode"), "reply_markup": params.get("reply_markup") or None,
            })  # fmt: skip
        return message

    def _not_modified(self, method: str, params: dict[str, Any]) -> bool:
        """An edit that would change nothing the chat shows: Telegram refuses it."""
        if method not in ("editMessageText", "editMessageReplyMarkup") or "message_id" not in params:
            return False
        with self._changed:
            shown = self.screens.get(int(params.get("chat_id", 0)), {}).get(int(params["message_id"]))
        if shown is None:
            return False
        same_markup = (params.get("reply_markup") or {}) == (shown.get("reply_markup") or {})
        return same_markup and (method == "editMessageReplyMarkup" or params.get("text") == shown["html"])

    def _html_problem(self, method: str, params: dict[str, Any]) -> str:
        if method not in ("sendMessage", "editMessageText") or params.get("parse_mode") != "HTML":
            return ""
        try:
            text, entities = parse_html(str(params.get("text", "")))
        except ValueError as error:
            return str(error)
        if not text.strip():
            return "message text is empty"
        if utf16_len(text) > 4096:
            return "message is too long"
        if len(entities) > 100:
            return "too many entities"
        return ""

    # ----- what tests read -------------------------------------------------------------------
    def record(self, chat_id: int) -> list[dict[str, Any]]:
        """The chat's calls in order: sendMessage / editMessageText / editMessageReplyMarkup
        (message_id, html, parse_mode, reply_markup) and answerCallbackQuery (toast)."""
        with self._changed:
            return list(self.records.get(chat_id, []))

    def screen(self, chat_id: int) -> list[dict[str, Any]]:
        """The bot's messages in a chat as the runner now sees them, oldest first."""
        with self._changed:
            return [self.screens[chat_id][k] for k in sorted(self.screens.get(chat_id, {}))]

    def live_buttons(self, chat_id: int) -> list[dict[str, Any]]:
        """The bot's messages in a chat that still show buttons."""
        return [m for m in self.screen(chat_id) if m.get("reply_markup", {}).get("inline_keyboard")]

    def button_on_screen(self, chat_id: int, label: str) -> tuple[str, dict[str, Any]]:
        """The callback data of the newest button with this label the chat shows, and its message."""
        for shown in reversed(self.screen(chat_id)):
            for row in shown.get("reply_markup", {}).get("inline_keyboard", []):
                for button in row:
                    if button["text"] == label:
                        return button["callback_data"], shown
        raise AssertionError(f"chat {chat_id} shows no button {label!r}")


# ----- Telegram's HTML: what it accepts, and the plain text and entities it makes ----------------
HTML_TAGS = {"b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline", "ins": "underline",
             "s": "strikethrough", "strike": "strikethrough", "del": "strikethrough", "tg-spoiler": "spoiler",
             "span": "spoiler", "a": "text_link", "code": "code", "pre": "pre", "blockquote": "blockquote",
             "tg-emoji": "custom_emoji"}  # fmt: skip
HTML_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_HTML_TOKEN = re.compile(r"<(/?)([a-zA-Z-]*)((?:\s+[a-zA-Z-]+(?:=\"[^\"<>]*\")?)*)\s*>|&(#x[0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);|[<>&]")


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def parse_html(html: str) -> tuple[str, list[dict[str, Any]]]:
    """Telegram HTML as plain text and entities (offsets in UTF-16 units); ValueError as Telegram refuses.

    Stricter than Telegram in one way: a bare ">" or "&" is refused too (everything should be escaped).
    """
    out: list[str] = []
    length = 0
    stack: list[tuple[str, int, str]] = []
    entities: list[dict[str, Any]] = []
    position = 0
    for token in _HTML_TOKEN.finditer(html):
        chunk = html[position : token.start()]
        out.append(chunk)
        length += utf16_len(chunk)
        position = token.end()
        closing, tag, attributes, entity = token.group(1), token.group(2), token.group(3) or "", token.group(4)
        if token.group(0) in "<>&":
            raise ValueError(f"unescaped {token.group(0)!r} at byte offset {token.start()}")
        if entity is not None:
            if entity.startswith("#"):
                char = chr(int(entity[2:], 16) if entity[1:2] in "xX" else int(entity[1:]))
            elif entity in HTML_ENTITIES:
                char = HTML_ENTITIES[entity]
            else:
                raise ValueError(f"unsupported HTML entity &{entity};")
            out.append(char)
            length += utf16_len(char)
            continue
        tag = tag.lower()
        if tag not in HTML_TAGS:
            raise ValueError(f"unsupported {'end' if closing else 'start'} tag {tag!r}")
        if closing:
            if not stack or stack[-1][0] != tag:
                raise ValueError(f"unmatched end tag {tag!r}")
            _, start, kind = stack.pop()
            if length > start:
                entities.append({"type": kind, "offset": start, "length": length - start})
            continue
        kind = HTML_TAGS[tag]
        if tag == "blockquote":
            if any(open_tag == "blockquote" for open_tag, _, _ in stack):
                raise ValueError("a blockquote inside a blockquote")
            if "expandable" in attributes.split():
                kind = "expandable_blockquote"
        stack.append((tag, length, kind))
    out.append(html[position:])
    if stack:
        raise ValueError(f"unclosed start tag {stack[-1][0]!r}")
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


# ----- updates, as Telegram would send them ----------------------------------------------------
def _user(chat_id: int) -> dict[str, Any]:
    return {"id": chat_id, "is_bot": False, "first_name": "Runner"}


def _chat(chat_id: int, kind: str = "private") -> dict[str, Any]:
    return {
        "id": chat_id,
        "type": kind,
        **({"first_name": "Runner"} if kind == "private" else {"title": "Club"}),
    }


_message_numbers = itertools.count(1)


def message(
    chat_id: int, text: str | None = None, chat_type: str = "private", **extra: Any
) -> dict[str, Any]:
    """A `message` update: text (with a command entity if it starts with /) or any other content."""
    body: dict[str, Any] = {"message_id": next(_message_numbers), "date": int(time.time()),
                            "chat": _chat(chat_id, chat_type), "from": _user(chat_id), **extra}  # fmt: skip
    if text is not None:
        body["text"] = text
        if text.startswith("/"):
            body["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    return {"message": body}


def edited(chat_id: int, text: str) -> dict[str, Any]:
    """An `edited_message` update."""
    body = message(chat_id, text)["message"]
    return {"edited_message": {**body, "edit_date": int(time.time())}}


def callback(
    chat_id: int, data: str, shown: dict[str, Any] | None = None, message_id: int = 1
) -> dict[str, Any]:
    """A `callback_query` update for a button press on a message the bot sent (`shown`: its params)."""
    shown = shown or {"text": "…"}
    bot_message = {"message_id": int(shown.get("message_id", message_id)), "date": int(time.time()),
                   "chat": _chat(chat_id), "from": BOT_USER, "text": shown.get("text", "…")}  # fmt: skip
    if shown.get("reply_markup"):
        bot_message["reply_markup"] = shown["reply_markup"]
    return {"callback_query": {"id": f"cq{next(_message_numbers)}", "from": _user(chat_id), "chat_instance": "ci",
                               "data": data, "message": bot_message}}  # fmt: skip


def callback_on(chat_id: int, data: str, shown: dict[str, Any]) -> dict[str, Any]:
    """A `callback_query` update for a press on a message as the chat shows it (`FakeBotApi.screen`)."""
    bot_message = {k: v for k, v in shown.items() if k != "html"}
    return {"callback_query": {"id": f"cq{next(_message_numbers)}", "from": _user(chat_id), "chat_instance": "ci",
                               "data": data, "message": bot_message}}  # fmt: skip


def probe(chat_id: int) -> dict[str, Any]:
    """An update of the chat that no handler takes (a reaction): marked handled only after every
    earlier update of the chat has been handled, replies and all, since a chat's updates run in order."""
    return {"message_reaction": {"chat": _chat(chat_id), "message_id": 1, "date": int(time.time()),
                                 "user": _user(chat_id), "old_reaction": [], "new_reaction": []}}  # fmt: skip


PHOTO = {"photo": [{"file_id": "p", "file_unique_id": "pu", "width": 90, "height": 90}]}
STICKER = {"sticker": {"file_id": "s", "file_unique_id": "su", "width": 512, "height": 512, "is_animated": False,
                       "is_video": False, "type": "regular"}}  # fmt: skip
VOICE = {"voice": {"file_id": "v", "file_unique_id": "vu", "duration": 3}}
LOCATION = {"location": {"latitude": 51.5, "longitude": -0.12}}
DOCUMENT = {"document": {"file_id": "d", "file_unique_id": "du", "file_name": "scan.pdf"}}


# ----- transports -------------------------------------------------------------------------------
def parse_params(content_type: str, body: bytes) -> dict[str, Any]:
    """Bot API parameters from a request body (form-encoded or JSON); JSON-looking values decoded."""
    if not body:
        return {}
    if "application/json" in content_type:
        return json.loads(body)
    if "multipart/form-data" in content_type:
        return parse_multipart(content_type, body)
    params: dict[str, Any] = {}
    for key, value in parse_qsl(body.decode("utf-8"), keep_blank_values=True):
        try:
            params[key] = json.loads(value) if value[:1] in "[{" else value
        except ValueError:
            params[key] = value
    return params


def parse_multipart(content_type: str, body: bytes) -> dict[str, Any]:
    """A multipart body (sendPhoto, sendDocument): fields as in a form, files as Upload."""
    parsed = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body
    )
    params: dict[str, Any] = {}
    for part in parsed.iter_parts():
        name = part.get_param("name", header="content-disposition")
        data = part.get_payload(decode=True) or b""
        filename = part.get_filename()
        if filename is not None:
            params[str(name)] = Upload(filename, part.get_content_type(), data)
        else:
            value = data.decode("utf-8")
            try:
                params[str(name)] = json.loads(value) if value[:1] in "[{" else value
            except ValueError:
                params[str(name)] = value
    return params


@dataclass(frozen=True)
class Upload:
    """A file the bot uploaded (a chart, an export), as the fake API received it."""

    filename: str
    media_type: str
    data: bytes


class OfflineRequest(BaseRequest):
    """A python-telegram-bot request object that talks to a FakeBotApi in-process: no network."""

    def __init__(self, api: FakeBotApi) -> None:
        self.api = api

    @property
    def read_timeout(self) -> float | None:
        return 1.0

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def do_request(self, url: str, method: str, request_data: RequestData | None = None,
                         read_timeout: Any = None, write_timeout: Any = None, connect_timeout: Any = None,
                         pool_timeout: Any = None) -> tuple[int, bytes]:  # fmt: skip
        token, _, api_method = url.rpartition("/bot")[2].partition("/")
        params = json.loads(json.dumps(request_data.parameters)) if request_data else {}
        if request_data is not None and request_data.contains_files:  # sendPhoto, sendDocument
            for name, (filename, content, media_type) in request_data.multipart_data.items():
                data = content if isinstance(content, bytes) else content.read()
                params[name] = Upload(filename or name, media_type or "", data)
        status, payload = self.api.call(token, api_method, params)
        if status == RESET:
            raise NetworkError("connection reset (injected)")
        return status, json.dumps(payload).encode()


class FakeBotApiServer:
    """Serves a FakeBotApi over HTTP on 127.0.0.1 (a free port); use as a context manager."""

    def __init__(self, api: FakeBotApi) -> None:
        self.api = api
        fake = api

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep connections open, as Telegram's servers do

            def setup(self) -> None:
                super().setup()
                # headers and body go out as separate writes; without this, Nagle's algorithm and
                # delayed ACKs add 40 ms to every kept-alive response
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                params = parse_params(self.headers.get("Content-Type", ""), self.rfile.read(length))
                token, _, method = self.path.partition("/bot")[2].partition("/")
                status, payload = fake.call(token, method.split("?")[0], params)
                if status == RESET:  # the call went through, but the answer never arrives
                    self.close_connection = True
                    with contextlib.suppress(OSError):
                        self.connection.shutdown(socket.SHUT_RDWR)
                    return
                body = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the bot went away mid-poll (the tests kill it on purpose)

            do_GET = do_POST

            def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
                return None

        class Server(ThreadingHTTPServer):
            request_queue_size = 1024  # a bot opens many connections at once (socketserver's default is 5)

            def handle_error(self, request: Any, client_address: Any) -> None:
                return None  # a bot killed mid-request (the fault suite does it on purpose)

        self.server = Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        """The TELEGRAM_BASE_URL for a bot that should talk to this server."""
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/bot"

    def __enter__(self) -> FakeBotApiServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
