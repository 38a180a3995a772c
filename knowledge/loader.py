"""Load `knowledge/data` into frozen dataclasses, validating every entry.

A bad file fails at start-up with a `KnowledgeError` that names the file, the entry and what is
wrong, e.g. ``conditions/lumbar_strain.yaml: exercises[1]: unknown exercise 'cat_cows'``.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any, NoReturn

import yaml

from knowledge.model import (
    ADVICE_KINDS,
    CONDITION_IDS,
    MAX_ANSWER_CHARS,
    NEXT_STEPS,
    SMALL_TALK_KINDS,
    TOPIC_IDS,
    Answer,
    Concept,
    Condition,
    Education,
    Exercise,
    Explanation,
    Fact,
    Knowledge,
    OtherCondition,
    Prevention,
    PreventionGroup,
    QuestionPatterns,
    Recognition,
    RedFlag,
    Region,
    Screen,
    Triage,
    TriageOption,
    Urgency,
    UrgencyAdvice,
    frozen_mapping,
)
from knowledge.patterns import PatternError, compile_pattern
from knowledge.wording import fill_urgency

DATA_DIR = Path(__file__).resolve().parent / "data"
URGENCY_KEYS = tuple(u.key for u in Urgency)
RECOGNITION_GROUPS = ("names", "hallmarks", "where", "signs", "triggers", "background")
# The keys each kind of entry may have: anything else is a typo and fails at start-up.
EXERCISE_KEYS = (
    "name",
    "cue",
    "source",
    "sets",
    "reps",
    "hold_seconds",
    "per_side",
    "rest_seconds",
    "progression",
    "stop_if",
    "dose_source",
)
CONDITION_KEYS = (
    "id",
    "name",
    "region",
    "area",
    "summary",
    "cause",
    "symptoms",
    "treatment",
    "exercises",
    "recognise",
    "urgency_floor",
    "see_a_clinician",
    "tell_apart",
    "outlook",
)  # no `safety_net`: it comes from the condition's region in education.yaml (one source)
FLAG_KEYS = (
    "urgency",
    "name",
    "question",
    "meaning",
    "detect",
    "detect_all",
    "unless",
    "explained_by",
    "advice",
    "withhold_exercises",
    "sources",
)
EDUCATION_KEYS = (
    "why_it_matters",
    "closing_thought",
    "seek_help",
    "return_to_running",
    "about_accuracy",
    "load_and_recovery",
    "interim_self_care",
    "safety_net",
)


class KnowledgeError(ValueError):
    """A data file is missing, malformed, or refers to something that does not exist."""


class Entry:
    """A mapping read from a data file, with the file and entry path for error messages."""

    def __init__(self, data: Any, file: str, path: str = "") -> None:
        self.file = file
        self.path = path
        if not isinstance(data, dict):
            self.fail(f"expected a mapping, found {_kind(data)}")
        self.data: dict[str, Any] = data

    def fail(self, problem: str) -> NoReturn:
        """Raise a KnowledgeError naming this file and entry."""
        where = f"{self.file}: {self.path}" if self.path else self.file
        raise KnowledgeError(f"{where}: {problem}")

    def child_path(self, key: str | int) -> str:
        """The entry path of a key or list index below this entry."""
        if isinstance(key, int):
            return f"{self.path}[{key}]"
        return f"{self.path}.{key}" if self.path else key

    def allow(self, *keys: str) -> Entry:
        """Fail on any key that is not one of `keys`: a misspelt key must not be silently ignored."""
        for key in self.data:
            if key not in keys:
                close = difflib.get_close_matches(str(key), keys, n=1)
                hint = f"did you mean '{close[0]}'?" if close else f"allowed: {', '.join(keys)}"
                self.fail(f"unknown field {key!r} ({hint})")
        return self

    def raw(self, key: str, required: bool = True) -> Any:
        """The value under `key`; a missing required key fails."""
        if key not in self.data or self.data[key] is None:
            if required:
                self.fail(f"missing field '{key}'")
            return None
        return self.data[key]

    def text(self, key: str) -> str:
        """A required, non-empty string field."""
        value = self.optional_text(key, required=True)
        assert value is not None  # raw() has already failed for a missing required field
        return value

    def optional_text(self, key: str, required: bool = False) -> str | None:
        """A non-empty string field, or None when it is absent and not required."""
        value = self.raw(key, required)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            self.fail(f"field '{key}' must be non-empty text, found {_kind(value)}")
        return value.strip()

    def whole_number(self, key: str, low: int = 1, high: int = 1000) -> int | None:
        """An optional whole number between low and high."""
        value = self.raw(key, required=False)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.fail(f"field '{key}' must be a whole number from {low} to {high}, found {value!r}")
        return value

    def flag(self, key: str) -> bool:
        """An optional true/false field (false when absent)."""
        value = self.raw(key, required=False)
        if value is None:
            return False
        if not isinstance(value, bool):
            self.fail(f"field '{key}' must be true or false, found {value!r}")
        return value

    def source(self, sources: Mapping[str, str]) -> str:
        """The entry's `source` field, which must name an entry of sources.yaml."""
        source = self.text("source")
        if source not in sources:
            self.fail(f"unknown source {source!r}")
        return source

    def words(self, key: str) -> tuple[str, ...]:
        """A required list of single lower-case words."""
        found = []
        for path, item in self.items(key):
            if not isinstance(item, str) or not item.isalnum() or item != item.lower():
                Entry({}, self.file, path).fail(f"expected one lower-case word, found {_kind(item)}")
            found.append(item)
        return tuple(found)

    def child(self, key: str) -> Entry:
        """The mapping under `key`."""
        return Entry(self.raw(key), self.file, self.child_path(key))

    def items(self, key: str, required: bool = True) -> list[tuple[str, Any]]:
        """The list under `key`, paired with each item's entry path."""
        value = self.raw(key, required)
        if value is None:
            return []
        if not isinstance(value, list):
            self.fail(f"field '{key}' must be a list, found {_kind(value)}")
        base = self.child_path(key)
        return [(f"{base}[{i}]", item) for i, item in enumerate(value)]

    def ids(self, key: str, known: Mapping[str, Any], what: str, required: bool = True) -> tuple[str, ...]:
        """A list of ids that must all exist in `known`."""
        found = []
        for path, item in self.items(key, required):
            if not isinstance(item, str) or item not in known:
                Entry({}, self.file, path).fail(f"unknown {what} {item!r}")
            found.append(item)
        return tuple(found)


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"{value!r} (YAML reads yes/no/on/off as true/false: quote it)"
    return f"{type(value).__name__} {value!r}"[:80]


