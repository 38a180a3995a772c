"""Issue 18, the clinical content: one table per item — what the data and the safety functions
must say, and what they must not.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from knowledge import Knowledge, KnowledgeError, Matcher, load_knowledge
from knowledge.loader import DATA_DIR
from knowledge.model import Answer, Fact, Urgency
from knowledge.plans import default_plans, load_plans, mileage_target, next_stage
from knowledge.recovery_data import default_companion
from knowledge.safety import (
    advice_for_flags,
    age_concerns,
    answer_held_back,
    cancer_history_flag,
    contradictions,
    default_safety,
    floor_wording,
    load_safety,
    running_stance,
    safety_net,
    seek_help,
    shown_facts,
    situation,
    situation_facts,
    urgency_worded,
)


def _lower(texts: list[str]) -> str:
    return " ".join(texts).lower()


def _every_answer(knowledge: Knowledge) -> list[Answer]:
    return [a for by_condition in knowledge.answers.values() for a in by_condition.values()]


def _card_facts(knowledge: Knowledge, condition_id: str) -> list[Fact]:
    c = knowledge.conditions[condition_id]
    extra = (c.see_a_clinician, c.safety_net, c.outlook, c.tell_apart)
    return [c.cause, c.symptoms, *c.treatment, *(f for f in extra if f is not None)]


# ----- item 1: each warning's own advice, and what it holds back ------------------------------------
ACTIONS = ("stop", "see ", "get ", "go ", "book", "contact", "call")


def test_every_warning_sign_has_advice_a_runner_can_act_on(knowledge: Knowledge) -> None:
    signs = [*knowledge.red_flags.values(), *knowledge.concerns.values()]
    missing = [s.id for s in signs if not s.advice or not any(a in s.advice.lower() for a in ACTIONS)]
    assert not missing


def test_bone_stress_advice_says_what_to_do() -> None:
    from knowledge import default_knowledge

    advice = default_knowledge().red_flags["bone_stress"].advice or ""
    for must in ("Stop running", "If walking hurts or you limp", "weight off", "today", "No stretching", "no exercises"):
        assert must in advice


HOLD_BACK = [
    # (raised ids, urgency, kinds held back (exactly), a phrase the first line must hold)
    (["bone_stress"], Urgency.URGENT, {"keep_running", "stretching", "exercises", "load"}, "weight off"),
    (["cauda_equina", "night_pain"], Urgency.EMERGENCY, {"keep_running", "stretching", "exercises", "load"}, "emergency department"),
    (["persistent_pain"], Urgency.SOON, {"load"}, "no increases"),
    (["numbness_tingling"], Urgency.SOON, {"load", "keep_running"}, "few days"),
    (["young_athlete_back"], Urgency.SOON, {"load", "keep_running", "stretching", "exercises"}, "Book"),
    (["cancer_history_back_pain"], Urgency.URGENT, {"load", "keep_running", "stretching", "exercises"}, "today"),
    ([], Urgency.SELF_CARE, set(), None),
]


@pytest.mark.parametrize(("ids", "urgency", "held", "phrase"), HOLD_BACK, ids=lambda v: str(v)[:30])
def test_advice_for_flags(knowledge: Knowledge, ids: list[str], urgency: Urgency, held: set[str], phrase: str | None) -> None:
    advice = advice_for_flags(knowledge, ids)
    assert advice.urgency == urgency
    assert advice.held == held
    if phrase:
        assert phrase in advice.lines[0]


def test_an_emergency_is_said_alone(knowledge: Knowledge) -> None:
    advice = advice_for_flags(knowledge, ["night_pain", "cauda_equina", "bone_stress"])
    assert len(advice.lines) == 1 and "emergency department now" in advice.lines[0]


def test_held_back_advice_is_not_shown(knowledge: Knowledge) -> None:
    stress = advice_for_flags(knowledge, ["bone_stress"])
    gluteal = knowledge.conditions["gluteal_tendinopathy"].treatment
    shown = shown_facts(gluteal, stress.held)
    assert shown and not any(f.kind in ("exercises", "load") for f in shown)
    assert answer_held_back(knowledge.answers["keep_running"]["general"], stress)
    assert answer_held_back(knowledge.answers["stretching"]["general"], stress)
    assert not answer_held_back(knowledge.answers["red_flags"]["general"], stress)
    assert not answer_held_back(knowledge.answers["keep_running"]["general"], advice_for_flags(knowledge, []))


def test_advice_lines_are_marked_for_holding_back(knowledge: Knowledge) -> None:
    facts = [f for c in knowledge.conditions.values() for f in c.treatment]
    facts += [f for a in _every_answer(knowledge) for f in a.facts]
    unmarked = [f.text for f in facts if "see the exercises" in f.text and f.kind != "exercises"]
    assert not unmarked
    for answer in knowledge.answers["keep_running"].values():
        assert all(f.kind == "keep_running" for f in answer.facts)


# ----- item 3: the safety net, from one place --------------------------------------------------------
NET = {
    "lower_back": ["emergency department now", "bladder or bowel", "between your legs", "bottom", "both legs", "erection"],
    "hip": ["today", "hop", "walk", "night", "every run", "stress fracture"],
}


@pytest.mark.parametrize("condition_id", ["hip_flexor_strain", "gluteal_tendinopathy", "it_band_syndrome", "lumbar_strain", "si_joint_dysfunction", "disc_irritation"])
def test_every_card_that_says_when_to_see_someone_names_the_safety_net(knowledge: Knowledge, condition_id: str) -> None:
    condition = knowledge.conditions[condition_id]
    assert condition.safety_net is safety_net(knowledge, condition.region)
    text = _lower([f.text for f in seek_help(knowledge, condition_id)])
    assert all(term in text for term in NET[condition.region]), text
    # the guide's signs are still there, after the net; its 7–10 days gives way to the card's one time
    assert "wakes you" in text and "7–10 days" not in text
    assert "7–10 days" in _lower([f.text for f in seek_help(knowledge, None)])
    lines = seek_help(knowledge, condition_id)
    assert lines.index(condition.safety_net) < lines.index(knowledge.education.seek_help[-1])
    assert len(lines) + 2 <= 20  # title + lines: a phone screen


def test_the_safety_net_text_exists_once(knowledge: Knowledge) -> None:
    nets = {f.text for f in knowledge.education.safety_net.values()}
    facts = [f for c in knowledge.conditions.values() for f in (*c.treatment, c.see_a_clinician, c.outlook) if f]
    assert not [f.text for f in facts if f.text in nets]


# ----- item 4: cancer history ------------------------------------------------------------------------
def test_cancer_history_is_a_same_day_redflags_item(knowledge: Knowledge) -> None:
    flag = cancer_history_flag()
    assert flag.urgency == Urgency.URGENT and "nice_ng234" in flag.sources
    assert "cancer" in flag.question and ("new" in flag.question and "night" in flag.question)
    assert "today" in (flag.advice or "") and "emergency department now" in (flag.advice or "")
    assert set(default_safety().cancer_escalates_with) == {"leg_weakness", "cauda_equina"}
    assert "ng234" in knowledge.sources["nice_ng234"]


# ----- item 5: age -----------------------------------------------------------------------------------
def test_age_question_buttons() -> None:
    safety = default_safety()
    assert list(safety.age_bands.values()) == ["Under 16", "16–19", "20–49", "50+"]
    assert safety.age_skip and "skip" in safety.age_question.lower()


AGE_RULES = [
    ("under_16", None, {"gait_sign"}, ("child_limp",)),  # a limp with knee pain only: no region of ours
    ("16_19", "hip", {"gait_sign"}, ("child_limp",)),
    ("20_49", "hip", {"gait_sign"}, ()),
    ("under_16", "lower_back", {"bend_backward"}, ("teen_back_arching",)),
    ("16_19", "lower_back", {"twisting"}, ()),
    ("50_plus", "lower_back", set(), ("over_50_new_back_pain",)),
    ("50_plus", "lower_back", {"recurring_pain"}, ()),
    ("50_plus", "hip", set(), ()),
    (None, "hip", {"gait_sign"}, ()),  # skipped
]


@pytest.mark.parametrize(("band", "region", "concepts", "rules"), AGE_RULES, ids=lambda v: str(v)[:20])
def test_age_rules(band: str | None, region: str | None, concepts: set[str], rules: tuple[str, ...]) -> None:
    assert age_concerns(band, region, concepts) == rules


def test_age_headlines_name_the_action() -> None:
    headlines = default_safety().age_headlines
    assert "today" in headlines["child_limp"].text and "knee" in headlines["child_limp"].text
    assert "spondylolysis" in headlines["teen_back_arching"].text
    assert "after 50" in headlines["over_50_new_back_pain"].text


# ----- item 7: the conditions, current advice first --------------------------------------------------
FIRST_STEP = [
    # (condition, first treatment line must hold, the whole card must not hold)
    ("lumbar_strain", ["stay active"], ["rest it", "calm it down with ice"]),
    ("hip_flexor_strain", ["1–3 days", "no stretching"], ["to help blood flow", "improve blood flow"]),
    ("gluteal_tendinopathy", ["holds", "weight-bearing"], ["starting with side-lying"]),
    ("it_band_syndrome", ["ease the load"], ["foam-roll along", "tight iliotibial band rubbing"]),
    ("disc_irritation", ["prompt medical assessment", "within a few days"], ["without enough core support", "better posture"]),
]


@pytest.mark.parametrize(("condition_id", "must", "must_not"), FIRST_STEP, ids=lambda v: str(v)[:24])
def test_current_advice_comes_first(knowledge: Knowledge, condition_id: str, must: list[str], must_not: list[str]) -> None:
    condition = knowledge.conditions[condition_id]
    first = condition.treatment[0].text.lower()
    assert all(m in first for m in must), first
    card = _lower([f.text for f in _card_facts(knowledge, condition_id)])
    assert not [m for m in must_not if m in card]


def test_what_helps_is_about_four_items(knowledge: Knowledge) -> None:
    assert all(3 <= len(c.treatment) <= 4 for c in knowledge.conditions.values())


def test_hip_flexor_stretching_comes_after_the_protect_days(knowledge: Knowledge) -> None:
    treatment = knowledge.conditions["hip_flexor_strain"].treatment
    stretch = [i for i, f in enumerate(treatment) if f.kind == "stretching"]
    assert stretch and min(stretch) > 0 and "after those first days" in treatment[stretch[0]].text.lower()
    assert "start only after the first 1–3 days" in (knowledge.exercises["hip_flexor_stretch"].progression or "").lower()


def test_hip_flexor_has_one_see_someone_rule(knowledge: Knowledge) -> None:
    texts = [f.text for f in _card_facts(knowledge, "hip_flexor_strain")]
    for topic in ("see_clinician", "recovery_time", "keep_running"):
        answer = knowledge.answers[topic]["hip_flexor_strain"]
        texts += [f.text for f in answer.facts] + ([answer.caveat] if answer.caveat else [])
    timelines = set(re.findall(r"(\d+(?:–\d+)? weeks?)", " ".join(t for t in texts if re.search(r"see|checked|physio", t))))
    assert timelines <= {"2 weeks", "8 weeks"}, timelines  # 8: the NHS's no-running span, not a see-someone time


def test_gluteal_tendinopathy_cause_and_order(knowledge: Knowledge) -> None:
    gt = knowledge.conditions["gluteal_tendinopathy"]
    assert gt.cause.source == "grimaldi_2015" and "squeezed" in gt.cause.text and "load" in gt.cause.text
    assert gt.exercises[0].id == "isometric_abduction_hold"


def test_it_band_drops_the_foam_roll_and_adds_the_hold(knowledge: Knowledge) -> None:
    itb = knowledge.conditions["it_band_syndrome"]
    ids = [e.id for e in itb.exercises]
    assert "outer_thigh_foam_roll" not in ids and ids[0] == "isometric_abduction_hold"
    assert "compression" in itb.cause.text and "snapping" in itb.cause.text
    # no stop rule that every IT band runner meets (their sore spot *is* the bony point)
    assert not [e.id for e in itb.exercises if "bony point" in (e.stop_if or "")]


# ----- item 8: sciatica, one rule --------------------------------------------------------------------
def test_sciatica_has_one_rule_in_cards_and_answers(knowledge: Knowledge) -> None:
    disc = knowledge.conditions["disc_irritation"]
    rule = disc.see_a_clinician
    assert rule is not None and "within a few days" in rule.text and "today" in rule.text and "foot drops" in rule.text
    assert knowledge.answers["see_clinician"]["disc_irritation"].facts[0].text == rule.text
    assert disc.urgency_floor == Urgency.URGENT  # the scorers' id stays
    wording = floor_wording("disc_irritation")
    assert wording is not None and "prompt" in wording[0].lower() and "within a few days" in wording[1].text
    texts = _lower([f.text for f in _card_facts(knowledge, "disc_irritation")])
    assert "straight away" not in texts and "at once" not in texts


# ----- item 9: answers quote urgency from red_flags.yaml ---------------------------------------------
def _clauses(text: str) -> list[str]:
    return [c for c in re.split(r"(?<=[.;!?])\s+", text) if c]


def test_no_answer_words_a_sign_lower_than_red_flags_yaml(knowledge: Knowledge, matcher: Matcher) -> None:
    """Each sentence of every answer that names warning signs and words an urgency words at
    least the signs' urgency (the signs found by the matcher, said or denied)."""
    low = []
    for answer in _every_answer(knowledge):
        for clause in _clauses(answer.text):
            worded = urgency_worded(clause)
            if worded is None:
                continue
            reading = matcher.read(clause)
            flags = matcher.red_flags(reading.concepts | reading.negated)
            needed = max((knowledge.red_flags[f].urgency for f in flags), default=Urgency.SELF_CARE)
            if worded < needed:
                low.append((answer.topic, answer.condition, clause, flags))
    assert not low


