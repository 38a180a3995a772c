"""The learned question reader (knowledge/learned.py) and how questions.py uses it.

The question table here was written fresh for these tests: none of it is an example the model
learned from (a test checks), nor a line of an evaluation set.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from knowledge import KnowledgeError, Matcher, default_knowledge, load_knowledge
from knowledge.examples import topic_examples
from knowledge.learned import FLAG_MODEL_FILE, MODEL_FILE, TopicGuess, default_learned_reader, load_model
from knowledge.loader import DATA_DIR
from knowledge.model import TOPIC_IDS
from knowledge.questions import QuestionReader
from knowledge.reconcile import follow_up, settle
from tests.conftest import TEST_DATA, read_jsonl

ROOT = Path(__file__).resolve().parent.parent

# (message, topics that are a right reading): questions in voices the rules alone miss or mistake
FRESH_QUESTIONS = [
    ("honestly at my wits end with this buttock ache, what do people do for it", {"treatment"}),
    ("anyone got a trick for getting rid of a cranky hip flexor", {"treatment"}),
    ("any advice on making this back ache disappear before xmas?", {"treatment", "recovery_time"}),
    ("will I be right for the 10 mile race on the 3rd do you reckon", {"keep_running", "recovery_time"}),
    ("should I give tomorrow's run a go or leave it", {"keep_running", "return_to_running"}),
    ("would hopping on the turbo trainer keep my fitness up", {"cross_training"}),
    ("is aqua aerobics a decent swap for my runs this month", {"cross_training"}),
    ("how many weeks off is normal for a strained lower back", {"recovery_time"}),
    ("pigeon pose - helping or harming my bursitis?", {"yoga"}),
    ("do massage guns do anything for a tight IT band", {"foam_rolling"}),
    ("is there a sensible amount to cut my weekly kms by", {"load"}),
    ("should I be swapping my trainers given my hip", {"shoes"}),
    ("which warm up drills are best before a track session", {"warm_up"}),
    ("what's the deal with taking nurofen before races", {"painkillers"}),
    ("is a GP visit overkill for a sore SI joint", {"see_clinician"}),
    ("what stops sciatica returning once it has cleared up", {"prevention"}),
    ("core work - which bits actually matter for back pain", {"strength", "exercises"}),
    ("explain to me what a stress reaction in bone is", {"stress_fracture", "what_is"}),
    ("is landing on my heels what's wrecking my hips", {"running_form", "cause"}),
    ("how come only my right glute tendon ever flares", {"cause"}),
]


@pytest.fixture(scope="module")
def reader() -> QuestionReader:
    matcher = Matcher(default_knowledge())
    return QuestionReader(matcher.knowledge, matcher)


@pytest.fixture(scope="module")
def rules_alone() -> QuestionReader:
    matcher = Matcher(default_knowledge())
    return QuestionReader(matcher.knowledge, matcher, learned=False)


def test_the_fresh_questions_are_not_examples() -> None:
    written = {e.lower() for examples in topic_examples().values() for e in examples}
    assert not {q.lower() for q, _ in FRESH_QUESTIONS} & written


def test_fresh_questions_are_read_right_or_clarified(reader: QuestionReader, rules_alone: QuestionReader) -> None:
    def right(r: QuestionReader, text: str, allowed: set[str]) -> bool:
        got = r.read(text)
        return got.topic in allowed or bool(got.clarify and allowed & set(got.clarify))

    misses = [q for q, allowed in FRESH_QUESTIONS if not right(reader, q, allowed)]
    rules_misses = [q for q, allowed in FRESH_QUESTIONS if not right(rules_alone, q, allowed)]
    assert len(misses) <= 3, misses  # 85% at least (the rules alone: see the next line)
    assert len(misses) < len(rules_misses)


def test_the_packaged_models_are_built_from_the_packaged_examples() -> None:
    load_model(MODEL_FILE)
    load_model(FLAG_MODEL_FILE)  # both raise when stale


def test_a_stale_model_fails_naming_the_command(tmp_path: Path) -> None:
    changed = {**topic_examples(), "yoga": ("is yoga good", *topic_examples()["yoga"])}
    with pytest.raises(KnowledgeError, match=r"topic_model\.npz: built from other examples.*python -m knowledge\.learned"):
        load_model(MODEL_FILE, changed)
    with pytest.raises(KnowledgeError, match="file is missing"):
        load_model(tmp_path / "nothing.npz")


def test_numpy_scores_are_scikit_learns() -> None:
    """The few lines that apply the model agree with scikit-learn's own pipeline."""
    pytest.importorskip("sklearn")
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion
    from sklearn.svm import LinearSVC

    examples = topic_examples()
    texts = [t for ts in examples.values() for t in ts]
    labels = [k for k, ts in examples.items() for _ in ts]
    features = FeatureUnion(
        [
            ("word", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)),
            ("char", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True)),
        ]
    )
    classifier = LinearSVC(C=1.0, random_state=0).fit(features.fit_transform(texts), labels)
    messages = [q for q, _ in FRESH_QUESTIONS] + ["", "x", "  lots   of\tspace ", "Ünïcode café 10%"]
    expected = classifier.decision_function(features.transform(messages))
    learned = default_learned_reader()
    assert learned.labels == tuple(classifier.classes_)
    for message, row in zip(messages, expected, strict=True):
        assert learned.scores(message) == pytest.approx(list(row), abs=1e-5)


