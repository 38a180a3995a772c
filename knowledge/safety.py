"""The clinical safety layer (data/safety.yaml): what a raised warning sign says and holds back.

Pure functions over the loaded knowledge, for the engine to call:

- `advice_for_flags(ids)`: the advice to show for raised flags or concerns, and the kinds of
  general advice (keep running, stretching, exercises, load) to hold back while they stand.
- `shown_facts(facts, held)` / `answer_held_back(answer, held)`: apply that hold-back.
- `safety_net(region)` and `seek_help(condition)`: the one "when to get help now" text per
  region, and the whole "when to see someone" list, never without it.
- `floor_wording(condition)`: the words for a condition's urgency floor (disc: a prompt
  assessment within days), when no flag raised the urgency.
- `urgency_worded(text)` and `contradictions(texts)`: checks that no text words a sign's urgency
  lower than red_flags.yaml, and that no set of texts says both stop and keep running.
- `age_concerns(band, region, concepts)`: the concerns an age answer raises.
- `cancer_history_flag()`: the /redflags item for cancer history with new back or night pain.
- `situation(text)`: pregnancy pelvic pain, a hip replacement, a fever to "run off".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from knowledge.loader import DATA_DIR, KnowledgeError
from knowledge.model import ADVICE_KINDS, Answer, Fact, Knowledge, RedFlag, Urgency

FILE = "safety.yaml"
REGIONS = ("hip", "lower_back")


@dataclass(frozen=True, slots=True)
class FlagAdvice:
    """What to say for the raised signs, and what general advice to hold back meanwhile."""

    urgency: Urgency
    lines: tuple[str, ...]  # what to do, most urgent first; only the emergency's when there is one
    held: frozenset[str]  # ADVICE_KINDS not to show
    held_topics: frozenset[str]  # answer topics not to show at all


@dataclass(frozen=True, slots=True)
class AgeRule:
    """An age band that, with a region and what was said, raises a concern."""

    id: str
    bands: tuple[str, ...]
    concern: str
    regions: tuple[str, ...] = ()  # empty: any region (a child's limp with knee pain only too)
    concepts_any: tuple[str, ...] = ()
    concepts_none: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Safety:
    """safety.yaml, checked against the knowledge base."""

    hold_by_urgency: Mapping[Urgency, frozenset[str]]
    hold_by_flag: Mapping[str, frozenset[str]]
    held_topics: Mapping[str, tuple[str, ...]]
    urgency_words: Mapping[Urgency, tuple[str, ...]]
    stop_words: tuple[str, ...]
    keep_words: tuple[str, ...]
    condition_words: tuple[str, ...]
    seek_help_timed: tuple[str, ...]
    floor_titles: Mapping[str, str]
    floor_advice: Mapping[str, Fact]
    age_question: str
    age_skip: str
    age_bands: Mapping[str, str]  # band id -> button label
    age_rules: tuple[AgeRule, ...]
    age_headlines: Mapping[str, Fact]
    cancer_flag: RedFlag
    cancer_advice: Fact
    cancer_escalates_with: tuple[str, ...]
    situations: Mapping[str, tuple[tuple[tuple[str, ...], ...], tuple[Fact, ...]]]


def _fail(where: str, problem: str) -> KnowledgeError:
    return KnowledgeError(f"{FILE}: {where}: {problem}")


def _fact(value: Any, where: str, knowledge: Knowledge) -> Fact:
    if not isinstance(value, dict) or set(value) != {"text", "source"} or not isinstance(value["text"], str):
        raise _fail(where, "needs exactly text and source")
    if value["source"] not in knowledge.sources:
        raise _fail(where, f"unknown source {value['source']!r}")
    return Fact(value["text"].strip(), value["source"])


def _kinds(values: Any, where: str) -> frozenset[str]:
    if not isinstance(values, list) or not set(values) <= set(ADVICE_KINDS):
        raise _fail(where, f"must be a list of {', '.join(ADVICE_KINDS)}")
    return frozenset(values)


def _words(values: Any, where: str) -> tuple[str, ...]:
    if not isinstance(values, list) or not all(isinstance(v, str) and v == v.lower() for v in values):
        raise _fail(where, "must be a list of lower-case phrases")
    return tuple(values)


def load_safety(knowledge: Knowledge, data_dir: Path = DATA_DIR) -> Safety:
    """Read and check safety.yaml: every source, flag, concern and concept it names must exist."""
    try:
        data: Any = yaml.safe_load((data_dir / FILE).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise KnowledgeError(f"{FILE}: cannot be read: {error}") from None
    known_signs = {*knowledge.red_flags, *knowledge.concerns, data["cancer_history"]["id"]}
    hold = data["hold_back"]
    by_flag = {k: _kinds(v, f"hold_back.by_flag.{k}") for k, v in hold["by_flag"].items()}
    if set(by_flag) - known_signs:
        raise _fail("hold_back.by_flag", f"unknown flag {sorted(set(by_flag) - known_signs)[0]!r}")
    running = data["running_lines"]
    floor = data["floor_wording"]
    for condition in floor:
        if condition not in knowledge.conditions:
            raise _fail("floor_wording", f"unknown condition {condition!r}")
    age = data["age"]
    return Safety(
        hold_by_urgency=MappingProxyType(
            {Urgency.from_key(k): _kinds(v, f"hold_back.by_urgency.{k}") for k, v in hold["by_urgency"].items()}
        ),
        hold_by_flag=MappingProxyType(by_flag),
        held_topics=MappingProxyType({k: tuple(v) for k, v in data["held_topics"].items()}),
        urgency_words=MappingProxyType(
            {Urgency.from_key(k): _words(v, f"urgency_words.{k}") for k, v in data["urgency_words"].items()}
        ),
        stop_words=_words(running["stop"], "running_lines.stop"),
        keep_words=_words(running["keep"], "running_lines.keep"),
        condition_words=_words(running["conditions"], "running_lines.conditions"),
        seek_help_timed=tuple(str(p) for p in data["seek_help_timed"]),
        floor_titles=MappingProxyType({c: str(v["title"]) for c, v in floor.items()}),
        floor_advice=MappingProxyType(
            {c: _fact(v["advice"], f"floor_wording.{c}.advice", knowledge) for c, v in floor.items()}
        ),
        age_question=str(age["question"]),
        age_skip=str(age["skip"]),
        age_bands=MappingProxyType({str(k): str(v["label"]) for k, v in age["bands"].items()}),
        age_rules=_age_rules(age, knowledge),
        age_headlines=MappingProxyType(
            {k: _fact(v, f"age.headline.{k}", knowledge) for k, v in age["headline"].items()}
        ),
        **_cancer(data["cancer_history"], knowledge),
        situations=MappingProxyType(_situations(data["situations"], knowledge)),
    )


def _age_rules(age: Mapping[str, Any], knowledge: Knowledge) -> tuple[AgeRule, ...]:
    rules = []
    for raw in age["rules"]:
        rule = AgeRule(
            id=raw["id"],
            bands=tuple(str(b) for b in raw["bands"]),
            concern=raw["concern"],
            regions=tuple(raw.get("regions", ())),
            concepts_any=tuple(raw.get("concepts_any", ())),
            concepts_none=tuple(raw.get("concepts_none", ())),
        )
        where = f"age.rules.{rule.id}"
        if set(rule.bands) - set(age["bands"]) or set(rule.regions) - set(REGIONS):
            raise _fail(where, "unknown age band or region")
        if rule.concern not in knowledge.concerns:
            raise _fail(where, f"unknown concern {rule.concern!r}")
        if set(rule.concepts_any + rule.concepts_none) - set(knowledge.concepts):
            raise _fail(where, "unknown concept")
        if rule.id not in age["headline"]:
            raise _fail(where, "needs a headline")
        rules.append(rule)
    return tuple(rules)


def _cancer(raw: Mapping[str, Any], knowledge: Knowledge) -> dict[str, Any]:
    advice = _fact(raw["advice"], "cancer_history.advice", knowledge)
    sources = tuple(raw["sources"])
    if set(sources) - set(knowledge.sources):
        raise _fail("cancer_history.sources", "unknown source")
    escalates = tuple(raw["escalate_to_emergency_with"])
    if set(escalates) - set(knowledge.red_flags):
        raise _fail("cancer_history.escalate_to_emergency_with", "unknown red flag")
    flag = RedFlag(
        id=raw["id"],
        urgency=Urgency.from_key(raw["urgency"]),
        name=raw["name"],
        question=raw["question"],
        meaning=raw["meaning"],
        detect=(),
        sources=sources,
        advice=advice.text,
        withhold_exercises=True,
    )
    return {"cancer_flag": flag, "cancer_advice": advice, "cancer_escalates_with": escalates}


def _situations(raw: Mapping[str, Any], knowledge: Knowledge) -> dict[str, Any]:
    found = {}
    for key, entry in raw.items():
        cues = tuple(_words(group, f"situations.{key}.cues") for group in entry["cues"])
        facts = tuple(_fact(f, f"situations.{key}.facts[{i}]", knowledge) for i, f in enumerate(entry["facts"]))
        found[key] = (cues, facts)
    return found


@cache
def default_safety() -> Safety:
    """The packaged safety data, loaded once per process."""
    from knowledge import default_knowledge

    return load_safety(default_knowledge())


# ----- warning signs: what to say, what to hold back ---------------------------------------------
def sign(knowledge: Knowledge, sign_id: str, safety: Safety | None = None) -> RedFlag | None:
    """A red flag, a concern or the cancer-history sign by id (None when unknown)."""
    return _sign(knowledge, safety or default_safety(), sign_id)


def _sign(knowledge: Knowledge, safety: Safety, sign_id: str) -> RedFlag | None:
    if sign_id == safety.cancer_flag.id:
        return safety.cancer_flag
    return knowledge.red_flags.get(sign_id) or knowledge.concerns.get(sign_id)


def advice_for_flags(knowledge: Knowledge, sign_ids: Iterable[str], safety: Safety | None = None) -> FlagAdvice:
    """The advice for raised flags or concerns, most urgent first, and what to hold back.

    Only the most urgent signs speak: with an emergency among them, only the emergency's advice
    (nothing after it but help to act on it); otherwise a lower sign's "keep gently active"
    never stands beside a higher sign's "stop running". What every sign holds back is held.
    Unknown ids are ignored.
    """
    safety = safety or default_safety()
    signs = [s for s in (_sign(knowledge, safety, i) for i in dict.fromkeys(sign_ids)) if s is not None]
    if not signs:
        return FlagAdvice(Urgency.SELF_CARE, (), frozenset(), frozenset())
    signs.sort(key=lambda s: -s.urgency)
    top = signs[0].urgency
    speaking = [s for s in signs if s.urgency == top]
    lines = tuple(dict.fromkeys(s.advice or knowledge.urgency_advice[s.urgency].advice for s in speaking))
    held: set[str] = set()
    for sign in signs:
        held |= safety.hold_by_urgency.get(sign.urgency, frozenset())
        held |= safety.hold_by_flag.get(sign.id, frozenset())
        if sign.withhold_exercises:
            held |= {"stretching", "exercises"}
    topics = {topic for kind in held for topic in safety.held_topics.get(kind, ())}
    return FlagAdvice(top, lines, frozenset(held), frozenset(topics))


def shown_facts(facts: Iterable[Fact], held: frozenset[str]) -> tuple[Fact, ...]:
    """The facts that may be shown while `held` kinds of advice are held back."""
    return tuple(f for f in facts if f.kind not in held)


def answer_held_back(answer: Answer, advice: FlagAdvice) -> bool:
    """Whether a whole answer is held back (its topic is, or every fact in it is)."""
    return answer.topic in advice.held_topics or not shown_facts(answer.facts, advice.held)


# ----- the safety net, from one place --------------------------------------------------------------
def safety_net(knowledge: Knowledge, region: str) -> Fact:
    """The region's "get help now" text (education.yaml safety_net), shown on every card of it."""
    return knowledge.education.safety_net[region]


