"""A learned reader of question topics, beside the rules of questions.py.

A linear model over word (1-2) and character (2-5, within words) n-grams, TF-IDF weighted, with a
linear support-vector classifier on top (one against the rest), learned from the example messages
of data/examples/topics.yaml. Character n-grams carry typos, text-speak and word forms the rules'
patterns never listed ("rehabbing", "sorts it out"); word pairs carry phrases ("get rid", "any
ideas"). It was chosen by measurement over rules alone, a logistic regression and sentence
embeddings (docs/benchmarks.md, "Learned question reader").

Training needs scikit-learn (the `learn` extra) and happens once, when the examples change:
`python -m knowledge.learned` writes data/examples/topic_model.npz (the vocabulary, the IDF
weights and the classifier's weights, and a digest of the examples they came from). At run time
the model is applied with numpy alone, in a few lines that reproduce scikit-learn's TF-IDF (a
test checks they agree), so the bot starts in a fraction of a second and needs no scikit-learn.
A model whose digest does not match the examples fails at load, naming the command to run.

It only guesses a topic: it never reads red flags, so it can neither raise nor lower one. The
label `describes` (a message that only tells what hurts) is a guess of no topic. A second model
of the same kind, learned from data/examples/flags.yaml against every topic example (label
`none`), only SUSPECTS a warning sign told in roundabout words, so the conversation can ask.

Training is deterministic: the examples are read in file order, the solver has a fixed seed, and
nothing depends on hash order, so the same message gets the same guess under any PYTHONHASHSEED.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Any, Protocol

from knowledge.examples import DESCRIBES, EXAMPLES_DIR, NO_FLAG, flag_examples, topic_examples
from knowledge.loader import KnowledgeError

MODEL_FILE = EXAMPLES_DIR / "topic_model.npz"
FLAG_MODEL_FILE = EXAMPLES_DIR / "flag_model.npz"
SEED = 0
SVM_C = 1.0
WORD_NGRAMS, CHAR_NGRAMS = (1, 2), (2, 5)
# A support-vector machine gives scores, not probabilities: a softmax at this temperature turns
# them into a confidence (0..1) whose top-two margin says how close two topics are.
TEMPERATURE = 0.25
_WORD = re.compile(r"(?u)\b\w\w+\b")  # scikit-learn's default token pattern
_SPACES = re.compile(r"\s\s+")


@dataclass(frozen=True, slots=True)
class TopicGuess:
    """The learned reader's best and second-best labels for a message, with their confidences."""

    label: str  # a topic id, or `describes` (asks nothing)
    confidence: float  # 0..1
    runner_up: str
    runner_up_confidence: float

    @property
    def topic(self) -> str | None:
        """The guessed topic; None when the best guess is that the message asks nothing."""
        return None if self.label == DESCRIBES else self.label

    @property
    def margin(self) -> float:
        """How far the best guess is ahead of the runner-up (0..1): small when two topics are close."""
        return self.confidence - self.runner_up_confidence


def word_ngrams(text: str) -> list[str]:
    """Words of two or more letters, lower-cased, and each pair of neighbours (scikit-learn's "word")."""
    words = _WORD.findall(text.lower())
    low, high = WORD_NGRAMS
    return [" ".join(words[i : i + n]) for n in range(low, high + 1) for i in range(len(words) - n + 1)]


def char_ngrams(text: str) -> list[str]:
    """Character n-grams inside each space-padded word (scikit-learn's "char_wb")."""
    grams: list[str] = []
    low, high = CHAR_NGRAMS
    for word in _SPACES.sub(" ", text.lower()).split():
        padded = f" {word} "
        size = len(padded)
        for n in range(low, high + 1):
            if size <= n:  # the word is no longer than n: itself once, and no longer grams
                grams.append(padded)
                break
            grams.extend([padded[i : i + n] for i in range(size - n + 1)])
    return grams


@lru_cache(maxsize=4)
def _grams(text: str) -> tuple[list[str], list[str]]:
    """Both kinds of n-grams of a message, kept for the next model that reads the same message."""
    return word_ngrams(text), char_ngrams(text)


def examples_digest(examples: Mapping[str, tuple[str, ...]]) -> str:
    """A digest of the examples (labels and texts, in order): a model built from others is stale."""
    return hashlib.sha256(json.dumps([[k, list(v)] for k, v in examples.items()]).encode()).hexdigest()


class TopicGuesser(Protocol):
    """What questions.py needs of a learned reader (the benchmark plugs in others)."""

    def guess(self, message: str) -> TopicGuess:
        """The best two labels for `message`."""
        ...


