"""Issue 18 items 13–15 through the engine: staged plans moved by the next morning's log, the hop
test before walk-run, no plan while a warning says get seen first; /mileage from the 4-week
average; /log at 8–10/10 offering the warning-sign check."""

from __future__ import annotations

import datetime as dt

import pytest

from conversations import recovery as logic
from conversations.flows.recovery_common import companion_of
from conversations.recovery_records import Plan
from knowledge import default_knowledge
from knowledge.plans import default_plans
from tests.test_companion import START, Chat


def session_then_morning(chat: Chat, button: str = "Done ✓", pain: int = 2) -> None:
    """Today's session (the next day when today is a rest day), then the next morning's /log."""
    chat.send("/plan")
    if chat.asks() != "day":
        chat.day += dt.timedelta(days=1)
        chat.send("/plan")
    chat.press(button)
    chat.day += dt.timedelta(days=1)
    chat.send(f"/log pain {pain} no run")


def plan_at(chat: Chat, condition: str, phase: str = "", run_ready: bool = False) -> None:
    chat.store.save_plan(1, Plan(id="p", condition=condition, start=START.isoformat(), phase=phase, run_ready=run_ready))


# ----- item 13: staged plans -------------------------------------------------------------------------
DAY_ONE = [
    # condition, must appear, must not appear
    ("lumbar_strain", ["Stage 1 of 4: Keep moving", "Plank from the knees"], ["• Plank —", "Side plank"]),
    ("gluteal_tendinopathy", ["Side-of-hip isometric hold", "about 12 weeks"], ["• Side-lying", "• Clamshell", "• Bridge", "Walk-run, step"]),
    ("hip_flexor_strain", ["No exercises yet", "brisk walks only"], ["stretch", "Stretch"]),
    ("disc_irritation", ["about 8 weeks", "Bird dog"], ["• Plank —", "Walk-run, step"]),
]


@pytest.mark.parametrize(("condition", "must", "must_not"), DAY_ONE)
def test_day_one_is_the_first_stage_only(condition: str, must: list[str], must_not: list[str]) -> None:
    chat = Chat()
    chat.send(f"/plan {condition}")
    text = chat.text()
    for line in must:
        assert line in text
    for line in must_not:
        assert line not in text
    assert "Next:" in text and "unlocks after 3 more sessions" in text  # what unlocks the next


def test_the_calendar_alone_unlocks_nothing() -> None:
    chat = Chat()
    chat.send("/plan lumbar_strain")
    chat.day += dt.timedelta(days=21)  # not a rest day
    chat.send("/plan")
    assert "Stage 1 of 4" in chat.text() and "Bird dog" not in chat.text()


def test_good_mornings_unlock_the_next_stage() -> None:
    chat = Chat()
    chat.send("/plan lumbar_strain")
    session_then_morning(chat)
    session_then_morning(chat)
    assert "unlocked" not in chat.text()  # two sessions are not enough
    session_then_morning(chat)
    assert "Next stage unlocked: Core from the knees" in chat.text() and "Bird dog" in chat.text()
    chat.day += dt.timedelta(days=1)  # day 4 was a rest day
    chat.send("/plan")
    assert "Stage 2 of 4: Core from the knees — the stage before settled well" in chat.text()
    assert chat.records.plan is not None and chat.records.plan.phase == "build"


def test_a_sore_morning_holds_the_stage() -> None:
    chat = Chat()
    chat.send("/plan lumbar_strain")
    for pain in (2, 2, 5):
        session_then_morning(chat, pain=pain)
    assert "unlocked" not in chat.text()
    assert chat.records.plan is not None and chat.records.plan.phase == ""


def test_a_too_painful_session_steps_back_the_next_morning() -> None:
    chat = Chat()
    plan_at(chat, "lumbar_strain", phase="build")
    session_then_morning(chat, button="Too painful", pain=4)
    assert "Back to Keep moving for a few sessions" in chat.text()
    chat.send("/plan")
    assert "Stage 1 of 4" in chat.text() and "the morning after was sorer" in chat.text()


