"""The conversation engine as a unit: sessions, the transition table, wording keys, robustness."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conversations.engine import Engine
from conversations.events import Choice, Command, Event, Reply, Text, Unsupported, parse_command
from conversations.machine import TRANSITIONS, mermaid
from conversations.session import Session, SessionError, State

ROOT = Path(__file__).resolve().parent.parent


def _pair(result):  # type: ignore[no-untyped-def]
    return result.session, result.replies


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine()


def test_state_diagram_file_matches_the_transition_table() -> None:
    assert (ROOT / "conversations" / "states.mmd").read_text(encoding="utf-8") == mermaid()


def test_every_state_is_reachable_in_the_table() -> None:
    assert {t.target for t in TRANSITIONS} == set(State)


def test_every_message_key_the_code_uses_exists(engine: Engine) -> None:
    source = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "conversations").glob("*.py"))
    used = set(re.findall(r"""(?:say|message)\(\s*["']([a-z_]+)["']""", source))
    used |= {f"ask_location_{r}" for r in ("hip", "lower_back", "any")}
    assert used, "the scan found no keys"
    assert not used - set(engine.knowledge.messages)


def test_session_round_trips_through_json(engine: Engine) -> None:
    session, _ = _pair(engine.handle(engine.new_session(), Text("front of my hip hurts when I sprint")))
    assert Session.from_json(session.to_json()) == session


@pytest.mark.parametrize(
    "stored",
    [
        "",
        "null",
        "[]",
        "{]",
        '{"state": "nowhere"}',
        '{"menu": -1}',
        '{"concepts": "hip"}',
        '{"surprise": 1}',
        '{"version": 99}',
        '{"trigger_done": "yes"}',
        '{"back": [1]}',
    ],
)
def test_unreadable_stored_session_raises_session_error(stored: str) -> None:
    with pytest.raises(SessionError):
        Session.from_json(stored)


def test_session_never_holds_what_the_runner_wrote(engine: Engine) -> None:
    secret = "my unusual zebra-striped hip hurts at the front when I sprint"
    session = engine.new_session()
    for text in (secret, "no", "no"):
        session, _ = _pair(engine.handle(session, Text(text)))
    assert "zebra" not in session.to_json()


def test_engine_does_not_change_the_session_it_is_given(engine: Engine) -> None:
    session, _ = _pair(engine.handle(engine.new_session(), Text("my hip hurts")))
    before = session.to_json()
    engine.handle(session, Text("front"))
    assert session.to_json() == before


def test_a_bug_costs_an_apology_not_the_conversation(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    session, _ = _pair(engine.handle(engine.new_session(), Text("my hip hurts")))

    def broken(*args: object) -> None:
        raise RuntimeError("bug")

    monkeypatch.setattr("conversations.engine._Turn.on_text", broken)
    after, replies = _pair(engine.handle(session, Text("front")))
    assert "something went wrong" in replies[0].text
    assert (after.state, after.concepts) == (session.state, session.concepts)


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("/start", "start"),
        ("/Prevent now", "prevent"),
        ("/redflags@runner_bot", "redflags"),
        ("/", None),
        ("hello", None),
        ("/💥", None),
        ("  /help", "help"),
    ],
)
def test_parse_command(text: str, command: str | None) -> None:
    parsed = parse_command(text)
    assert (parsed.name if parsed else None) == command


# ----- any sequence of events leaves a valid session -------------------------------------------
PHRASES = [
    "front of my hip hurts when I sprint",
    "side of hip on stairs",
    "snapping outside hip",
    "lower back middle",
    "one side of my bum when twisting",
    "pain down my leg",
    "yes",
    "no",
    "n",
    "1",
    "2",
    "3",
    "7",
    "maybe",
    "I can't control my bladder",
    "it wakes me at night",
    "my knee hurts",
    "",
    "   ",
    "🏃",
    "x" * 5000,
    "'; DROP TABLE sessions; --",
    "\x00\x1b[2J",
    "/back",
    "/cancel",
    "²",  # a digit to str.isdigit(), not to int()
    "٣",
]
COMMANDS = ["start", "restart", "cancel", "back", "help", "about", "prevent", "redflags", "forget", "bogus"]
tap = st.integers(min_value=0, max_value=9).map(lambda i: ("tap", i))
events = st.one_of(
    st.sampled_from(PHRASES).map(lambda t: ("event", Text(t))),
    st.text(max_size=200).map(lambda t: ("event", Text(t))),
    st.sampled_from(COMMANDS).map(lambda c: ("event", Command(c))),
    st.text(max_size=70).map(lambda d: ("event", Choice(d))),
    st.sampled_from(["photo", "sticker", "voice", "location", "document"]).map(
        lambda k: ("event", Unsupported(k))
    ),
    tap,
)


def resolve(step: tuple[str, object], replies: list[Reply]) -> Event:
    kind, value = step
    if kind == "event":
        return value  # type: ignore[return-value]
    buttons = [b for r in replies for b in r.buttons]
    return Choice(buttons[value % len(buttons)].data) if buttons else Text("hello")  # type: ignore[operator]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(events, max_size=25))
def test_no_sequence_of_events_raises_or_leaves_an_invalid_state(engine: Engine, steps: list) -> None:
    session, replies = _pair(engine.welcome(engine.new_session()))
    for step in steps:
        previous_menu, given = session.menu, session.to_json()
        old_session = session
        session, replies = _pair(engine.handle(session, resolve(step, replies)))
        assert old_session.to_json() == given, "the engine never changes the session it is given"
        assert replies, "every event gets an answer"
        assert not engine.problems(session), engine.problems(session)
        assert Session.from_json(session.to_json()) == session
        assert session.menu > previous_menu, "every answer comes with fresh buttons"
        assert not any("something went wrong" in r.text for r in replies)
        assert len(session.back) <= 10
