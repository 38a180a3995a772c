"""The matcher, capability by capability: one table row per message, one failure per row."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from knowledge import Matcher, Urgency
from tests.conftest import TEST_DATA, read_jsonl

# (message, expected condition or None)
TYPOS_AND_TEXT_SPEAK = [
    ("lowr bak pain wen bending backwards", "lumbar_strain"),
    ("outsid of my hip keeps snappin wen i run", "it_band_syndrome"),
    ("frnt of my hip hurts wen i lift my nee", "hip_flexor_strain"),
    ("sore side of hip n stairs r the worst, cant lie on it", "gluteal_tendinopathy"),
    ("deep ache rite side of lowr back, twistin makes it worse", "si_joint_dysfunction"),
    ("pain goin down my leg from my bak n tingly toes", "disc_irritation"),
]
LAY_WORDS = [
    ("pain in my groin crease when I drive my knee up", "hip_flexor_strain"),
    ("deep ache in my left butt cheek near my lower back, twisting hurts", "si_joint_dysfunction"),
    ("my bum aches deep on one side when I twist", "si_joint_dysfunction"),
    ("sharp pop over my hip bone on the outside when I run", "it_band_syndrome"),
    ("pins and needles down my calf", "disc_irritation"),
    ("sciatic pain down my right leg", "disc_irritation"),
    ("my SI is sore again on the left", "si_joint_dysfunction"),
    ("ITB snapping at the hip on runs", "it_band_syndrome"),
    ("glute med is weak and the side of my hip aches on stairs", "gluteal_tendinopathy"),
]
NAMES_TYPED_DIRECTLY = [
    ("hip flexor strain", "hip_flexor_strain"),
    ("gluteal tendinopathy", "gluteal_tendinopathy"),
    ("gluteal tendonopathy", "gluteal_tendinopathy"),
    ("IT band syndrome", "it_band_syndrome"),
    ("iliotibial band syndrome", "it_band_syndrome"),
    ("lumbar strain", "lumbar_strain"),
    ("sacroiliac joint dysfunction", "si_joint_dysfunction"),
    ("sacroilliac joint pain", "si_joint_dysfunction"),
    ("disc bulge", "disc_irritation"),
    ("herniated disk", "disc_irritation"),
    ("sciatica", "disc_irritation"),
]
SPELLINGS = [
    ("lower back sore in the centre when I lean back", "lumbar_strain"),
    ("lower back sore in the center when I lean back", "lumbar_strain"),
    ("pain on one side of my bottom and lower back when I twist", "si_joint_dysfunction"),
    ("pain on one side of my butt and lower back when I twist", "si_joint_dysfunction"),
    ("hip hurts at the front when lifting my knee to put my trousers on", "hip_flexor_strain"),
]
TERSE_NOTES = [
    ("Right hip, front, sprinting.", "hip_flexor_strain"),
    ("hip - outside - snaps - running", "it_band_syndrome"),
    ("low back; middle; leaning back", "lumbar_strain"),
]
EMOJI_AND_CAPS = [
    ("FRONT OF MY HIP HURTS WHEN I SPRINT", "hip_flexor_strain"),
    ("🏃‍♀️ outside of my hip 💥 snaps every run 😩", "it_band_syndrome"),
    ("Lower back 😣 hurts when I lean back 🙃", "lumbar_strain"),
]
LONG_RAMBLING = [
    (
        "Sorry for the essay. I'm 45, I've been running on and off since university, mostly 5k and 10k, "
        "and I've done a couple of half marathons. My diet is fine and I sleep well. I changed jobs in the "
        "summer and now commute by train, and last month I bought new trainers that feel great. On Sunday "
        "my club did a long hilly route and everyone was chatting about autumn races. Since then the side of "
        "my hip aches whenever I climb the stairs at the station and I can't get comfy lying on that side. "
        "Anyway, what do you think?",
        "gluteal_tendinopathy",
    ),
    ("Blah blah " * 300 + "front of my hip hurts when I sprint", "hip_flexor_strain"),
]
OUT_OF_SCOPE_AND_VAGUE = [
    ("my knee hurts on the outside after 5 miles", None),
    ("shin pain when I run", None),
    ("achilles is sore in the morning", None),
    ("heel pain first thing", None),
    ("what's a good marathon pace?", None),
    ("hi!", None),
    ("Mi duele la espalda baja", None),
    ("мне больно", None),
    ("my hip hurts", None),
    ("back pain", None),
    ("hip and back both a bit sore after the race", None),
]
ALL_CONDITION_ROWS = (
    TYPOS_AND_TEXT_SPEAK
    + LAY_WORDS
    + NAMES_TYPED_DIRECTLY
    + SPELLINGS
    + EMOJI_AND_CAPS
    + OUT_OF_SCOPE_AND_VAGUE
)


@pytest.mark.parametrize(("message", "expected"), ALL_CONDITION_ROWS)
def test_condition(matcher: Matcher, message: str, expected: str | None) -> None:
    assert matcher.match(message).condition == expected


@pytest.mark.parametrize(("message", "expected"), LONG_RAMBLING, ids=["essay", "padding"])
def test_clue_buried_in_a_long_message(matcher: Matcher, message: str, expected: str) -> None:
    assert matcher.match(message).condition == expected


# (message, flags that must be raised)
RED_FLAGS = [
    ("I can't control my bladder and my back hurts", {"cauda_equina"}),
    ("numb between my legs since this morning", {"cauda_equina"}),
    ("sciatica in both legs now", {"cauda_equina"}),
    ("pooed myself and my back is agony", {"cauda_equina"}),
    ("can't put any weight on my right leg", {"cannot_bear_weight"}),
    ("hopping on it hurts like mad", {"cannot_bear_weight"}),
    ("fell off my bike onto my hip", {"trauma"}),
    ("slipped on ice and landed on my back", {"trauma"}),
    ("back pain and a fever", {"fever_weight_loss"}),
    ("lost 6 kg without trying and my back aches", {"fever_weight_loss"}),
    ("my leg keeps giving way", {"leg_weakness"}),
    ("my foot drops and catches on the kerb", {"leg_weakness"}),
    ("pain shoots down my leg", {"radiating_leg_pain"}),
    ("tingling in my foot", {"numbness_tingling"}),
    ("the pain wakes me up at night", {"night_pain"}),
    ("I'm limping", {"gait_change"}),
    ("it has hurt for three weeks even with rest", {"persistent_pain"}),
    ("the pain in my hip started 3 weeks ago", {"persistent_pain"}),
    ("had cancer five years ago and now my back aches", {"serious_illness_history"}),
]
NEGATED = [
    "no numbness or tingling",
    "it doesn't wake me at night",
    "nothing goes down my leg",
    "No bladder or bowel problems",
    "I didn't fall or anything",
    "not limping",
    "I haven't had a fever",
    "There's no pain going down my leg and no pins and needles",
    "my legs don't feel weak",
    "I'm not losing weight",
]
NOT_FLAGS = [
    "I run 30 miles a week",
    "it's been sore since Saturday",
    "I fell asleep on the sofa after my run",
    "went down the stairs fine",
    "my core is weak",
    "my glutes are weak",
    "started running two years ago",
    "running for 3 months now and loving it",
    "had a baby 8 months ago and I'm back running",
    "I started running 2 months ago",
    "my marathon is 6 weeks away",
    "legs: both fine. back: ok.",
    "my bladder is fine",
    "I can't stand on one leg for long without my outer hip aching",
    "bladder and bowels are normal",
    "I need a wee halfway through long runs",
    # naming a fear is a question, not a sign (shared questions.jsonl labels these with no flag);
    # the bone_stress picture is read from symptoms and risks (tests/test_knowledge_warning_signs.py)
    "could this be a stress fracture in my hip?",
]


@pytest.mark.parametrize(("message", "flags"), RED_FLAGS)
def test_red_flag_raised(matcher: Matcher, message: str, flags: set[str]) -> None:
    assert flags <= set(matcher.match(message).red_flags)


@pytest.mark.parametrize("message", NEGATED + NOT_FLAGS)
def test_no_red_flag(matcher: Matcher, message: str) -> None:
    assert matcher.match(message).red_flags == ()


EMERGENCY_SIGNS = [
    "numbness in my groin since this morning",
    "my saddle area feels numb",
    "I can't feel my backside when I sit on the toilet",
    "numb around my back passage",
    "lost sensation between my thighs",
    "tingling in my genitals and back pain",
    "peeing is difficult since yesterday",
    "I can't pee",
    "I'm unable to urinate",
    "I think I have urinary retention",
    "dribbling urine and my back hurts",
    "leaking urine since my back went",
    "I've become incontinent",
    "I can't hold it in anymore, keep wetting myself",
    "I wet the bed last night and my back is killing me",
    "I have no urge to pee at all",
    "I don't know when my bladder is full anymore",
    "bowel incontinence started today",
    "can't control my bowels",
    "I soiled myself and my back hurts",
    "I can't get an erection since the back pain started",
    "sciatica down both legs",
    "both legs are numb",
    "weakness in both legs",
    "both legs keep giving way",
    "my legs are both weak and I can barely walk",
    "pain and numbness in both of my legs",
    "I have problems passing urine",
    "my wee won't come out",
    "haven't had a poo in days and my bum is numb",
]


@pytest.mark.parametrize("message", EMERGENCY_SIGNS)
def test_every_way_of_describing_cauda_equina_is_an_emergency(matcher: Matcher, message: str) -> None:
    result = matcher.match(message)
    assert "cauda_equina" in result.red_flags and result.urgency is Urgency.EMERGENCY


# every warning sign, in everyday words: (flag, message)
WARNING_SIGNS = [
    ("cannot_bear_weight", "I can't stand on my right leg since the run"),
    ("cannot_bear_weight", "it hurts too much to walk on it"),
    ("cannot_bear_weight", "I'm on crutches because I can't bear weight"),
    ("cannot_bear_weight", "hopping on that leg is agony"),
    ("cannot_bear_weight", "I physically can't put my foot down without pain in the hip"),
    ("cannot_bear_weight", "even walking hurts now and I can't hop at all"),
    ("cannot_bear_weight", "I can barely walk on it"),
    ("trauma", "I was in a car crash last week and my back hurts"),
    ("trauma", "I tripped on a root and fell onto my hip"),
    ("trauma", "took a tumble on the trail and hurt my lower back"),
    ("trauma", "got knocked off my bike yesterday"),
    ("trauma", "I came off my bike and landed on my side"),
    ("trauma", "I slipped down the stairs and hurt my back"),
    ("trauma", "a runner collided with me at the start"),
    ("trauma", "I had a nasty fall on the ice"),
    ("fever_weight_loss", "I've had a fever for three days and my back aches"),
    ("fever_weight_loss", "my back hurts and I've been running a temperature"),
    ("fever_weight_loss", "I keep getting the chills and my hip is hot and swollen"),
    ("fever_weight_loss", "I've lost a lot of weight without trying and my back hurts"),
    ("fever_weight_loss", "night sweats and back pain"),
    ("fever_weight_loss", "feeling really unwell with hip pain and a high temperature"),
    ("fever_weight_loss", "I'm shivery and achy with sore lower back"),
    ("fever_weight_loss", "unexplained weight loss of 5kg"),
    ("leg_weakness", "my leg feels weak when I climb stairs"),
    ("leg_weakness", "my foot slaps when I walk"),
    ("leg_weakness", "my knee buckles when I go downstairs"),
    ("leg_weakness", "I can't lift my toes up"),
    ("leg_weakness", "my right leg keeps collapsing under me"),
    ("leg_weakness", "weakness in my left leg since the back pain started"),
    ("leg_weakness", "my ankle feels weak and floppy"),
    ("leg_weakness", "I keep tripping over my own foot"),
    ("night_pain", "the pain wakes me up every night"),
    ("night_pain", "I can't sleep because of the back pain"),
    ("night_pain", "it's worst at night and stops me sleeping"),
    ("night_pain", "I woke up at 2am with hip pain"),
    ("gait_change", "I'm limping"),
    ("gait_change", "my gait has changed"),
    ("gait_change", "I'm walking funny because of my hip"),
    ("gait_change", "I've started to hobble"),
    ("persistent_pain", "it's been three weeks and rest hasn't helped"),
    ("persistent_pain", "the pain has lasted over a month"),
    ("persistent_pain", "I've had this for 6 weeks"),
    ("persistent_pain", "my hip has hurt for more than two weeks despite resting"),
    ("numbness_tingling", "my foot keeps going numb"),
    ("numbness_tingling", "pins and needles in my leg"),
    ("numbness_tingling", "tingly toes after runs"),
    ("numbness_tingling", "my thigh feels numb"),
    ("radiating_leg_pain", "pain runs down my leg"),
    ("radiating_leg_pain", "sciatica"),
    ("radiating_leg_pain", "shooting pains into my calf"),
    ("radiating_leg_pain", "the pain travels down to my foot"),
]


@pytest.mark.parametrize(("flag", "message"), WARNING_SIGNS)
def test_warning_signs_in_everyday_words(matcher: Matcher, flag: str, message: str) -> None:
    assert flag in matcher.match(message).red_flags


@pytest.mark.parametrize(
    ("message", "urgency"),
    [
        ("my bladder isn't working properly and my back hurts", Urgency.EMERGENCY),
        ("my bladder isn't fine since my back went", Urgency.EMERGENCY),
        ("can't hop on my left leg", Urgency.URGENT),
        ("pain down my leg", Urgency.URGENT),  # disc irritation: at least urgent
        ("front of hip hurts when I sprint and it wakes me at night", Urgency.SOON),
        ("front of hip hurts when I sprint", Urgency.SELF_CARE),
    ],
)
def test_urgency(matcher: Matcher, message: str, urgency: Urgency) -> None:
    assert matcher.match(message).urgency == urgency


def test_flags_are_ordered_most_urgent_first(matcher: Matcher) -> None:
    flags = matcher.match("pain down both legs, limping, and I've wet myself").red_flags
    assert flags[0] == "cauda_equina"
    urgencies = [matcher.knowledge.red_flags[f].urgency for f in flags]
    assert urgencies == sorted(urgencies, reverse=True)


def test_result_explains_itself_with_labels_not_the_runners_words(matcher: Matcher) -> None:
    result = matcher.match("front of my hip hurts when I lift my knee")
    assert result.evidence[:2] == ("hip_front", "knee_lift")
    assert result.candidates[0].id == "hip_flexor_strain"
    assert 0.0 < result.confidence <= 1.0


def test_json_contract(matcher: Matcher) -> None:
    data = matcher.match("snapping at the outside of my hip when I run").to_json()
    assert data["condition"] == "it_band_syndrome"
    assert set(data) >= {"condition", "confidence", "candidates", "red_flags", "urgency"}
    scores = [c["score"] for c in data["candidates"]]
    assert scores == sorted(scores, reverse=True) and all(0 <= s <= 100 for s in scores)
    assert data["urgency"] in {"emergency", "urgent", "soon", "self_care"}


NASTY_INPUTS = [
    "",
    "   \t  ",
    "\x00\x01\x02\x1b[31m",
    "'; DROP TABLE sessions; --",
    "Robert'); DELETE FROM events WHERE 1=1;--",
    "🏃" * 5000,
    "a" * 10_000,
    "hip " * 2000,
    "\u202e\u200b\ufeff",
    "日本語のテキスト",
    "%s %d {0} {message}",
]


@pytest.mark.parametrize("message", NASTY_INPUTS, ids=range(len(NASTY_INPUTS)))
def test_never_raises_on_nasty_input(matcher: Matcher, message: str) -> None:
    result = matcher.match(message)
    assert result.condition is None or result.condition in matcher.knowledge.conditions


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=600))
def test_never_raises_on_any_text(matcher: Matcher, message: str) -> None:
    result = matcher.match(message)
    assert 0.0 <= result.confidence <= 1.0
    assert set(result.red_flags) <= set(matcher.knowledge.red_flags)


def test_project_labelled_messages(matcher: Matcher) -> None:
    """The project's own labelled set (written apart from the shared one) clears the same bars."""
    rows = read_jsonl(TEST_DATA / "runner_messages.jsonl")
    right = sum(matcher.match(r["text"]).condition in {r["condition"], *r.get("also", [])} for r in rows)
    flagged = [r for r in rows if r["red_flags"]]
    caught = sum(bool(matcher.match(r["text"]).red_flags) for r in flagged)
    clean = [r for r in rows if not r["red_flags"]]
    alarms = sum(bool(matcher.match(r["text"]).red_flags) for r in clean)
    assert right / len(rows) >= 0.95
    assert caught == len(flagged)
    assert alarms / len(clean) <= 0.03