def _guess(label: str, confidence: float, runner_up: str, second: float) -> TopicGuess:
    return TopicGuess(label, confidence, runner_up, second)


@pytest.mark.parametrize(
    ("topic", "rival", "guess", "may_add", "expected"),
    [
        # no rule cue: the learned guess decides, and says when its best two are close
        (None, None, _guess("treatment", 0.9, "cause", 0.05), True, ("treatment", None)),
        (None, None, _guess("keep_running", 0.4, "recovery_time", 0.3), True, ("keep_running", ("keep_running", "recovery_time"))),
        (None, None, _guess("treatment", 0.9, "cause", 0.05), False, (None, None)),  # a report: triage
        (None, None, _guess("describes", 0.9, "treatment", 0.05), True, (None, None)),
        (None, None, _guess("treatment", 0.1, "cause", 0.05), True, (None, None)),  # too unsure
        # the rules score two topics close: the learned reader picks, or says they are close
        ("cross_training", "see_clinician", _guess("see_clinician", 0.8, "other", 0.1), True, ("see_clinician", None)),
        ("cross_training", "see_clinician", _guess("see_clinician", 0.4, "cross_training", 0.3), True,
         ("see_clinician", ("see_clinician", "cross_training"))),
        # the rules are sure: a confident disagreement is a close reading, the learned topic first
        # when it is very confident, else the rules' topic first
        ("treatment", None, _guess("prevention", 0.9, "treatment", 0.05), True, ("prevention", None)),
        ("treatment", None, _guess("prevention", 0.65, "treatment", 0.05), True, ("treatment", ("treatment", "prevention"))),
        ("treatment", None, _guess("prevention", 0.3, "treatment", 0.2), True, ("treatment", None)),
        # never "did you mean small talk / out of scope / something else"
        ("treatment", None, _guess("out_of_scope", 0.9, "treatment", 0.05), True, ("treatment", None)),
    ],
)  # fmt: skip
def test_settle(topic: str | None, rival: str | None, guess: TopicGuess, may_add: bool, expected: tuple) -> None:
    assert settle(topic, rival, guess, may_add) == expected


def test_a_sure_learned_reader_is_answered_unless_the_message_asks_two_things() -> None:
    sure = _guess("recovery_time", 0.8, "symptoms", 0.05)
    assert settle("symptoms", None, sure, True) == ("recovery_time", None)
    assert settle("symptoms", None, sure, True, asks_twice=True) == ("recovery_time", ("recovery_time", "symptoms"))


def test_near_neighbours_are_offered_as_a_choice_with_labels(reader: QuestionReader) -> None:
    got = reader.read("is it the disc or the SI joint, and how long will it take?")
    assert got.clarify and set(got.clarify) == {"symptoms", "recovery_time"} and got.topic == got.clarify[0]
    buttons = reader.knowledge.questions.clarify_buttons
    assert {buttons[t] for t in got.clarify} == {"How do I tell what it is?", "How long will it take?"}
    assert got.to_json()["clarify"] == list(got.clarify)
    assert got.to_json()["learned"]["runner_up"] == got.learned.runner_up if got.learned else False


def _all_messages() -> list[str]:
    rows = [*read_jsonl(TEST_DATA / "runner_messages.jsonl"), *read_jsonl(TEST_DATA / "questions.jsonl")]
    return [r["text"] for r in rows] + [q for q, _ in FRESH_QUESTIONS]