def seek_help(knowledge: Knowledge, condition_id: str | None, safety: Safety | None = None) -> tuple[Fact, ...]:
    """"When to see someone": the condition's own rule, its region's safety net, the guide's list.

    The guide's lines that name a time are left out when the condition's own rule gives one
    (one time per card). With no condition: both regions' safety nets, then the guide's list.
    """
    guide = knowledge.education.seek_help
    if condition_id is None:
        return (*(safety_net(knowledge, r) for r in REGIONS), *guide)
    safety = safety or default_safety()
    condition = knowledge.conditions[condition_id]
    own = (condition.see_a_clinician,) if condition.see_a_clinician else ()
    if own:
        guide = tuple(f for f in guide if not any(t in f.text for t in safety.seek_help_timed))
    return (*own, safety_net(knowledge, condition.region), *guide)


def floor_wording(condition_id: str, safety: Safety | None = None) -> tuple[str, Fact] | None:
    """The title and advice for a condition's urgency floor, when it has its own wording."""
    safety = safety or default_safety()
    if condition_id not in safety.floor_titles:
        return None
    return safety.floor_titles[condition_id], safety.floor_advice[condition_id]


# ----- wording checks ------------------------------------------------------------------------------
def _has(text: str, phrase: str) -> bool:
    return re.search(rf"(?<![\w&]){re.escape(phrase)}(?!\w)", text) is not None