def test_the_warning_signs_answer_says_today_for_today_signs(knowledge: Knowledge) -> None:
    text = knowledge.answers["red_flags"]["general"].text
    today = next(c for c in _clauses(text) if "weak" in c)
    assert today.startswith(knowledge.urgency_advice[Urgency.URGENT].title)
    assert "hopping" in today and "fall" in today and "fever" in today


# ----- item 10: painkillers and heat -----------------------------------------------------------------
def test_nsaids_for_sciatica_and_heat_on_numb_skin(knowledge: Knowledge) -> None:
    answer = knowledge.answers["painkillers"]["disc_irritation"]
    assert "may help" not in answer.text and "no better than a dummy pill" in answer.text
    assert "cochrane_nsaid_sciatica_2016" in {f.source for f in answer.facts}
    for key in ("general", "disc_irritation"):
        assert "numb" in knowledge.answers["ice_heat"][key].text


# ----- item 11: outdated lines -----------------------------------------------------------------------
OUTDATED = ["without enough core support", "better posture", "switched on for the whole run", "hip or sacral stress fracture"]


def test_outdated_lines_are_gone(knowledge: Knowledge) -> None:
    facts = [f for c in knowledge.conditions for f in _card_facts(knowledge, c)]
    facts += [f for a in _every_answer(knowledge) for f in a.facts]
    facts += [i for g in knowledge.prevention.groups for i in g.items]
    text = _lower([f.text for f in facts])
    assert not [o for o in OUTDATED if o in text]
    nielsen = [f.text for f in facts if f.source == "nielsen_2014"]
    assert nielsen and all("tended to" in t for t in nielsen)
    assert all("knee" in f.text for f in facts if f.source == "beals_2013")
    assert "MRI" in knowledge.answers["other"]["general"].text