def test_the_learned_reader_never_changes_flags_or_urgency(
    reader: QuestionReader, rules_alone: QuestionReader
) -> None:
    for text in _all_messages():
        with_learned, alone = reader.read(text).match, rules_alone.read(text).match
        assert (with_learned.red_flags, with_learned.urgency) == (alone.red_flags, alone.urgency), text


@pytest.mark.parametrize(
    ("text", "suspected"),
    [
        ("the loo has been strange since my back went", "cauda_equina"),
        ("my clothes are hanging off me and I'm not dieting", "fever_weight_loss"),
        ("my hip hurts when I run", None),
        ("what is cauda equina?", None),  # asks about a sign, reports none
        ("no problems with the toilet, it's just a dull ache", None),
        ("numb around my bum when I wipe", None),  # the rules raise it: nothing to suspect
    ],
)
def test_suspected_flag_only_asks(reader: QuestionReader, rules_alone: QuestionReader, text: str, suspected: str | None) -> None:
    got = reader.read(text)
    assert got.suspected_flag == suspected
    assert got.match.red_flags == rules_alone.read(text).match.red_flags
    if suspected:
        assert suspected not in got.match.red_flags and got.to_json()["suspected_flag"] == suspected


def test_every_topic_has_a_short_clarify_button() -> None:
    buttons = default_knowledge().questions.clarify_buttons
    assert set(buttons) == set(TOPIC_IDS) and all(0 < len(b) <= 32 for b in buttons.values())


def test_a_missing_clarify_button_fails(tmp_path: Path) -> None:
    import shutil

    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data)
    path = data / "topics.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace('  yoga: "Yoga or pilates?"\n', ""), encoding="utf-8")
    with pytest.raises(KnowledgeError, match=r"topics\.yaml: clarify_buttons"):
        load_knowledge(data)


_READ_ALL = """
import json, sys
from knowledge import Matcher, default_knowledge
from knowledge.questions import QuestionReader
matcher = Matcher(default_knowledge())
reader = QuestionReader(matcher.knowledge, matcher)
print(json.dumps([reader.read(t).to_json() for t in json.load(sys.stdin)], sort_keys=True))
"""


def test_the_same_message_gets_the_same_reading_under_any_hash_seed() -> None:
    messages = json.dumps([q for q, _ in FRESH_QUESTIONS] + ["the loo has been strange since my back went"])
    outputs = [
        subprocess.run(
            [sys.executable, "-c", _READ_ALL], input=messages, capture_output=True, text=True, check=True, cwd=ROOT,
            env={**os.environ, "PYTHONHASHSEED": seed},
        ).stdout
        for seed in ("1", "2", "12345")
    ]  # fmt: skip
    assert outputs[0] and outputs[0] == outputs[1] == outputs[2]


def test_training_is_deterministic() -> None:
    pytest.importorskip("sklearn")
    import numpy as np

    from knowledge.learned import train

    first, second = train(topic_examples()), train(topic_examples())
    assert np.array_equal(first["weights"], second["weights"])
    assert np.array_equal(first["weights"], load_model(MODEL_FILE)["weights"])


@pytest.mark.parametrize(
    ("text", "previous", "topic", "clarify"),
    [
        # a short question that points back asks about what was just answered, the reading's own
        # topic offered beside it
        ("how often should I do it?", "prevention", "prevention", None),
        ("does it work?", "foam_rolling", "foam_rolling", None),
        # a topic of its own comes first; the one just answered is offered
        ("how long does it take?", "exercises", "recovery_time", ("recovery_time", "exercises")),
        # no pointing back, or a question about warning signs: read as it stands
        ("what is sciatica?", "prevention", "what_is", None),
        ("is that serious?", "treatment", "red_flags", None),
    ],
)
def test_a_follow_up_question_is_about_the_topic_just_answered(
    reader: QuestionReader, text: str, previous: str, topic: str, clarify: tuple[str, str] | None
) -> None:
    got = reader.read(text, previous_topic=previous)
    assert (got.topic, got.clarify) == (topic, clarify)
    assert reader.read(text).topic != previous or previous == topic  # without the context, not so


def test_follow_up_leaves_long_messages_and_small_talk_alone() -> None:
    long = "how often should I do it if I also run five times a week and lift twice"
    assert follow_up(long, "load", None, "prevention") == ("load", None)
    assert follow_up("thanks, that's it", "small_talk", None, "prevention") == ("small_talk", None)
    assert follow_up("does it help?", "treatment", None, None) == ("treatment", None)
