"""The recovery companion's data (companion.yaml): its numbers, its sourced facts, its wording.

Loaded once and checked like the rest of the knowledge base: every fact names a known source,
every number is there, and a bad file fails naming the file, the entry and the problem.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from knowledge.loader import DATA_DIR, KnowledgeError
from knowledge.model import Fact, Knowledge

FILE = "companion.yaml"
# a question about pain scores ("what should my pain be?"): inside a companion flow the
# companion's own pain limits answer it
PAIN_SCORE_WORDS = re.compile(r"\b(pain|hurt|hurts|sore|score|scores|limit|limits|ache)\b", re.I)
NUMBERS = (
    "pain_safe",
    "pain_acceptable",
    "weekly_increase",
    "big_increase",
    "long_run_spike",
    "walk_minutes",
    "painful_days_to_refer",
    "pain_severe",
)
SECTIONS = {"numbers", "facts", "messages", "stages", "mileage"}


@dataclass(frozen=True, slots=True)
class Companion:
    """What the companion knows and says."""

    numbers: MappingProxyType[str, float]
    facts: MappingProxyType[str, Fact]
    messages: MappingProxyType[str, str]

    def number(self, key: str) -> float:
        return self.numbers[key]

    def fact(self, key: str) -> str:
        return self.facts[key].text

    def message(self, key: str, **values: object) -> str:
        template = self.messages[key]
        return template.format(**values) if values else template


def load_companion(knowledge: Knowledge, data_dir: Path = DATA_DIR) -> Companion:
    """Read and check companion.yaml against the knowledge base's sources."""
    try:
        data: Any = yaml.safe_load((data_dir / FILE).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise KnowledgeError(f"{FILE}: cannot be read: {error}") from None
    # stages and mileage (issue 18) are read by knowledge/plans.py
    if not isinstance(data, dict) or not {"numbers", "facts", "messages"} <= set(data) <= SECTIONS:
        raise KnowledgeError(f"{FILE}: needs the sections numbers, facts and messages (and may have stages, mileage)")
    numbers = data["numbers"]
    missing = [k for k in NUMBERS if not isinstance(numbers.get(k), int | float) or isinstance(numbers.get(k), bool)]
    if missing or set(numbers) - set(NUMBERS):
        raise KnowledgeError(f"{FILE}: numbers: missing or not a number: {missing or sorted(set(numbers) - set(NUMBERS))}")
    facts: dict[str, Fact] = {}
    for key, entry in data["facts"].items():
        if not isinstance(entry, dict) or set(entry) != {"text", "source"} or not isinstance(entry["text"], str):
            raise KnowledgeError(f"{FILE}: facts.{key}: needs exactly text and source")
        if entry["source"] not in knowledge.sources:
            raise KnowledgeError(f"{FILE}: facts.{key}: unknown source {entry['source']!r}")
        facts[key] = Fact(entry["text"].strip(), entry["source"])
    messages = data["messages"]
    bad = [k for k, v in messages.items() if not isinstance(v, str) or not v.strip()]
    if bad:
        raise KnowledgeError(f"{FILE}: messages.{bad[0]}: must be text")
    return Companion(
        MappingProxyType({k: float(v) for k, v in numbers.items()}),
        MappingProxyType(facts),
        MappingProxyType({k: v.strip() for k, v in messages.items()}),
    )


@cache
def default_companion() -> Companion:
    from knowledge import default_knowledge

    return load_companion(default_knowledge())
