"""The learned reader's example messages (knowledge/data/examples/): they load, and a bad file fails
naming the file, the label and the problem."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from knowledge import KnowledgeError
from knowledge.examples import (
    EXAMPLES_DIR,
    INTENT_LABELS,
    MIN_EXAMPLES,
    TOPIC_LABELS,
    intent_examples,
    load_examples,
    topic_examples,
)
from knowledge.model import TOPIC_IDS

SHARED_QUESTIONS = Path(__file__).resolve().parents[2] / "shared" / "eval" / "questions.jsonl"


def test_every_topic_and_intent_has_enough_examples() -> None:
    topics, intents = topic_examples(), intent_examples()
    assert tuple(topics) == TOPIC_LABELS and set(TOPIC_IDS) < set(topics)
    assert tuple(intents) == INTENT_LABELS
    for examples in (*topics.values(), *intents.values()):
        assert len(examples) >= MIN_EXAMPLES
        assert all(e.strip() == e and e for e in examples)


def _plain(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9 ]", " ", text.lower()).split())


def test_no_example_is_a_line_of_a_question_table() -> None:
    """The labelled questions measure the reader: an example copied from them would flatter it."""
    tables = [Path(__file__).parent / "data" / "questions.jsonl", SHARED_QUESTIONS]
    asked = {
        _plain(json.loads(line)["text"])
        for table in tables
        if table.exists()
        for line in table.read_text(encoding="utf-8").splitlines()
        if line.strip()
    }
    written = {_plain(e) for examples in topic_examples().values() for e in examples}
    assert not asked & written


@pytest.fixture
def examples_dir(tmp_path: Path) -> Path:
    copy = tmp_path / "examples"
    shutil.copytree(EXAMPLES_DIR, copy)
    return copy


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"test setup: {old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.mark.parametrize(
    ("old", "new", "named"),
    [
        ("\nyoga:\n", "\nyogaa:\n", "yogaa: unknown label"),
        ('  - "which stretches help a tight hip flexor"\n', '  - "  "\n', f"stretching[{topic_examples()['stretching'].index('which stretches help a tight hip flexor')}]: an example must be non-empty"),
        ('  - "ice or heat for my lower back"\n', '  - "what helps a flared gluteal tendon"\n', f"ice_heat[{topic_examples()['ice_heat'].index('ice or heat for my lower back')}]: 'what helps a flared gluteal tendon' repeats an example of treatment"),
        ('  - "hiya"\n', "  - 42\n", f"small_talk[{topic_examples()['small_talk'].index('hiya')}]: an example must be non-empty text"),
    ],
)
def test_a_bad_topic_file_fails_naming_label_and_problem(examples_dir: Path, old: str, new: str, named: str) -> None:
    _edit(examples_dir / "topics.yaml", old, new)
    with pytest.raises(KnowledgeError, match=re.escape("examples/topics.yaml: " + named)):
        load_examples("topics.yaml", TOPIC_LABELS, examples_dir)


def test_a_missing_or_thin_label_fails(examples_dir: Path) -> None:
    path = examples_dir / "intents.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text[: text.index("\npause:")] + "\n", encoding="utf-8")
    with pytest.raises(KnowledgeError, match=re.escape("intents.yaml: pause: label has no examples")):
        load_examples("intents.yaml", INTENT_LABELS, examples_dir)
    path.write_text(text[: text.index("\npause:")] + '\npause:\n  - "brb"\n', encoding="utf-8")
    with pytest.raises(KnowledgeError, match=f"pause: needs a list of at least {MIN_EXAMPLES} examples, has 1"):
        load_examples("intents.yaml", INTENT_LABELS, examples_dir)


def test_a_missing_file_fails(examples_dir: Path) -> None:
    (examples_dir / "topics.yaml").unlink()
    with pytest.raises(KnowledgeError, match=re.escape("examples/topics.yaml: file is missing")):
        load_examples("topics.yaml", TOPIC_LABELS, examples_dir)
