"""Issue 17, engine side: late disclosures read with the whole story in any state, corrections
after an emergency acknowledged without lowering it, and two problems triaged one after the other."""

from __future__ import annotations

import pytest

from conversations.engine import Engine
from conversations.session import Session
from tests.test_safety_layer import Chat

ONE_LEG_RESULT = ["pain from my back down the back of my left leg", "No", "None of these", "35", "10 days"]
HIP_RESULT = ["outside of my hip hurts when I lie on it", "No", "None of these", "35", "a month"]


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine()


def kinds(chat: Chat) -> list[str]:
    return [r.kind for r in chat.last]


def test_the_other_leg_after_a_result_merges_into_the_emergency(engine: Engine) -> None:
    chat = Chat(engine).play(*ONE_LEG_RESULT)
    assert "result" in kinds(chat)
    chat.send("forgot to say, my right leg started going the same way this afternoon")
    assert kinds(chat) == ["emergency"]
    assert "cauda_equina" in chat.last[0].flags


def test_the_session_keeps_the_clues_through_json(engine: Engine) -> None:
    chat = Chat(engine).play(*ONE_LEG_RESULT)
    chat.session = Session.from_json(chat.session.to_json())
    chat.send("my other leg has gone the same way")
    assert kinds(chat) == ["emergency"]


@pytest.mark.parametrize(
    ("after", "late", "flag"),
    [
        ([], "thanks. btw is it normal to lose a stone without trying and have night sweats?", "fever_weight_loss"),
        (["thanks"], "actually I can't feel it when I wipe after the loo", "cauda_equina"),
        (["/plan"], "by the way there's no urge to poo any more, feels odd", "cauda_equina"),
    ],
)
def test_late_disclosures_are_read_first_in_any_state(engine: Engine, after: list[str], late: str, flag: str) -> None:
    chat = Chat(engine).play(*HIP_RESULT, *after)
    chat.send(late)
    assert any(flag in r.flags for r in chat.last)


def test_going_for_a_run_is_not_a_bowel_sign(engine: Engine) -> None:
    chat = Chat(engine).play(*HIP_RESULT)
    chat.send("I don't feel it when I go running")
    assert "emergency" not in kinds(chat)


@pytest.mark.parametrize("correction", ["no, it's just the saddle, I was on the bike for hours", "sorry I meant no"])
def test_a_correction_after_an_emergency_is_acknowledged_not_lowered(engine: Engine, correction: str) -> None:
    chat = Chat(engine).play("pain in the lower back going down my leg to the foot", "yes")
    assert kinds(chat) == ["emergency"]
    reminder = Chat(engine).play("pain in the lower back going down my leg to the foot", "yes", "ok").last[0].plain
    chat.send(correction)
    reply = chat.last[0]
    assert reply.plain != reminder and "can't take the emergency advice back" in reply.plain
    assert "Start over" in [b.label for b in reply.buttons]
    assert not any(r.kind in ("result", "warning") for r in chat.last)
    chat.send("no really, it's only the saddle")  # said once: then the reminder
    assert "can't take the emergency advice back" not in chat.last[0].plain


def test_a_sign_the_context_explains_is_checked_inside_a_companion_flow(engine: Engine) -> None:
    chat = Chat(engine).play("/log", "my bum went numb on the bike yesterday but it has gone now")
    assert [r.asks for r in chat.last if r.kind == "question"] == ["confirm"]
    chat.send("no, none of those")
    assert "emergency" not in kinds(chat)


def test_two_problems_get_a_triage_each(engine: Engine) -> None:
    chat = Chat(engine).play(
        "my hip hurts at the front when I lift my knee and my lower back aches too", "No", "None of these", "35", "2 weeks"
    )
    results = [r for r in chat.last if r.kind == "result"]
    assert [r.condition for r in results] == ["hip_flexor_strain"]
    assert [r.asks for r in chat.last if r.kind == "question"] == ["location"]  # the back's own question
    chat.send("in the middle")
    assert any(r.kind == "result" for r in chat.last)


TWO_PROBLEMS = "my hip hurts at the front when I lift my knee and my lower back aches when I bend forward"


def test_two_regions_each_pointing_to_its_own_problem_get_a_triage_each(engine: Engine) -> None:
    chat = Chat(engine).play(TWO_PROBLEMS)
    assert chat.last[0].kind != "question" and "two problems" in chat.last[0].plain


@pytest.mark.parametrize(
    "one_pain",
    [
        "lower back pain that goes into my hip",
        "my hip pain spreads up into my lower back",
        "I'm 67, morning stiffness, deep groin ache and trouble putting on socks",  # hip osteoarthritis
    ],
)
def test_one_pain_across_both_regions_is_one_problem(engine: Engine, one_pain: str) -> None:
    chat = Chat(engine).play(one_pain)
    assert not any("two problems" in r.plain for r in chat.last)


