"""Recognise a runner's likely problem, and any red flags, from their own words.

The matcher reads a message as *concepts* (data/lexicon.yaml): where it hurts, what sets it off,
what it feels like, names, and warning signs. Conditions are scored the way the guide tells them
apart — location and trigger first — from the concepts they list in their `recognise` block.
Red flags are the concepts each flag `detect`s (or the clue combinations of its `detect_all`
rules), unless the runner negated them ("no numbness"). A negation reaches back over its clause
only, and never past a turn: "no numbness except around my bottom" and "no bladder problems
until this week" are admissions. Context that may explain a sign innocently ("numb from the
cold") holds the flag back and is reported in `Reading.explained` instead.

`Matcher` builds its index once; `match`, `read` and `assess` are pure functions of their input.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from knowledge.ages import age_band, age_in
from knowledge.history import past_names
from knowledge.model import CONDITION_IDS, Knowledge, Urgency
from knowledge.negation import (
    CLAUSE_WORDS,
    NEGATORS,
    NOT_NEGATING_NEXT,
    fine_after,
    negated,
    negates,
    turns_after,
)
from knowledge.others import MIN_LEAD, MIN_SCORE, OtherProblems, concept_weights
from knowledge.patterns import (
    BREAK,
    Normaliser,
    Tokens,
    compile_pattern,
    entry_words,
    make_tokens,
    pattern_words,
)

AGE_UNDER_20, AGE_OVER_50 = "age_under_20", "age_over_50"  # concepts the age rules use
YOUNG, OLDER = 20, 50
SHORT_NOTE_WORDS = 10  # up to this many words, fragments are also read as one phrase

@dataclass(frozen=True, slots=True)
class Candidate:
    """A condition and how well the message fits it (0–100)."""

    id: str
    score: float


@dataclass(frozen=True, slots=True)
class Reading:
    """What a message says, as concept ids: the ones it affirms and the ones it denies.

    `explained` holds red-flag ids whose sign the message mentions together with context that
    may explain it innocently — rolling onto the sore hip at night, toes numb on a freezing run,
    numbness from a bike saddle that has passed, heavy legs after a race. The sign's concept
    is then left out of `concepts`, so the flag is not raised; the conversation should ask one
    short question to make sure (or simply keep the flag's question in its screen).

    `age` is the age the message gives (ages.py), if any; it also adds the concept `age_under_20`
    or `age_over_50`, so the age rules apply without asking.
    """

    concepts: frozenset[str] = frozenset()
    negated: frozenset[str] = frozenset()
    explained: frozenset[str] = frozenset()
    age: int | None = None

    @property
    def age_band(self) -> str | None:
        """"under16", "16-19", "20-49" or "50+" when an age was given."""
        return age_band(self.age)

    def __or__(self, other: Reading) -> Reading:
        concepts = (self.concepts - other.negated) | other.concepts
        negated = (self.negated - other.concepts) | other.negated
        age = other.age if other.age is not None else self.age
        return Reading(frozenset(concepts), frozenset(negated), self.explained | other.explained, age)


@dataclass(frozen=True, slots=True)
class MatchResult:
    """The matcher's answer for one message (or one conversation's worth of concepts)."""

    condition: str | None
    confidence: float
    candidates: tuple[Candidate, ...]
    red_flags: tuple[str, ...]
    urgency: Urgency
    reading: Reading = field(default_factory=Reading)
    evidence: tuple[str, ...] = ()
    concerns: tuple[str, ...] = ()  # ids of Knowledge.concerns: need a clinician, not eval flags
    # a problem outside the six (Knowledge.other_conditions) that fits the picture best, the
    # clues that point to it (its card's "why"), and every other problem the clues fit, best first
    other: str | None = None
    other_evidence: tuple[str, ...] = ()
    other_candidates: tuple[Candidate, ...] = ()

    def to_json(self) -> dict:
        """The JSON contract of `runner-bot match` (shared/eval/README.md)."""
        return {
            "condition": self.condition,
            "confidence": self.confidence,
            "candidates": [{"id": c.id, "score": c.score} for c in self.candidates],
            "red_flags": list(self.red_flags),
            "urgency": self.urgency.key,
            "concepts": sorted(self.reading.concepts),
            "concerns": list(self.concerns),
            "explained": sorted(self.reading.explained),
            "other": self.other,
            "age": self.reading.age,
            "age_band": self.reading.age_band,
            "other_candidates": [{"id": c.id, "score": c.score} for c in self.other_candidates],
        }


@dataclass(frozen=True, slots=True)
class _ConceptIndex:
    id: str
    pattern: re.Pattern[str]
    exceptions: re.Pattern[str] | None
    own_negators: frozenset[str]  # negation words the patterns spell out ("no feeling")
    fine_denies: bool = False  # "lying on it is fine" denies it (never for a red-flag sign)


class Matcher:
    """Reads messages into concepts and ranks the six conditions; build once, call often."""

    def __init__(self, knowledge: Knowledge) -> None:
        self.knowledge = knowledge
        all_patterns = [p for c in knowledge.concepts.values() for p in (*c.patterns, *c.exceptions)]
        words, stems = pattern_words(all_patterns)
        known = words | NEGATORS | CLAUSE_WORDS | NOT_NEGATING_NEXT
        self.normaliser = Normaliser(knowledge.spelling, known, stems, knowledge.common_words)
        signs = {c for flag in (*knowledge.red_flags.values(), *knowledge.concerns.values()) for c in flag.detect}
        self._index = tuple(
            _ConceptIndex(
                concept.id,
                _union(concept.patterns),
                _union(concept.exceptions) if concept.exceptions else None,
                frozenset(pattern_words(concept.patterns)[0] & NEGATORS),
                concept.id not in signs,
            )
            for concept in knowledge.concepts.values()
        )
        self._by_word, self._by_stem = _entry_index(knowledge)
        # the single signs stay clause-strict; the clues of detect_all pictures may be joined
        flags = (*knowledge.red_flags.values(), *knowledge.concerns.values())
        self._flag_concepts = frozenset(c for flag in flags for c in flag.detect)
        self._explanations = tuple(
            (e.sign, (e.context, *((e.together_with,) if e.together_with else ())), e.unless, flag.id)
            for flag in knowledge.red_flags.values()
            for e in flag.explained_by
        )
        self._weights = {cid: concept_weights(knowledge.conditions[cid].recognise) for cid in CONDITION_IDS}
        self.others = OtherProblems(knowledge)
        self._anchors = {
            cid: frozenset(
                (
                    *knowledge.conditions[cid].recognise.names,
                    *knowledge.conditions[cid].recognise.hallmarks,
                    *knowledge.conditions[cid].recognise.where,
                    *knowledge.conditions[cid].recognise.signs,
                )
            )
            for cid in CONDITION_IDS
        }

    def match(self, message: str) -> MatchResult:
        """Everything the matcher can tell from one message."""
        return self.assess(self.read(message))

    def read(self, message: str) -> Reading:
        """The concepts a message affirms, and those it negates ("no numbness")."""
        tokens = self.normaliser.tokens(message if isinstance(message, str) else "")
        if not tokens.words:
            return Reading()
        tokens = _resolve_of_it(tokens)
        spans, negated = self._scan(tokens)
        affirmed = set(spans) - past_names(tokens, spans, self._flag_concepts)
        explained = self._explained(tokens, spans)
        for sign, _ in explained:
            affirmed.discard(sign)
        words = [w for w in tokens.words if w != BREAK]
        if len(words) < len(tokens.words) and len(words) <= SHORT_NOTE_WORDS:
            # A short note in fragments ("Right hip, front, sprinting") is one thought: read it
            # again without the breaks, for where and what only — red flags stay clause-strict.
            joined, _ = self._scan(make_tokens(words))
            affirmed |= (set(joined) - negated) - self._flag_concepts
        age = age_in(tokens.text)
        if age is not None:
            affirmed.add(AGE_UNDER_20 if age < YOUNG else AGE_OVER_50 if age >= OLDER else "")
            affirmed.discard("")
        return Reading(
            frozenset(affirmed),
            frozenset(negated - affirmed),
            frozenset(flag for _, flag in explained),
            age,
        )

    def _scan(self, tokens: Tokens) -> tuple[dict[str, list[int]], set[str]]:
        """The concepts affirmed (with the token index of each affirmed hit) and those only negated."""
        starts = self._possible_starts(tokens.words)
        affirmed: dict[str, list[int]] = {}
        negated: set[str] = set()
        for entry in self._index:
            if entry.id not in starts:
                continue
            found = _hits(entry, tokens, starts[entry.id])
            if found is None:
                continue
            if found:
                affirmed[entry.id] = found
            else:
                negated.add(entry.id)
        return affirmed, negated

    def _explained(self, tokens: Tokens, spans: dict[str, list[int]]) -> set[tuple[str, str]]:
        """(sign concept, flag id) pairs whose every mention sits next to explaining context."""
        found: set[tuple[str, str]] = set()
        segment: list[int] | None = None
        for sign, groups, unless, flag in self._explanations:
            if sign not in spans or not all(any(c in spans for c in group) for group in groups):
                continue
            if any(c in spans for c in unless):
                continue
            if segment is None:
                segment = _segments(tokens.words)
            # every mention of the sign has, for each group, context in its clause or a neighbouring
            # one ("Ran a marathon yesterday! Both legs feel like lead")
            near = [
                {segment[i] + d for c in group for i in spans.get(c, ()) for d in (-1, 0, 1)}
                for group in groups
            ]
            if all(segment[i] in n for i in spans[sign] for n in near):
                found.add((sign, flag))
        return found

    def _possible_starts(self, words: tuple[str, ...]) -> dict[str, list[int]]:
        """For each concept, the token positions where one of its patterns could start.

        Trying patterns only there, rather than scanning the whole message with every concept,
        keeps the matcher well under a millisecond even on long messages.
        """
        starts: dict[str, list[int]] = {}
        for index, word in enumerate(words):
            concepts = set(self._by_word.get(word, ()))
            for stem, stem_concepts in self._by_stem.get(word[:STEM_KEY], ()):
                if word.startswith(stem):
                    concepts |= stem_concepts
            for concept in concepts:
                starts.setdefault(concept, []).append(index)
        return starts

    def assess(self, reading: Reading) -> MatchResult:
        """Rank conditions and collect red flags for a set of concepts.

        The six and the problems outside them (other_conditions.yaml) are scored alike. One of
        the six is named only when it leads every other problem too; another problem that leads
        the six is named in `other` (condition None). When the best of each are within MIN_LEAD
        of each other, neither is named: both stay among the candidates and the conversation
        asks about what sets them apart (the other's hallmarks and `needs`).
        """
        raw = {cid: self._score(cid, reading.concepts) for cid in CONDITION_IDS}
        ranked = sorted((cid for cid in CONDITION_IDS if raw[cid] > 0), key=lambda c: -raw[c])
        condition = self._decide(ranked, raw)
        others = self.others.scores(reading.concepts)
        condition, other = self.others.decide(condition, raw[ranked[0]] if ranked else 0.0, others, reading.concepts)
        flags = self.red_flags(reading.concepts)
        concerns = self.concerns(reading.concepts)
        urgency = max(
            (
                *(self.knowledge.red_flags[f].urgency for f in flags),
                *(self.knowledge.concerns[c].urgency for c in concerns),
            ),
            default=Urgency.SELF_CARE,
        )
        if condition:
            urgency = max(urgency, self.knowledge.conditions[condition].urgency_floor)
        if other:
            urgency = max(urgency, self.knowledge.other_conditions[other].see)
        return MatchResult(
            condition=condition,
            confidence=_confidence(ranked, raw, condition),
            candidates=tuple(Candidate(cid, _percent(raw[cid])) for cid in ranked),
            red_flags=flags,
            urgency=urgency,
            reading=reading,
            evidence=self.evidence(condition, reading.concepts) if condition else (),
            concerns=concerns,
            other=other,
            other_evidence=self.others.evidence(other, reading.concepts) if other else (),
            other_candidates=tuple(Candidate(oid, _percent(score)) for oid, score in others.items()),
        )

    def red_flags(self, concepts: Iterable[str]) -> tuple[str, ...]:
        """The red flags these concepts raise, most urgent first."""
        present = set(concepts)
        flags = [f for f in self.knowledge.red_flags.values() if f.present(present)]
        return tuple(f.id for f in sorted(flags, key=lambda f: -f.urgency))

    def concerns(self, concepts: Iterable[str]) -> tuple[str, ...]:
        """The concerns (Knowledge.concerns) these concepts raise, most urgent first.

        Concerns are pictures that need a clinician but are not red flags of the shared
        contract — a young athlete's back pain on arching, new back pain after 50,
        inflammatory back pain — so they never appear among `red_flags`.
        """
        present = set(concepts)
        found = [c for c in self.knowledge.concerns.values() if c.present(present)]
        return tuple(c.id for c in sorted(found, key=lambda c: -c.urgency))

    def evidence(self, condition: str, concepts: Iterable[str]) -> tuple[str, ...]:
        """The concepts that pointed to `condition`, strongest first."""
        weights = self._weights[condition]
        return tuple(sorted((c for c in set(concepts) if c in weights), key=lambda c: (-weights[c], c)))

    def _score(self, condition: str, concepts: frozenset[str]) -> float:
        if not concepts & self._anchors[condition]:
            return 0.0
        weights = self._weights[condition]
        return sum(weights[c] for c in concepts if c in weights)

    @staticmethod
    def _decide(ranked: list[str], raw: dict[str, float]) -> str | None:
        if not ranked or raw[ranked[0]] < MIN_SCORE:
            return None
        runner_up = raw[ranked[1]] if len(ranked) > 1 else 0.0
        return ranked[0] if raw[ranked[0]] - runner_up >= MIN_LEAD else None


STEM_KEY = 2  # stems are filed under their first letters for a quick look-up


def _entry_index(
    knowledge: Knowledge,
) -> tuple[dict[str, frozenset[str]], dict[str, list[tuple[str, frozenset[str]]]]]:
    by_word: dict[str, set[str]] = {}
    by_stem: dict[str, set[str]] = {}
    for concept in knowledge.concepts.values():
        for pattern in concept.patterns:
            words, stems = entry_words(pattern)
            for word in words:
                by_word.setdefault(word, set()).add(concept.id)
            for stem in stems:
                by_stem.setdefault(stem, set()).add(concept.id)
    stems_by_key: dict[str, list[tuple[str, frozenset[str]]]] = {}
    for stem, concepts in by_stem.items():
        stems_by_key.setdefault(stem[:STEM_KEY], []).append((stem, frozenset(concepts)))
    return {w: frozenset(c) for w, c in by_word.items()}, stems_by_key


def _union(patterns: Iterable[str]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{compile_pattern(p)})" for p in patterns))


# "my hip as well — the front of it nags": "of it" after a part of a place is that place
PARTS_OF_A_PLACE = frozenset(
    "front side sides outside outer inside top bottom middle back center base".split()
)
PLACES = frozenset("hip hips back groin thigh thighs bum pelvis spine".split())


def _resolve_of_it(tokens: Tokens) -> Tokens:
    """Tokens with "the front of it" read as "the front of <the place last named>"."""
    words = list(tokens.words)
    place = None
    changed = False
    for index, word in enumerate(words):
        following = words[index + 1] if index + 1 < len(words) else ""
        if word in PLACES and following != "of":  # "the back of my hip" names the hip
            place = word
        elif (
            word == "it"
            and place
            and index >= 2
            and words[index - 1] == "of"
            and words[index - 2] in PARTS_OF_A_PLACE
        ):
            words[index] = place
            changed = True
    return make_tokens(words) if changed else tokens


def _segments(words: tuple[str, ...]) -> list[int]:
    """For each token, the number of the clause it is in (clauses are split by breaks)."""
    out, number = [], 0
    for word in words:
        number += word == BREAK
        out.append(number)
    return out


def _hits(entry: _ConceptIndex, tokens: Tokens, starts: list[int]) -> list[int] | None:
    """None when the concept is absent; else the token index of each affirmed hit (empty: only negated)."""
    matches = [m for i in starts if (m := entry.pattern.match(tokens.text, tokens.starts[i]))]
    if not matches:
        return None
    if entry.exceptions is not None:
        # an exception is a harmless way of saying it ("my bladder is fine"); negated ("isn't
        # fine") it is not harmless, so it cancels nothing
        cancelled = [
            e.span()
            for e in entry.exceptions.finditer(tokens.text)
            if not any(
                negates(tokens.words, i) for i in range(tokens.index_at(e.start()), tokens.index_at(e.end()))
            )
            and not turns_after(tokens.words, tokens.index_at(e.end()))
        ]
        matches = [m for m in matches if not any(a < m.end() and m.start() < b for a, b in cancelled)]
        if not matches:
            return None
    return [
        start
        for m in matches
        if not negated(
            tokens, (start := tokens.index_at(m.start())), (end := tokens.index_at(m.end())), entry.own_negators
        )
        and not (entry.fine_denies and fine_after(tokens.words, end))
    ]


def _percent(raw: float) -> float:
    return round(100.0 * (1.0 - math.exp(-raw / 4.0)), 1)


def _confidence(ranked: list[str], raw: dict[str, float], condition: str | None) -> float:
    if not ranked:
        return 0.0
    top = raw[ranked[0]]
    share = top / sum(raw[c] for c in ranked)
    strength = 1.0 - math.exp(-top / 3.0)
    value = share * strength
    return round(value if condition else min(value, 0.49), 3)