def _read_yaml(relative: str, data_dir: Path) -> Any:
    path = data_dir / relative
    try:
        with path.open(encoding="utf-8") as stream:
            return yaml.load(stream, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except FileNotFoundError:
        raise KnowledgeError(f"{relative}: file is missing") from None
    except yaml.YAMLError as error:
        raise KnowledgeError(f"{relative}: not valid YAML: {error}") from None


def _fact(value: Any, file: str, path: str, sources: Mapping[str, str]) -> Fact:
    entry = Entry(value, file, path).allow("text", "source", "kind")
    source = entry.source(sources)
    kind = entry.optional_text("kind")
    if kind is not None and kind not in ADVICE_KINDS:
        entry.fail(f"field 'kind' must be one of {', '.join(ADVICE_KINDS)}, found {kind!r}")
    return Fact(text=entry.text("text"), source=source, kind=kind)


def _facts(entry: Entry, key: str, sources: Mapping[str, str], required: bool = True) -> tuple[Fact, ...]:
    return tuple(_fact(item, entry.file, path, sources) for path, item in entry.items(key, required))


def _load_sources(data_dir: Path) -> dict[str, str]:
    entry = Entry(_read_yaml("sources.yaml", data_dir), "sources.yaml")
    return {key: entry.text(key) for key in entry.data}


def _load_exercises(data_dir: Path, sources: Mapping[str, str]) -> dict[str, Exercise]:
    file = "exercises.yaml"
    top = Entry(_read_yaml(file, data_dir), file)
    exercises = {}
    for exercise_id in top.data:
        entry = top.child(exercise_id).allow(*EXERCISE_KEYS)
        source = entry.source(sources)
        exercises[exercise_id] = Exercise(
            id=exercise_id,
            name=entry.text("name"),
            cue=entry.text("cue"),
            source=source,
            sets=entry.whole_number("sets", 1, 10),
            reps=entry.whole_number("reps", 1, 100),
            hold_seconds=_hold_seconds(entry),
            per_side=entry.flag("per_side"),
            rest_seconds=entry.whole_number("rest_seconds", 5, 600),
            progression=entry.optional_text("progression"),
            stop_if=entry.optional_text("stop_if"),
            dose_source=_optional_source(entry, "dose_source", sources),
        )
    return exercises


def _optional_source(entry: Entry, key: str, sources: Mapping[str, str]) -> str | None:
    value = entry.optional_text(key)
    if value is not None and value not in sources:
        entry.fail(f"field '{key}': unknown source {value!r}")
    return value


def _optional_fact(entry: Entry, key: str, sources: Mapping[str, str]) -> Fact | None:
    value = entry.raw(key, required=False)
    return None if value is None else _fact(value, entry.file, entry.child_path(key), sources)


def _hold_seconds(entry: Entry) -> tuple[int, int] | None:
    value = entry.raw("hold_seconds", required=False)
    if value is None:
        return None
    pair = [value, value] if isinstance(value, int) and not isinstance(value, bool) else value
    if (
        not isinstance(pair, list)
        or len(pair) != 2
        or not all(isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 600 for v in pair)
        or pair[0] > pair[1]
    ):
        entry.fail(f"field 'hold_seconds' must be seconds or [low, high] within 1–600, found {value!r}")
    return (pair[0], pair[1])


def _load_lexicon(data_dir: Path) -> tuple[dict[str, str], dict[str, Concept]]:
    file = "lexicon.yaml"
    top = Entry(_read_yaml(file, data_dir), file).allow("spelling", "concepts")
    spelling_entry = top.child("spelling")
    spelling = {}
    for variant, canonical in spelling_entry.data.items():
        if not isinstance(variant, str) or not isinstance(canonical, str):
            spelling_entry.fail(f"entry {variant!r}: {canonical!r}: both sides must be text; quote them")
        spelling[variant.lower()] = canonical.lower()
    concepts_entry = top.child("concepts")
    concepts = {}
    for concept_id in concepts_entry.data:
        entry = concepts_entry.child(concept_id).allow("label", "patterns", "except")
        patterns = _patterns(entry, "patterns", required=True)
        exceptions = _patterns(entry, "except", required=False)
        concepts[concept_id] = Concept(concept_id, entry.text("label"), patterns, exceptions)
    return spelling, concepts


def _patterns(entry: Entry, key: str, required: bool) -> tuple[str, ...]:
    patterns = []
    for path, item in entry.items(key, required):
        where = Entry({}, entry.file, path)
        if not isinstance(item, str):
            where.fail(f"a pattern must be text, found {_kind(item)}")
        try:
            compile_pattern(item)
        except PatternError as error:
            where.fail(f"bad pattern {item!r}: {error}")
        patterns.append(item)
    if required and not patterns:
        entry.fail(f"field '{key}' needs at least one pattern")
    return tuple(patterns)


def _load_condition(
    condition_id: str,
    data_dir: Path,
    sources: Mapping[str, str],
    exercises: Mapping[str, Exercise],
    concepts: Mapping[str, Concept],
    safety_nets: Mapping[str, Fact],
) -> Condition:
    file = f"conditions/{condition_id}.yaml"
    entry = Entry(_read_yaml(file, data_dir), file).allow(*CONDITION_KEYS)
    if entry.text("id") != condition_id:
        entry.fail(f"field 'id' must be {condition_id!r} to match the file name, found {entry.data['id']!r}")
    region = entry.text("region")
    if region not in ("hip", "lower_back"):
        entry.fail(f"field 'region' must be 'hip' or 'lower_back', found {region!r}")
    floor = entry.optional_text("urgency_floor") or "self_care"
    if floor not in URGENCY_KEYS:
        entry.fail(f"field 'urgency_floor' must be one of {', '.join(URGENCY_KEYS)}, found {floor!r}")
    recognise = entry.child("recognise").allow(*RECOGNITION_GROUPS)
    groups = {
        group: recognise.ids(group, concepts, "concept", required=False) for group in RECOGNITION_GROUPS
    }
    if not (groups["names"] and (groups["hallmarks"] or groups["where"] or groups["signs"])):
        recognise.fail("needs 'names' and at least one of 'hallmarks', 'where' or 'signs' to be recognised")
    clinician = entry.raw("see_a_clinician", required=False)
    return Condition(
        id=condition_id,
        name=entry.text("name"),
        region=region,
        area=entry.text("area"),
        summary=entry.text("summary"),
        cause=_fact(entry.raw("cause"), file, "cause", sources),
        symptoms=_fact(entry.raw("symptoms"), file, "symptoms", sources),
        treatment=_facts(entry, "treatment", sources),
        exercises=tuple(exercises[i] for i in entry.ids("exercises", exercises, "exercise")),
        recognise=Recognition(**groups),
        urgency_floor=Urgency.from_key(floor),
        see_a_clinician=None if clinician is None else _fact(clinician, file, "see_a_clinician", sources),
        tell_apart=_optional_fact(entry, "tell_apart", sources),
        safety_net=safety_nets.get(region),
        outlook=_optional_fact(entry, "outlook", sources),
    )


def _load_red_flags(
    data_dir: Path, sources: Mapping[str, str], concepts: Mapping[str, Concept]
) -> tuple[dict[str, RedFlag], dict[str, RedFlag], dict[Urgency, UrgencyAdvice]]:
    file = "red_flags.yaml"
    top = Entry(_read_yaml(file, data_dir), file).allow("urgencies", "flags", "concerns")
    urgencies = top.child("urgencies").allow(*URGENCY_KEYS)
    advice = {}
    for key in URGENCY_KEYS:
        entry = urgencies.child(key).allow("rank", "title", "advice", "source")
        source = entry.source(sources)
        urgency = Urgency.from_key(key)
        advice[urgency] = UrgencyAdvice(urgency, entry.text("title"), entry.text("advice"), source)
    flags = _flags(top.child("flags"), sources, concepts)
    concerns = _flags(top.child("concerns"), sources, concepts) if "concerns" in top.data else {}
    clash = sorted(set(flags) & set(concerns))
    if clash:
        top.fail(f"{clash[0]!r} is both a flag and a concern")
    for concern in concerns.values():
        if concern.explained_by:
            top.fail(f"concerns.{concern.id}: 'explained_by' is for flags only")
    return flags, concerns, advice


def _flags(group: Entry, sources: Mapping[str, str], concepts: Mapping[str, Concept]) -> dict[str, RedFlag]:
    """The red flags (or concerns) of one section of red_flags.yaml."""
    flags = {}
    for flag_id in group.data:
        entry = group.child(flag_id).allow(*FLAG_KEYS)
        urgency_key = entry.text("urgency")
        if urgency_key not in URGENCY_KEYS or urgency_key == "self_care":
            entry.fail(f"field 'urgency' must be emergency, urgent or soon, found {urgency_key!r}")
        detect = entry.ids("detect", concepts, "concept", required=False)
        rules = []
        for path, rule in entry.items("detect_all", required=False):
            if not isinstance(rule, list) or not rule:
                Entry({}, entry.file, path).fail("a rule must be a list of slots, each a list of concepts")
            slots = []
            for index, slot in enumerate(rule):
                where = Entry({"slot": slot}, entry.file, f"{path}[{index}]")
                slots.append(where.ids("slot", concepts, "concept"))
                if not slots[-1]:
                    where.fail("a slot needs at least one concept")
            rules.append(tuple(slots))
        if not detect and not rules:
            entry.fail("needs 'detect' or 'detect_all' to be recognised")
        explanations = []
        for path, item in entry.items("explained_by", required=False):
            explanation = Entry(item, entry.file, path).allow("sign", "context", "together_with", "unless")
            sign = explanation.text("sign")
            if sign not in detect:
                explanation.fail(f"sign {sign!r} is not one of this flag's 'detect' concepts")
            explanations.append(
                Explanation(
                    sign,
                    explanation.ids("context", concepts, "concept"),
                    explanation.ids("together_with", concepts, "concept", required=False),
                    explanation.ids("unless", concepts, "concept", required=False),
                )
            )
        flags[flag_id] = RedFlag(
            id=flag_id,
            urgency=Urgency.from_key(urgency_key),
            name=entry.text("name"),
            question=entry.text("question"),
            meaning=entry.text("meaning"),
            detect=detect,
            sources=entry.ids("sources", sources, "source"),
            detect_all=tuple(rules),
            unless=entry.ids("unless", concepts, "concept", required=False),
            explained_by=tuple(explanations),
            advice=entry.optional_text("advice"),
            withhold_exercises=entry.flag("withhold_exercises"),
        )
    return flags


def _load_prevention(
    data_dir: Path, sources: Mapping[str, str], exercises: Mapping[str, Exercise]
) -> Prevention:
    file = "prevention.yaml"
    top = Entry(_read_yaml(file, data_dir), file).allow("title", "groups")
    groups = []
    for path, item in top.items("groups"):
        entry = Entry(item, file, path).allow("id", "title", "exercises", "items")
        groups.append(
            PreventionGroup(
                id=entry.text("id"),
                title=entry.text("title"),
                exercises=tuple(exercises[i] for i in entry.ids("exercises", exercises, "exercise", False)),
                items=_facts(entry, "items", sources, required=False),
            )
        )
    return Prevention(title=top.text("title"), groups=tuple(groups))


def _load_education(data_dir: Path, sources: Mapping[str, str]) -> Education:
    file = "education.yaml"
    top = Entry(_read_yaml(file, data_dir), file).allow(*EDUCATION_KEYS)

    def one(key: str) -> Fact:
        return _fact(top.raw(key), file, key, sources)

    return Education(
        why_it_matters=one("why_it_matters"),
        closing_thought=one("closing_thought"),
        seek_help=_facts(top, "seek_help", sources),
        return_to_running=_facts(top, "return_to_running", sources),
        about_accuracy=one("about_accuracy"),
        load_and_recovery=_optional_fact(top, "load_and_recovery", sources),
        interim_self_care=_facts(top, "interim_self_care", sources, required=False),
        safety_net=frozen_mapping(_safety_nets(top, sources)),
    )


def _safety_nets(top: Entry, sources: Mapping[str, str]) -> dict[str, Fact]:
    """When to get help now, one fact per region: every card of that region shows this one text."""
    if "safety_net" not in top.data:
        return {}
    nets = top.child("safety_net").allow("hip", "lower_back")
    return {region: _fact(nets.raw(region), top.file, f"safety_net.{region}", sources) for region in ("hip", "lower_back")}


def _load_triage(data_dir: Path, concepts: Mapping[str, Concept], red_flags: Mapping[str, RedFlag]) -> Triage:
    file = "triage.yaml"
    top = Entry(_read_yaml(file, data_dir), file).allow(
        "regions", "locations", "triggers", "screen", "region_only"
    )

    def options(key: str, follow_ups: Mapping[str, TriageOption] | None) -> dict[str, TriageOption]:
        group = top.child(key)
        found = {}
        for option_id in group.data:
            entry = group.child(option_id).allow(
                "label", "concepts", *(("triggers",) if follow_ups is not None else ())
            )
            found[option_id] = TriageOption(
                id=option_id,
                label=entry.text("label"),
                concepts=entry.ids("concepts", concepts, "concept"),
                follow_ups=entry.ids("triggers", follow_ups, "trigger") if follow_ups is not None else (),
            )
        return found

    triggers = options("triggers", None)
    locations = options("locations", triggers)
    regions_entry = top.child("regions").allow("hip", "lower_back")
    regions = {}
    for region_id in ("hip", "lower_back"):
        entry = regions_entry.child(region_id).allow("label", "locations")
        regions[region_id] = Region(
            region_id, entry.text("label"), entry.ids("locations", locations, "location")
        )
    screen = top.child("screen").allow("emergency", "together", "duration", "labels")
    for key in ("emergency", "duration"):
        if screen.text(key) not in red_flags:
            screen.fail(f"field '{key}': unknown red flag {screen.data[key]!r}")
    labels_entry = screen.child("labels")
    labels = {}
    for flag_id in labels_entry.data:
        if flag_id not in red_flags:
            labels_entry.fail(f"unknown red flag {flag_id!r}")
        labels[flag_id] = labels_entry.text(flag_id)
    return Triage(
        regions=frozen_mapping(regions),
        locations=frozen_mapping(locations),
        triggers=frozen_mapping(triggers),
        screen=Screen(
            screen.data["emergency"],
            screen.ids("together", red_flags, "red flag"),
            screen.data["duration"],
            frozen_mapping(labels),
        ),
        region_only=top.ids("region_only", concepts, "concept", required=False),
    )


def _load_other_conditions(
    data_dir: Path, sources: Mapping[str, str], concepts: Mapping[str, Concept]
) -> dict[str, OtherCondition]:
    file = "other_conditions.yaml"
    top = Entry(_read_yaml(file, data_dir), file)
    found = {}
    for condition_id in top.data:
        entry = top.child(condition_id).allow(
            "name", "about", "detect", "sources", "recognise", "needs", "do_now", "avoid", "see", "question", "confirms"
        )
        recognise = entry.child("recognise").allow(*RECOGNITION_GROUPS)
        groups = {g: recognise.ids(g, concepts, "concept", required=False) for g in RECOGNITION_GROUPS}
        see = entry.text("see")
        if see not in URGENCY_KEYS:
            entry.fail(f"field 'see' must be one of {', '.join(URGENCY_KEYS)}, found {see!r}")
        needs = tuple(
            Entry({"slot": slot}, file, entry.child_path("needs")).ids("slot", concepts, "concept")
            for slot in entry.raw("needs", required=False) or ()
        )
        found[condition_id] = OtherCondition(
            id=condition_id,
            name=entry.text("name"),
            about=entry.text("about"),
            detect=entry.ids("detect", concepts, "concept", required=False),
            sources=entry.ids("sources", sources, "source"),
            recognise=Recognition(**groups),
            needs=needs,
            do_now=entry.text("do_now"),
            avoid=entry.text("avoid"),
            see=Urgency.from_key(see),
            question=entry.optional_text("question") or "",
            confirms=_optional_concept(entry, "confirms", concepts),
        )
    return found


def _optional_concept(entry: Entry, key: str, concepts: Mapping[str, Concept]) -> str:
    value = entry.optional_text(key) or ""
    if value and value not in concepts:
        entry.fail(f"unknown concept {value!r} in '{key}'")
    return value


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


def _load_questions(data_dir: Path) -> QuestionPatterns:
    file = "topics.yaml"
    top = Entry(_read_yaml(file, data_dir), file)
    top.allow(*QUESTION_KEYS)

    def grouped(key: str, allowed: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
        group = top.child(key)
        group.allow(*allowed)
        return {k: _patterns(group, k, required=True) for k in group.data}

    return QuestionPatterns(
        openers=top.words("openers"),
        fillers=top.words("fillers"),
        subject_names=_patterns(top, "subject_names", required=True),
        condition_names=frozen_mapping(grouped("condition_names", CONDITION_IDS)),
        small_talk=frozen_mapping(grouped("small_talk", SMALL_TALK_KINDS)),
        out_of_scope=_patterns(top, "out_of_scope", required=True),
        topics=frozen_mapping(grouped("topics", TOPIC_IDS)),
        strong_cues=frozen_mapping(grouped("strong_cues", TOPIC_IDS)),
        broad_topics=_topic_ids(top, "broad_topics"),
        diagnosis=_patterns(top, "diagnosis", required=True),
        owns_subject=_patterns(top, "owns_subject", required=True),
        not_pain_time=_patterns(top, "not_pain_time", required=True),
        asks_within=_patterns(top, "asks_within", required=True),
        hearsay=_patterns(top, "hearsay", required=True),
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


def _fill_urgency(text: str, entry: Entry, flags: Mapping[str, RedFlag], titles: Mapping[Urgency, str]) -> str:
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


def _load_answers(
    data_dir: Path,
    sources: Mapping[str, str],
    flags: Mapping[str, RedFlag] | None = None,
    titles: Mapping[Urgency, str] | None = None,
) -> dict[str, dict[str, Answer]]:
    file = "answers.yaml"
    top = Entry(_read_yaml(file, data_dir), file)
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
            facts = _facts(entry, "facts", sources)
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


def _load_messages(data_dir: Path) -> dict[str, str]:
    file = "messages.yaml"
    top = Entry(_read_yaml(file, data_dir), file)
    return {key: top.text(key) for key in top.data}


def _load_common_words(data_dir: Path) -> frozenset[str]:
    path = data_dir / "common_words.txt"
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise KnowledgeError("common_words.txt: file is missing") from None
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def load_knowledge(data_dir: Path = DATA_DIR) -> Knowledge:
    """Read and validate every data file under `data_dir`.

    Raises KnowledgeError naming the file, the entry and the problem when anything is wrong.
    """
    sources = _load_sources(data_dir)
    exercises = _load_exercises(data_dir, sources)
    spelling, concepts = _load_lexicon(data_dir)
    present = sorted(p.stem for p in (data_dir / "conditions").glob("*.yaml"))
    unknown = sorted(set(present) - set(CONDITION_IDS))
    if unknown:
        raise KnowledgeError(f"conditions/{unknown[0]}.yaml: unknown condition id {unknown[0]!r}")
    education = _load_education(data_dir, sources)
    conditions = {
        cid: _load_condition(cid, data_dir, sources, exercises, concepts, education.safety_net)
        for cid in CONDITION_IDS
    }
    red_flags, concerns, urgency_advice = _load_red_flags(data_dir, sources, concepts)
    titles = {u: a.title for u, a in urgency_advice.items()}
    answers = _load_answers(data_dir, sources, {**red_flags, **concerns}, titles)
    return Knowledge(
        sources=frozen_mapping(sources),
        conditions=frozen_mapping(conditions),
        exercises=frozen_mapping(exercises),
        concepts=frozen_mapping(concepts),
        spelling=frozen_mapping(spelling),
        common_words=_load_common_words(data_dir),
        red_flags=frozen_mapping(red_flags),
        urgency_advice=frozen_mapping(urgency_advice),
        prevention=_load_prevention(data_dir, sources, exercises),
        education=education,
        triage=_load_triage(data_dir, concepts, red_flags),
        other_conditions=frozen_mapping(_load_other_conditions(data_dir, sources, concepts)),
        messages=frozen_mapping(_load_messages(data_dir)),
        questions=_load_questions(data_dir),
        answers=frozen_mapping({t: frozen_mapping(a) for t, a in answers.items()}),
        concerns=frozen_mapping(concerns),
    )


@cache
def default_knowledge() -> Knowledge:
    """The packaged knowledge base, loaded once per process."""
    return load_knowledge()
