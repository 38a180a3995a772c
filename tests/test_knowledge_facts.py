"""The guide's facts are all in the knowledge base, in the project's own words."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from knowledge import Knowledge
from tests.conftest import TEST_DATA, shared_path

FACTS = yaml.safe_load((TEST_DATA / "guide_facts.yaml").read_text(encoding="utf-8"))


def _has_terms(text: str, terms: list[str]) -> list[str]:
    """The terms (each 'a|b' alternatives) missing from text."""
    lowered = text.lower().replace("’", "'")
    return [t for t in terms if not any(alt.lower() in lowered for alt in t.split("|"))]


def _every_guide_quote() -> list[str]:
    quotes = []
    for condition in FACTS["conditions"].values():
        quotes += [condition["cause"]["guide"], condition["symptoms"]["guide"]]
        quotes += [step["guide"] for step in condition["treatment"]]
    quotes += [e["guide"] for e in FACTS["exercises"]]
    quotes += [f["guide"] for group in FACTS["prevention"].values() for f in group]
    quotes += [f["guide"] for f in FACTS["seek_help"] + FACTS["why_it_matters"]]
    return quotes


CONDITION_FIELDS = [
    (cid, field, fact)
    for cid, facts in FACTS["conditions"].items()
    for field in ("cause", "symptoms")
    for fact in [facts[field]]
]


@pytest.mark.parametrize(("condition_id", "field", "fact"), CONDITION_FIELDS, ids=lambda v: str(v)[:30])
def test_condition_cause_and_symptoms(
    knowledge: Knowledge, condition_id: str, field: str, fact: dict
) -> None:
    stored = getattr(knowledge.conditions[condition_id], field)
    # where current evidence differs, the fact cites it (named in the table) and folds the guide in
    assert stored.source == fact.get("current", "guide")
    assert not _has_terms(stored.text, fact["terms"]), stored.text


TREATMENT_STEPS = [
    (cid, i, step) for cid, facts in FACTS["conditions"].items() for i, step in enumerate(facts["treatment"])
]


@pytest.mark.parametrize(("condition_id", "index", "step"), TREATMENT_STEPS, ids=lambda v: str(v)[:30])
def test_every_treatment_step(knowledge: Knowledge, condition_id: str, index: int, step: dict) -> None:
    texts = [t.text for t in knowledge.conditions[condition_id].treatment]
    assert any(not _has_terms(text, step["terms"]) for text in texts), (step["guide"], texts)


@pytest.mark.parametrize("fact", FACTS["exercises"], ids=lambda f: f["id"])
def test_exercise_numbers(knowledge: Knowledge, fact: dict) -> None:
    """The guide's numbers are kept exactly; numbers it does not give must name where they come from."""
    exercise = knowledge.exercises[fact["id"]]
    for key in ("sets", "reps"):
        if key in fact:
            assert getattr(exercise, key) == fact[key]
        elif getattr(exercise, key) is not None:
            assert exercise.dose_source in knowledge.sources and exercise.dose_source != "guide"
    if "hold_seconds" in fact:
        assert exercise.hold_seconds == tuple(fact["hold_seconds"])
    elif exercise.hold_seconds is not None:
        assert exercise.dose_source in knowledge.sources and exercise.dose_source != "guide"
    assert exercise.per_side == fact.get("per_side", exercise.per_side)
    assert exercise.source == "guide"


PREVENTION = [(group, fact) for group, facts in FACTS["prevention"].items() for fact in facts]


@pytest.mark.parametrize(("group_id", "fact"), PREVENTION, ids=lambda v: str(v)[:30])
def test_prevention_routine(knowledge: Knowledge, group_id: str, fact: dict) -> None:
    group = next(g for g in knowledge.prevention.groups if g.id == group_id)
    if "exercise" in fact:
        assert fact["exercise"] in [e.id for e in group.exercises]
    else:
        assert any(not _has_terms(item.text, fact["terms"]) for item in group.items), fact["guide"]


@pytest.mark.parametrize("fact", FACTS["seek_help"], ids=lambda f: f["guide"][:30])
def test_when_to_seek_help(knowledge: Knowledge, fact: dict) -> None:
    assert any(not _has_terms(f.text, fact["terms"]) for f in knowledge.education.seek_help)


@pytest.mark.parametrize("fact", FACTS["why_it_matters"], ids=lambda f: f["guide"][:30])
def test_why_hips_and_back_matter(knowledge: Knowledge, fact: dict) -> None:
    assert not _has_terms(knowledge.education.why_it_matters.text, fact["terms"])


def test_disc_irritation_needs_immediate_assessment(knowledge: Knowledge) -> None:
    disc = knowledge.conditions["disc_irritation"]
    assert disc.urgency_floor.key == "urgent"
    assert disc.see_a_clinician is not None


def test_every_fact_names_a_known_source(knowledge: Knowledge) -> None:
    facts = [f for c in knowledge.conditions.values() for f in (c.cause, c.symptoms, *c.treatment)]
    facts += [
        f
        for c in knowledge.conditions.values()
        for f in (c.see_a_clinician, c.tell_apart, c.safety_net, c.outlook)
        if f is not None
    ]
    facts += [*knowledge.education.interim_self_care]
    facts += [f for f in (knowledge.education.load_and_recovery,) if f is not None]
    facts += [i for g in knowledge.prevention.groups for i in g.items]
    education = knowledge.education
    facts += [education.why_it_matters, education.closing_thought, education.about_accuracy]
    facts += [*education.seek_help, *education.return_to_running]
    assert facts and all(f.source in knowledge.sources for f in facts)
    assert all(e.source in knowledge.sources for e in knowledge.exercises.values())
    assert all(set(f.sources) <= set(knowledge.sources) for f in knowledge.red_flags.values())
    assert all(set(f.sources) <= set(knowledge.sources) for f in knowledge.concerns.values())
    assert all(o.source in knowledge.sources for o in knowledge.other_conditions.values())


def test_fact_table_quotes_the_guide() -> None:
    """Ties tests/data/guide_facts.yaml to the real guide, so no guide fact is left out or misquoted."""
    guide = Path(shared_path("source/hip-and-back-guide.txt")).read_text(encoding="utf-8")
    missing = [q for q in _every_guide_quote() if q not in guide]
    assert not missing


def test_data_is_in_own_words_not_copied_from_the_guide(knowledge: Knowledge) -> None:
    guide = Path(shared_path("source/hip-and-back-guide.txt")).read_text(encoding="utf-8").lower()
    texts = [f.text for c in knowledge.conditions.values() for f in (c.cause, c.symptoms, *c.treatment)]
    copied = [t for t in texts if t.lower().rstrip(".") in guide]
    assert not copied
