"""Issue 9: the advice brought up to current guidance — every new fact present, with its source.

Each row: (condition id or None for education, the source the fact must name, terms that must all
appear in one fact with that source; each term may be 'a|b').
"""

from __future__ import annotations

import pytest

from knowledge import Knowledge
from knowledge.model import Fact

NEW_FACTS = [
    ("lumbar_strain", "nice_ng59", ["relative rest", "bed"]),
    ("lumbar_strain", "cochrane_heat_2006", ["heat|warmth", "ice"]),
    ("lumbar_strain", "nice_ng59", ["doctor or pharmacist", "lowest dose", "shortest"]),
    ("lumbar_strain", "guide", ["plank from the knees", "core strength"]),
    ("hip_flexor_strain", "peace_love_2020", ["1–3 days", "protect"]),
    (
        "gluteal_tendinopathy",
        "grimaldi_2015",
        ["lying on the sore side", "crossing your legs", "one hip", "stretching"],
    ),
    ("gluteal_tendinopathy", "leap_2018", ["holds", "side-lying"]),
    ("it_band_syndrome", "itb_evidence", ["pressing on", "underneath", "comfort, not a cure"]),
    ("disc_irritation", "cauda_card", ["emergency", "bladder or bowel", "both legs", "bottom"]),
    ("disc_irritation", "nhs_sciatica", ["4–6 weeks"]),
    ("si_joint_dysfunction", "booth_morris_2019", ["exercises"]),
]


def _facts(knowledge: Knowledge, condition_id: str | None) -> list[Fact]:
    if condition_id is None:
        education = knowledge.education
        return [*education.interim_self_care, *(f for f in (education.load_and_recovery,) if f)]
    c = knowledge.conditions[condition_id]
    return [*c.treatment, *(f for f in (c.tell_apart, c.safety_net, c.outlook, c.see_a_clinician) if f)]


@pytest.mark.parametrize(("condition_id", "source", "terms"), NEW_FACTS, ids=lambda v: str(v)[:24])
def test_current_guidance_is_in_the_advice(
    knowledge: Knowledge, condition_id: str, source: str, terms: list[str]
) -> None:
    texts = [f.text.lower() for f in _facts(knowledge, condition_id) if f.source == source]
    assert any(all(any(alt in text for alt in term.lower().split("|")) for term in terms) for text in texts)


def test_si_joint_has_no_frightening_misalignment_language(knowledge: Knowledge) -> None:
    c = knowledge.conditions["si_joint_dysfunction"]
    texts = [c.summary, *(f.text for f in (c.cause, c.symptoms, *c.treatment))]
    assert not any(word in t.lower() for t in texts for word in ("misalign", "slipped", "put back in"))
    assert "does not slip out of place" in c.cause.text


def test_disc_irritation_keeps_immediate_assessment_and_adds_the_safety_net(knowledge: Knowledge) -> None:
    disc = knowledge.conditions["disc_irritation"]
    assert "prompt medical assessment" in disc.treatment[0].text and disc.treatment[0].source == "guide"
    assert disc.safety_net is not None and "emergency" in disc.safety_net.text
    assert disc.outlook is not None


def test_every_condition_says_how_a_clinician_tells_it_apart(knowledge: Knowledge) -> None:
    assert all(c.tell_apart is not None for c in knowledge.conditions.values())


def test_cant_tell_answer_has_interim_self_care_safe_for_all(knowledge: Knowledge) -> None:
    care = " ".join(f.text.lower() for f in knowledge.education.interim_self_care)
    assert "keep moving" in care and "hop" in care  # stay active; the bone-stress stop rule


def test_about_gives_biomechanics_load_and_recovery(knowledge: Knowledge) -> None:
    fact = knowledge.education.load_and_recovery
    assert fact is not None and fact.source == "guide"
    assert all(w in fact.text for w in ("how you move", "how much you train", "recover", "out of balance"))


def test_post_run_stretches_have_a_place(knowledge: Knowledge) -> None:
    mobility = next(g for g in knowledge.prevention.groups if g.id == "mobility")
    ids = [e.id for e in mobility.exercises]
    assert {"hip_flexor_stretch", "hamstring_stretch", "glute_stretch"} <= set(ids)


def test_gluteal_tendinopathy_starts_with_isometric_holds(knowledge: Knowledge) -> None:
    exercises = [e.id for e in knowledge.conditions["gluteal_tendinopathy"].exercises]
    assert exercises[0] == "isometric_abduction_hold"
    assert exercises.index("isometric_abduction_hold") < exercises.index("side_lying_leg_raise")
