"""Load `knowledge/data` into frozen dataclasses, validating every entry.

A bad file fails at start-up with a `KnowledgeError` that names the file, the entry and what is
wrong, e.g. ``conditions/lumbar_strain.yaml: exercises[1]: unknown exercise 'cat_cows'``.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from knowledge.load_conditions import (
    load_condition,
    load_education,
    load_exercises,
    load_lexicon,
    load_other_conditions,
    load_prevention,
    load_red_flags,
    load_sources,
    load_triage,
)
from knowledge.load_entry import (
    KnowledgeError,
)
from knowledge.load_questions import load_answers, load_common_words, load_messages, load_questions
from knowledge.model import (
    CONDITION_IDS,
    Knowledge,
    frozen_mapping,
)

__all__ = ["DATA_DIR", "KnowledgeError", "default_knowledge", "load_knowledge"]

DATA_DIR = Path(__file__).resolve().parent / "data"


def load_knowledge(data_dir: Path = DATA_DIR) -> Knowledge:
    """Read and validate every data file under `data_dir`.

    Raises KnowledgeError naming the file, the entry and the problem when anything is wrong.
    """
    sources = load_sources(data_dir)
    exercises = load_exercises(data_dir, sources)
    spelling, concepts = load_lexicon(data_dir)
    present = sorted(p.stem for p in (data_dir / "conditions").glob("*.yaml"))
    unknown = sorted(set(present) - set(CONDITION_IDS))
    if unknown:
        raise KnowledgeError(f"conditions/{unknown[0]}.yaml: unknown condition id {unknown[0]!r}")
    education = load_education(data_dir, sources)
    conditions = {
        cid: load_condition(cid, data_dir, sources, exercises, concepts, education.safety_net)
        for cid in CONDITION_IDS
    }
    red_flags, concerns, urgency_advice = load_red_flags(data_dir, sources, concepts)
    titles = {u: a.title for u, a in urgency_advice.items()}
    answers = load_answers(data_dir, sources, {**red_flags, **concerns}, titles)
    return Knowledge(
        sources=frozen_mapping(sources),
        conditions=frozen_mapping(conditions),
        exercises=frozen_mapping(exercises),
        concepts=frozen_mapping(concepts),
        spelling=frozen_mapping(spelling),
        common_words=load_common_words(data_dir),
        red_flags=frozen_mapping(red_flags),
        urgency_advice=frozen_mapping(urgency_advice),
        prevention=load_prevention(data_dir, sources, exercises),
        education=education,
        triage=load_triage(data_dir, concepts, red_flags),
        other_conditions=frozen_mapping(load_other_conditions(data_dir, sources, concepts)),
        messages=frozen_mapping(load_messages(data_dir)),
        questions=load_questions(data_dir),
        answers=frozen_mapping({t: frozen_mapping(a) for t, a in answers.items()}),
        concerns=frozen_mapping(concerns),
    )


@cache
def default_knowledge() -> Knowledge:
    """The packaged knowledge base, loaded once per process."""
    return load_knowledge()
