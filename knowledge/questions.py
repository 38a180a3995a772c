"""Read a runner's QUESTION: its topic, the condition it is about, small talk, out of scope.

A question about a symptom does not report the symptom: in a clause that opens with a question
word ("what is", "does", "can", "how long" ...), the names of problems ("sciatica", "a stress
fracture", "a disc thing") are what is asked about, and signs are reported only when the runner
speaks of their own body ("my leg", "I have"). Everything else in the message is read as usual,
so a question that also reports a sign ("numb around my bum when I wipe — is that normal?")
keeps its warning. A statement asks nothing: "and also when I sit for ages at work" adds a
trigger (a relative word with a subject, no question mark), and a statement's everyday words
("work", "helps", "because") give no topic — only a thing named on its own ("ice or heat?").

Where the rules are unsure (a question with no topic cue, or two topics scored close) the learned
reader (learned.py) decides the topic, and a reading may say two topics are close (`clarify`),
so the conversation can ask which one is meant. The rules keep the final say on red flags,
small talk and out of scope; the learned reader never changes a flag.

`QuestionReader` builds its patterns once (data/topics.yaml); `read` is a pure function.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

from knowledge.learned import NO_FLAG, TopicGuess, TopicGuesser, default_flag_reader, default_learned_reader
from knowledge.matcher import CLAUSE_WORDS, NEGATORS, Matcher, MatchResult
from knowledge.model import CONDITION_IDS, Knowledge, QuestionPatterns, Urgency
from knowledge.patterns import BREAK, Normaliser, compile_pattern, make_tokens, pattern_words
from knowledge.reconcile import (
    FLAG_SUSPECT,
    FLAG_SUSPECT_NAMED,
    LEARNED_UNASKED,
    RULES_CLOSE,
    follow_up,
    settle,
)

_SENTENCE = re.compile(r"[^.?!\n]+[.?!\n]*")
FIRST_PERSON = frozenset("i my me mine myself im ive id".split())
OWNING_VERBS = frozenset("have has had got get gets getting having".split())
HYPOTHETICAL = frozenset("if whether".split())
# "is it normal to lose weight and sweat at night?" asks about what is happening to the runner
ASKS_IF_NORMAL = frozenset("normal usual".split())
NOT_ANCHORS = frozenset({"out_of_scope_body", "small_talk", "long_duration", "pain_since"})
SMALL_TALK_MAX_WORDS = 12
ACK_MAX_WORDS = 6  # "ok", "hmm let me think about that"; longer messages say more than that
# topics named by a thing ("ice or heat for a sore back") need no question word
ASKED_WITHOUT_QUESTION_WORDS = frozenset(
    "painkillers ice_heat foam_rolling shoes yoga cross_training warm_up stretching other stress_fracture".split()
)
OPENS_WEIGHT, ASKS_WEIGHT = 3, 2  # a topic cue in a clause that opens a question, in a question
CUE, BROAD, STRONG = 2, 1, 6  # a topic's cue; a broad topic's cue ("help", "why"); a strong cue
# A question about what it is, when the message also reports an urgent sign, asks whether it is serious.
QUESTION_WHAT_IT_IS = frozenset({None, "what_is", "symptoms", "cause"})
SERIOUS = frozenset({Urgency.EMERGENCY, Urgency.URGENT})
RELATIVE_WORDS = frozenset("which when where who whose whom".split())
# "when I sit for ages", "where it joins": a relative word followed by a subject says when or
# where something happens; without a question mark it asks nothing ("when can I run" does)
SUBJECTS = frozenset("i my me im ive id it its the this that there we he she they his her their".split())
NAME_ONLY_MAX_WORDS = 3  # "hip flexor??", "still tendinopathy?"
OWNER_WINDOW = 3  # words before a name that can say it is the runner's own ("my", "I have")


@dataclass(frozen=True, slots=True)
class MessageReading:
    """A message read both ways: what it reports (`match`) and what it asks (`topic`)."""

    match: MatchResult  # conditions and red flags from what the message REPORTS
    topic: str | None = None  # one of the topic ids, or None when it only describes symptoms
    condition: str | None = None  # the question's condition when `topic` is set, else match's
    small_talk: str | None = None  # greeting, thanks, bye, ack, who, capabilities
    # two close readings, `topic` first: the conversation may ask "Do you mean: A / B?"
    clarify: tuple[str, str] | None = None
    learned: TopicGuess | None = None  # the learned reader's guess, its confidence and runner-up, when asked
    # a warning sign the learned reader suspects where the rules read none at its urgency: the
    # conversation asks an explicit confirm question; it is never a flag by itself
    suspected_flag: str | None = None

    def to_json(self) -> dict:
        """The JSON contract of `runner-bot match` (shared/eval/README.md), with `topic`."""
        data = self.match.to_json()
        data["condition"] = self.condition
        data["topic"] = self.topic
        if self.small_talk:
            data["small_talk"] = self.small_talk
        if self.clarify:
            data["clarify"] = list(self.clarify)
        if self.suspected_flag:
            data["suspected_flag"] = self.suspected_flag
        if self.learned:
            data["learned"] = {
                "topic": self.learned.topic,
                "confidence": round(self.learned.confidence, 3),
                "runner_up": self.learned.runner_up,
                "runner_up_confidence": round(self.learned.runner_up_confidence, 3),
            }
        return data


@dataclass(frozen=True, slots=True)
class _Clause:
    words: tuple[str, ...]
    opens_question: bool
    in_question_sentence: bool


class QuestionReader:
    """Reads questions and small talk; build once (it builds a Matcher if not given one)."""

    def __init__(
        self, knowledge: Knowledge, matcher: Matcher | None = None, learned: TopicGuesser | bool | None = True
    ) -> None:
        """`learned`: the learned reader to consult (True: the packaged one; None or False: rules alone)."""
        self.knowledge = knowledge
        self.matcher = matcher or Matcher(knowledge)
        self.learned: TopicGuesser | None = (
            default_learned_reader() if learned is True else None if learned is False else learned
        )
        self.flag_reader: TopicGuesser | None = default_flag_reader() if learned is True else None
        q: QuestionPatterns = knowledge.questions
        self.patterns = q
        all_patterns = [
            *(p for ps in q.topics.values() for p in ps),
            *(p for ps in q.small_talk.values() for p in ps),
            *(p for ps in q.condition_names.values() for p in ps),
            *q.subject_names,
            *q.out_of_scope,
            *q.diagnosis,
            *q.owns_subject,
            *q.not_pain_time,
            *q.asks_within,
            *q.hearsay,
            *(p for c in knowledge.concepts.values() for p in (*c.patterns, *c.exceptions)),
        ]
        words, stems = pattern_words(all_patterns)
        known = words | set(q.openers) | set(q.fillers) | NEGATORS | CLAUSE_WORDS | FIRST_PERSON
        self.normaliser = Normaliser(knowledge.spelling, known, stems, knowledge.common_words)
        self._topics = tuple(
            (
                topic,
                _union(ps),
                _union(q.strong_cues[topic]) if topic in q.strong_cues else None,
                BROAD if topic in q.broad_topics else CUE,
            )
            for topic, ps in q.topics.items()
        )
        self._small_talk = tuple((kind, _union(ps)) for kind, ps in q.small_talk.items())
        self._condition_names = tuple((cid, _union(ps)) for cid, ps in q.condition_names.items())
        self._subject_names = _union(q.subject_names)
        self._out_of_scope = _union(q.out_of_scope)
        self._diagnosis = _union(q.diagnosis)
        self._owns_subject = _union(q.owns_subject)
        self._not_pain_time = _union(q.not_pain_time)
        self._asks_within = _union(q.asks_within)
        self._hearsay = _union(q.hearsay)
        self._openers = frozenset(q.openers)
        self._fillers = frozenset(q.fillers)
        self._name_concepts = {
            concept: cid for cid in CONDITION_IDS for concept in knowledge.conditions[cid].recognise.names
        }
        self._anchors = frozenset(
            c
            for cid in CONDITION_IDS
            for group in ("names", "hallmarks", "where", "signs")
            for c in getattr(knowledge.conditions[cid].recognise, group)
        ) | {"hip_general", "back_general"}

    # ----- the reading ---------------------------------------------------------------------
    def read(self, message: str, previous_topic: str | None = None) -> MessageReading:
        """What a message asks (topic, condition, small talk) and what it reports (flags), and
        a warning sign the learned reader suspects that the rules did not read.

        `previous_topic`: the topic the conversation just answered, if any; a short question
        that points back to it ("how often should I do it?") is read as about it."""
        message = message if isinstance(message, str) else ""
        reading = self._read(message)
        suspected = self._suspected_flag(message, reading.match)
        topic, clarify = reading.topic, reading.clarify
        if previous_topic and not reading.match.red_flags:
            topic, clarify = follow_up(message, topic, clarify, previous_topic, self.patterns.broad_topics)
        if suspected or (topic, clarify) != (reading.topic, reading.clarify):
            return replace(reading, topic=topic, clarify=clarify, suspected_flag=suspected)
        return reading

    def _suspected_flag(self, message: str, match: MatchResult) -> str | None:
        """The flag the flag model finds likely enough (FLAG_SUSPECT, as its best or second guess:
        doubt leans towards asking), unless the rules raised it or one as urgent: a suspicion
        never lowers or raises the rules' flags, it only asks."""
        if self.flag_reader is None or not message.strip():
            return None
        guess = self.flag_reader.guess(message)
        flag, confidence = (
            (guess.runner_up, guess.runner_up_confidence) if guess.label == NO_FLAG else (guess.label, guess.confidence)
        )
        if flag == NO_FLAG or confidence < FLAG_SUSPECT or flag in match.red_flags:
            return None
        if match.condition is not None and confidence < FLAG_SUSPECT_NAMED:
            return None  # the rules read a clear picture ("knee up to my chest when sprinting": a hip flexor)
        return None if match.urgency >= self.knowledge.red_flags[flag].urgency else flag

    def _read(self, message: str) -> MessageReading:
        clauses = self._clauses(message)
        report, changed = self._report_text(clauses)
        full = self.matcher.match(message)
        match = self.matcher.match(report) if changed else full
        words = [w for c in clauses for w in c.words]
        text = make_tokens(words).text if words else ""
        asks = any(c.opens_question or c.in_question_sentence for c in clauses)
        named = self._named(text, full)
        anchored = bool(full.reading.concepts & self._anchors) or bool(named)

        small_talk = self._small_talk_kind(text, words, match, anchored, asks)
        if small_talk:
            return MessageReading(match, "small_talk", None, small_talk)
        # "lifting my knee, sprinting": the lexicon reads that knee as a hip movement, not a knee
        knee_as_clue = "out_of_scope_body" not in match.reading.concepts and bool(match.reading.concepts - {"small_talk"})
        if not anchored and not knee_as_clue and self._out_of_scope.search(text):
            return MessageReading(match, "out_of_scope", None)
        topic, rival = self._topic(clauses)
        describes = bool((match.reading.concepts - self._name_concepts.keys()) & self._anchors)
        if (
            not asks
            and match.reading.concepts
            and (
                topic not in ASKED_WITHOUT_QUESTION_WORDS
                or (match.condition and describes)
                or bool(match.red_flags or match.reading.explained)
            )
        ):
            # a description ("my hip hurts when I run") is not a question, even when it names a
            # treatment tried ("the side of my hip hurts lying on it; stretching hasn't helped")
            topic = rival = None
        if not asks and topic in self.patterns.broad_topics:
            # a statement's everyday words ("at work", "it helps", "because") ask nothing: only
            # a thing named on its own ("ice or heat", "foam roller") is asked without asking
            topic = rival = None
        # a report the triage should take on: a warning sign, or symptoms that point to a condition
        triage = bool(match.red_flags or (match.condition and describes))
        if (
            topic in ("what_is", "symptoms")
            and not named
            and self._diagnosis.search(text)
            and (match.reading.concepts & self._anchors)
        ):
            topic, triage = None, True  # "my hip hurts, what could it be?" asks for triage
        guess = self.learned.guess(message) if self.learned else None
        # a message with no question form ("core work - which bits matter") asks only when the
        # learned reader is sure of it (it knows statements: the `describes` examples)
        sure = guess is not None and guess.confidence >= LEARNED_UNASKED
        asks_twice = sum(c.opens_question for c in clauses) > 1
        topic, clarify = settle(topic, rival, guess, may_add=(asks or sure) and not triage, asks_twice=asks_twice)
        if (
            topic is None
            and asks
            and named
            and any(c.in_question_sentence and len(c.words) <= NAME_ONLY_MAX_WORDS for c in clauses)
        ):
            topic = "symptoms"  # "sharp pain at the front of my hip. hip flexor??"
        if (
            asks
            and topic in QUESTION_WHAT_IT_IS
            and any(self.knowledge.red_flags[f].urgency in SERIOUS for f in match.red_flags)
        ):
            topic, clarify = "red_flags", None  # "... and now I have a fever. Related?"
        if topic is None:
            return MessageReading(match, None, match.condition, learned=guess)
        return MessageReading(match, topic, self._condition(named, full), clarify=clarify, learned=guess)

    # ----- clauses -------------------------------------------------------------------------
    def _clauses(self, message: str) -> list[_Clause]:
        clauses: list[_Clause] = []
        for sentence in _SENTENCE.findall(message):
            tokens = self.normaliser.tokens(sentence)
            parts: list[list[str]] = [[]]
            for word in tokens.words:
                if word == BREAK:
                    parts.append([])
                else:
                    parts[-1].append(word)
            parts = [p for p in parts if p]
            # "..., which was weird, and ..." / "..., when I wiped": a relative word after a
            # comma opens no question in a sentence that does not end in one
            asked = "?" in sentence
            opens = [
                self._opens(p)
                and (asked or ((index == 0 or p[0] not in RELATIVE_WORDS) and not self._says_when(p)))
                for index, p in enumerate(parts)
            ]
            is_question = "?" in sentence or any(opens)
            clauses.extend(_Clause(tuple(p), o, is_question) for p, o in zip(parts, opens, strict=True))
        return clauses

    def _opens(self, words: list[str]) -> bool:
        if self._asks_within.search(make_tokens(words).text):
            return True  # "after a disc injury how fast can I build up"
        for word in words[:4]:
            if word in self._openers:
                return True
            if word not in self._fillers:
                return False
        return False

    def _says_when(self, words: list[str]) -> bool:
        """Whether a clause opens, after fillers, with a relative word and a subject ("and also
        when I sit for ages"): a statement of when or where, not a question."""
        first = next((i for i, w in enumerate(words) if w not in self._fillers), None)
        if first is None or first + 1 >= len(words):
            return False
        return words[first] in RELATIVE_WORDS and words[first + 1] in SUBJECTS

    def _report_text(self, clauses: list[_Clause]) -> tuple[str, bool]:
        """The message without what its questions only ask about; and whether anything went.

        A clause that opens a question and says nothing of the runner ("what is sciatica") goes
        whole; in any clause of a question sentence, unowned names go ("naproxen for sciatica,
        does it work?"). In a message that asks, time phrases that do not date pain go too
        ("my race is in 3 weeks", "off running 4 weeks")."""
        owned = any(
            not c.in_question_sentence and self._owns_subject.search(make_tokens(c.words).text)
            for c in clauses
        )
        asks = any(c.opens_question or c.in_question_sentence for c in clauses)
        kept: list[str] = []
        changed = False
        for clause in clauses:
            words = clause.words
            if asks:
                words = self._removed(self._not_pain_time, words, lambda start, end: False)
            if clause.in_question_sentence and not owned:
                if clause.opens_question and not (FIRST_PERSON | ASKS_IF_NORMAL) & set(words):
                    changed = True
                    continue
                words = self._removed(self._subject_names, words, self._owns_name)
            changed |= len(words) != len(clause.words)
            kept.append(" ".join(words))
        return " . ".join(kept), changed

    @staticmethod
    def _removed(
        pattern: re.Pattern[str], words: tuple[str, ...], keep: Callable[..., bool]
    ) -> tuple[str, ...]:
        """`words` without the hits of `pattern`, except those `keep(words, start)` keeps."""
        if not words:
            return words
        tokens = make_tokens(words)
        drop: set[int] = set()
        for hit in pattern.finditer(tokens.text):
            start, end = tokens.index_at(hit.start()), tokens.index_at(hit.end())
            if not keep(words, start):
                drop.update(range(start, end))
        return tuple(w for i, w in enumerate(words) if i not in drop) if drop else words

    @staticmethod
    def _owns_name(words: tuple[str, ...], start: int) -> bool:
        """Whether the name at `start` is the runner's own: "my (bad) sciatica", "I've got sciatica"."""
        before = words[max(0, start - OWNER_WINDOW) : start]
        return "my" in words[max(0, start - 2) : start] or (
            bool(OWNING_VERBS & set(before))
            and bool(FIRST_PERSON & set(before))
            and not HYPOTHETICAL & set(words[:start])
        )

    # ----- topic, condition, small talk ----------------------------------------------------
    def _topic(self, clauses: list[_Clause]) -> tuple[str | None, str | None]:
        """The topic with the most weight of cues (who said what, "my physio said", is no cue): a cue in a clause that opens a question counts
        most, then one elsewhere in a question sentence, then one in a plain statement; a broad
        topic's cue counts less and a strong cue more; a tie goes to the topic listed first.
        Also the runner-up when it scores close to the best (RULES_CLOSE): the rules are unsure."""
        by_weight: dict[int, list[str]] = {}
        for clause in clauses:
            weight = (
                OPENS_WEIGHT if clause.opens_question else ASKS_WEIGHT if clause.in_question_sentence else 1
            )
            words = self._removed(self._hearsay, clause.words, lambda words, start: False)
            by_weight.setdefault(weight, []).extend((*words, BREAK))
        texts = [(weight, make_tokens(words).text) for weight, words in by_weight.items()]
        scored = []
        for order, (topic, pattern, strong, cue) in enumerate(self._topics):
            score = 0
            for weight, text in texts:
                hits = cue * len(pattern.findall(text))
                if strong is not None:
                    hits += STRONG * len(strong.findall(text))
                score += weight * hits
            if score > 0:
                scored.append((-score, order, topic))
        scored.sort()
        if not scored:
            return None, None
        best = scored[0]
        close = len(scored) > 1 and -scored[1][0] >= RULES_CLOSE * -best[0]
        return best[2], scored[1][2] if close else None

    def _named(self, text: str, full: MatchResult) -> set[str]:
        named = {self._name_concepts[c] for c in full.reading.concepts if c in self._name_concepts}
        named.update(cid for cid, pattern in self._condition_names if pattern.search(text))
        return named

    @staticmethod
    def _condition(named: set[str], full: MatchResult) -> str | None:
        if len(named) == 1:
            return next(iter(named))
        if not named or full.condition in named:
            return full.condition
        return None

    def _small_talk_kind(
        self, text: str, words: list[str], match: MatchResult, anchored: bool, asks: bool
    ) -> str | None:
        """Small talk: a short message that reports nothing. An acknowledgement is only a few
        words ("ok", "makes sense"); thanks and goodbyes may be long but ask nothing; "who are
        you" and "what can you do" do not name a problem."""
        if not words or len(words) > SMALL_TALK_MAX_WORDS or match.red_flags or match.condition:
            return None
        kind = next((kind for kind, pattern in self._small_talk if pattern.search(text)), None)
        if kind is None:
            return None
        if kind in ("who", "capabilities"):
            return None if anchored else kind
        if kind == "ack" and anchored:
            return None  # "ok and the back?" turns to a problem: more than an acknowledgement
        if kind == "ack" and len(words) > ACK_MAX_WORDS and (asks or match.reading.concepts - {"small_talk"}):
            return None  # "lol sorry, one sec, my kid's shouting" says nothing more; "ok so my hip..." does
        if (asks or kind in ("greeting", "ack")) and any(p.search(text) for _, p, _, _ in self._topics):
            return None
        return kind


def _union(patterns: Iterable[str]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{compile_pattern(p)})" for p in patterns))