def urgency_worded(text: str, safety: Safety | None = None) -> Urgency | None:
    """The strongest urgency a text words ("today" -> URGENT), or None when it words none."""
    safety = safety or default_safety()
    lowered = text.lower().replace("’", "'")
    for urgency in sorted(safety.urgency_words, reverse=True):
        if any(_has(lowered, phrase) for phrase in safety.urgency_words[urgency]):
            return urgency
    return None


def _sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.;!?])\s+|\s+—\s+", text.lower().replace("’", "'")) if s]


def running_stance(text: str, safety: Safety | None = None) -> set[str]:
    """"stop" and/or "keep": the unconditional stop- or keep-running lines a text holds."""
    safety = safety or default_safety()
    stance = set()
    for sentence in _sentences(text):
        if any(_has(sentence, c) for c in safety.condition_words):
            continue  # a rule ("stop if it hurts to hop"), not a blanket instruction
        if any(_has(sentence, w) for w in safety.stop_words):
            stance.add("stop")
        if any(_has(sentence, w) for w in safety.keep_words):
            stance.add("keep")
    return stance


def contradictions(texts: Sequence[str], safety: Safety | None = None) -> list[tuple[str, str]]:
    """Pairs (stop line, keep line) in a set of texts shown together; empty when consistent."""
    stops = [t for t in texts if "stop" in running_stance(t, safety)]
    keeps = [t for t in texts if "keep" in running_stance(t, safety)]
    return [(s, k) for s in stops for k in keeps]


