"""How long the pain has lasted, in any words: "3 days", "a fortnight", "since Sunday",
"started monday", "since last weekend", "since the half", "since March", "since Boxing Day",
"for the last 6 years", "months". Works on a normalised message (patterns.Normaliser).
"""

from __future__ import annotations

import datetime as dt
import re

WEEK_DAYS = 7
NUMBER_WORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fourteen": 14, "twenty": 20,
    "couple": 2, "few": 3, "several": 4, "half": 0.5, "many": 6,
}  # fmt: skip
UNIT_DAYS = {
    "day": 1, "days": 1, "d": 1, "night": 1, "nights": 1,
    "week": 7, "weeks": 7, "wk": 7, "wks": 7, "w": 7, "fortnight": 14, "fortnights": 14,
    "month": 30, "months": 30, "mo": 30, "mos": 30, "mnth": 30, "mnths": 30,
    "year": 365, "years": 365, "yr": 365, "yrs": 365,
}  # fmt: skip
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
WEEKDAY_SHORT = {
    "mon": "monday", "tue": "tuesday", "tues": "tuesday", "wed": "wednesday", "thu": "thursday",
    "thur": "thursday", "thurs": "thursday", "fri": "friday", "sat": "saturday", "sun": "sunday",
}  # fmt: skip
RELATIVE_DAYS = {
    "since today": 0, "since this morning": 0, "this morning": 0, "since yesterday": 1,
    "since last night": 1, "since the weekend": 3, "since last week": 7, "since last month": 30,
    "since last year": 365, "ages": 60, "forever": 60, "a long time": 60, "years": 365,
    "started yesterday": 1, "began yesterday": 1, "yesterday": 1, "today": 0,
    "a while": 14, "a long while": 60,
    "just started": 0, "just now": 0, "started today": 0,
}  # fmt: skip
# a bare unit answers "how long?" as one of it ("week", "fortnight"); "months" or "weeks" with no
# number, as the fewest that fit
BARE_UNITS = ("week", "fortnight", "month", "year")
BARE_PLURALS = {"weeks": 14, "months": 60}
SEASON_STARTS = {"spring": 3, "summer": 6, "autumn": 9, "fall": 9, "winter": 12}  # the northern year
_SINCE_SEASON = re.compile(r"(?:since|from|in|over|during|start of|end of) (?:the |this |last )?(" + "|".join(SEASON_STARTS) + r")(?![a-z])")
_THIS_WEEK = re.compile(r"(?:^|since |started |began |earlier )this week(?![a-z])")
_AND_A_BIT = re.compile(r"(?:a|one) (week|month|fortnight) and a bit|(?:a|one) (week|month|fortnight) plus")
# "since the half", "since the marathon": started at an event whose date the message does not
# give — read as past a week, the safer side (a gentle "see someone soon"), never refused
SINCE_EVENT = re.compile(
    r"(?:since|after|from) (?:the|my|that|a|our|last|sundays|saturdays) (?:last )?"
    r"(?:half|race|marathon|ultra|10 k|5 k|parkrun|triathlon|ironman|trail race|relay|event|crash|fall)(?![a-z])"
)
EVENT_DAYS = 8
MONTHS = (
    "january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
    "november", "december",
)  # fmt: skip
MONTH_SHORT = {m[:3]: m for m in MONTHS if m != "may"} | {"sept": "september"}
_SINCE_MONTH = re.compile(
    r"(?:since|from|in|started|began|start of|beginning of|end of) (?:early |late |mid )?(?:the )?(?:start of |end of )?("
    + "|".join((*MONTHS, *MONTH_SHORT))
    + ")(?![a-z])"
)
# days of the year runners date things by: "since Boxing Day", "since Christmas"
HOLIDAYS = {
    "boxing day": (12, 26), "christmas": (12, 25), "xmas": (12, 25), "new year": (1, 1), "new years": (1, 1),
    "halloween": (10, 31), "easter": (3, 22),  # its earliest date: the longer reading
    # the clocks change on the last Sundays of March and October (Europe), early November and
    # March (North America): the earlier date, the safer (longer) reading
    "clocks went back": (10, 25), "clocks changed": (10, 25), "clocks went forward": (3, 8),
}  # fmt: skip
_SINCE_HOLIDAY = re.compile(r"(?:since|from|after|over|at) (?:the )?(" + "|".join(HOLIDAYS) + r")(?![a-z])")
_LAST_UNIT = re.compile(r"(?:for|over|in|during) the (?:last|past) (week|month|year|fortnight)(?![a-z])")
_WEEKEND = re.compile(r"(?:since|from|over|at) (?:last|the last|this past) weekend(?![a-z])")
SATURDAY = 5
_AMOUNT = r"(\d+(?:\.\d+)?|" + "|".join(NUMBER_WORDS) + ")"
_UNIT = "(" + "|".join(UNIT_DAYS) + ")"
_SPAN = re.compile(rf"(?<![a-z0-9]){_AMOUNT} (?:and a half )?(?:of )?{_UNIT}(?![a-z0-9])")
_DAY_NAMES = "|".join((*WEEKDAYS, *WEEKDAY_SHORT))
_SINCE_WEEKDAY = re.compile(
    r"(?:since|from|on|last|started|starting|began|begun|start|this|it was) (?:on )?(?:last )?(" + _DAY_NAMES + r")(?![a-z])"
)
_BARE_WEEKDAY = re.compile(r"^(?:on |last |since )?(?:last )?(" + _DAY_NAMES + r")$")
_DECIMAL = re.compile(r"(?<![0-9] )(?<![0-9])(\d+) \. (\d+) (?=(?:days?|weeks?|wks?|months?|years?|yrs?)(?![a-z]))")
_MORE_THAN = re.compile(r"(?:more than|over|longer than|past|than) (?:a|one) (week|month|fortnight)")


