"""Screenshots in text: the main Telegram flows as a runner sees them, from the fake Bot API's record.

    python -m docs.render_transcripts          # rewrite docs/transcripts/*.md
    python -m docs.render_transcripts --check  # exit 1 if a committed transcript is out of date

The real bot process (`python -m bot telegram`) runs against the fake Bot API of the tests
(tests/fake_bot_api.py), each flow in a chat of its own; every call it makes is recorded and
rendered: HTML as text with **bold** and _italic_, expandable quotes as "▸" lines, buttons as
`[ Label ]` rows laid out as the keyboard is, edits as "(edited)", toasts as "(toast: …)".
`tests/test_telegram_native.py` checks the same run against issue 11 and that the committed
files are what this script writes, so they stay true.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.fake_bot_api import PHOTO, FakeBotApi, FakeBotApiServer, message, parse_html
from tests.telegram_harness import TOKEN, BotProcess, Chat, bot_env, wait_started

OUT = Path(__file__).resolve().parent / "transcripts"


@dataclass(frozen=True)
class Step:
    """One thing the runner does, and how many new messages the bot should send for it."""

    do: str  # "say", "say_de" (the app set to German), "tap", "photo" (with a caption), "keep" (remember
    # the newest keyboard), "tap_kept"
    arg: str = ""
    messages: int = 1
    kept: str = ""  # for "keep" / "tap_kept": the name of the remembered keyboard


@dataclass(frozen=True)
class Flow:
    name: str
    title: str
    about: str
    steps: tuple[Step, ...]
    clock: str = ""  # a flow that needs time to pass: its own bot, on a fast clock reading this at start


SPEED = 720.0  # a clocked flow's bot seconds a real second: an hour in five seconds


def wait(what: str, messages: int = 1) -> Step:
    """Let the bot's clock run until the chat gets a message of the bot's own (a reminder)."""
    return Step("wait", what, messages)


def say(text: str, messages: int = 1) -> Step:
    return Step("say", text, messages)


def say_de(text: str, messages: int = 1) -> Step:
    return Step("say_de", text, messages)


def tap(label: str, messages: int = 1) -> Step:
    return Step("tap", label, messages)


def keep(name: str) -> Step:
    return Step("keep", kept=name, messages=0)


def tap_kept(name: str, label: str, messages: int = 0) -> Step:
    return Step("tap_kept", label, messages, kept=name)


FLOWS = (
    Flow("triage_buttons", "Triage by buttons", "From `/start` to a result card, every answer a tap; then its sections, read as tabs of the one card, and a question, with a hint in the input field.", (
        say("/start"), tap("Hip pain"), tap("Side of the hip (aching)"), tap("Lying on that side"), tap("No"),
        tap("None of these"), tap("20–49"), tap("Under a week"), tap("💪 Exercises", 0), tap("📈 How to progress", 0),
        tap("🩺 When to see someone", 0), tap("❓ Ask a question"),
    )),
    Flow("triage_text", "Triage in words", "Every answer typed; each answered keyboard closes.", (
        say("sharp pain at the front of my hip when I lift my knee"), say("no"), say("none of these"),
        say("4 days"),
    )),
    Flow("question_mid_triage", "A question in the middle of a triage", "The answer, then the triage carries on where it was.", (
        say("my lower back hurts"), say("what is sciatica?", 2), tap("Middle of the lower back"),
    )),
    Flow("prevent", "The prevention routine", "`/prevent`: strength first, the other parts as tabs of the same card.", (
        say("/prevent"), tap("Running form", 0), tap("Strength and stability", 0), tap("☰ Menu"),
    )),
    Flow("redflags", "The warning-sign check", "`/redflags`: the checklist's boxes tick in place.", (
        say("/redflags"), tap("No"), tap("☐ Limping", 0), tap("☐ Wakes me at night", 0), tap("☑ Limping", 0),
        tap("Done ✓"), tap("Under a week"),
    )),
    Flow("emergency", "An emergency in the middle of a triage", "The emergency bubble comes last, its action first and in bold.", (
        say("my lower back hurts"), say("and I can't feel anything when I wipe"), tap("What should I do now?"),
    )),
    Flow("stale_tap", "Old buttons", "A tap on an old keyboard gets a toast, not a message — except a late \"yes\" to the safety question, taken as a report.", (
        say("/start back"), keep("where"), tap("Middle of the lower back"), keep("safety"), tap_kept("where", "Somewhere else"),
        tap("No"), tap_kept("safety", "Yes", 1),
    )),
    Flow("forget", "Forgetting a chat", "`/forget` asks first; once confirmed it deletes what is kept, and the triage does not carry on.", (
        say("my hip hurts"), say("/forget"), tap("Delete everything"), say("front"),
    )),
    Flow("companion", "Logging, mileage, the chart and the export", "A log question keeps its buttons; a question that waits for words opens the keyboard with a hint; a status shows while the chart and the files are made.", (
        say("/log"), tap("3"), tap("Save without run"), say("/mileage"), say("20 22 25 24"), say("/progress"), say("/export"),
    )),
    Flow("german", "A runner whose app is in German", "The bot answers in English for now, and says so in German.", (
        say_de("Meine Hüfte tut weh, vor allem beim Laufen"),
    )),
    Flow("reminders", "A daily reminder, snoozed", "The reminder brings the day's card and its buttons (two messages when the card and its question would not fit one phone screen); Snooze 1 h sends it again an hour later, once; Off stops it.", (
        say("/plan gluteal_tendinopathy", 2), say("/remind 07:30"), tap("UTC"), wait("07:30, Monday", 2), tap("Snooze 1 h"),
        wait("an hour later", 2), tap("Off"),
    ), clock="2025-03-03T06:00:00+00:00"),
    Flow("links_privacy_captions", "Deep links, /privacy and captions", "`/start hip` opens the hip triage; a photo's caption is read as text.", (
        say("/start hip"), Step("photo", "side of my hip, worse lying on it"), say("/privacy", 2), say("/start prevent", 2),
    )),
)  # fmt: skip


def run_flows(api: FakeBotApi, bot: BotProcess, first_chat: int = 7000) -> dict[str, Chat]:
    """Drive every flow on the real clock, each in its own chat; the chats, by flow name."""
    return {flow.name: run_flow(api, bot, flow, first_chat + number)
            for number, flow in enumerate(FLOWS) if not flow.clock}  # fmt: skip


def run_clocked_flows(api: FakeBotApi, server: FakeBotApiServer, folder: Path, first_chat: int = 7100) -> dict[str, Chat]:
    """Drive the flows that need time to pass, each on a bot of its own whose fast clock reads the
    flow's start time (bot/clock.py); run before the real-clock bot starts, as bots sharing the
    fake API would take each other's updates."""
    chats = {}
    for number, flow in enumerate(f for f in FLOWS if f.clock):
        start = dt.datetime.fromisoformat(flow.clock).timestamp()
        real = time.time()
        clock = f"{(start - real * SPEED) / (1 - SPEED)}:{SPEED}"
        started = api.tally.get("deleteWebhook", 0)
        env = bot_env(server, folder / f"{flow.name}.sqlite3", RUNNER_BOT_TEST_CLOCK=clock)
        bot = BotProcess(env, folder / f"{flow.name}.log")
        try:
            api.wait_for(lambda s=started: api.tally.get("deleteWebhook", 0) > s, timeout=30)
            chats[flow.name] = run_flow(api, bot, flow, first_chat + number)
        finally:
            bot.stop()
    return chats


