"""Where the rules and the learned reader meet: which topic a question is about, and when two
readings are close enough that the conversation should ask which one is meant.

Pure functions over the rules' reading (questions.py) and the learned guess (learned.py); the
thresholds were chosen by measurement (docs/benchmarks.md, "Learned question reader").
"""

from __future__ import annotations

import re

from knowledge.learned import TopicGuess
from knowledge.model import TOPIC_IDS

# Where the rules and the learned reader meet (measured: docs/benchmarks.md, "Learned question reader")
RULES_CLOSE = 0.75  # the rules' runner-up scores at least this share of the best: the rules are unsure
LEARNED_ACCEPT = 0.2  # the learned reader's confidence to give a topic where the rules found none
LEARNED_UNASKED = 0.6  # its confidence to give a topic to a message that has no question form
LEARNED_CLOSE = 0.3  # under this margin between its best two, the learned reader finds them close
LEARNED_OVERRIDE = 0.7  # its confidence to answer its topic over the rules' (no "did you mean")
LEARNED_DISAGREE = 0.6  # the learned reader's confidence to question a topic the rules are sure of
FLAG_SUSPECT = 0.35  # the flag model's confidence to suspect a warning sign the rules did not read
FLAG_SUSPECT_NAMED = 0.6  # ... when the rules already name one of the six from the same words
NOT_CLARIFIED = frozenset({"other", "small_talk", "out_of_scope"})  # no "did you mean" about these
SAFETY_TOPICS = frozenset({"red_flags", "stress_fracture"})  # "is that serious?" is never re-read


def settle(
    topic: str | None, rival: str | None, guess: TopicGuess | None, may_add: bool, asks_twice: bool = False
) -> tuple[str | None, tuple[str, str] | None]:
    """The topic, and two close topics to clarify, from the rules' reading and the learned guess.

    The learned reader decides where the rules are unsure: a question with no topic cue (only
    when `may_add`: the message asks and reports nothing for triage), or two topics the rules
    score close. Two readings are close, and the reading says so, when the learned reader's own
    best two are close, when it takes the rules' runner-up by a small margin, or when it
    disagrees with a topic the rules are sure of (the rules' first); when it is very confident
    (LEARNED_OVERRIDE) its topic is answered without asking, unless the message asks two things
    (`asks_twice`)."""
    if guess is None:
        return topic, None
    learned, second = guess.topic, guess.runner_up
    if topic is None:
        if not may_add or learned is None or guess.confidence < LEARNED_ACCEPT:
            return None, None
        return learned, pair(learned, second) if guess.margin < LEARNED_CLOSE else None
    if rival is not None and learned == rival:
        return (rival, None) if guess.margin >= LEARNED_CLOSE else (rival, pair(rival, topic))
    if learned is not None and learned != topic and pair(topic, learned):
        if guess.confidence >= LEARNED_OVERRIDE:
            # measured: this sure, its topic was right every time; when the message asks two
            # things ("is it the disc, and how long will it take?") the other is offered too
            return learned, pair(learned, topic) if asks_twice else None
        if guess.confidence >= LEARNED_DISAGREE:
            return topic, pair(topic, learned)
    return topic, None


def pair(first: str, second: str | None) -> tuple[str, str] | None:
    """Two topics to offer as a choice; None when they are one, or one is not worth a button."""
    if second not in TOPIC_IDS or first == second or NOT_CLARIFIED & {first, second}:
        return None
    return first, second


# A short question that points back ("how often should I do it?", "is that safe?") asks about
# what the conversation was just about, when the conversation says what that was.
FOLLOW_UP_MAX_WORDS = 8
_POINTS_BACK = re.compile(r"\b(it|that|this|them|those|these|they)\b")
_WORDS = re.compile(r"[a-z']+")


def follow_up(
    message: str,
    topic: str | None,
    clarify: tuple[str, str] | None,
    previous_topic: str | None,
    broad: frozenset[str] | tuple[str, ...] = (),
) -> tuple[str | None, tuple[str, str] | None]:
    """The topic of a short question that points back to `previous_topic` (the topic the
    conversation just answered): that topic, unless the message named a topic of its own (one
    not in `broad`, whose cues are everyday words: "how long does it take?" after exercises asks
    recovery time, with exercises offered too). Anything else is left as read, and so is a
    question about warning signs ("is that serious?")."""
    words = _WORDS.findall(message.lower())
    if (
        previous_topic not in TOPIC_IDS
        or previous_topic in NOT_CLARIFIED
        or topic in NOT_CLARIFIED | SAFETY_TOPICS
        or not words
        or len(words) > FOLLOW_UP_MAX_WORDS
        or not _POINTS_BACK.search(" ".join(words))
        or topic == previous_topic
    ):
        return topic, clarify
    if clarify and previous_topic in clarify:
        return previous_topic, None
    if topic is not None and topic not in broad:
        return topic, pair(topic, previous_topic)
    # an everyday question that points back ("how often should I do it?" after /prevent) is
    # about what was just answered: answered, not asked about
    return previous_topic, None