# ----- single-message misreadings found in whole conversations ----------------------------
# Written before the fixes, in words unlike the conversations they came from; each table is
# one pattern. A sign that context may explain is held back and named in Reading.explained.
EXPLAINED_AFTER_A_RACE = [
    ("did a half on Sunday and today both my legs are weak and wobbly, lower back stiff too", "cauda_equina"),
    ("legs like jelly and weak since the 10k race this morning", "leg_weakness"),
    ("Finished my first ultra two days ago. Both legs still feel dead and weak as anything", "cauda_equina"),
    ("after the marathon my legs felt weak and heavy for a day, back a bit sore", "leg_weakness"),
]
EXPLAINED_AFTER_A_RIDE = [
    ("long ride on the turbo yesterday and my crotch went numb for about 20 minutes, it's fine now", "cauda_equina"),
    ("Did a 100 km sportive, my bits were numb from the saddle for an hour afterwards, normal now", "cauda_equina"),
    ("always get a numb groin on my road bike but it wears off once I'm off the saddle", "cauda_equina"),
    ("after spin class I was tingly down there for a few minutes (it always happens on those bikes)", "cauda_equina"),
    # said differently (second blind evaluation)
    ("after my Peloton session I had a numb patch down there for a bit, totally back to normal now", "cauda_equina"),
    ("spin class always leaves my undercarriage a bit numb, but it goes within the hour", "cauda_equina"),
    ("the saddle on the gym bike made my crotch tingle for a while, it's fine again", "cauda_equina"),
    ("numb bits from the turbo saddle like every time I ride, all gone now", "cauda_equina"),
    ("my girlfriend's saddle area was numb after the sportive, cleared up by the evening", "cauda_equina"),
]
STILL_ALARMS_AFTER_RACE_OR_RIDE = [
    ("numb between my legs since my bike ride yesterday and it hasn't gone", "cauda_equina"),
    ("my saddle area has been numb for three days and I haven't been on the bike", "cauda_equina"),
    ("been numb in the saddle area since spin class on Monday and it's still not gone", "cauda_equina"),
    ("ran a marathon last month and now both legs are numb and weak", "cauda_equina"),
    ("two weeks after the marathon my right foot still drags and catches the kerb", "leg_weakness"),
]