# how long someone has been running (or training, or cycling) is not how long it has hurt: a span
# whose nearest telling word before it is an activity, not a pain word, is skipped
ACTIVITY_WORDS = frozenset(
    "running run runs ran jogging jog training trained racing raced cycling riding swimming lifting runner marathons "
    "sit sitting sat stand standing stood work working driving drive desk waiting queue".split()
)
PAIN_WORDS = frozenset(
    "pain hurt hurts hurting hurted ache aches aching sore niggle niggling injured injury since started began".split()
)
# nor is how long ago something else happened ("had cancer 3 years ago", "surgery 2 years ago"),
# unless the pain is dated from it ("it has hurt since I had my baby 6 months ago")
HISTORY_WORDS = frozenset(
    "cancer chemo chemotherapy radiotherapy tumour tumor diagnosed surgery operation op replacement baby birth "
    "born pregnancy fracture fractured broke broken accident crash".split()
)
PAIN_STARTS = frozenset("since started began".split())
LOOK_BACK = 8


def _about_activity(text: str, start: int) -> bool:
    """Whether the span at `start` dates something other than the pain: an activity ("running
    for years") or another event ("had cancer 3 years ago")."""
    before = text[:start].split()[-LOOK_BACK:]
    for at, word in enumerate(reversed(before)):
        if word in PAIN_WORDS:
            return False
        if word in ACTIVITY_WORDS:
            return True
        if word in HISTORY_WORDS:
            return not PAIN_STARTS.intersection(before[: len(before) - at - 1])
    return False


def days_in(text: str, today: dt.date) -> int | None:
    """How many days a normalised message says the pain has lasted, or None.

    "3 days", "a couple of weeks", "since Sunday", "over a week", "since yesterday", "ages".
    When several are said, the longest counts (the safer reading). How long someone has been
    running ("I've been running for years") is not counted.
    """
    text = _DECIMAL.sub(r"\1.\2 ", text)  # "1.5 weeks" was split at its point
    found = [*_spans(text), *_calendar(text.strip(), today), *_phrases(text)]
    return round(max(found)) if found else None


def _spans(text: str) -> list[float]:
    """Amounts of a unit: "3 days", "a couple of weeks", "1.5 weeks"."""
    found = []
    for span in _SPAN.finditer(text):
        if _about_activity(text, span.start()):
            continue
        amount, unit = span.groups()
        number = float(amount) if amount[0].isdigit() else NUMBER_WORDS[amount]
        found.append(number * UNIT_DAYS[unit])
    return found


def _calendar(text: str, today: dt.date) -> list[float]:
    """Days back to a day, weekend, month, holiday or season the message dates it from."""
    found: list[float] = []
    for day in _SINCE_WEEKDAY.findall(text) or _BARE_WEEKDAY.findall(text):
        back = (today.weekday() - WEEKDAYS.index(WEEKDAY_SHORT.get(day, day))) % WEEK_DAYS
        found.append(back or WEEK_DAYS)
    if _WEEKEND.search(text):  # the Saturday before this one, at the least
        back = (today.weekday() - SATURDAY) % WEEK_DAYS
        found.append(back + WEEK_DAYS if back < 2 else back)
    if _THIS_WEEK.search(text):
        found.append(max(today.weekday(), 1))
    starts = [(MONTHS.index(MONTH_SHORT.get(m, m)) + 1, 1) for m in _SINCE_MONTH.findall(text)]
    starts += [HOLIDAYS[h] for h in _SINCE_HOLIDAY.findall(text)]
    starts += [(SEASON_STARTS[season], 1) for season in _SINCE_SEASON.findall(text)]
    for month, day in starts:
        date = dt.date(today.year, month, day)
        date = date if date <= today else date.replace(year=today.year - 1)
        found.append(max((today - date).days, 1))
    return found


def _phrases(text: str) -> list[float]:
    """Set phrases: "over a week", "for the last month", "since the half", "ages", a bare "week"."""
    found: list[float] = [UNIT_DAYS[unit] + 1 for unit in _MORE_THAN.findall(text)]
    found += [UNIT_DAYS[a or b] + 1 for a, b in _AND_A_BIT.findall(text)]
    found += [UNIT_DAYS[unit] for unit in _LAST_UNIT.findall(text)]
    if SINCE_EVENT.search(text):
        found.append(EVENT_DAYS)
    if text.strip() in BARE_UNITS:
        found.append(UNIT_DAYS[text.strip()])
    if not _SPAN.search(text):
        for words, days in BARE_PLURALS.items():
            hit = re.search(rf"(?<![a-z]){words}(?![a-z])", text)
            if hit and not _about_activity(text, hit.start()):
                found.append(days)
    for words, days in RELATIVE_DAYS.items():
        hit = re.search(rf"(?<![a-z]){words}(?![a-z])", text)
        if hit and not _about_activity(text, hit.start()):
            found.append(days)
    return found
