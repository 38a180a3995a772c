"""Turn conversation state and match results into replies. All wording comes from the data.

Replies are short cards: a result says what it likely is, why, the one urgency that applies and
what to do now; its sections (exercises, getting back to running, when to see someone, more
about it) are behind buttons and open as messages of their own. Text is a small HTML subset
(<b>, <i>, <blockquote expandable>) with every piece of data escaped.

One module per kind of card: questions.py, warnings.py, results.py, others.py, answers.py, over base.py
(the messages, constants and HTML helpers). `Renderer` is all of them.
"""

from __future__ import annotations

from conversations.render.answers import AnswerCards
from conversations.render.base import (
    CONDITION_TOPICS,
    HIDDEN_SECTIONS,
    INFO,
    SECTIONS,
    info_data,
)
from conversations.render.others import OtherCards
from conversations.render.questions import QuestionCards, best_location
from conversations.render.results import ResultCards, ResultContext
from conversations.render.warnings import WarningCards


class Renderer(QuestionCards, WarningCards, OtherCards, ResultCards, AnswerCards):
    """Builds every reply from the knowledge base's messages and content."""


__all__ = [
    "CONDITION_TOPICS",
    "HIDDEN_SECTIONS",
    "INFO",
    "SECTIONS",
    "Renderer",
    "ResultContext",
    "best_location",
    "info_data",
]