@pytest.mark.parametrize(("message", "flag"), EXPLAINED_AFTER_A_RACE + EXPLAINED_AFTER_A_RIDE)
def test_race_or_ride_explains_the_sign(matcher: Matcher, message: str, flag: str) -> None:
    result = matcher.match(message)
    assert flag in result.reading.explained
    assert not {"cauda_equina", "leg_weakness", "numbness_tingling"} & set(result.red_flags)


@pytest.mark.parametrize(("message", "flag"), STILL_ALARMS_AFTER_RACE_OR_RIDE)
def test_race_or_ride_does_not_explain_away_a_lasting_sign(matcher: Matcher, message: str, flag: str) -> None:
    assert flag in matcher.match(message).red_flags


# a denial through "normal / fine / OK" covers every subject it is said of
BLADDER_BOWEL_DENIALS = [
    "bladder and bowels are completely fine",
    "bowel and bladder both totally normal",
    "waterworks and bowels OK, nothing odd there",
    "my bladder and bowel are working normally",
]
# everyday bladder and bowel changes, including urgency with leaking and a turn after "before"
BLADDER_BOWEL_ADMISSIONS = [
    "waterworks never gave me trouble before, but this week I've had to dash to the loo and once I didn't make it in time",
    "since my back went I keep having to rush to the toilet and yesterday I didn't make it",
    "twice now I haven't made it to the loo in time, and my back is aching",
    "never had bladder problems before but since Friday I keep needing to rush and I've wet myself once",
    "bladder and bowels were normal until yesterday, now I can't hold it",
    "I couldn't feel the toilet paper when I wiped this morning",
    "had to strain for ages to get my wee started today",
    "it takes me forever to start peeing now and my back hurts",
]
CHEST_AND_HEART = [
    "my heart started pounding out of nowhere on a slow jog and I felt really odd",
    "felt like I was about to pass out near the top of the climb",
    "during my long run my heartbeat went all irregular and jumpy for a minute",
    "had to stop mid run because my heart was going really fast and fluttering",
    "twice my pulse went crazy on easy runs and I thought I was going to faint",
]
NOT_CHEST = [
    "my heart rate was in zone 2 the whole run",
    "my heart rate goes up really fast on hills",
    "my heart was set on racing this spring",
]