# ----- age -----------------------------------------------------------------------------------------
def age_concerns(band: str | None, region: str | None, concepts: Iterable[str], safety: Safety | None = None) -> tuple[str, ...]:
    """The age rules (ids of safety.yaml age.rules) an age band raises for a region and concepts.

    `band` None (skipped) raises nothing. Each rule's concern and headline are in the data.
    """
    safety = safety or default_safety()
    if band is None:
        return ()
    present = set(concepts)
    fired = []
    for rule in safety.age_rules:
        if band not in rule.bands or (rule.regions and region not in rule.regions):
            continue
        if rule.concepts_any and not present.intersection(rule.concepts_any):
            continue
        if present.intersection(rule.concepts_none):
            continue
        fired.append(rule.id)
    return tuple(fired)


_NOT_AN_AGE = r"(?!\s*(?:k\b|km|kilomet|mi\b|miles?|mins?|minutes?|hours?|days?|weeks?|months?|%|/|out of|of 10|times|x\b))"
_AGE_PATTERNS = (
    re.compile(
        r"\b(?:i'?m|i am|aged?|(?:he|she)'?s|(?:he|she) is|(?:son|daughter|kid|child|boy|girl|teen|teenager)(?:'s| is))"
        r"\s+(?:just |only |nearly |almost |about |now )?(\d{1,2})\b" + _NOT_AN_AGE
    ),
    re.compile(r"\b(\d{1,2})[\s-]*(?:years?|yrs?)[\s-]*old\b"),
    re.compile(r"\b(\d{1,2})\s*(?:yo|y/o|y\.o\.)(?!\w)"),
)
_BARE_AGE = re.compile(r"\s*(under |over |about |around )?(\d{1,2})\s*(?:[-–]\s*\d{1,2}|\+)?\s*[.!]?\s*")
# what the lexicon reads when no number is given ("in my fifties", "a teenager")
_AGE_CONCEPT_BANDS = {"age_over_50": "50_plus", "age_under_20": "16_19"}


