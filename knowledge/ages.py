"""Read a runner's age from their own words, so the age rules apply without asking.

"I'm 52", "55yo runner", "a 15-year-old", "my son (15)", "Dad (72)", "22F", "67 and still
running", "mid-fifties", "in my 60s". Works on a normalised message (patterns.Normaliser: lower
case, "." for every break, digits split from letters, so "60s" is "60 s" and "(15)" is ". 15 .").
When a message gives an age for someone else ("my daughter (17)") as well as the writer's, the
other person's counts: a parent or coach writes about the one in pain.
"""

from __future__ import annotations

import re

YOUNGEST, OLDEST = 5, 99
# words after a number that make it a measure, not an age ("I am 5 weeks postpartum")
_NOT_AGE = r"(?! (?:weeks?|days?|months?|years?(?! old)|k|km|kms|miles?|mi|mins?|minutes?|hours?|hrs?|kg|lbs|percent|x|s)\b)"
_PERSON = (
    r"son|daughter|dad|father|mum|mom|mother|wife|husband|partner|boyfriend|girlfriend|athlete|kid|child|"
    r"boy|girl|brother|sister|friend|runner|female|male|woman|man|me|here|grandad|grandma|client|player|recruit"
)
_OTHER_PERSON = re.compile(
    rf"(?<![a-z])(?:{_PERSON}) \. (\d{{1,2}})(?= \.| ?$| f\b| m\b)"  # "my son (15)", "runner, 49."
)
_PERSON_IS = re.compile(rf"(?<![a-z])(?:{_PERSON}|he|she) is (\d{{1,2}})(?![0-9]){_NOT_AGE}(?! out)")  # "my son is 15"
_YEARS_OLD = re.compile(r"(?<![0-9.])(\d{1,2}) (?:year|years|yr|yrs) old(?![a-z])|(?<![0-9.])(\d{1,2}) (?:yo|y o)(?![a-z])")
_SEX_AGE = re.compile(r"(?<![0-9.])(\d{2}) (?:f|m|female|male)(?![a-z])")  # "22F", "31 male"
_I_AM = re.compile(rf"(?<![a-z])(?:i am|aged|age|turned|turning) (\d{{1,2}})(?![0-9]){_NOT_AGE}")
# "67 and still doing parkrun", "58, running since the 80s", "17, sprints + long jump", "now 63 and ..."
_LEADING = re.compile(
    r"^(\d{2}) (?:and|here)(?![a-z])|^(\d{2}) \. (?!(?:km|k|kms|miles?|mi|mins?|minutes?|hours?|hrs?|kg|lbs|percent|x|maybe|or|to|about|around|ish|\d+)\b)"
    r"|(?<![a-z])now (\d{2}) (?:and|\.)(?![a-z])"
)
# an age given right after a birth is the child's ("since my second was born, she's 9")
_SINCE_BIRTH = re.compile(r"(?<![a-z])(?:born|birth|gave birth|had her|had him|my baby|baby)(?![a-z])")
BIRTH_LOOK_BACK = 40  # characters
DECADES = {
    "teens": 10, "twenties": 20, "thirties": 30, "forties": 40, "fifties": 50, "sixties": 60,
    "seventies": 70, "eighties": 80, "20 s": 20, "30 s": 30, "40 s": 40, "50 s": 50, "60 s": 60,
    "70 s": 70, "80 s": 80,
}  # fmt: skip
PART_OF_DECADE = {"early": 2, "mid": 5, "late": 8, "": 5}
_DECADE = re.compile(
    r"(?:(?:in|into) (?:my|our) |(early|mid|late) )(?:(early|mid|late) )?(" + "|".join(DECADES) + r")(?![a-z])"
)
AGE_BANDS = ((16, "under16"), (20, "16-19"), (50, "20-49"))


def age_in(text: str) -> int | None:
    """The age a normalised message gives, or None ("I'm 52" -> 52, "mid fifties" -> 55)."""
    for pattern in (_OTHER_PERSON, _PERSON_IS, _YEARS_OLD, _SEX_AGE, _I_AM, _LEADING):
        for match in pattern.finditer(text):
            if match.group(0).startswith(("he ", "she ")) and _SINCE_BIRTH.search(
                text[max(0, match.start() - BIRTH_LOOK_BACK) : match.start()]
            ):
                continue  # "since my second was born (she's 9)": the child's age, not the runner's
            value = int(next(g for g in match.groups() if g))
            if YOUNGEST <= value <= OLDEST:
                return value
    decade = _DECADE.search(text)
    if decade:
        part = decade.group(1) or decade.group(2) or ""
        return DECADES[decade.group(3)] + PART_OF_DECADE[part]
    return None


def age_band(age: int | None) -> str | None:
    """The band the age rules use: "under16", "16-19", "20-49" or "50+"."""
    if age is None:
        return None
    return next((band for limit, band in AGE_BANDS if age < limit), "50+")
