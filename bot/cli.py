"""The `runner-bot` command: run the bot (Telegram or console), or try the matcher.

runner-bot                 Telegram if TELEGRAM_BOT_TOKEN is set, else a console chat
runner-bot chat            console chat (--jsonl: a machine-readable trace)
runner-bot telegram        the Telegram bot
runner-bot match "TEXT"    what the matcher makes of one message (--json for JSON)
runner-bot match --jsonl   one message a line on stdin, one JSON object a line out
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, NoReturn, TextIO

if TYPE_CHECKING:
    from knowledge import Matcher, MatchResult

USAGE_EXIT = 2


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one line on stderr and exit 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(USAGE_EXIT, f"{self.prog}: {message} (try '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every sub-command."""
    parser = OneLineParser(prog="runner-bot", description="A chatbot for runners' hip and lower-back pain.")
    commands = parser.add_subparsers(dest="command", parser_class=OneLineParser)
    chat = commands.add_parser("chat", help="talk to the bot in this terminal")
    chat.add_argument(
        "--jsonl", action="store_true", help="read one message a line, write each turn's replies as a JSON line"
    )
    commands.add_parser("telegram", help="run the Telegram bot (needs TELEGRAM_BOT_TOKEN)")
    match = commands.add_parser("match", help="show what the matcher makes of a message")
    match.add_argument("text", nargs="?", help="the message to match")
    output = match.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print one JSON object")
    output.add_argument(
        "--jsonl", action="store_true", help="read one message a line on stdin, write JSON lines"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `runner-bot` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "match":
        if args.jsonl == (args.text is not None):
            parser.error(
                "match takes either a TEXT argument or --jsonl (messages on stdin), not both or neither"
            )
        return run_match(args.text, as_json=args.json, stream=sys.stdin if args.jsonl else None)
    from dotenv import load_dotenv

    from bot.app import run_bot  # imported late: `match` should not pay for the bot's imports

    load_dotenv()  # a .env file in the working directory; real environment variables win
    return run_bot(args.command, trace=getattr(args, "jsonl", False))


def run_match(text: str | None, as_json: bool, stream: TextIO | None, out: TextIO | None = None) -> int:
    """Print the matcher's answer for one message, or for every line of `stream`."""
    from knowledge import Matcher, default_knowledge
    from knowledge.questions import QuestionReader

    out = out or sys.stdout
    matcher = Matcher(default_knowledge())
    reader = QuestionReader(matcher.knowledge, matcher)
    if stream is not None:
        for line in stream:
            out.write(json.dumps(reader.read(line.rstrip("\r\n")).to_json(), ensure_ascii=False) + "\n")
        out.flush()
        return 0
    reading = reader.read(text or "")
    result = reading.match
    if as_json:
        out.write(json.dumps(reading.to_json(), ensure_ascii=False, indent=2) + "\n")
    else:
        out.write(describe_match(matcher, result) + "\n")
    return 0


def describe_match(matcher: Matcher, result: MatchResult) -> str:
    """A readable summary of a match, for people trying the matcher from the shell."""
    knowledge = matcher.knowledge
    lines = []
    if result.condition:
        condition = knowledge.conditions[result.condition]
        lines.append(f"Likely: {condition.name} (confidence {result.confidence:.2f})")
        labels = [knowledge.concepts[c].label for c in result.evidence]
        lines.append(f"Because of: {'; '.join(labels)}")
    else:
        lines.append("Likely: no single condition (the bot would ask more questions)")
    others = [
        f"{knowledge.conditions[c.id].name} {c.score:.0f}"
        for c in result.candidates
        if c.id != result.condition
    ]
    if others:
        lines.append(f"Also considered: {', '.join(others)}")
    flags = [knowledge.red_flags[f].name for f in result.red_flags]
    lines.append(f"Red flags: {'; '.join(flags) if flags else 'none'}")
    advice = knowledge.urgency_advice[result.urgency]
    lines.append(f"Urgency: {result.urgency.key} — {advice.title}")
    lines.append(knowledge.message("disclaimer"))
    return "\n".join(lines)
