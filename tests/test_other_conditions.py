"""Problems outside the six (issue 17): recognised from everyday words, named in `other`, never
passed off as one of the six, each with the data for a card.

tests/data/other_six_messages.jsonl holds 40 real-style messages written and labelled before the
change (half outside the six, some with context and durations) and the issue's own examples.
"""

from __future__ import annotations

import json

import pytest

from knowledge import Knowledge, Matcher, Reading
from knowledge.model import CONDITION_IDS, Urgency
from knowledge.questions import QuestionReader
from tests.conftest import TEST_DATA, read_jsonl

ROWS = read_jsonl(TEST_DATA / "other_six_messages.jsonl")
OTHER_IDS = {
    "adductor_strain", "osteitis_pubis", "pubic_stress_fracture", "deep_gluteal_syndrome",
    "hamstring_tendinopathy", "hip_impingement", "hip_osteoarthritis", "femoral_neck_stress_fracture",
    "sacral_stress_fracture", "spondylolysis", "meralgia_paresthetica", "thoracic_pain", "groin_pain",
}  # fmt: skip
STRESS_FRACTURES = {"femoral_neck_stress_fracture", "pubic_stress_fracture", "sacral_stress_fracture"}


@pytest.mark.parametrize("row", ROWS, ids=[r["id"] for r in ROWS])
def test_message_table(matcher: Matcher, row: dict) -> None:
    got = matcher.match(row["text"])
    assert got.other == row["other"]
    assert got.condition in {row["condition"], None, *row["also"]}
    if row["other"]:
        assert got.condition not in CONDITION_IDS or got.condition in row["also"]
    assert set(row["red_flags"]) - {"persistent_pain"} <= set(got.red_flags)
    if not row["red_flags"]:
        assert got.red_flags == ()
    assert not set(row.get("not_flags", [])) & set(got.red_flags)
    assert set(row.get("explained", [])) <= got.reading.explained
    assert set(row.get("concerns", [])) <= set(got.concerns)
    if "age" in row:
        assert got.reading.age == row["age"]
        assert got.reading.age_band == row.get("age_band")


def test_the_other_problems_are_the_issue_ids(knowledge: Knowledge) -> None:
    assert set(knowledge.other_conditions) == OTHER_IDS


@pytest.mark.parametrize("other_id", sorted(OTHER_IDS))
def test_each_other_problem_has_a_card(knowledge: Knowledge, other_id: str) -> None:
    other = knowledge.other_conditions[other_id]
    assert other.name and other.about and other.do_now and other.avoid
    assert other.sources and all(s in knowledge.sources for s in other.sources)
    assert other.see in (Urgency.SOON, Urgency.URGENT)
    if other_id in STRESS_FRACTURES:
        assert other.see is Urgency.URGENT
        assert "run" in other.avoid.lower()


@pytest.mark.parametrize("other_id", sorted(OTHER_IDS - {"groin_pain"}))
def test_each_other_problem_has_a_question_that_points_to_it(knowledge: Knowledge, other_id: str) -> None:
    """When the matcher keeps an other problem and one of the six as candidates, the engine asks
    the other's question; a yes adds a clue that counts towards that problem."""
    other = knowledge.other_conditions[other_id]
    assert other.question.endswith("?")
    r = other.recognise
    assert other.confirms in (*r.names, *r.hallmarks, *r.signs)


def test_a_yes_to_an_other_candidates_question_can_change_the_answer(matcher: Matcher) -> None:
    """An other problem the clues only begin to fit stays a candidate; its question's yes decides."""
    first = matcher.match("inner thigh and front of hip pain when I lift my knee")
    assert first.condition == "hip_flexor_strain" and first.other is None
    candidate = matcher.knowledge.other_conditions[first.other_candidates[0].id]
    assert candidate.confirms not in first.reading.concepts
    after_yes = matcher.assess(first.reading | Reading(frozenset({candidate.confirms})))
    assert (after_yes.condition, after_yes.other) == (None, "adductor_strain")


def test_when_both_fit_neither_is_named_and_both_are_candidates(matcher: Matcher) -> None:
    both = matcher.match("hip flexor pain at the front of the hip when I sprint, and it clicks and catches deep in the groin")
    assert (both.condition, both.other) == (None, None)
    assert both.candidates[0].id == "hip_flexor_strain"
    assert both.other_candidates[0].id == "hip_impingement"


def test_a_stress_fracture_picture_is_urgent_and_raises_bone_stress(matcher: Matcher) -> None:
    got = matcher.match("Ramped up my mileage and now my groin aches even walking and it hurts to hop")
    assert got.other == "femoral_neck_stress_fracture"
    assert "bone_stress" in got.red_flags
    assert got.urgency is Urgency.URGENT
    assert "hop_or_land_pain" in got.other_evidence


def test_six_condition_with_a_telling_clue_is_kept_beside_a_general_other(matcher: Matcher) -> None:
    """Front-of-hip pain on lifting the knee, then pain on weight after a mileage jump: the hip
    flexor strain stays named and the stress fracture is named beside it (both cards)."""
    got = matcher.match(
        "It started as a niggle at the front of my hip when I lifted my knee, but since I bumped my "
        "mileage up it hurts to put any weight on that leg"
    )
    assert got.condition == "hip_flexor_strain"
    assert got.other == "femoral_neck_stress_fracture"


def test_match_json_carries_other(knowledge: Knowledge, matcher: Matcher) -> None:
    """`runner-bot match --jsonl` prints the question reader's JSON, built on MatchResult.to_json."""
    reader = QuestionReader(knowledge, matcher)
    first = json.loads(json.dumps(reader.read("inner thigh hurts when I squeeze my knees together").to_json()))
    assert first["other"] == "adductor_strain" and first["condition"] is None
    assert reader.read("hi").to_json()["other"] is None
