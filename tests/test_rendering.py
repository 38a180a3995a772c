"""Every message the knowledge base can produce is short enough for a phone and valid Telegram HTML.

Results, answers, sections and the prevention cards are rendered for every condition and topic;
each must be well-formed HTML using only the tags Telegram accepts, with every data string
escaped, and short enough to read as a chat message.
"""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from conversations.events import Reply
from conversations.render import HIDDEN_SECTIONS, SECTIONS, ResultContext
from conversations.session import Frame, Session
from knowledge import CONDITION_IDS, Knowledge, Matcher, Reading, Urgency
from knowledge.model import TOPIC_IDS
from tests.conversation_checks import fixed_engine

CARD_LIMIT = 1000  # a result, answer or routine card: about one phone screen
TELEGRAM_LIMIT = 4096
ALLOWED_TAGS = {"b", "i", "u", "code", "blockquote"}


class TagChecker(HTMLParser):
    """Collects tag problems: unknown tags, unbalanced tags, and bare ampersands."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.open: list[str] = []
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS or any(name != "expandable" for name, _ in attrs):
            self.problems.append(f"tag <{tag} {attrs}>")
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open.pop() != tag:
            self.problems.append(f"unbalanced </{tag}>")

    def handle_entityref(self, name: str) -> None:
        if name not in ("lt", "gt", "amp", "quot"):
            self.problems.append(f"entity &{name};")


def html_problems(text: str) -> list[str]:
    checker = TagChecker()
    checker.feed(text)
    checker.close()
    return checker.problems + [f"unclosed <{t}>" for t in checker.open]


def every_card(knowledge: Knowledge, matcher: Matcher) -> list[tuple[str, Reply]]:
    engine = fixed_engine()
    render = engine.renderer
    cards: list[tuple[str, Reply]] = []
    for condition in CONDITION_IDS:
        concepts = frozenset(knowledge.conditions[condition].recognise.names)
        result = matcher.assess(Reading(concepts))
        for urgency in Urgency:
            flags = [f.id for f in knowledge.red_flags.values() if f.urgency == urgency][:3]
            context = ResultContext(urgency, flags, None, knowledge.conditions[condition].name)
            cards.append((f"result {condition} {urgency.key}", render.result(result, context)))
        for section in (*SECTIONS, *HIDDEN_SECTIONS):
            reply = render.section(section, condition)
            assert reply is not None
            cards.append((f"section {section} {condition}", reply))
        for topic in TOPIC_IDS:
            cards.append((f"answer {topic} {condition}", render.answer(topic, condition, Urgency.URGENT)))
    for topic in TOPIC_IDS:
        cards.append((f"answer {topic}", render.answer(topic, None, None)))
    for group in knowledge.prevention.groups:
        cards.append((f"prevention {group.id}", render.prevention(group.id)))
    everything = list(knowledge.red_flags)
    cards.append(("emergency", render.emergency(f for f in everything if knowledge.red_flags[f].urgency == Urgency.EMERGENCY)))
    cards.append(("verdict", render.verdict(everything, None)))
    for flag in everything:
        cards.append((f"warning {flag}", render.warning([flag], None)))
    cards.append(("warning, three at once", render.warning(everything[1:4], None)))
    return cards


def every_question(knowledge: Knowledge) -> list[tuple[str, Reply]]:
    render = fixed_engine().renderer
    questions = [("menu", render.question(Session()))]
    steps = ("location", "trigger", "emergency_screen", "warning_screen", "warning_item", "duration", "confirm")
    for step in steps:
        frame = Frame(
            "triage", step=step, items=list(knowledge.triage.screen.together), confirm="cauda_equina"
        )
        for explain in (False, True):
            questions.append((f"{step} explain={explain}", render.question(Session(stack=[frame]), explain=explain)))
    return questions


@pytest.fixture(scope="module")
def cards(knowledge: Knowledge, matcher: Matcher) -> list[tuple[str, Reply]]:
    return every_card(knowledge, matcher)


def test_every_card_is_valid_html(cards: list[tuple[str, Reply]]) -> None:
    problems = {name: html_problems(reply.text) for name, reply in cards}
    assert not {k: v for k, v in problems.items() if v}


def test_every_card_fits_a_phone_screen(cards: list[tuple[str, Reply]]) -> None:
    long = {name: len(reply.plain) for name, reply in cards if len(reply.plain) > CARD_LIMIT}  # tags aside
    assert not long


def test_every_question_is_valid_and_short(knowledge: Knowledge) -> None:
    for name, reply in every_question(knowledge):
        assert not html_problems(reply.text), name
        assert len(reply.text) <= CARD_LIMIT, (name, len(reply.text))
        assert all(len(b.data.encode()) <= 64 for b in reply.buttons), name  # Telegram's callback_data limit
        assert all(len(b.label) <= 40 for b in reply.buttons), name


def test_every_message_is_valid_html(knowledge: Knowledge) -> None:
    problems = {}
    for key, template in knowledge.messages.items():
        text = template.format_map(_Blank()) if "{" in template else template
        if found := html_problems(text):
            problems[key] = found
        assert len(text) <= TELEGRAM_LIMIT, key
    assert not problems


def test_data_is_escaped(knowledge: Knowledge) -> None:
    render = fixed_engine().renderer
    assert "&lt;b&gt;" in render.say("result_why", reasons="<b>")


class _Blank(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "x"


def test_every_card_that_names_a_condition_says_it_is_not_a_diagnosis(
    cards: list[tuple[str, Reply]], knowledge: Knowledge
) -> None:
    naming = [
        (name, reply)
        for name, reply in cards
        if reply.condition or any(c.name in reply.plain for c in knowledge.conditions.values())
    ]
    assert naming, "some cards name a condition"
    missing = [name for name, reply in naming if "general information, not a diagnosis" not in reply.plain]
    assert not missing
