"""Durations in any words, in answers and inside stories (issue 17): never refuse an answer the
bot's own example would accept, and read the length of a story's pain without asking."""

from __future__ import annotations

import datetime as dt

import pytest

from knowledge import Knowledge, Matcher
from knowledge.intents import IntentReader

SUNDAY = dt.date(2026, 12, 6)


@pytest.fixture(scope="module")
def intents(knowledge: Knowledge, matcher: Matcher) -> IntentReader:
    return IntentReader(dict(knowledge.spelling), knowledge.common_words, set(matcher.normaliser.vocabulary))


@pytest.mark.parametrize(
    ("answer", "days"),
    [
        ("since last weekend", 8),  # the Saturday before this one
        ("started monday", 6),
        ("monday", 6),
        ("since Sunday", 7),
        ("months", 60),
        ("since the half", 8),  # an event with no date: past a week, the safer side
        ("since the marathon", 8),
        ("not really, 4 days", 4),
        ("a fortnight", 14),
        ("since March", 280),
        ("about 3 weeks", 21),
        ("for the last month", 30),
        ("since Boxing Day", 345),
        ("1.5 weeks", 10),
        ("a week and a bit", 8),
        ("this week", 6),
        ("since sat", 1),
        ("week", 7),
        ("since jan", 339),
        ("since summer", 188),
        ("just started", 0),
        ("since the clocks went back", 42),
    ],
)
def test_answers_to_how_long(intents: IntentReader, answer: str, days: int) -> None:
    assert intents.read(answer, SUNDAY, asked_how_long=True).days == days


@pytest.mark.parametrize(
    ("story", "days"),
    [
        ("outer hip pain lying on my side at night, for the last 6 years on and off", 6 * 365),
        ("front of my hip has been sore for the last month", 30),
        ("It's been sore since last weekend", 8),
        ("I run 3 days a week and my hip hurts", None),
        ("I've been running for years and my hip hurts", None),
        # how long ago something else happened is not how long it has hurt ...
        ("had cancer 3 years ago", None),
        ("I had surgery on it 2 years ago, the back is fine", None),
        # ... unless the pain is dated from it
        ("it has hurt since I had my baby 6 months ago", 180),
        ("broke my wrist 5 years ago, back pain for 4 days", 4),
    ],
)
def test_durations_inside_stories(intents: IntentReader, story: str, days: int | None) -> None:
    assert intents.read(story, SUNDAY).days == days


@pytest.mark.parametrize(
    ("story", "long"),
    [
        ("outer hip pain lying on my side at night, for the last 6 years on and off", True),
        ("front of hip sore for the last month", True),
        ("my lower back has ached for months", True),
        ("I've done about 40k a week for 10 years and my lower back aches", False),
        ("Labral tear on MRI 2 years back, now the groin hurts again", False),
        ("4 months post-partum and my lower back aches", False),
        ("My hip hurts when I run. Started a couple of weeks into a new plan.", False),
    ],
)
def test_a_story_that_says_it_is_long_raises_persistent_pain(matcher: Matcher, story: str, long: bool) -> None:
    assert ("persistent_pain" in matcher.match(story).red_flags) is long


def test_a_coach_writing_about_an_athlete_is_someone_else_not_a_duration(intents: IntentReader) -> None:
    intent = intents.read("One of my athletes has pain at the side of her hip, worse on stairs", SUNDAY)
    assert intent.someone_else
    assert intent.days is None


def test_a_late_disclosure_is_not_a_no(intents: IntentReader) -> None:
    text = "Sorry, one thing I skipped when I said no: for the last 3 days I haven't felt any urge to poo"
    intent = intents.read(text, SUNDAY)
    assert intent.takes_back
    assert intent.answer.value == "none"
    assert intent.days == 3
    assert intents.read("no", SUNDAY).answer.value == "no"
