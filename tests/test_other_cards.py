"""Problems outside the six, end to end: each description reaches its own card (issue 17) —
what it likely is, why, what to do and avoid, who to see — with no exercise plan, and the
safety questions still asked, in their order, while where/what-sets-it-off are not."""

from __future__ import annotations

import pytest

from conversations.engine import Engine
from conversations.events import Reply, Text
from conversations.phone import PHONE_LINES, phone_lines

ANSWERS = {"confirm": "no", "emergency_screen": "no", "warning_screen": "no", "age": "35", "duration": "3 weeks"}


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine()


def triage(engine: Engine, text: str) -> tuple[list[str], list[Reply]]:
    """The questions asked (in order) and every reply, answering each safety question."""
    session = engine.new_session()
    asked: list[str] = []
    said: list[Reply] = []
    message = text
    for _ in range(8):
        result = engine.handle(session, Text(message))
        session = result.session
        said += result.replies
        questions = [r for r in result.replies if r.kind == "question"]
        if not questions or questions[-1].asks not in ANSWERS:
            break
        asked.append(questions[-1].asks)
        message = ANSWERS[questions[-1].asks]
    return asked, said


CASES = [
    ("buttock pain worse when sitting", "deep_gluteal_syndrome"),
    ("pain in my inner thigh when I squeeze my knees together", "adductor_strain"),
    ("burning outer thigh when I wear a tight belt", "meralgia_paresthetica"),
    ("pain in my mid back around the ribs", "thoracic_pain"),
    ("I have a stress fracture in my sacrum", "sacral_stress_fracture"),
]


@pytest.mark.parametrize(("text", "other"), CASES)
def test_other_picture_ends_in_its_own_card(engine: Engine, text: str, other: str) -> None:
    asked, said = triage(engine, text)
    results = [r for r in said if r.kind == "result"]
    assert results, [r.plain for r in said]
    card = results[-1]
    assert card.other == other and card.condition is None
    assert card.trace()["other"] == other
    assert "What to do now" in card.plain and "What not to do" in card.plain
    assert "not a diagnosis" in card.plain
    assert not any("exercise" in b.label.lower() or "plan" in b.label.lower() for b in card.buttons)
    assert phone_lines(card.text) <= PHONE_LINES
    assert "location" not in asked and "trigger" not in asked
    assert asked.index("emergency_screen") < asked.index("warning_screen")


def test_stress_fracture_in_the_sacrum_warns_and_holds_exercises(engine: Engine) -> None:
    _, said = triage(engine, "I have a stress fracture in my sacrum")
    card = [r for r in said if r.kind == "result"][-1]
    assert "bone_stress" in card.flags
    assert card.urgency == "urgent"  # its `see`, never lower than the warning
    assert "stretch" in card.plain.lower()  # what not to do: no stretching through it


def test_older_runner_with_stiffness_and_socks_gets_hip_osteoarthritis(engine: Engine) -> None:
    _, said = triage(engine, "I'm 67, morning stiffness, deep groin ache and trouble putting on socks")
    others = [r.other for r in said if r.kind == "result"]
    assert "hip_osteoarthritis" in others
    assert not any(r.condition for r in said if r.kind == "result" and r.other == "hip_osteoarthritis")


def test_a_condition_result_traces_other_as_null(engine: Engine) -> None:
    _, said = triage(engine, "pain on the outside of my hip when I lie on that side at night and climb stairs")
    results = [r for r in said if r.kind == "result"]
    assert results and results[-1].trace()["other"] is None


def answer_through(engine: Engine, text: str, last: str) -> tuple[list[str], list[Reply]]:
    """As `triage`, answering "tell_apart" (the other problem's own question) with `last`."""
    answers = {**ANSWERS, "tell_apart": last, "trigger": "none of these"}
    session = engine.new_session()
    asked: list[str] = []
    said: list[Reply] = []
    message = text
    for _ in range(10):
        result = engine.handle(session, Text(message))
        session, said = result.session, said + result.replies
        questions = [r for r in result.replies if r.kind == "question"]
        if not questions or questions[-1].asks not in answers:
            break
        asked.append(questions[-1].asks)
        message = answers[questions[-1].asks]
    return asked, said


def test_both_kept_asks_the_others_question_once_and_a_yes_names_it(engine: Engine) -> None:
    asked, said = answer_through(engine, "pain at the front of my hip and in my inner thigh", "yes")
    assert asked.count("tell_apart") == 1
    assert asked.index("tell_apart") > asked.index("duration")  # after every safety question
    question = next(r for r in said if r.kind == "question" and r.asks == "tell_apart")
    assert "squeeze" in question.plain
    card = [r for r in said if r.kind == "result"][-1]
    assert (card.other, card.condition) == ("adductor_strain", None)


@pytest.mark.parametrize("doubt", ["no", "not sure"])
def test_still_unclear_says_both_and_how_they_are_told_apart(engine: Engine, doubt: str) -> None:
    asked, said = answer_through(engine, "pain at the front of my hip and in my inner thigh", doubt)
    assert asked.count("tell_apart") == 1
    card = [r for r in said if r.kind == "result"][-1]
    assert card.condition is None and card.other == "adductor_strain"
    assert "Hip flexor strain" in card.plain and "tells them apart" in card.plain
    assert phone_lines(card.text) <= PHONE_LINES
    assert any("How to tell" in b.label for b in card.buttons)


def test_a_condition_with_nothing_else_close_is_not_asked_about(engine: Engine) -> None:
    asked, _ = triage(engine, "pain on the outside of my hip when I lie on that side at night and climb stairs")
    assert "tell_apart" not in asked
