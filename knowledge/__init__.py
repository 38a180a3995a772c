"""What runner-bot knows: validated data files and the matcher. Imports nothing from bot/ or conversations/."""

from knowledge.loader import KnowledgeError, default_knowledge, load_knowledge
from knowledge.matcher import Candidate, Matcher, MatchResult, Reading
from knowledge.model import CONDITION_IDS, Condition, Exercise, Fact, Knowledge, RedFlag, Urgency

__all__ = [
    "CONDITION_IDS",
    "Candidate",
    "Condition",
    "Exercise",
    "Fact",
    "Knowledge",
    "KnowledgeError",
    "MatchResult",
    "Matcher",
    "Reading",
    "RedFlag",
    "Urgency",
    "default_knowledge",
    "load_knowledge",
]