def test_which_first_is_answered_and_the_back_question_comes_back(engine: Engine) -> None:
    chat = Chat(engine).play(TWO_PROBLEMS, "No", "None of these", "35", "4 days")
    pending = chat.session.top.step if chat.session.top else ""
    assert pending, "the back's triage should be under way"
    chat.send("which should I work on first?")
    answer = chat.last[0]
    assert answer.kind == "answer" and "first" in answer.plain
    assert chat.last[-1].kind == "question" and chat.last[-1].asks == pending
    assert not [r for r in chat.last if r.kind == "result"]  # the finished hip triage is not restarted


def test_which_first_under_a_warning_puts_the_warning_first(engine: Engine) -> None:
    chat = Chat(engine).play("my hip hurts at the front and it hurts to hop, my lower back aches too")
    chat.send("which one should I deal with first?")
    assert "get checked comes first" in " ".join(r.plain for r in chat.last)


def test_naming_the_region_in_hand_goes_on_with_it(engine: Engine) -> None:
    chat = Chat(engine).play(TWO_PROBLEMS, "No", "None of these", "35", "4 days")
    pending = chat.session.top.step if chat.session.top else ""
    chat.send("ok and the back?")
    assert "didn't catch" not in " ".join(r.plain for r in chat.last)
    assert chat.last[-1].asks == pending


def test_a_corrected_location_replaces_the_one_held(engine: Engine) -> None:
    chat = Chat(engine).play("outside of my hip hurts when I lift my knee")
    pending = chat.session.top.step if chat.session.top else ""
    chat.send("sorry, not the outside, the front. the crease at the front")
    assert "changed where it hurts" in chat.last[0].plain and chat.last[-1].asks == pending
    frame = chat.session.top
    assert frame is not None and "hip_front" in frame.concepts and "hip_side" not in frame.concepts


def test_a_no_said_on_its_own_answers_the_whole_safety_question(engine: Engine) -> None:
    chat = Chat(engine).play("pain at the side of my hip on stairs and lying on it")
    assert chat.last[-1].asks == "emergency_screen"
    chat.send("No. No saddle anaesthesia, continence normal, symptoms one side only")
    assert chat.last[-1].asks != "confirm"
    assert chat.last[-1].asks != "emergency_screen"


def test_a_partial_no_still_gets_the_rest_of_the_question(engine: Engine) -> None:
    chat = Chat(engine).play("pain at the side of my hip on stairs and lying on it")
    chat.send("no bladder problems")
    assert chat.last[-1].asks == "confirm"


def test_an_acknowledged_explanation_then_no_is_a_no(engine: Engine) -> None:
    chat = Chat(engine).play("pain at the side of my hip on stairs and lying on it")
    chat.send("what do you mean by saddle? like a bike saddle?")
    chat.send("oh right. no, nothing like that")
    assert chat.last[-1].asks not in ("emergency_screen", "confirm")
    assert "cauda_equina" not in chat.session.flags


def test_only_what_was_said_already_answers_the_checklist(engine: Engine) -> None:
    chat = Chat(engine).play("low back pain going down the back of my left leg, worse bending", "no")
    assert chat.last[-1].asks == "warning_screen"
    chat.send("only the leg pain I already said")
    assert chat.last[-1].asks != "warning_screen"
    assert not [r for r in chat.last if r.kind == "not_understood"]


def test_lifting_the_knee_typed_as_a_trigger_is_a_hip_clue_not_another_body_part(engine: Engine) -> None:
    chat = Chat(engine).play("Front of my hip where the leg joins the body")
    assert chat.last[-1].asks == "trigger"
    chat.send("lifting my knee, sprinting")
    assert not [r for r in chat.last if r.kind == "out_of_scope"]
    assert chat.last[-1].asks != "trigger"


def test_numb_on_one_side_and_tingling_on_the_other_is_both_legs(engine: Engine) -> None:
    chat = Chat(engine).play("lower back been grim since deadlifts on tues, worse bending forward")
    chat.send("oh and weirdly my left foot has been a bit numb today and my right one tingles too")
    assert kinds(chat) == ["emergency"]
    assert "cauda_equina" in chat.last[0].flags


def test_a_short_follow_up_is_about_what_was_just_shown(engine: Engine) -> None:
    chat = Chat(engine).play("/prevent")
    chat.send("how often should I do it?")
    answers = [r for r in chat.last if r.kind == "answer"]
    assert answers and answers[0].topic == "prevention", [r.plain for r in chat.last]
    assert "a week" in answers[0].plain


def test_the_topic_just_answered_survives_storage(engine: Engine) -> None:
    chat = Chat(engine).play("/prevent")
    assert Session.from_json(chat.session.to_json()).last_topic == "prevention"