@pytest.mark.parametrize("message", BLADDER_BOWEL_DENIALS + NOT_CHEST)
def test_these_are_not_flags(matcher: Matcher, message: str) -> None:
    assert matcher.match(message).red_flags == ()


@pytest.mark.parametrize("message", BLADDER_BOWEL_ADMISSIONS)
def test_bladder_and_bowel_changes_are_an_emergency(matcher: Matcher, message: str) -> None:
    result = matcher.match(message)
    assert "cauda_equina" in result.red_flags and result.urgency is Urgency.EMERGENCY


@pytest.mark.parametrize("message", CHEST_AND_HEART)
def test_heart_racing_or_near_fainting_on_a_run(matcher: Matcher, message: str) -> None:
    assert "chest_pain" in matcher.match(message).red_flags


# where and what, in other words: another person's body, "the front of it", treatments tried
OTHER_WORDS = [
    ("my wife's hip is sore on the outside and she can't lie on that side", "gluteal_tendinopathy"),
    ("Dad gets pain at the side of his hip when he lies on it or climbs the stairs", "gluteal_tendinopathy"),
    ("hip hurts round the side when I sleep on it", "gluteal_tendinopathy"),
    ("her hip aches down the side whenever she lays on it, and going up steps", "gluteal_tendinopathy"),
    ("and my hip too - the front of it twinges when I lift my leg to put socks on", "hip_flexor_strain"),
    ("My hip's the problem. The side of it aches when I lie on it and on stairs.", "gluteal_tendinopathy"),
    ("left hip again; the outside of it snaps when I'm running", "it_band_syndrome"),
    ("my hip as well, at the front of it, whenever I drive my knee up hills", "hip_flexor_strain"),
    (
        "I'm 61 and the outside of my hip is tender, worse lying on it and standing up from a chair; "
        "I've been foam rolling my IT band with no luck",
        "gluteal_tendinopathy",
    ),
    (
        "foam rolling the ITB hasn't done a thing, the bony bit at the side of my hip aches on stairs "
        "and when I lie on that side",
        "gluteal_tendinopathy",
    ),
    (
        "physio had me stretching my IT band for weeks but it's the side of my hip that hurts getting "
        "out of the car and lying on it",
        "gluteal_tendinopathy",
    ),
    ("my IT band snaps over the outside of my hip on every run", "it_band_syndrome"),
]