def test_the_hop_test_comes_before_walk_run() -> None:
    chat = Chat()
    plan_at(chat, "lumbar_strain", phase="build")
    for _ in range(3):
        session_then_morning(chat)
    assert chat.asks() == "hop" and "hop 10 times on the sore leg" in chat.text()
    assert chat.records.plan is not None and chat.records.plan.phase == "build"  # not before the answer
    chat.press("No")
    assert "Staying at Core from the knees" in chat.text() and "get it checked today" in chat.text()
    chat.day += dt.timedelta(days=1)
    session_then_morning(chat)
    assert chat.asks() == "hop"
    chat.press("Yes")
    assert "Next stage unlocked: Full plank and bridges" in chat.text()
    assert chat.records.plan is not None and chat.records.plan.phase == "full_core" and chat.records.plan.run_ready


def test_every_plan_ends_with_speed_hills_and_heavier_strength() -> None:
    for plan in default_plans().plans.values():
        assert plan.stages[-1].running == "full" and plan.stages[-1].max_share == 1.0
        walk_run = [s for s in plan.stages if s.running in ("walk_run", "easy_running")]
        assert walk_run[0].gate == "hop_test"  # the first stage with running has the hop test


def test_the_home_shows_the_stage_session() -> None:
    chat = Chat()
    plan_at(chat, "lumbar_strain", phase="build")
    chat.send("/menu")
    assert "Day 1 of 42 — today: stage 2, 4 exercises, easier dose" in chat.text()


@pytest.mark.parametrize("flags", [["bone_stress"], ["cancer_history_back_pain"], ["cannot_bear_weight"], ["fever_weight_loss"]])
def test_no_plan_while_a_warning_says_get_seen_first(flags: list[str]) -> None:
    chat = Chat()
    chat.session.flags = list(flags)
    chat.send("/plan lumbar_strain")
    assert "should see it before you start an exercise plan" in chat.text()
    assert chat.records.plan is None


def test_no_plan_for_a_young_athletes_hip() -> None:
    chat = Chat()
    chat.session.concerns = ["young_athlete_hip"]
    chat.send("/plan hip_flexor_strain")
    assert chat.records.plan is None


def test_no_plan_after_a_bone_stress_warning_in_words() -> None:
    chat = Chat()
    chat.send("my hip hurts even at rest and the pain is in one spot on the bone, it hurts when I hop")
    chat.send("/plan gluteal_tendinopathy")
    assert chat.records.plan is None and "Day 1" not in chat.text()


# ----- item 14: /mileage -----------------------------------------------------------------------------
MILEAGE = [
    # typed weeks, pain logged (or None), must appear, must not appear
    ("22 40", None, ["Step back to 22 km", "Week 1: 22 km", "Week 2: 24 km"], ["Week 1: 44"]),
    ("20 22 24", None, ["Week 1: 24 km"], ["Step back"]),
    ("30 30 32 30", 6, ["cut next week to 15 km", "Week 1: 15 km", "cross-training"], ["10 km long run", "Week 2", "tempo run,"]),
    ("30 30 32 30", 4, ["hold next week at 30.5 km"], ["Week 2", "tempo run,"]),
]


@pytest.mark.parametrize(("weeks", "pain", "must", "must_not"), MILEAGE)
def test_mileage(weeks: str, pain: int | None, must: list[str], must_not: list[str]) -> None:
    chat = Chat()
    if pain is not None:
        chat.send(f"/log pain {pain} no run")
    chat.send(f"/mileage {weeks}")
    text = chat.text()
    for line in must:
        assert line in text
    for line in must_not:
        assert line not in text