def band_of(years: int) -> str:
    """The age band (safety.yaml age.bands) of an age in years."""
    return "under_16" if years < 16 else "16_19" if years < 20 else "20_49" if years < 50 else "50_plus"


def age_band_in(text: str, concepts: Iterable[str] = (), bare: bool = False) -> str | None:
    """The age band a message gives ("I'm 52", "my son is 15", "a 9-year-old"), or None.

    `bare`: the message answers "how old are you?", so a number on its own ("52") is an age.
    """
    lowered = text.lower().replace("’", "'")
    for pattern in _AGE_PATTERNS:
        if (match := pattern.search(lowered)) is not None:
            return band_of(int(match.group(1)))
    if bare and (match := _BARE_AGE.fullmatch(lowered)):  # "52", "20-49", "50+", "under 16"
        years = int(match.group(2))
        return band_of(years - 1 if (match.group(1) or "").strip() == "under" else years)
    return next((band for concept, band in _AGE_CONCEPT_BANDS.items() if concept in set(concepts)), None)


def cancer_history_flag(safety: Safety | None = None) -> RedFlag:
    """The /redflags item: cancer history with new back or night pain (same day; emergency with
    leg or bladder signs, see `Safety.cancer_escalates_with`)."""
    return (safety or default_safety()).cancer_flag


CANCER_CONCEPT = "cancer_history"  # lexicon.yaml: "had breast cancer", "chemo last year"


def cancer_concern(
    concepts: Iterable[str], region: str | None, flags: Iterable[str], safety: Safety | None = None
) -> Urgency | None:
    """Cancer history with new back or night pain: URGENT (same day); EMERGENCY with leg or
    bladder signs (`Safety.cancer_escalates_with`); None without a cancer history or without
    back or night pain. `concepts`: what the runner said; `region`: the triage's, if known."""
    safety = safety or default_safety()
    present, raised = set(concepts), set(flags)
    if CANCER_CONCEPT not in present:
        return None
    night = "night_sign" in present or "night_pain" in raised
    if region != "lower_back" and not present & {"back_general", "low_back", "back_centre", "one_side_back"} and not night:
        return None
    if raised & set(safety.cancer_escalates_with):
        return Urgency.EMERGENCY
    return safety.cancer_flag.urgency


def situation(text: str, safety: Safety | None = None) -> str | None:
    """The special situation a message describes (pregnancy pelvic pain, ...), or None."""
    safety = safety or default_safety()
    lowered = text.lower().replace("’", "'")
    for key, (cues, _) in safety.situations.items():
        if all(any(_has(lowered, cue) for cue in group) for group in cues):
            return key
    return None


def situation_facts(key: str, safety: Safety | None = None) -> tuple[Fact, ...]:
    """What to say for a special situation."""
    return (safety or default_safety()).situations[key][1]