@pytest.mark.parametrize(("message", "condition"), OTHER_WORDS)
def test_where_and_what_in_other_words(matcher: Matcher, message: str, condition: str) -> None:
    assert matcher.match(message).condition == condition


# A question at the end of a long description must not drop what the description reports.
DESCRIPTION_THEN_QUESTION = [
    "Back's been grim for days. Yesterday I realised I couldn't feel the toilet paper when I wiped, "
    "and this morning peeing took forever to get going. Is it just a trapped nerve?",
    "Lower back sore since Tuesday, and since last night I've had trouble starting to wee. Could that just be sciatica?",
    "Sciatica down my left leg for a fortnight, now my bum feels numb when I sit on the loo and I had "
    "to strain to pee this morning. Should I just rest it?",
    "Hurt my back lifting on Monday, which was annoying, and now I can't tell if I've finished peeing. "
    "What exercises should I do?",
]


@pytest.mark.parametrize("message", DESCRIPTION_THEN_QUESTION)
def test_a_question_at_the_end_keeps_the_reported_signs(matcher: Matcher, message: str) -> None:
    from knowledge.questions import QuestionReader

    got = QuestionReader(matcher.knowledge, matcher).read(message)
    assert "cauda_equina" in got.match.red_flags and got.match.urgency is Urgency.EMERGENCY


