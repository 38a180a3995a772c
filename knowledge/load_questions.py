"""Build the question side: the question patterns, the answers to questions, the bot's fixed
messages and the common words the spelling fixer leaves alone."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from knowledge.load_entry import (
    Entry,
    KnowledgeError,
    read_facts,
    read_patterns,
    read_yaml,
)
from knowledge.model import (
    CONDITION_IDS,
    MAX_ANSWER_CHARS,
    NEXT_STEPS,
    SMALL_TALK_KINDS,
    TOPIC_IDS,
    Answer,
    Fact,
    QuestionPatterns,
    RedFlag,
    Urgency,
    frozen_mapping,
)
from knowledge.wording import fill_urgency

QUESTION_KEYS = (
    "openers",
    "fillers",
    "subject_names",
    "condition_names",
    "small_talk",
    "out_of_scope",
    "topics",
    "strong_cues",
    "broad_topics",
    "diagnosis",
    "owns_subject",
    "not_pain_time",
    "asks_within",
    "hearsay",
    "clarify_buttons",
)
MAX_BUTTON_CHARS = 32  # a Telegram button shows about this much


def load_questions(data_dir: Path) -> QuestionPatterns:
    """questions.yaml: the patterns that tell a question, its subject and its topic."""
    file = "topics.yaml"
    top = Entry(read_yaml(file, data_dir), file)
    top.allow(*QUESTION_KEYS)

    def grouped(key: str, allowed: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
        group = top.child(key)
        group.allow(*allowed)
        return {k: read_patterns(group, k, required=True) for k in group.data}

    return QuestionPatterns(
        openers=top.words("openers"),
        fillers=top.words("fillers"),
        subject_names=read_patterns(top, "subject_names", required=True),
        condition_names=frozen_mapping(grouped("condition_names", CONDITION_IDS)),
        small_talk=frozen_mapping(grouped("small_talk", SMALL_TALK_KINDS)),
        out_of_scope=read_patterns(top, "out_of_scope", required=True),
        topics=frozen_mapping(grouped("topics", TOPIC_IDS)),
        strong_cues=frozen_mapping(grouped("strong_cues", TOPIC_IDS)),
        broad_topics=_topic_ids(top, "broad_topics"),
        diagnosis=read_patterns(top, "diagnosis", required=True),
        owns_subject=read_patterns(top, "owns_subject", required=True),
        not_pain_time=read_patterns(top, "not_pain_time", required=True),
        asks_within=read_patterns(top, "asks_within", required=True),
        hearsay=read_patterns(top, "hearsay", required=True),
        clarify_buttons=frozen_mapping(_clarify_buttons(top.child("clarify_buttons"))),
    )


def _clarify_buttons(entry: Entry) -> dict[str, str]:
    """A short button label for every topic (offered when two readings are close)."""
    entry.allow(*TOPIC_IDS)
    labels = {}
    for topic in TOPIC_IDS:
        label = entry.text(topic)
        if len(label) > MAX_BUTTON_CHARS:
            Entry({}, entry.file, entry.child_path(topic)).fail(f"longer than {MAX_BUTTON_CHARS} characters")
        labels[topic] = label
    return labels


def _topic_ids(entry: Entry, key: str) -> tuple[str, ...]:
    found = []
    for path, item in entry.items(key):
        if item not in TOPIC_IDS:
            Entry({}, entry.file, path).fail(f"unknown topic {item!r}")
        found.append(item)
    return tuple(found)


ANSWER_KEYS = ("facts", "next", "caveat", "not_a_diagnosis")


def _fill_urgency(
    text: str, entry: Entry, flags: Mapping[str, RedFlag], titles: Mapping[Urgency, str]
) -> str:
    try:
        return fill_urgency(text, flags, titles)
    except KeyError as error:
        entry.fail(f"unknown red flag or concern {error.args[0]!r} in an urgency placeholder")


def _fill_caveat(
    entry: Entry, flags: Mapping[str, RedFlag] | None, titles: Mapping[Urgency, str] | None
) -> str | None:
    caveat = entry.optional_text("caveat")
    if caveat is None or flags is None or titles is None:
        return caveat
    return _fill_urgency(caveat, entry, flags, titles)


def load_answers(
    data_dir: Path,
    sources: Mapping[str, str],
    flags: Mapping[str, RedFlag] | None = None,
    titles: Mapping[Urgency, str] | None = None,
) -> dict[str, dict[str, Answer]]:
    """answers.yaml: topic -> subject -> answer, urgency titles and caveats filled in."""
    file = "answers.yaml"
    top = Entry(read_yaml(file, data_dir), file)
    top.allow(*TOPIC_IDS)
    answers: dict[str, dict[str, Answer]] = {}
    for topic in top.data:
        group = top.child(topic)
        group.allow("general", *CONDITION_IDS)
        answers[topic] = {}
        for key in group.data:
            entry = group.child(key)
            entry.allow(*ANSWER_KEYS)
            steps = []
            for path, step in entry.items("next"):
                known = step in NEXT_STEPS or (
                    isinstance(step, str) and step.startswith("topic:") and step[6:] in TOPIC_IDS
                )
                if not known:
                    Entry({}, file, path).fail(
                        f"unknown next step {step!r}: use {', '.join(NEXT_STEPS)} or topic:<id>"
                    )
                steps.append(step)
            if not 1 <= len(steps) <= 3:
                entry.fail(f"field 'next' needs 1 to 3 steps, found {len(steps)}")
            facts = read_facts(entry, "facts", sources)
            if flags is not None and titles is not None:
                facts = tuple(
                    Fact(_fill_urgency(f.text, entry, flags, titles), f.source, f.kind) for f in facts
                )
            answer = Answer(
                topic=topic,
                condition=None if key == "general" else key,
                facts=facts,
                next=tuple(steps),
                caveat=_fill_caveat(entry, flags, titles),
                not_a_diagnosis=entry.flag("not_a_diagnosis"),
            )
            if len(answer.text) > MAX_ANSWER_CHARS:
                entry.fail(f"answer is {len(answer.text)} characters: keep it under {MAX_ANSWER_CHARS}")
            answers[topic][key] = answer
    return answers


def load_messages(data_dir: Path) -> dict[str, str]:
    """messages.yaml: message key -> the bot's fixed wording."""
    file = "messages.yaml"
    top = Entry(read_yaml(file, data_dir), file)
    return {key: top.text(key) for key in top.data}


def load_common_words(data_dir: Path) -> frozenset[str]:
    """common_words.txt: words the spelling fixer leaves alone."""
    path = data_dir / "common_words.txt"
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise KnowledgeError("common_words.txt: file is missing") from None
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))
