"""Loading and validating the data files: a bad file fails naming the file, the entry and the problem."""

from __future__ import annotations

import dataclasses
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from knowledge import CONDITION_IDS, KnowledgeError, load_knowledge
from knowledge.loader import DATA_DIR


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    copy = tmp_path / "data"
    shutil.copytree(DATA_DIR, copy)
    return copy


def edit(relative: str, old: str, new: str) -> Callable[[Path], None]:
    """A change to one data file: replace the first `old` with `new`."""

    def apply(data_dir: Path) -> None:
        path = data_dir / relative
        text = path.read_text(encoding="utf-8")
        assert old in text, f"test setup: {old!r} not in {relative}"
        path.write_text(text.replace(old, new, 1), encoding="utf-8")

    return apply


def delete(relative: str) -> Callable[[Path], None]:
    return lambda data_dir: (data_dir / relative).unlink()


# (change, file named, entry named, problem named)
BAD_DATA = [
    (
        edit("conditions/lumbar_strain.yaml", "name: Lumbar strain\n", ""),
        "conditions/lumbar_strain.yaml",
        "",
        "missing field 'name'",
    ),
    (
        edit("conditions/lumbar_strain.yaml", "exercises: [cat_cow,", "exercises: [cat_cows,"),
        "conditions/lumbar_strain.yaml",
        "exercises[0]",
        "unknown exercise 'cat_cows'",
    ),
    (
        edit("conditions/hip_flexor_strain.yaml", "  where: [hip_front]", "  where: [hip_frnt]"),
        "conditions/hip_flexor_strain.yaml",
        "recognise.where[0]",
        "unknown concept 'hip_frnt'",
    ),
    (
        edit("conditions/disc_irritation.yaml", "urgency_floor: urgent", "urgency_floor: later"),
        "conditions/disc_irritation.yaml",
        "",
        "field 'urgency_floor' must be one of",
    ),
    (
        edit("conditions/disc_irritation.yaml", "id: disc_irritation", "id: disc"),
        "conditions/disc_irritation.yaml",
        "",
        "field 'id' must be 'disc_irritation'",
    ),
    (
        edit("exercises.yaml", "  sets: 3\n  reps: 12", "  sets: three\n  reps: 12"),
        "exercises.yaml",
        "clamshell",
        "field 'sets' must be a whole number",
    ),
    (
        edit("exercises.yaml", "  sets: 3\n  reps: 12", "  sets: 3\n  reps: -4"),
        "exercises.yaml",
        "clamshell",
        "field 'reps' must be a whole number",
    ),
    (
        edit("exercises.yaml", "hold_seconds: [10, 15]", "hold_seconds: [15, 10]"),
        "exercises.yaml",
        "lying_knee_lift_hold",
        "field 'hold_seconds'",
    ),
    (
        edit("exercises.yaml", "  per_side: true", "  per_side: sometimes"),
        "exercises.yaml",
        "lying_knee_lift_hold",
        "field 'per_side' must be true or false",
    ),
    (
        edit("red_flags.yaml", "    urgency: emergency", "    urgency: whenever"),
        "red_flags.yaml",
        "flags.cauda_equina",
        "field 'urgency' must be",
    ),
    (
        edit("red_flags.yaml", "    sources: [cauda_card,", "    sources: [made_up,"),
        "red_flags.yaml",
        "flags.cauda_equina.sources[0]",
        "unknown source 'made_up'",
    ),
    (
        edit("prevention.yaml", "        source: guide", "        source: blog"),
        "prevention.yaml",
        "groups[1].items[0]",
        "unknown source 'blog'",
    ),
    (
        edit("lexicon.yaml", '      - "front .. hip|hips"', '      - ".. front"'),
        "lexicon.yaml",
        "concepts.hip_front.patterns[0]",
        "bad pattern",
    ),
    (edit("lexicon.yaml", "  wen: when", "  wen: no"), "lexicon.yaml", "spelling", "quote them"),
    (
        edit("education.yaml", "why_it_matters:", "why_it_matterz:"),
        "education.yaml",
        "",
        "unknown field 'why_it_matterz' (did you mean 'why_it_matters'?)",
    ),
    (
        edit("messages.yaml", "cancelled: OK, I've stopped that.", "cancelled:"),
        "messages.yaml",
        "",
        "field 'cancelled'",
    ),
    (
        edit("other_conditions.yaml", "detect: [deep_gluteal_sign]", "detect: [piriformis]"),
        "other_conditions.yaml",
        "deep_gluteal_syndrome.detect[0]",
        "unknown concept 'piriformis'",
    ),
    (delete("sources.yaml"), "sources.yaml", "", "file is missing"),
    (
        edit("conditions/si_joint_dysfunction.yaml", "region: lower_back", "region: [lower_back"),
        "conditions/si_joint_dysfunction.yaml",
        "",
        "not valid YAML",
    ),
]