# ----- item 12: special situations -------------------------------------------------------------------
SITUATIONS = [
    ("I'm 30 weeks pregnant and my pubic bone hurts when I run", "pregnancy_pelvic_pain", "physiotherapist"),
    ("I had a hip replacement on my left two years ago, now my right hip hurts", "hip_replacement_other_side", "surgical team"),
    ("Got a fever and my back aches, I'll just run it off tomorrow", "fever_run_it_off", "today"),
    ("my hip hurts when I run", None, None),
    ("pregnant and happy, what shoes should I buy", None, None),
]


@pytest.mark.parametrize(("text", "key", "phrase"), SITUATIONS, ids=lambda v: str(v)[:24])
def test_special_situations(text: str, key: str | None, phrase: str | None) -> None:
    assert situation(text) == key
    if key and phrase:
        assert phrase in " ".join(f.text for f in situation_facts(key))


# ----- item 16: sources ------------------------------------------------------------------------------
MERGED = ["peace_love", "leap_trial", "cochrane_heat", "pain_monitoring", "foam_rolling_review", "itb_release", "gluteal_physio", "stretching_trials", "nhs_back_sciatica"]


def test_every_source_is_traceable_and_once(knowledge: Knowledge) -> None:
    untraceable = [k for k, v in knowledge.sources.items() if k != "guide" and not (re.search(r"\b(19|20)\d\d\b", v) and re.search(r"doi:|https?://|shared/", v))]
    assert not untraceable
    assert not set(MERGED) & set(knowledge.sources)
    dois = [d for v in knowledge.sources.values() for d in re.findall(r"doi:(\S+?)[;,.]?(?:\s|$)", v)]
    assert len(dois) == len(set(dois))


