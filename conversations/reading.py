"""One message, read once for everything the conversation needs.

`knowledge/` reads a message in parts — the matcher for clinical clues and warning signs, the
intent reader for how it answers — and this module puts them together for a turn, with what
only the conversation knows (is a "how long?" question pending).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from knowledge import Knowledge, Matcher, Reading
from knowledge.intents import Answer, Intent, IntentReader
from knowledge.questions import QuestionReader


@dataclass(frozen=True, slots=True)
class MessageReading:
    """What one message says (clues, warning signs) and does (answers, corrects, asks)."""

    text: str
    reading: Reading  # clinical clues the message reports (not what its questions ask about)
    flags: tuple[str, ...]  # warning signs the message reports (not ones it only asks about)
    intent: Intent
    concerns: tuple[str, ...] = ()  # pictures that need a clinician but are not red flags (knowledge.concerns)
    topic: str | None = None  # what the message asks about (shared/eval/README.md topics)
    topic_condition: str | None = None  # the condition the question names, if any
    small_talk: str | None = None  # greeting, thanks, bye, ack, who, capabilities
    clarify: tuple[str, str] | None = None  # two topics read as close: the first is `topic`
    suspected_flag: str | None = None  # a warning sign the learned reader suspects, the rules did not read

    @property
    def answer(self) -> Answer:
        """How the message answers a yes/no question."""
        return self.intent.answer

    @property
    def explained(self) -> frozenset[str]:
        """Warning signs mentioned with context that may explain them ("numb from the cold")."""
        return self.reading.explained

    @property
    def concepts(self) -> frozenset[str]:
        """The clues the message affirms."""
        return self.reading.concepts


class MessageReader:
    """Reads messages with the matcher and the intent reader; build once."""

    def __init__(self, knowledge: Knowledge, matcher: Matcher) -> None:
        self.knowledge = knowledge
        self.matcher = matcher
        self.intents = IntentReader(
            dict(knowledge.spelling), knowledge.common_words, set(matcher.normaliser.vocabulary)
        )
        self.questions = QuestionReader(knowledge, matcher)

    def read(
        self, text: str, today: dt.date, asked_how_long: bool = False, previous_topic: str | None = None
    ) -> MessageReading:
        """Read `text` as the runner's next message (`previous_topic`: the one just answered)."""
        asked = self.questions.read(text, previous_topic=previous_topic)
        return MessageReading(
            text=text,
            reading=asked.match.reading,
            flags=asked.match.red_flags,
            concerns=asked.match.concerns,
            intent=self.intents.read(text, today, asked_how_long=asked_how_long),
            topic=asked.topic,
            topic_condition=asked.condition if asked.topic else None,
            small_talk=asked.small_talk,
            clarify=asked.clarify,
            suspected_flag=asked.suspected_flag,
        )