@pytest.mark.parametrize(
    "warning",
    [
        "my hip hurts even at rest and the pain is in one spot on the bone, it hurts when I hop",  # bone stress
        "sciatica down my left leg, and the foot has gone weak",  # weakness: today
    ],
)
def test_no_mileage_plan_while_a_warning_says_get_it_checked(warning: str) -> None:
    """A physio's review: /mileage planned 35 -> 42.5 km with tempo runs after 'stop running today'."""
    chat = Chat()
    chat.send(warning)
    chat.send("/mileage 35 38 40")
    text = chat.text()
    assert "before you build your running back up" in text
    assert "Week 1" not in text and "tempo" not in text


def test_without_a_warning_mileage_plans_the_weeks() -> None:
    chat = Chat()
    chat.send("/mileage 20 22 24")
    assert "Week 1: 24 km" in chat.text()


def test_no_running_distance_before_walk_run() -> None:
    chat = Chat()
    plan_at(chat, "gluteal_tendinopathy")
    chat.send("/mileage 30 30 30 30")
    assert "no running distance yet" in chat.text() and "Week 1" not in chat.text()


def test_never_more_than_the_stage_allows() -> None:
    chat = Chat()
    plan_at(chat, "si_joint_dysfunction", phase="build", run_ready=True)  # easy runs, half the distance
    chat.send("/mileage 30 30 30 30")
    assert "Week 1: 15 km" in chat.text() and "stage allows up to 15 km" in chat.text()


@pytest.mark.parametrize("km", [6, 9, 12, 18, 25, 33, 45, 60, 80])
@pytest.mark.parametrize("longest", [None, 3.0, 8.0, 20.0])
def test_no_easy_run_longer_than_the_long_run(km: float, longest: float | None) -> None:
    c = companion_of(default_knowledge())
    for easy_only in (False, True):
        week = logic.week_shape(c, km, longest, easy_only)
        assert week.easy_km <= week.long_km
        if longest and week.long_km > longest:
            assert week.long_km <= round(longest * 1.1 * 2) / 2 or week.long_km == week.easy_km  # +10% once at most


# ----- item 15: /log at 8–10 ------------------------------------------------------------------------
@pytest.mark.parametrize("pain", [8, 10])
def test_severe_pain_offers_the_warning_sign_check(pain: int) -> None:
    chat = Chat()
    chat.send(f"/log pain {pain}")
    text = chat.text()
    assert f"Pain {pain}/10 is a lot" in text and "shall we go through the quick warning-sign check?" in text
    assert "too much to train through" not in text and "deserves a quick check" not in text  # one message
    labels = [b.label for r in chat.last.replies for b in r.buttons] if chat.last else []
    assert "Check warning signs" in labels and "Not now" in labels
    chat.press("Not now")
    assert chat.asks() == "run"  # the log goes on
    chat.send(f"/log pain {pain}")
    chat.press("Check warning signs")
    assert chat.session.top is not None and chat.session.top.flow == "check"  # the /redflags check


def test_pain_seven_gets_no_check_offer() -> None:
    chat = Chat()
    chat.send("/log pain 7")
    assert "too much to train through" in chat.text() and "Check warning signs" not in chat.text()


# ----- every stage's card fits a phone ---------------------------------------------------------------
@pytest.mark.parametrize("condition", sorted(default_plans().plans))
def test_every_stage_card_fits_a_phone(condition: str) -> None:
    from conversations.phone import phone_lines

    for stage in default_plans().plans[condition].stages:
        chat = Chat()
        chat.store.save_plan(1, Plan(id="p", condition=condition, start=START.isoformat(), phase=stage.id, phase_sessions=2, run_ready=True))
        chat.send("/plan")  # day 1 is a run day: the walk-run step shows on a walk-run stage
        card = next(r for r in chat.last.replies if r.topic == "plan") if chat.last else None
        assert card is not None and f"Stage {default_plans().plans[condition].index(stage.id) + 1} of" in card.plain
        assert phone_lines(card.text) <= 20, (condition, stage.id)