def test_claims_cite_a_source_that_says_them(knowledge: Knowledge) -> None:
    assert knowledge.exercises["knee_plank"].source != "nice_ng59"
    assert all(c.tell_apart is None or c.tell_apart.source != "nice_ng59" for c in knowledge.conditions.values())


# ----- the contradiction test ------------------------------------------------------------------------
def test_the_stance_reader() -> None:
    assert running_stance("Stop running and get seen today.") == {"stop"}
    assert running_stance("Stop running if it hurts to hop.") == set()
    assert running_stance("You can keep running at an easy pace.") == {"keep"}
    assert contradictions(["Stop running.", "Keep running at an easy pace."])
    assert not contradictions(["Stop running if hopping hurts.", "Keep running at an easy pace."])


@pytest.mark.parametrize("condition_id", ["hip_flexor_strain", "gluteal_tendinopathy", "it_band_syndrome", "lumbar_strain", "si_joint_dysfunction", "disc_irritation"])
def test_no_card_says_both_stop_and_keep_running(knowledge: Knowledge, condition_id: str) -> None:
    assert not contradictions([f.text for f in _card_facts(knowledge, condition_id)])


def test_no_answer_says_both_stop_and_keep_running(knowledge: Knowledge) -> None:
    clashes = {(a.topic, a.condition): contradictions([f.text for f in a.facts] + [a.caveat or ""]) for a in _every_answer(knowledge)}
    assert not {k: v for k, v in clashes.items() if v}