# ----- patterns a second blind evaluation missed ------------------------------------------
# Written before each fix, in other people's words; each table is one pattern.
# bowel retention with the urge gone, in everyday words: the emergency sign
BOWEL_RETENTION_NO_URGE = [
    "not had a poo since Tuesday and I can't feel when I need one",
    "haven't opened my bowels since Friday and I don't get the feeling I need to go",
    "no bowel movement since the weekend, and I can't sense the urge at all",
    "my dad hasn't been for a number two in four days and says he can't feel the urge anymore",
    "constipated since my back went on Sunday and there's no urge to go whatsoever",
]
NOT_BOWEL_RETENTION = [
    "I can't feel the urge to run at the moment, my back is just too sore",
    "no bowel or bladder problems since the back pain started",
    "haven't had any bowel issues, just the low back ache",
]


@pytest.mark.parametrize("message", BOWEL_RETENTION_NO_URGE)
def test_bowel_retention_without_the_urge_is_an_emergency(matcher: Matcher, message: str) -> None:
    result = matcher.match(message)
    assert "cauda_equina" in result.red_flags and result.urgency is Urgency.EMERGENCY


@pytest.mark.parametrize("message", NOT_BOWEL_RETENTION)
def test_urge_and_bowel_words_that_are_not_a_sign(matcher: Matcher, message: str) -> None:
    assert "cauda_equina" not in matcher.match(message).red_flags