class LearnedTopicReader:
    """Applies the model of data/examples/topic_model.npz with numpy; build once, call often."""

    def __init__(self, model: Mapping[str, Any]) -> None:
        import numpy as np

        self.labels: tuple[str, ...] = tuple(str(label) for label in model["labels"])
        self._vocabulary = [
            {str(g): i for i, g in enumerate(model[f"{part}_vocabulary"])} for part in ("word", "char")
        ]
        self._idf = [np.asarray(model[f"{part}_idf"], dtype=np.float64) for part in ("word", "char")]
        self._weights = np.asarray(model["weights"], dtype=np.float64)  # features x labels
        self._bias = np.asarray(model["bias"], dtype=np.float64)
        self._offset = len(self._vocabulary[0])

    def scores(self, message: str) -> list[float]:
        """The classifier's score for every label (in `labels` order)."""
        import numpy as np

        text = message if isinstance(message, str) else ""
        total = self._bias.copy()
        for part, grams in enumerate(_grams(text)):
            counts = Counter(g for g in grams if g in self._vocabulary[part])
            if not counts:
                continue
            index = np.array([self._vocabulary[part][g] for g in sorted(counts)])
            values = np.array([1.0 + math.log(counts[g]) for g in sorted(counts)]) * self._idf[part][index]
            values /= np.linalg.norm(values)
            total += values @ self._weights[index + (self._offset if part else 0)]
        return [float(s) for s in total]

    def guess(self, message: str) -> TopicGuess:
        """The two most likely labels for `message`, best first (ties go to the label sorted first)."""
        confidences = _softmax(self.scores(message))
        ranked = sorted(zip(self.labels, confidences, strict=True), key=lambda pair: (-pair[1], pair[0]))
        (best, p_best), (second, p_second) = ranked[0], ranked[1]
        return TopicGuess(best, p_best, second, p_second)


def train(examples: Mapping[str, tuple[str, ...]]) -> dict[str, Any]:
    """Fit TF-IDF and a linear SVM on the examples with scikit-learn; the arrays the reader needs."""
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion
    from sklearn.svm import LinearSVC

    texts = [text for examples_of in examples.values() for text in examples_of]
    labels = [label for label, examples_of in examples.items() for _ in examples_of]
    word = TfidfVectorizer(analyzer="word", ngram_range=WORD_NGRAMS, sublinear_tf=True)
    char = TfidfVectorizer(analyzer="char_wb", ngram_range=CHAR_NGRAMS, sublinear_tf=True)
    features = FeatureUnion([("word", word), ("char", char)])
    classifier = LinearSVC(C=SVM_C, random_state=SEED).fit(features.fit_transform(texts), labels)
    return {
        "labels": np.array([str(c) for c in classifier.classes_]),
        "word_vocabulary": np.array([str(g) for g in word.get_feature_names_out()]),
        "word_idf": word.idf_,
        "char_vocabulary": np.array([str(g) for g in char.get_feature_names_out()]),
        "char_idf": char.idf_,
        "weights": classifier.coef_.T.astype(np.float32),
        "bias": classifier.intercept_,
        "digest": np.array(examples_digest(examples)),
    }


def flag_training_examples() -> dict[str, tuple[str, ...]]:
    """The flag model's examples: each flag's reports, and as `none` the denials of flags.yaml and
    every topic example."""
    flags = dict(flag_examples())
    denials = flags.pop(NO_FLAG, ())
    reports_nothing = tuple(text for examples_of in topic_examples().values() for text in examples_of)
    return {**flags, NO_FLAG: (*denials, *reports_nothing)}


def load_model(path: Path = MODEL_FILE, examples: Mapping[str, tuple[str, ...]] | None = None) -> dict[str, Any]:
    """The saved model's arrays; fails (naming the command that rebuilds it) when missing or stale."""
    import numpy as np

    if examples is None:
        examples = flag_training_examples() if path == FLAG_MODEL_FILE else topic_examples()
    rebuild = "run `python -m knowledge.learned` to rebuild it"
    try:
        with np.load(path, allow_pickle=False) as saved:
            model = {key: saved[key] for key in saved.files}
    except FileNotFoundError:
        raise KnowledgeError(f"examples/{path.name}: file is missing; {rebuild}") from None
    if str(model.get("digest")) != examples_digest(examples):
        raise KnowledgeError(f"examples/{path.name}: built from other examples than the current ones; {rebuild}")
    return model


def _softmax(scores: list[float]) -> list[float]:
    top = max(scores)
    weights = [math.exp((s - top) / TEMPERATURE) for s in scores]
    total = sum(weights)
    return [w / total for w in weights]


@cache
def default_learned_reader() -> LearnedTopicReader:
    """The reader of the packaged model, loaded once per process."""
    return LearnedTopicReader(load_model())


@cache
def default_flag_reader() -> LearnedTopicReader:
    """The packaged model that suspects warning signs (labels: flag ids and `none`), loaded once."""
    return LearnedTopicReader(load_model(FLAG_MODEL_FILE))


def main() -> None:
    """Train on data/examples/ and write the topic and flag models beside the examples."""
    import numpy as np

    for path, examples in ((MODEL_FILE, topic_examples()), (FLAG_MODEL_FILE, flag_training_examples())):
        model = train(examples)
        np.savez_compressed(path, **model)
        print(f"wrote {path} ({len(model['labels'])} labels, {len(model['weights'])} features)")


if __name__ == "__main__":
    main()