def test_the_urgency_check_catches_the_old_warning_signs_answer(knowledge: Knowledge, matcher: Matcher) -> None:
    old = "Get seen soon for leg weakness, pain after a fall, fever, or pain on hopping."
    reading = matcher.read(old)
    flags = matcher.red_flags(reading.concepts | reading.negated)
    worded = urgency_worded(old)
    assert worded is not None and worded < max(knowledge.red_flags[f].urgency for f in flags)


# ----- items 13–15: staged plans, /mileage, /log at 8–10 -------------------------------------------

ORDER = [
    # (condition, exercise, must not be unlocked before this one)
    ("gluteal_tendinopathy", "side_lying_leg_raise", "isometric_abduction_hold"),
    ("it_band_syndrome", "side_lying_leg_raise", "isometric_abduction_hold"),
    ("lumbar_strain", "plank", "knee_plank"),
    ("disc_irritation", "plank", "knee_plank"),
]


def _first_stage(condition: str, exercise: str) -> int:
    plan = default_plans().plans[condition]
    return next(i for i, s in enumerate(plan.stages) if exercise in s.exercises)


@pytest.mark.parametrize(("condition", "later", "earlier"), ORDER, ids=lambda v: str(v)[:20])
def test_each_exercise_unlocks_after_its_own_rule(condition: str, later: str, earlier: str) -> None:
    assert _first_stage(condition, later) > _first_stage(condition, earlier)


