"""Build the medical data: sources, exercises, the lexicon, conditions, red flags, prevention,
education, triage and the problems outside the six."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from knowledge.load_entry import (
    RECOGNITION_GROUPS,
    URGENCY_KEYS,
    Entry,
    optional_concept,
    optional_fact,
    optional_source,
    read_fact,
    read_facts,
    read_patterns,
    read_yaml,
)
from knowledge.model import (
    Concept,
    Condition,
    Education,
    Exercise,
    Explanation,
    Fact,
    OtherCondition,
    Prevention,
    PreventionGroup,
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


def load_sources(data_dir: Path) -> dict[str, str]:
    """sources.yaml: source id -> citation."""
    entry = Entry(read_yaml("sources.yaml", data_dir), "sources.yaml")
    return {key: entry.text(key) for key in entry.data}


def load_exercises(data_dir: Path, sources: Mapping[str, str]) -> dict[str, Exercise]:
    """exercises.yaml: every exercise with its dose, checked against the sources."""
    file = "exercises.yaml"
    top = Entry(read_yaml(file, data_dir), file)
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
            dose_source=optional_source(entry, "dose_source", sources),
        )
    return exercises


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


def load_lexicon(data_dir: Path) -> tuple[dict[str, str], dict[str, Concept]]:
    """lexicon.yaml: the spelling fixes and the concepts (patterns with exceptions)."""
    file = "lexicon.yaml"
    top = Entry(read_yaml(file, data_dir), file).allow("spelling", "concepts")
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
        patterns = read_patterns(entry, "patterns", required=True)
        exceptions = read_patterns(entry, "except", required=False)
        concepts[concept_id] = Concept(concept_id, entry.text("label"), patterns, exceptions)
    return spelling, concepts


def load_condition(
    condition_id: str,
    data_dir: Path,
    sources: Mapping[str, str],
    exercises: Mapping[str, Exercise],
    concepts: Mapping[str, Concept],
    safety_nets: Mapping[str, Fact],
) -> Condition:
    """conditions/<id>.yaml: one of the six conditions, with its region's safety net."""
    file = f"conditions/{condition_id}.yaml"
    entry = Entry(read_yaml(file, data_dir), file).allow(*CONDITION_KEYS)
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
        cause=read_fact(entry.raw("cause"), file, "cause", sources),
        symptoms=read_fact(entry.raw("symptoms"), file, "symptoms", sources),
        treatment=read_facts(entry, "treatment", sources),
        exercises=tuple(exercises[i] for i in entry.ids("exercises", exercises, "exercise")),
        recognise=Recognition(**groups),
        urgency_floor=Urgency.from_key(floor),
        see_a_clinician=None if clinician is None else read_fact(clinician, file, "see_a_clinician", sources),
        tell_apart=optional_fact(entry, "tell_apart", sources),
        safety_net=safety_nets.get(region),
        outlook=optional_fact(entry, "outlook", sources),
    )


def load_red_flags(
    data_dir: Path, sources: Mapping[str, str], concepts: Mapping[str, Concept]
) -> tuple[dict[str, RedFlag], dict[str, RedFlag], dict[Urgency, UrgencyAdvice]]:
    """red_flags.yaml: the warning signs, the concerns and the advice for each urgency."""
    file = "red_flags.yaml"
    top = Entry(read_yaml(file, data_dir), file).allow("urgencies", "flags", "concerns")
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


def load_prevention(
    data_dir: Path, sources: Mapping[str, str], exercises: Mapping[str, Exercise]
) -> Prevention:
    """prevention.yaml: the prevention groups and their exercises."""
    file = "prevention.yaml"
    top = Entry(read_yaml(file, data_dir), file).allow("title", "groups")
    groups = []
    for path, item in top.items("groups"):
        entry = Entry(item, file, path).allow("id", "title", "exercises", "items")
        groups.append(
            PreventionGroup(
                id=entry.text("id"),
                title=entry.text("title"),
                exercises=tuple(exercises[i] for i in entry.ids("exercises", exercises, "exercise", False)),
                items=read_facts(entry, "items", sources, required=False),
            )
        )
    return Prevention(title=top.text("title"), groups=tuple(groups))


def load_education(data_dir: Path, sources: Mapping[str, str]) -> Education:
    """education.yaml: the shared teaching texts and each region's safety net."""
    file = "education.yaml"
    top = Entry(read_yaml(file, data_dir), file).allow(*EDUCATION_KEYS)

    def one(key: str) -> Fact:
        return read_fact(top.raw(key), file, key, sources)

    return Education(
        why_it_matters=one("why_it_matters"),
        closing_thought=one("closing_thought"),
        seek_help=read_facts(top, "seek_help", sources),
        return_to_running=read_facts(top, "return_to_running", sources),
        about_accuracy=one("about_accuracy"),
        load_and_recovery=optional_fact(top, "load_and_recovery", sources),
        interim_self_care=read_facts(top, "interim_self_care", sources, required=False),
        safety_net=frozen_mapping(_safety_nets(top, sources)),
    )


def _safety_nets(top: Entry, sources: Mapping[str, str]) -> dict[str, Fact]:
    """When to get help now, one fact per region: every card of that region shows this one text."""
    if "safety_net" not in top.data:
        return {}
    nets = top.child("safety_net").allow("hip", "lower_back")
    return {
        region: read_fact(nets.raw(region), top.file, f"safety_net.{region}", sources)
        for region in ("hip", "lower_back")
    }


def load_triage(data_dir: Path, concepts: Mapping[str, Concept], red_flags: Mapping[str, RedFlag]) -> Triage:
    """triage.yaml: the screening questions and their options."""
    file = "triage.yaml"
    top = Entry(read_yaml(file, data_dir), file).allow(
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


def load_other_conditions(
    data_dir: Path, sources: Mapping[str, str], concepts: Mapping[str, Concept]
) -> dict[str, OtherCondition]:
    """other_conditions.yaml: the problems outside the six, recognised in everyday words."""
    file = "other_conditions.yaml"
    top = Entry(read_yaml(file, data_dir), file)
    found = {}
    for condition_id in top.data:
        entry = top.child(condition_id).allow(
            "name",
            "about",
            "detect",
            "sources",
            "recognise",
            "needs",
            "do_now",
            "avoid",
            "see",
            "question",
            "confirms",
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
            confirms=optional_concept(entry, "confirms", concepts),
        )
    return found
