"""Read what a message does in a conversation, apart from the clinical clues in it.

The matcher (matcher.py) reads *what hurts*; this module reads *how the runner answers*: yes,
no, or not sure to a question; a correction ("no wait, it's my lower back"); which side; how long
it has lasted, in any words ("since Sunday", "just 3 days", "about a fortnight"); whether the
pain is someone else's; and, after an emergency warning, a question about acting on it.

It is pure and built once from data/intents.yaml; the conversation decides what each reading
means for the question it has pending.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import yaml

from knowledge.patterns import BREAK, Normaliser, Tokens, compile_pattern, make_tokens, pattern_words

INTENT_GROUPS = (
    "unsure", "answer_no", "answer_yes", "hedged_yes", "negative_any", "correction", "also", "done", "pause", "reported",
    "pain_words", "someone_else", "emergency_help", "takes_back",
)  # fmt: skip
INTENTS_FILE = Path(__file__).resolve().parent / "data" / "intents.yaml"
WEEK_DAYS = 7
LONG_DAYS = 8  # "more than 7–10 days": past a week counts as long, the safer side of the range


class Answer(StrEnum):
    """How a message answers a yes/no question."""

    YES = "yes"
    NO = "no"
    UNSURE = "unsure"  # doubt, or a request to explain: never a no
    NONE = "none"  # not an answer to a yes/no question


@dataclass(frozen=True, slots=True)
class Intent:
    """What a message does, besides describing symptoms."""

    answer: Answer = Answer.NONE
    hedged: bool = False  # "a bit", "kind of": a yes, said with doubt
    rest: tuple[str, ...] = ()  # the words after a leading yes/no ("yes, stairs too" -> stairs too)
    correction: bool = False  # "actually", "no wait", "I meant"
    side: str = ""  # "left", "right" or "other" when the message names a side
    days: int | None = None  # how long it has lasted, when the message says
    also: bool = False  # "too", "also": a second problem rather than a correction
    done: bool = False  # "that's all", "done": a list is finished
    pause: bool = False  # "one sec", "brb": the runner will be back
    pain: bool = False  # pain in general words ("it hurts"), wherever it is
    someone_else: bool = False  # the runner writes about another person
    emergency_help: bool = False  # a question about acting on an emergency warning
    takes_back: bool = False  # "sorry, one thing I skipped when I said no": new information, not a no


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
RELATIVE_DAYS = {
    "since today": 0, "since this morning": 0, "this morning": 0, "since yesterday": 1,
    "since last night": 1, "since the weekend": 3, "since last week": 7, "since last month": 30,
    "since last year": 365, "ages": 60, "forever": 60, "a long time": 60, "years": 365,
    "started yesterday": 1, "began yesterday": 1, "yesterday": 1, "today": 0,
    # a bare "months" or "weeks" answers "how long?" too: the shortest that fits
    "months": 60, "weeks": 14, "a while": 14, "a long while": 60,
}  # fmt: skip
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
_SINCE_MONTH = re.compile(r"(?:since|from|in|started|began|start of|beginning of|end of) (?:early |late |mid )?(" + "|".join(MONTHS) + ")(?![a-z])")
# days of the year runners date things by: "since Boxing Day", "since Christmas"
HOLIDAYS = {"boxing day": (12, 26), "christmas": (12, 25), "xmas": (12, 25), "new year": (1, 1), "new years": (1, 1), "halloween": (10, 31)}
_SINCE_HOLIDAY = re.compile(r"(?:since|from|after|over|at) (?:the )?(" + "|".join(HOLIDAYS) + r")(?![a-z])")
_LAST_UNIT = re.compile(r"(?:for|over|in|during) the (?:last|past) (week|month|year|fortnight)(?![a-z])")
_WEEKEND = re.compile(r"(?:since|from|over|at) (?:last|the last|this past) weekend(?![a-z])")
SATURDAY = 5
# Outside an answer to "how long?", a span counts only when the message says it is how long the
# pain has lasted ("for 3 weeks", "since Sunday"), not when it is about running ("3 days a week").
DURATION_CUES = re.compile(
    r"(?<![a-z])(since|for|started|starting|began|begun|ago|been|lasted|lasting|past|last|over|nearly|almost|about|"
    r"only|just|around|roughly|few|couple)(?![a-z])"
)
_AMOUNT = r"(\d+(?:\.\d+)?|" + "|".join(NUMBER_WORDS) + ")"
_UNIT = "(" + "|".join(UNIT_DAYS) + ")"
_SPAN = re.compile(rf"(?<![a-z0-9]){_AMOUNT} (?:and a half )?(?:of )?{_UNIT}(?![a-z0-9])")
_SINCE_WEEKDAY = re.compile(
    r"(?:since|from|on|last|started|starting|began|begun|start|this|it was) (?:on )?(?:last )?(" + "|".join(WEEKDAYS) + ")"
)
_BARE_WEEKDAY = re.compile(r"^(?:on |last |since )?(?:last )?(" + "|".join(WEEKDAYS) + r")$")
_MORE_THAN = re.compile(r"(?:more than|over|longer than|past|than) (?:a|one) (week|month|fortnight)")


class IntentReader:
    """Reads intents with the patterns of data/intents.yaml; build once, call often."""

    def __init__(self, spelling: dict[str, str], common_words: frozenset[str], lexicon_words: set[str]) -> None:
        data = yaml.safe_load(INTENTS_FILE.read_text(encoding="utf-8"))
        self._groups = {
            name: _union(data[name])
            for name in INTENT_GROUPS
        }
        self._sides = {side: _union(patterns) for side, patterns in data["sides"].items()}
        words, stems = pattern_words(p for v in data.values() for p in _flatten(v))
        vocabulary = words | lexicon_words | set(NUMBER_WORDS) | set(UNIT_DAYS) | set(WEEKDAYS)
        self.normaliser = Normaliser(spelling, vocabulary, stems, common_words)

    def read(self, message: str, today: dt.date | None = None, asked_how_long: bool = False) -> Intent:
        """Everything this module can tell about how `message` answers or corrects.

        `asked_how_long`: the message answers "how long has it lasted?", so a bare "3 days" is a
        duration; otherwise a duration needs a cue ("for 3 days", "since Sunday").
        """
        tokens = self.normaliser.tokens(message if isinstance(message, str) else "")
        if not tokens.words:
            return Intent()
        answer, hedged, rest = self._answer(tokens)
        if message.strip().strip(".!").lower() == "n":  # text-speak reads a lone "n" as "and"
            answer = Answer.NO
        return Intent(
            answer=answer,
            hedged=hedged,
            rest=rest,
            correction=self._found("correction", tokens),
            side=self._side(tokens),
            also=self._found("also", tokens),
            done=self._found("done", tokens),
            pause=self._found("pause", tokens),
            pain=self._found("pain_words", tokens),
            days=(
                days_in(tokens.text, today or dt.date.today())
                if asked_how_long or DURATION_CUES.search(tokens.text)
                else None
            ),
            someone_else=self._found("someone_else", tokens),
            emergency_help=self._found("emergency_help", tokens),
            takes_back=self._found("takes_back", tokens),
        )

    def _answer(self, tokens: Tokens) -> tuple[Answer, bool, tuple[str, ...]]:
        reported = self._groups["reported"].match(tokens.text)
        if reported:  # "he says no": the answer is what follows
            tokens = make_tokens(tokens.words[tokens.index_at(reported.end()) :])
        if self._found("unsure", tokens):
            return Answer.UNSURE, False, ()
        if self._found("takes_back", tokens):  # a late disclosure is never read as a no
            return Answer.NONE, False, ()
        for kind in ("answer_no", "answer_yes", "hedged_yes"):
            match = self._groups[kind].match(tokens.text)
            if match:
                rest = tuple(w for w in tokens.words[tokens.index_at(match.end()) :] if w != BREAK)
                answer = Answer.NO if kind == "answer_no" else Answer.YES
                return answer, kind == "hedged_yes", rest
        if self._found("negative_any", tokens):
            return Answer.NO, False, ()
        return Answer.NONE, False, ()

    def _found(self, group: str, tokens: Tokens) -> bool:
        return self._groups[group].search(tokens.text) is not None

    def _side(self, tokens: Tokens) -> str:
        for side in ("left", "right", "other"):
            if self._sides[side].search(tokens.text):
                return side
        return ""


# how long someone has been running (or training, or cycling) is not how long it has hurt: a span
# whose nearest telling word before it is an activity, not a pain word, is skipped
ACTIVITY_WORDS = frozenset(
    "running run runs ran jogging jog training trained racing raced cycling riding swimming lifting runner marathons "
    "sit sitting sat stand standing stood work working driving drive desk waiting queue".split()
)
PAIN_WORDS = frozenset(
    "pain hurt hurts hurting hurted ache aches aching sore niggle niggling injured injury since started began".split()
)
LOOK_BACK = 8


def _about_activity(text: str, start: int) -> bool:
    for word in reversed(text[:start].split()[-LOOK_BACK:]):
        if word in PAIN_WORDS:
            return False
        if word in ACTIVITY_WORDS:
            return True
    return False


def days_in(text: str, today: dt.date) -> int | None:
    """How many days a normalised message says the pain has lasted, or None.

    "3 days", "a couple of weeks", "since Sunday", "over a week", "since yesterday", "ages".
    When several are said, the longest counts (the safer reading). How long someone has been
    running ("I've been running for years") is not counted.
    """
    found: list[float] = []
    for span in _SPAN.finditer(text):
        if _about_activity(text, span.start()):
            continue
        amount, unit = span.groups()
        number = float(amount) if amount[0].isdigit() else NUMBER_WORDS[amount]
        found.append(number * UNIT_DAYS[unit])
    for unit in _MORE_THAN.findall(text):
        found.append(UNIT_DAYS[unit] + 1)
    weekdays = _SINCE_WEEKDAY.findall(text) or _BARE_WEEKDAY.findall(text.strip())
    for weekday in weekdays:
        back = (today.weekday() - WEEKDAYS.index(weekday)) % WEEK_DAYS
        found.append(back or WEEK_DAYS)
    if _WEEKEND.search(text):  # the Saturday before this one, at the least
        back = (today.weekday() - SATURDAY) % WEEK_DAYS
        found.append(back + WEEK_DAYS if back < 2 else back)
    for month in _SINCE_MONTH.findall(text):
        months_back = (today.month - 1 - MONTHS.index(month)) % 12
        start = dt.date(today.year - (MONTHS.index(month) + 1 > today.month), MONTHS.index(month) + 1, 1)
        found.append((today - start).days if months_back else max(today.day - 1, 1))
    for holiday in _SINCE_HOLIDAY.findall(text):
        month, day = HOLIDAYS[holiday]
        date = dt.date(today.year, month, day)
        found.append((today - (date if date <= today else date.replace(year=today.year - 1))).days)
    for unit in _LAST_UNIT.findall(text):
        found.append(UNIT_DAYS[unit])
    if SINCE_EVENT.search(text):
        found.append(EVENT_DAYS)
    for words, days in RELATIVE_DAYS.items():
        hit = re.search(rf"(?<![a-z]){words}(?![a-z])", text)
        if hit and not _about_activity(text, hit.start()):
            found.append(days)
    return round(max(found)) if found else None


def _flatten(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [p for v in value.values() for p in _flatten(v)]
    if isinstance(value, list):
        return [p for v in value for p in _flatten(v)]
    return []


def _union(patterns: list[str]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{compile_pattern(p)})" for p in patterns))