def test_no_plan_starts_with_a_stretch_or_a_full_plank() -> None:
    for plan in default_plans().plans.values():
        first = plan.stages[0].exercises
        assert "hip_flexor_stretch" not in first and "plank" not in first and "side_lying_leg_raise" not in first
    hip_flexor = default_plans().plans["hip_flexor_strain"]
    assert hip_flexor.stages[0].exercises == () and _first_stage("hip_flexor_strain", "hip_flexor_stretch") >= 2


PLAN_LENGTH = [("gluteal_tendinopathy", 12), ("it_band_syndrome", 8), ("hip_flexor_strain", 6), ("lumbar_strain", 6)]


@pytest.mark.parametrize(("condition", "weeks"), PLAN_LENGTH)
def test_plan_length(condition: str, weeks: int) -> None:
    assert default_plans().plans[condition].weeks == weeks


def test_every_plan_gates_running_on_the_hop_test_and_ends_with_speed_and_hills() -> None:
    for plan in default_plans().plans.values():
        running = [s for s in plan.stages if s.running in ("walk_run", "easy_running", "full")]
        assert running[0].gate == "hop_test", plan.condition
        final = plan.stages[-1]
        assert final.running == "full" and final.max_share == 1.0
        assert all(a.max_share <= b.max_share for a, b in zip(plan.stages, plan.stages[1:], strict=False))
    assert "hop" in default_companion().fact("hop_test") and "calendar" in default_companion().fact("unlock_rule")


STAGE_MOVES = [
    # (current, sessions, morning pains, too painful, gate passed, expected)
    ("isometric", 3, [2, 2], False, True, "isotonic"),
    ("isometric", 3, [2, 2], False, False, "isometric"),  # the next stage needs the hop test
    ("isometric", 2, [1, 1], False, True, "isometric"),  # not enough sessions, however many days
    ("isotonic", 5, [2, 4], False, True, "isometric"),  # pain rose the next morning: back
    ("isotonic", 5, [4, 4], False, True, "isotonic"),  # above the comfortable range: hold
    ("weight_bearing", 1, [1], True, True, "isotonic"),  # too painful: back
    ("weight_bearing", 4, [1, 1], False, False, "final"),
    ("final", 9, [0, 0], False, True, "final"),
]


@pytest.mark.parametrize(("current", "sessions", "pains", "painful", "gate", "expected"), STAGE_MOVES)
def test_stages_move_by_the_24_hour_response(current: str, sessions: int, pains: list[int], painful: bool, gate: bool, expected: str) -> None:
    plan = default_plans().plans["gluteal_tendinopathy"]
    assert next_stage(plan, current, sessions, pains, too_painful=painful, gate_passed=gate) == expected