def in_order(chats: dict[str, Chat]) -> dict[str, Chat]:
    """The chats in the order of FLOWS."""
    return {flow.name: chats[flow.name] for flow in FLOWS if flow.name in chats}


def run_flow(api: FakeBotApi, bot: BotProcess, flow: Flow, chat_id: int) -> Chat:
    """One flow in a chat of its own."""
    chat = Chat(api, bot, chat_id)
    kept: dict[str, dict[str, Any]] = {}
    for step in flow.steps:
        if step.do == "say":
            chat.say(step.arg)
        elif step.do == "say_de":
            german = {"id": chat.chat_id, "is_bot": False, "first_name": "Läuferin", "language_code": "de"}
            chat.send(message(chat.chat_id, step.arg, **{"from": german}), step.arg)
        elif step.do == "tap":
            chat.tap(step.arg)
        elif step.do == "photo":
            chat.send(message(chat.chat_id, None, caption=step.arg, **PHOTO), f"(a photo) {step.arg}")
        elif step.do == "keep":
            kept[step.kept] = api.live_buttons(chat.chat_id)[-1]
            chat.turns.append(("keep", []))
        elif step.do == "tap_kept":
            chat.tap_on(kept[step.kept], step.arg)
        elif step.do == "wait":
            seen = len(api.record(chat.chat_id))
            api.wait_for(lambda s=seen: any(c["method"] == "sendMessage" for c in api.record(chat.chat_id)[s:]), 30)
            time.sleep(0.3)  # what else the same moment brings (a keyboard closed)
            chat.turns.append((f"⏰ {step.arg}", api.record(chat.chat_id)[seen:]))
    return chat


