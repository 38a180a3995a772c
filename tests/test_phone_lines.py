"""No message is longer than a phone screen: 20 lines of about 35 characters.

Every card the knowledge base can produce (tests/test_rendering.py's enumeration), every
message by key with its placeholders filled (facts with the facts they take, anything else with
a sample value), and the companion's replies along a long, full run of its flows (a plan in
every week, logs, the summary with everything filled in, the mileage planner, reminders) are
measured. An expandable blockquote counts as 3 lines: Telegram shows it collapsed.
"""

from __future__ import annotations

import datetime as dt
import html
import math
import re

import pytest

from bot.storage.memory import MemoryRecordStore
from bot.storage.records import apply_effects
from conversations.engine import Engine
from conversations.events import Choice, Command, Event, ReminderDue, Reply, Text
from conversations.flows.recovery_common import companion_of
from conversations.recovery_records import Plan
from conversations.session import Frame, Session
from knowledge import CONDITION_IDS, Knowledge, Matcher
from tests.test_rendering import every_card, every_question

PHONE_WIDTH = 35  # characters a line on a phone, about
PHONE_LINES = 20
COLLAPSED_QUOTE_LINES = 3
_QUOTE = re.compile(r"<blockquote expandable>.*?</blockquote>", re.S)
_TAG = re.compile(r"</?[a-z]+(?: expandable)?>")
# placeholders that take one of the companion's facts
FACT_OF = {
    "limits": "pain_limits", "next_day": "next_day_rule", "not_for_nerves": "not_for_nerves",
    "worsening": "worsening", "spike": "long_run_spike", "cross": "cross_training", "big": "big_increase",
    "ten": "ten_percent", "walk_run": "walk_run", "easier": "easier_week", "refer": "too_painful_refer",
}  # fmt: skip


def phone_lines(text: str) -> int:
    """How many lines a message takes on a phone (a collapsed blockquote as 3)."""
    text = _QUOTE.sub("\n".join(["…"] * COLLAPSED_QUOTE_LINES), text)
    plain = html.unescape(_TAG.sub("", text))
    return sum(max(1, math.ceil(len(line) / PHONE_WIDTH)) for line in plain.split("\n"))


def test_phone_lines_counts_wrapped_lines_and_collapsed_quotes() -> None:
    assert phone_lines("a" * 35) == 1 and phone_lines("a" * 36) == 2
    assert phone_lines("one\n\nthree") == 3
    assert phone_lines("<b>x</b>\n<blockquote expandable>" + "long\n" * 40 + "</blockquote>") == 4


class _Sample(dict[str, str]):
    """Placeholder values: a fact where the placeholder takes one, else a sample of 12 letters."""

    def __init__(self, knowledge: Knowledge) -> None:
        super().__init__()
        self.companion = companion_of(knowledge)

    def __missing__(self, key: str) -> str:
        return self.companion.fact(FACT_OF[key]) if key in FACT_OF else "x" * 12


def every_message(knowledge: Knowledge) -> list[tuple[str, str]]:
    """Every message by key (the knowledge base's and the companion's), placeholders filled."""
    sample = _Sample(knowledge)
    texts = [(f"message {k}", t.format_map(sample)) for k, t in knowledge.messages.items()]
    companion = companion_of(knowledge)
    texts += [(f"companion {k}", t.format_map(sample)) for k, t in companion.messages.items()]
    return texts


class Run:
    """A chat with a record store, collecting every reply."""

    def __init__(self, day: dt.date) -> None:
        self.day = day
        self.engine = Engine(today=lambda: self.day)
        self.store = MemoryRecordStore()
        self.session = Session()
        self.replies: list[tuple[str, Reply]] = []
        self.last: list[Reply] = []

    def send(self, event: Event | str) -> None:
        event = Text(event) if isinstance(event, str) else event
        result = self.engine.handle(self.session, event, self.store.records(1))
        self.session = result.session
        apply_effects(self.store, 1, result.effects, dt.datetime(2025, 3, 3, 12, tzinfo=dt.UTC))
        self.last = result.replies
        self.replies += [(f"{self.day} {event}", r) for r in result.replies]

    def press(self, label: str) -> None:
        data = next(b.data for r in reversed(self.last) for b in r.buttons if b.label == label)
        self.send(Choice(data))