# both feet or both legs, in plain or broken English: (message, flags that must be raised,
# condition when the picture of back pain going into the legs is clear, else None = not checked)
BOTH_LEGS_PLAIN_AND_BROKEN = [
    ("both my feets is tingling since two day and my back is hurting", {"cauda_equina", "numbness_tingling"}, None),
    ("the pins and needles is in my two feet now, not only the left", {"cauda_equina", "numbness_tingling"}, None),
    ("my feet are both buzzing with pins n needles since my back went", {"cauda_equina", "numbness_tingling"}, None),
    (
        "in each of my leg the pain is go down from my lower back to the knee",
        {"cauda_equina", "radiating_leg_pain"},
        "disc_irritation",
    ),
    (
        "my husband says his legs both have the shooting pain coming from his low back",
        {"cauda_equina", "radiating_leg_pain"},
        "disc_irritation",
    ),
    (
        "pain travel from my back into both leg, and the toes go numb",
        {"cauda_equina", "radiating_leg_pain", "numbness_tingling"},
        "disc_irritation",
    ),
]


@pytest.mark.parametrize(("message", "flags", "condition"), BOTH_LEGS_PLAIN_AND_BROKEN)
def test_both_legs_in_plain_and_broken_english(
    matcher: Matcher, message: str, flags: set[str], condition: str | None
) -> None:
    result = matcher.match(message)
    assert flags <= set(result.red_flags) and result.urgency is Urgency.EMERGENCY
    if condition:
        assert result.condition == condition


@pytest.mark.parametrize(
    "message",
    ["the pain goes from my lower back to my bum", "do 10 reps on each leg, both legs ache after", "my legs both feel tired"],
)
def test_back_to_bum_and_tired_legs_are_not_nerve_signs(matcher: Matcher, message: str) -> None:
    assert not {"cauda_equina", "radiating_leg_pain"} & set(matcher.match(message).red_flags)


# chest squeezing or pressure on exertion, said in other ways
CHEST_SQUEEZE_ON_EXERTION = [
    "on the hill reps it was like someone was squeezing my chest and I had to stop",
    "felt a tight band round my chest halfway up the climb, went away when I walked",
    "my chest felt heavy and pressed in, like something sitting on it, during the tempo run",
    "my dad is 62 and he gets a squeezing feeling in his chest when he runs uphill",
    "chest kind of clamped up during the 10k and I had to walk it off",
    "pressure building across the chest whenever I push the pace, eases when I stop",
]
NOT_CHEST_SQUEEZE = [
    "my chest strap was digging in on the long run",
    "the chest strap felt too tight so I loosened it",
]


@pytest.mark.parametrize("message", CHEST_SQUEEZE_ON_EXERTION)
def test_chest_squeezing_on_exertion(matcher: Matcher, message: str) -> None:
    result = matcher.match(message)
    assert "chest_pain" in result.red_flags and result.urgency is Urgency.EMERGENCY


@pytest.mark.parametrize("message", NOT_CHEST_SQUEEZE)
def test_chest_strap_is_not_chest_pain(matcher: Matcher, message: str) -> None:
    assert "chest_pain" not in matcher.match(message).red_flags


