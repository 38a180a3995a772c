"""Problems outside the six (data/other_conditions.yaml): scored like the six, and the choice
between naming one of the six, another problem, both, or neither (so the conversation asks).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from knowledge.model import Knowledge, Recognition

GROUP_WEIGHTS = {
    "names": 4.0,  # the runner named it ("my SI joint", "sciatica")
    "hallmarks": 5.0,  # a sign that on its own points to one condition (pain down the leg)
    "where": 2.0,
    "signs": 2.5,
    "triggers": 1.5,
    "background": 0.5,
}
MIN_SCORE = 3.0  # below this the message is too vague to name a condition: ask instead
MIN_LEAD = 1.0  # the best condition must lead the next by this much, or the bot asks


def concept_weights(recognise: Recognition) -> dict[str, float]:
    """How strongly each concept of a `recognise` block points to its problem."""
    weights: dict[str, float] = {}
    for group, weight in GROUP_WEIGHTS.items():
        for concept in getattr(recognise, group):
            weights[concept] = max(weights.get(concept, 0.0), weight)
    return weights


class OtherProblems:
    """Scores the problems outside the six and decides between them and the six."""

    def __init__(self, knowledge: Knowledge) -> None:
        self.knowledge = knowledge
        self._weights = {oid: concept_weights(o.recognise) for oid, o in knowledge.other_conditions.items()}

    def scores(self, concepts: frozenset[str]) -> dict[str, float]:
        """The problems outside the six these concepts fit, best first (data order breaks ties)."""
        scores = {}
        for oid, other in self.knowledge.other_conditions.items():
            if not all(concepts.intersection(slot) for slot in other.needs):
                continue
            weights = self._weights[oid]
            # where it hurts counts once: several words for one place are not more evidence
            where = max((weights[c] for c in other.recognise.where if c in concepts), default=0.0)
            score = where + sum(w for c, w in weights.items() if c in concepts and c not in other.recognise.where)
            if score > 0:
                scores[oid] = score
        return dict(sorted(scores.items(), key=lambda item: -item[1]))

    def decide(
        self, condition: str | None, best_six: float, others: Mapping[str, float], concepts: frozenset[str]
    ) -> tuple[str | None, str | None]:
        """(condition, other) once the problems outside the six are weighed against the six.

        Another problem that leads the best of the six by MIN_LEAD is named in `other`, and the
        condition is dropped — unless only general clues (where, signs) point to the other while
        the condition has a telling clue of its own: then both are named, the other first. When
        the best of each are within MIN_LEAD and the other has a telling clue, neither is named:
        both stay among the candidates and the conversation asks about what sets them apart
        (the other's hallmarks and `needs`, the condition's triggers).
        """
        best_other = next(iter(others.values()), 0.0)
        if best_other < MIN_SCORE:
            return condition, None
        top = next(iter(others))
        if best_other - best_six >= MIN_LEAD:
            if not condition or self.telling(top, concepts) or not self.telling(condition, concepts):
                condition = None
            return condition, top
        if best_six - best_other < MIN_LEAD and self.telling(top, concepts):
            return None, None  # cannot tell one of the six from another problem: ask
        return condition, None

    def telling(self, problem: str, concepts: frozenset[str]) -> bool:
        """Whether a clue specific to this problem is present: a name or hallmark (for the six,
        also a sign or trigger), not only where it hurts or background."""
        if problem in self.knowledge.conditions:
            r = self.knowledge.conditions[problem].recognise
            return bool(concepts.intersection((*r.names, *r.hallmarks, *r.signs, *r.triggers)))
        r = self.knowledge.other_conditions[problem].recognise
        return bool(concepts.intersection((*r.names, *r.hallmarks)))

    def evidence(self, other: str, concepts: Iterable[str]) -> tuple[str, ...]:
        """The clues that point to `other`, strongest first: the "why" of its card."""
        weights = self._weights[other]
        return tuple(sorted((c for c in set(concepts) if c in weights), key=lambda c: (-weights[c], c)))