MILEAGE = [
    # (weeks, pain, stage id or None, base km, expected km, why)
    ([20, 20, 20, 20], 2, None, None, 22.0, "build"),
    ([40, 20, 20, 20, 20], 2, None, None, 22.0, "build"),  # the last 4 weeks only
    ([20, 20, 20, 20], 4, None, None, 20.0, "hold"),
    ([20, 20, 20, 20], 7, None, None, 10.0, "cut"),
    ([20, 20, 20, 20], 1, "isotonic", 40, 20.0, "stage_cap"),  # 0.5 × 40
    ([10, 10, 10, 10], 1, "isotonic", 40, 11.0, "build"),
    ([20, 20, 20, 20], 1, "isometric", 40, 0.0, "stage_cap"),  # walking only
]


@pytest.mark.parametrize(("weeks", "pain", "stage", "base", "km", "why"), MILEAGE)
def test_mileage(weeks: list[float], pain: float, stage: str | None, base: float | None, km: float, why: str) -> None:
    plans = default_plans()
    chosen = plans.plans["gluteal_tendinopathy"].stage(stage) if stage else None
    assert mileage_target(plans.mileage, weeks, pain, chosen, base) == (km, why)


def test_log_at_8_or_more_offers_the_warning_sign_check() -> None:
    companion = default_companion()
    assert companion.number("pain_severe") == 8
    text = companion.message("log_pain_severe", pain=9)
    assert "9/10" in text and "warning-sign check" in text and "Rest from running" in text
    assert companion.message("log_option_check_signs")


# ----- the data fails loudly when it points at nothing ----------------------------------------------
def _broken_copy(tmp_path: Path, file: str, old: str, new: str) -> Path:
    copy = tmp_path / "data"
    shutil.copytree(DATA_DIR, copy)
    text = (copy / file).read_text(encoding="utf-8")
    assert old in text
    (copy / file).write_text(text.replace(old, new, 1), encoding="utf-8")
    return copy


def test_an_urgency_placeholder_must_name_a_flag(tmp_path: Path) -> None:
    copy = _broken_copy(tmp_path, "answers.yaml", "{urgency:bone_stress}", "{urgency:bone_stres}")
    with pytest.raises(KnowledgeError, match="bone_stres"):
        load_knowledge(copy)


def test_a_safety_net_is_needed_per_region(tmp_path: Path) -> None:
    copy = _broken_copy(tmp_path, "education.yaml", "  hip:\n    text: Stop running", "  hips:\n    text: Stop running")
    with pytest.raises(KnowledgeError, match="hips"):
        load_knowledge(copy)


def test_safety_and_plans_data_are_checked(tmp_path: Path) -> None:
    copy = _broken_copy(tmp_path, "companion.yaml", "exercises: [isometric_abduction_hold]}", "exercises: [isometric_hold]}")
    knowledge = load_knowledge(copy)
    with pytest.raises(KnowledgeError, match="isometric_hold"):
        load_plans(knowledge, copy)
    copy2 = _broken_copy(tmp_path / "b", "safety.yaml", "concern: young_athlete_hip", "concern: young_hip")
    with pytest.raises(KnowledgeError, match="young_hip"):
        load_safety(load_knowledge(copy2), copy2)


def test_every_card_is_a_phone_screen_long(knowledge: Knowledge, matcher: Matcher) -> None:
    from tests.test_rendering import every_card

    long = {name: reply.text.count("\n") + 1 for name, reply in every_card(knowledge, matcher) if reply.text.count("\n") >= 20}
    assert not long


def test_an_answer_that_names_a_today_sign_says_what_to_do_about_it(knowledge: Knowledge, matcher: Matcher) -> None:
    """Naming a sign rated today or emergency without saying how soon is not enough."""
    silent = []
    for answer in _every_answer(knowledge):
        reading = matcher.read(answer.text)
        flags = matcher.red_flags(reading.concepts | reading.negated)
        needed = max((knowledge.red_flags[f].urgency for f in flags), default=Urgency.SELF_CARE)
        worded = max((u for c in _clauses(answer.text) if (u := urgency_worded(c)) is not None), default=None)
        if needed >= Urgency.URGENT and (worded is None or worded < min(needed, Urgency.URGENT)):
            silent.append((answer.topic, answer.condition, flags))
    assert not silent
