"""Example messages for the learned reader (data/examples/): a topic's or an intent's examples.

As in Rasa's NLU data, each file maps a label to a list of example messages:

    treatment:
      - "what helps a flared gluteal tendon"

`topics.yaml` holds an entry for every question topic (knowledge.model.TOPIC_IDS) and for
`describes`, a message that only tells what hurts and asks nothing; `intents.yaml` holds how
runners answer the bot's questions (yes, no, unsure, a correction, a side, a duration, someone
else, a pause); `flags.yaml` holds roundabout reports of some red flags (ids of red_flags.yaml)
and, as `none`, messages that deny a sign; from them the learned reader only suspects, never
raises, a flag. Loading validates strictly, like the other data files: an unknown or missing
label, a short list, a blank, repeated or over-long example fails with a `KnowledgeError` that
names the file and the entry.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from knowledge.loader import KnowledgeError
from knowledge.model import TOPIC_IDS, frozen_mapping

EXAMPLES_DIR = Path(__file__).resolve().parent / "data" / "examples"
DESCRIBES = "describes"  # a message that asks nothing: triage goes on
NO_FLAG = "none"  # flags.yaml: a message that reports no warning sign
TOPIC_LABELS: tuple[str, ...] = (*TOPIC_IDS, DESCRIBES)
INTENT_LABELS: tuple[str, ...] = (
    "answer_yes", "answer_no", "unsure", "correction", "side", "duration", "someone_else", "pause",
)  # fmt: skip
MIN_EXAMPLES = 15  # fewer and a label is too thin to learn from
MAX_EXAMPLE_CHARS = 300


def _read(file: str, directory: Path) -> Any:
    try:
        return yaml.safe_load((directory / file).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise KnowledgeError(f"examples/{file}: file is missing") from None
    except yaml.YAMLError as error:
        raise KnowledgeError(f"examples/{file}: not valid YAML: {error}") from None


def load_examples(
    file: str, labels: tuple[str, ...], directory: Path = EXAMPLES_DIR, every_label: bool = True
) -> Mapping[str, tuple[str, ...]]:
    """The examples of `file`, label by label in the order of `labels`; with `every_label`, every
    label must be there.

    Raises KnowledgeError naming the file, the label and the problem: an unknown or missing label,
    fewer than MIN_EXAMPLES examples, an example that is not text, blank, too long, or repeated
    (within a label or across labels, ignoring case: one message cannot teach two answers)."""
    data = _read(file, directory)
    where = f"examples/{file}"
    if not isinstance(data, dict):
        raise KnowledgeError(f"{where}: expected a mapping of label to examples")
    unknown = sorted(str(k) for k in data if k not in labels)
    if unknown:
        raise KnowledgeError(f"{where}: {unknown[0]}: unknown label (known: {', '.join(labels)})")
    missing = [label for label in labels if label not in data]
    if missing and every_label:
        raise KnowledgeError(f"{where}: {missing[0]}: label has no examples")
    seen: dict[str, str] = {}
    found: dict[str, tuple[str, ...]] = {}
    for label in (label for label in labels if label in data):
        items = data[label]
        if not isinstance(items, list) or len(items) < MIN_EXAMPLES:
            count = len(items) if isinstance(items, list) else 0
            raise KnowledgeError(f"{where}: {label}: needs a list of at least {MIN_EXAMPLES} examples, has {count}")
        for index, text in enumerate(items):
            path = f"{where}: {label}[{index}]"
            if not isinstance(text, str) or not text.strip():
                raise KnowledgeError(f"{path}: an example must be non-empty text")
            if len(text) > MAX_EXAMPLE_CHARS:
                raise KnowledgeError(f"{path}: longer than {MAX_EXAMPLE_CHARS} characters")
            key = " ".join(text.lower().split())
            if key in seen:
                raise KnowledgeError(f"{path}: {text!r} repeats an example of {seen[key]}")
            seen[key] = label
        found[label] = tuple(items)
    return frozen_mapping(found)


@cache
def topic_examples(directory: Path = EXAMPLES_DIR) -> Mapping[str, tuple[str, ...]]:
    """The examples of every question topic and of `describes` (examples/topics.yaml), loaded once."""
    return load_examples("topics.yaml", TOPIC_LABELS, directory)


@cache
def intent_examples(directory: Path = EXAMPLES_DIR) -> Mapping[str, tuple[str, ...]]:
    """How runners answer the bot's questions, intent by intent (examples/intents.yaml), loaded once."""
    return load_examples("intents.yaml", INTENT_LABELS, directory)


@cache
def flag_examples(directory: Path = EXAMPLES_DIR) -> Mapping[str, tuple[str, ...]]:
    """Roundabout reports of red flags (examples/flags.yaml), flag by flag, loaded once."""
    from knowledge.loader import default_knowledge  # the red flags' ids are the knowledge base's

    labels = (*default_knowledge().red_flags, NO_FLAG)
    return load_examples("flags.yaml", labels, directory, every_label=False)