# A misspelt or unknown key anywhere fails at start-up, naming the file, the entry and the key
# (issue 9: "urgency_flor:" must not be silently ignored and leave the default in place).
MISSPELT_KEYS = [
    (
        edit("conditions/disc_irritation.yaml", "urgency_floor: urgent", "urgency_flor: urgent"),
        "conditions/disc_irritation.yaml",
        "",
        "unknown field 'urgency_flor' (did you mean 'urgency_floor'?)",
    ),
    (
        edit("conditions/lumbar_strain.yaml", "recognise:\n", "recognise:\n  trigers: [twisting]\n"),
        "conditions/lumbar_strain.yaml",
        "recognise",
        "unknown field 'trigers'",
    ),
    (
        edit("exercises.yaml", "  per_side: true", "  per_sides: true"),
        "exercises.yaml",
        "lying_knee_lift_hold",
        "unknown field 'per_sides' (did you mean 'per_side'?)",
    ),
    (
        edit("red_flags.yaml", "    urgency: emergency", "    urgncy: emergency"),
        "red_flags.yaml",
        "flags.cauda_equina",
        "unknown field 'urgncy'",
    ),
    (
        edit("red_flags.yaml", "    detect: [saddle_numbness,", "    detects: [saddle_numbness,"),
        "red_flags.yaml",
        "flags.cauda_equina",
        "unknown field 'detects' (did you mean 'detect'?)",
    ),
    (
        edit(
            "lexicon.yaml",
            "    label: pain at the front of the hip",
            "    lable: pain at the front of the hip",
        ),
        "lexicon.yaml",
        "concepts.hip_front",
        "unknown field 'lable'",
    ),
    (
        edit("prevention.yaml", "    title: Strength and stability", "    titel: Strength and stability"),
        "prevention.yaml",
        "groups[0]",
        "unknown field 'titel'",
    ),
    (
        edit("triage.yaml", "    label: Hip pain", "    label: Hip pain\n    colour: red"),
        "triage.yaml",
        "regions.hip",
        "unknown field 'colour'",
    ),
    (
        edit("red_flags.yaml", "    source: cauda_card", "    source: cauda_card\n    sorce: guide"),
        "red_flags.yaml",
        "urgencies.emergency",
        "unknown field 'sorce' (did you mean 'source'?)",
    ),
]


@pytest.mark.parametrize(
    ("change", "file", "entry", "problem"), MISSPELT_KEYS, ids=[r[3][15:40] for r in MISSPELT_KEYS]
)
def test_misspelt_key_fails_naming_file_entry_and_key(
    data_dir: Path, change: Callable[[Path], None], file: str, entry: str, problem: str
) -> None:
    change(data_dir)
    with pytest.raises(KnowledgeError) as raised:
        load_knowledge(data_dir)
    message = str(raised.value)
    assert message.startswith(f"{file}: {entry}: " if entry else f"{file}: unknown field")
    assert problem in message


@pytest.mark.parametrize(("change", "file", "entry", "problem"), BAD_DATA, ids=[r[3][:28] for r in BAD_DATA])
def test_bad_data_fails_naming_file_entry_and_problem(
    data_dir: Path, change: Callable[[Path], None], file: str, entry: str, problem: str
) -> None:
    change(data_dir)
    with pytest.raises(KnowledgeError) as raised:
        load_knowledge(data_dir)
    message = str(raised.value)
    assert message.startswith(f"{file}: {entry}" if entry else f"{file}: ")
    assert problem in message


def test_unknown_condition_file_is_rejected(data_dir: Path) -> None:
    shutil.copy(data_dir / "conditions/lumbar_strain.yaml", data_dir / "conditions/knee_pain.yaml")
    with pytest.raises(KnowledgeError, match=re.escape("conditions/knee_pain.yaml: unknown condition id")):
        load_knowledge(data_dir)


def test_packaged_data_loads_every_condition() -> None:
    knowledge = load_knowledge()
    assert tuple(knowledge.conditions) == CONDITION_IDS
    assert {f.id for f in knowledge.red_flags.values()} >= {
        "cauda_equina",
        "cannot_bear_weight",
        "trauma",
        "fever_weight_loss",
        "leg_weakness",
        "radiating_leg_pain",
        "numbness_tingling",
        "night_pain",
        "gait_change",
        "persistent_pain",
    }


def test_loaded_knowledge_is_frozen() -> None:
    knowledge = load_knowledge()
    with pytest.raises(dataclasses.FrozenInstanceError):
        knowledge.conditions["lumbar_strain"].name = "changed"  # type: ignore[misc]
    with pytest.raises(TypeError):
        knowledge.conditions["x"] = knowledge.conditions["lumbar_strain"]  # type: ignore[index]


@pytest.mark.parametrize(
    ("exercise_id", "dose"),
    [
        ("glute_bridge", "3 × 12"),
        ("bird_dog", "3 × 10 each side"),
        ("plank", "3 × 30–60 s"),
        ("lying_knee_lift_hold", "5 × 10–15 s each side"),
        ("cat_cow", "2 × 10"),
    ],
)
def test_exercise_dose_reads_naturally(exercise_id: str, dose: str) -> None:
    assert load_knowledge().exercises[exercise_id].dose == dose


def test_every_exercise_has_a_dose_rest_and_progression() -> None:
    """Issue 9: sets, reps or hold, each side, rest, when to make it harder and when to stop."""
    for exercise in load_knowledge().exercises.values():
        assert exercise.sets and (exercise.reps or exercise.hold_seconds), exercise.id
        assert exercise.progression and exercise.stop_if, exercise.id
        assert exercise.dose_source, exercise.id  # numbers the guide does not give name their source


def test_prescription_adds_the_rest() -> None:
    assert load_knowledge().exercises["glute_bridge"].prescription == "3 × 12, rest 60 s"
