"""A warning sign the learned reader suspects where the rules raised none is asked about
explicitly (issue 17): yes raises it as the screen does, doubt is never a no, no carries on."""

from __future__ import annotations

import datetime as dt

import pytest

from conversations.engine import Engine
from conversations.events import Reply, Text
from conversations.session import Session

SUSPECT = "lower back pain and going to the loo feels different"


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine()


def talk(engine: Engine, *texts: str) -> tuple[Session, list[list[Reply]]]:
    session = engine.new_session()
    turns = []
    for text in texts:
        result = engine.handle(session, Text(text))
        session = result.session
        turns.append(result.replies)
    return session, turns


def test_the_reader_suspects_a_sign_the_rules_did_not_read(engine: Engine) -> None:
    reading = engine.reader.read(SUSPECT, dt.date(2026, 1, 1))
    assert reading.suspected_flag == "cauda_equina" and not reading.flags


def test_a_suspected_sign_is_asked_about_with_its_screen_question(engine: Engine) -> None:
    _, turns = talk(engine, SUSPECT)
    question = turns[0][-1]
    assert question.kind == "question" and question.asks == "confirm"
    assert engine.knowledge.red_flags["cauda_equina"].question in question.plain
    assert [b.label for b in question.buttons][:3] == ["Yes", "No", "Not sure"]


def test_yes_raises_the_emergency(engine: Engine) -> None:
    session, turns = talk(engine, SUSPECT, "yes")
    assert turns[-1][-1].kind == "emergency"
    assert "cauda_equina" in session.flags


def test_no_carries_on_with_the_triage(engine: Engine) -> None:
    session, turns = talk(engine, SUSPECT, "no")
    assert "cauda_equina" in session.cleared
    assert turns[-1][-1].kind == "question" and turns[-1][-1].asks != "confirm"


def test_doubt_is_explained_then_given_the_careful_advice(engine: Engine) -> None:
    session, turns = talk(engine, SUSPECT, "not sure", "not sure")
    assert turns[1][-1].asks == "confirm"  # explained and asked again
    assert "cauda_equina" not in session.cleared
    warnings = [r for r in turns[2] if r.kind == "warning"]
    assert warnings and warnings[0].urgency == "urgent"
    assert "cauda_equina" in session.doubtful
    assert turns[2][-1].asks != "confirm"


def test_a_plain_description_is_not_asked_about(engine: Engine) -> None:
    _, turns = talk(engine, "pain on the outside of my hip when I climb stairs")
    assert all(r.asks != "confirm" for r in turns[0])