def companion_replies(condition: str) -> list[tuple[str, Reply]]:
    """A long run of the companion for one condition: six weeks of plan days, logs every day
    (pain climbing, runs with a spike), the walk-run stages, the summary, mileage, reminders."""
    start = dt.date(2025, 3, 3)
    run = Run(start)
    run.send(Command("start"))
    run.store.save_plan(1, Plan(id="p", condition=condition, start=start.isoformat()))
    run.send("/remind 07:30")
    run.send("Europe/London")
    for day in range(0, 45):
        run.day = start + dt.timedelta(days=day)
        run.send(ReminderDue())
        run.send("/plan")
        if any(r.asks == "day" for r in run.last):
            run.press("Too painful" if day in (9, 30) else "Done ✓")
        if any(r.asks == "hop" for r in run.last):  # the hop test before walk-run
            run.press("Yes")
        pain = (day % 9) + (2 if day % 5 == 0 else 0)
        run.send(f"/log ran {5 + day % 4 * 3}k in 40 min, felt hard, pain {min(pain, 10)}")
        run.send(Choice("x:menu"))
    run.send("/progress")
    run.send("/summary")
    run.send("/mileage")
    run.send("/export")
    run.send("/help")
    run.send("/privacy")
    run.send("/forget")
    run.send("/start")
    return run.replies


def long_ones(items: list[tuple[str, str]]) -> dict[str, int]:
    return {name: lines for name, text in items if (lines := phone_lines(text)) > PHONE_LINES}


def test_every_card_and_question_fits_a_phone(knowledge: Knowledge, matcher: Matcher) -> None:
    cards = every_card(knowledge, matcher) + every_question(knowledge)
    assert long_ones([(name, reply.text) for name, reply in cards]) == {}


def test_every_message_fits_a_phone(knowledge: Knowledge) -> None:
    assert long_ones(every_message(knowledge)) == {}


@pytest.mark.parametrize("condition", CONDITION_IDS)
def test_every_companion_reply_fits_a_phone(condition: str) -> None:
    replies = companion_replies(condition)
    assert long_ones([(name, reply.text) for name, reply in replies]) == {}


def test_a_question_in_a_companion_flow_fits_a_phone(knowledge: Knowledge) -> None:
    render = Engine().renderer
    for flow, step in (("log", "pain"), ("log", "run"), ("log", "feel"), ("plan", "criteria"), ("remind", "timezone"), ("forget", "delete")):
        frame = Frame(flow, step=step, values={"id": "x", "day": "2025-03-03", "at": "2025-03-03T00:00:00+00:00"})
        text = render.question(Session(stack=[frame])).text
        assert phone_lines(text) <= PHONE_LINES, (flow, step)


def test_a_long_line_that_runs_a_list_together_is_folded_after_a_clause() -> None:
    """The summary's "ruled out: a, b, c, …" is one line: folded after its first clauses."""
    from conversations.phone import fit

    signs = ", ".join(f"warning sign number {n} with a long name" for n in range(12))
    text = "<b>Summary</b>\n" + "\n".join(f"<b>Line {n}</b>: some words here" for n in range(8))
    text += f"\n<b>Warning signs</b>: none reported; ruled out: {signs}\n<i>Not a diagnosis.</i>"
    folded = fit(text)
    assert phone_lines(text) > PHONE_LINES >= phone_lines(folded)
    head, _, tail = folded.partition("\n<blockquote expandable>")
    assert head.splitlines()[-1].startswith("<b>Warning signs</b>: none reported;") and head[-1] in ",;"
    assert tail.startswith(("ruled out", "warning sign number")), "folded at a clause, not mid-word"
    assert html.unescape(_TAG.sub("", folded)).replace("\n", " ") == html.unescape(_TAG.sub("", text)).replace("\n", " ")
