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

from knowledge.durations import NUMBER_WORDS, UNIT_DAYS, WEEKDAYS, days_in
from knowledge.patterns import BREAK, Normaliser, Tokens, compile_pattern, make_tokens, pattern_words

INTENT_GROUPS = (
    "unsure", "answer_no", "answer_yes", "hedged_yes", "negative_any", "correction", "also", "done", "pause", "reported",
    "pain_words", "someone_else", "emergency_help", "takes_back", "which_first",
)  # fmt: skip
INTENTS_FILE = Path(__file__).resolve().parent / "data" / "intents.yaml"
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
    which_first: bool = False  # "which should I work on first?": of two problems


# Outside an answer to "how long?", a span counts only when the message says it is how long the
# pain has lasted ("for 3 weeks", "since Sunday"), not when it is about running ("3 days a week").
DURATION_CUES = re.compile(
    r"(?<![a-z])(since|for|started|starting|began|begun|ago|been|lasted|lasting|past|last|over|nearly|almost|about|"
    r"only|just|around|roughly|few|couple)(?![a-z])"
)
# "oh right.", "ah ok,", "got it." before an answer: an acknowledgement of an explanation, then the answer
_LEAD_IN = re.compile(
    r"^(?:(?:oh|ah|ahh|ohh|aha|ok|okay|right|i see|got it|gotcha|makes sense|fair enough|thanks|cheers) )+\. "
)


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
            which_first=self._found("which_first", tokens),
        )

    def _answer(self, tokens: Tokens) -> tuple[Answer, bool, tuple[str, ...]]:
        reported = self._groups["reported"].match(tokens.text)
        if reported:  # "he says no": the answer is what follows
            tokens = make_tokens(tokens.words[tokens.index_at(reported.end()) :])
        lead_in = _LEAD_IN.match(tokens.text)
        if lead_in and lead_in.end() < len(tokens.text):  # "oh right. no, nothing like that": what follows
            tokens = make_tokens(tokens.words[tokens.index_at(lead_in.end()) :])
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