# sacrum or low back sore after every run and worse each time, after a change in training
BONE_STRESS_LOW_BACK_AFTER_A_TRAINING_CHANGE = [
    "the base of my spine is sore after every run and worse each time; I moved from road halves to trail ultras this year",
    "low back just above my bum gets sorer each run since I added a lot more hills to my plan",
    "my daughter's sacrum aches after every run, a bit worse every time, since she jumped from 5k to half marathon distance",
    "tailbone area sore after each run and getting worse, training for my first 50k so the long runs went way up",
    "ache low in my back after every single run, each one worse than before, since I doubled the length of my long run",
]
NOT_BONE_STRESS = [
    "my lower back is a bit stiff after runs since I added hills, but it loosens up within the hour",
    "added more hills this month and the front of my hip twinges when I lift my knee",
]


@pytest.mark.parametrize("message", BONE_STRESS_LOW_BACK_AFTER_A_TRAINING_CHANGE)
def test_sacral_bone_stress_after_a_training_change(matcher: Matcher, message: str) -> None:
    result = matcher.match(message)
    assert "bone_stress" in result.red_flags and result.urgency >= Urgency.URGENT


@pytest.mark.parametrize("message", NOT_BONE_STRESS)
def test_a_training_change_alone_is_not_bone_stress(matcher: Matcher, message: str) -> None:
    assert "bone_stress" not in matcher.match(message).red_flags


def test_worse_every_time_i_bend_is_a_trigger_not_bone_stress(matcher: Matcher) -> None:
    message = "I doubled my mileage and my lower back gets worse every time I bend forward"
    assert "bone_stress" not in matcher.match(message).red_flags


# a named guess taken back: the symptoms decide, as after "I thought it was X but ..."
NAMED_GUESS_TAKEN_BACK = [
    (
        "Figured it was my hip flexor at first, but actually the pain is on the outside of my hip when I "
        "lie on that side and climb stairs",
        "gluteal_tendinopathy",
    ),
    (
        "I was sure it was my SI joint, but really it's sharp at the front of my hip when I lift my knee to sprint",
        "hip_flexor_strain",
    ),
    (
        "my wife presumed a hip flexor thing, yet her pain is at the side of the hip, lying on it and on stairs",
        "gluteal_tendinopathy",
    ),
    ("guessed IT band syndrome; the outside of my hip is tender lying on it, and stairs hurt", "gluteal_tendinopathy"),
    (
        "I assumed it was a glute tendon problem but the outside of my hip snaps on every run",
        "it_band_syndrome",
    ),
]


@pytest.mark.parametrize(("message", "condition"), NAMED_GUESS_TAKEN_BACK)
def test_a_named_guess_taken_back_leaves_the_symptoms_to_decide(
    matcher: Matcher, message: str, condition: str
) -> None:
    assert matcher.match(message).condition == condition


SPREADING_TO_THE_OTHER_LEG = [
    "had sciatica down my right leg for a fortnight and since last night my left thigh aches too",
    "pain running down the back of my left leg, and now the right calf is going numb as well",
    "the shooting pain down my leg has moved to the other leg",
    "first it was the pain down my right leg, today it's the same thing in the left one",
]
NOT_SPREADING = [
    "my left calf is tight after the hills and now the right calf too",
    "sore hip on the right and now the left side aches as well",
    "pain down my right leg when I sit, the left one is fine",
]


@pytest.mark.parametrize("message", SPREADING_TO_THE_OTHER_LEG)
def test_sciatica_spreading_to_the_other_leg_is_an_emergency(matcher: Matcher, message: str) -> None:
    assert "cauda_equina" in matcher.match(message).red_flags


@pytest.mark.parametrize("message", NOT_SPREADING)
def test_both_calves_or_both_hips_are_not_spreading_sciatica(matcher: Matcher, message: str) -> None:
    assert "cauda_equina" not in matcher.match(message).red_flags


@pytest.mark.parametrize(
    "message",
    [
        "it feels like someone else's bottom when I wipe, and my back is wrecked",
        "wiping feels numb since Tuesday and my lower back has been awful",
    ],
)
def test_wiping_that_feels_wrong_is_saddle_numbness(matcher: Matcher, message: str) -> None:
    assert "cauda_equina" in matcher.match(message).red_flags


@pytest.mark.parametrize(
    "message",
    [
        "post-menopausal, training for a marathon, and my groin now aches even lying in bed",
        "built up to 60k a week over a month and the front of my hip throbs at rest now",
    ],
)
def test_bone_stress_with_the_menopause_or_a_build_up_to_a_weekly_distance(matcher: Matcher, message: str) -> None:
    assert "bone_stress" in matcher.match(message).red_flags