# ----- rendering ------------------------------------------------------------------------------
def as_text(html: str) -> str:
    """Telegram HTML as a runner sees it: **bold**, _italic_, expandable quotes as "▸" lines."""
    text, entities = parse_html(html)
    units = text.encode("utf-16-le")
    marks: dict[int, list[str]] = {}
    ends: dict[int, list[str]] = {}
    for entity in entities:
        mark = {"bold": "**", "italic": "_"}.get(entity["type"])
        start, end = entity["offset"], entity["offset"] + entity["length"]
        if mark:
            marks.setdefault(start, []).append(mark)
            ends.setdefault(end, []).insert(0, mark)
        elif entity["type"] in ("blockquote", "expandable_blockquote"):
            marks.setdefault(start, []).append("\x00")
            ends.setdefault(end, []).insert(0, "\x01")
    out, position = [], 0
    for cut in sorted({0, len(units) // 2, *marks, *ends}):
        out.append(units[position * 2 : cut * 2].decode("utf-16-le"))
        out += ends.get(cut, []) + marks.get(cut, [])
        position = cut
    rendered = "".join(out)
    lines, quoted = [], False
    for line in rendered.split("\n"):
        if "\x00" in line:
            quoted = True
        prefix = "▸ " if quoted else ""
        if "\x01" in line:
            quoted = False
        lines.append(prefix + line.replace("\x00", "").replace("\x01", ""))
    return "\n".join(lines)


def keyboard_lines(markup: dict[str, Any] | None) -> list[str]:
    if (markup or {}).get("force_reply"):  # the keyboard opens, a hint in the input field
        return [f"⌨ reply field: “{markup.get('input_field_placeholder', '')}”"]  # type: ignore[union-attr]
    return ["  ".join(f"[ {b['text']} ]" for b in row) for row in (markup or {}).get("inline_keyboard", [])]


def bubble(text: str, markup: dict[str, Any] | None, label: str) -> list[str]:
    body = as_text(text).split("\n") + ([""] if markup else []) + keyboard_lines(markup)
    return [f"{label}{body[0]}"] + [" " * len(label) + line if line else "" for line in body[1:]]


def render(flow: Flow, chat: Chat) -> str:
    """One flow as markdown: each turn a block, as the runner sees it."""
    shown: dict[int, str] = {}  # message id -> its first line, to name what an edit changed
    lines = [f"# {flow.title}", "", flow.about, "",
             "Generated by `python -m docs.render_transcripts` from the fake Bot API's record of the real",
             "bot process; do not edit by hand.", ""]  # fmt: skip
    for did, calls in chat.turns:
        if did == "keep":
            continue
        block = [did if did.startswith("⏰") else f"you › {did}"]  # time passing, or the runner
        for call in calls:
            method = call["method"]
            if method == "answerCallbackQuery":
                if call["toast"]:
                    block += ["", f"      (toast: {call['toast']})"]
                continue
            if method == "sendChatAction":
                block += ["", f"bot › (status: {call['action'].replace('_', ' ')}…)"]
                continue
            if method in ("sendPhoto", "sendDocument"):
                kind = "photo" if method == "sendPhoto" else "file"
                block += ["", *bubble(call["html"] or "", call["reply_markup"], f"bot › [{kind}: {call['file']}] ")]
                continue
            first = as_text(call["html"]).split("\n")[0] if call["html"] else ""
            if method == "sendMessage":
                shown[call["message_id"]] = first
                block += ["", *bubble(call["html"], call["reply_markup"], "bot › ")]
            elif method == "editMessageText":
                block += ["", *bubble(call["html"], call["reply_markup"], "bot › (edited) ")]
            else:
                block += ["", f"bot › (edited: the buttons under “{shorten(shown.get(call['message_id'], first))}” are gone)"]
        lines += ["```text", *block, "```", ""]
    return "\n".join(lines)


def shorten(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def figures(chats: dict[str, Chat]) -> list[tuple[str, int, int, int]]:
    """Per flow: turns, new messages, the longest message's characters (as shown)."""
    rows = []
    for name, chat in chats.items():
        sent = [c for _, calls in chat.turns for c in calls if c["method"] == "sendMessage"]
        longest = max((len(parse_html(c["html"])[0]) for c in sent), default=0)
        rows.append((name, sum(1 for did, _ in chat.turns if did != "keep"), len(sent), longest))
    return rows


def index(chats: dict[str, Chat]) -> str:
    lines = ["# Telegram, as a runner sees it", "",
             "Each flow below is the real bot process talking to the tests' fake Bot API, rendered from",
             "the record of every call (`python -m docs.render_transcripts`; a test keeps them current).", "",
             "| flow | turns | messages | longest (characters) |", "| --- | ---: | ---: | ---: |"]  # fmt: skip
    titles = {flow.name: flow.title for flow in FLOWS}
    for name, turns, sent, longest in figures(chats):
        lines.append(f"| [{titles[name]}]({name}.md) | {turns} | {sent} | {longest} |")
    return "\n".join(lines) + "\n"


def generate() -> dict[str, str]:
    """Run every flow through a fresh bot process; the transcript files' contents, by file name."""
    api = FakeBotApi(TOKEN)
    api.strict_html = api.strict_edits = True
    with tempfile.TemporaryDirectory() as folder, FakeBotApiServer(api) as server:
        clocked = run_clocked_flows(api, server, Path(folder))
        bot = BotProcess(bot_env(server, Path(folder) / "bot.sqlite3"), Path(folder) / "bot.log")
        try:
            wait_started(api, bot)
            chats = in_order({**run_flows(api, bot), **clocked})
        finally:
            bot.stop()
    return files(chats)


def files(chats: dict[str, Chat]) -> dict[str, str]:
    flows = {flow.name: flow for flow in FLOWS}
    out = {f"{name}.md": render(flows[name], chat) for name, chat in chats.items()}
    out["README.md"] = index(chats)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="only check that the committed files are current")
    args = parser.parse_args(argv)
    fresh = generate()
    if args.check:
        stale = [name for name, text in fresh.items() if not (OUT / name).exists() or (OUT / name).read_text(encoding="utf-8") != text]
        for name in stale:
            print(f"docs/transcripts/{name} is out of date; run python -m docs.render_transcripts", file=sys.stderr)
        return 1 if stale else 0
    OUT.mkdir(exist_ok=True)
    for name, text in fresh.items():
        (OUT / name).write_text(text, encoding="utf-8")
    print(f"wrote {len(fresh)} files to {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
