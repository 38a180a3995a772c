"""What the bot knows, as frozen dataclasses built once by `knowledge.loader`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from types import MappingProxyType

CONDITION_IDS: tuple[str, ...] = (
    "hip_flexor_strain",
    "gluteal_tendinopathy",
    "it_band_syndrome",
    "lumbar_strain",
    "si_joint_dysfunction",
    "disc_irritation",
)

TOPIC_IDS: tuple[str, ...] = (
    "what_is",
    "cause",
    "symptoms",
    "treatment",
    "exercises",
    "keep_running",
    "return_to_running",
    "recovery_time",
    "ice_heat",
    "painkillers",
    "see_clinician",
    "prevention",
    "warm_up",
    "stretching",
    "foam_rolling",
    "strength",
    "yoga",
    "load",
    "cross_training",
    "running_form",
    "shoes",
    "red_flags",
    "stress_fracture",
    "other",
    "small_talk",
    "out_of_scope",
)  # what a runner's question is about (shared/eval/README.md, questions)
SMALL_TALK_KINDS: tuple[str, ...] = ("greeting", "thanks", "bye", "ack", "who", "capabilities")


class Urgency(IntEnum):
    """How soon a runner should see someone; higher is more urgent."""

    SELF_CARE = 0
    SOON = 1
    URGENT = 2
    EMERGENCY = 3

    @property
    def key(self) -> str:
        """The lower-case id used in data files and the JSON contract."""
        return self.name.lower()

    @classmethod
    def from_key(cls, key: str) -> Urgency:
        """Parse an id such as ``"urgent"``."""
        return cls[key.upper()]


ADVICE_KINDS: tuple[str, ...] = ("keep_running", "stop_running", "stretching", "exercises", "load")
# What kind of general advice a line gives, so a raised warning sign can hold it back
# (knowledge.safety.advice_for_flags): keep running, stop running, stretch, exercise, add load.


@dataclass(frozen=True, slots=True)
class Fact:
    """One sentence the bot may show, with where it comes from."""

    text: str
    source: str
    kind: str | None = None  # one of ADVICE_KINDS when the line is that kind of advice


@dataclass(frozen=True, slots=True)
class Exercise:
    """A structured exercise: enough for a reply, a plan or a reminder."""

    id: str
    name: str
    cue: str
    source: str
    sets: int | None = None
    reps: int | None = None
    hold_seconds: tuple[int, int] | None = None
    per_side: bool = False
    rest_seconds: int | None = None  # rest between sets
    progression: str | None = None  # when and how to make it harder
    stop_if: str | None = None  # when to ease off or stop
    dose_source: str | None = None  # where numbers not given by the guide come from (sources.yaml)

    @property
    def dose(self) -> str:
        """The prescription in short form, e.g. ``3 × 10 each side`` or ``hold 10–15 s``."""
        parts: list[str] = []
        if self.hold_seconds is not None:
            low, high = self.hold_seconds
            hold = f"{low} s" if low == high else f"{low}–{high} s"
            parts.append(f"{self.sets} × {hold}" if self.sets else f"hold {hold}")
        elif self.sets and self.reps:
            parts.append(f"{self.sets} × {self.reps}")
        elif self.reps:
            parts.append(f"{self.reps} reps")
        if self.per_side:
            parts.append("each side")
        return " ".join(parts)

    @property
    def prescription(self) -> str:
        """The dose with the rest between sets, e.g. ``3 × 12, rest 60 s``."""
        rest = f"rest {self.rest_seconds} s" if self.rest_seconds else ""
        return ", ".join(part for part in (self.dose, rest) if part)


@dataclass(frozen=True, slots=True)
class Recognition:
    """The concepts that point to a condition, grouped by how strongly they point."""

    names: tuple[str, ...] = ()
    hallmarks: tuple[str, ...] = ()
    where: tuple[str, ...] = ()
    signs: tuple[str, ...] = ()
    triggers: tuple[str, ...] = ()
    background: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Condition:
    """One of the six hip and lower-back problems the bot covers."""

    id: str
    name: str
    region: str
    area: str
    summary: str
    cause: Fact
    symptoms: Fact
    treatment: tuple[Fact, ...]
    exercises: tuple[Exercise, ...]
    recognise: Recognition
    urgency_floor: Urgency = Urgency.SELF_CARE
    see_a_clinician: Fact | None = None
    tell_apart: Fact | None = None  # how a clinician tells it from the look-alikes ("can't tell" answers)
    safety_net: Fact | None = None  # what to watch for, and what to do if it appears
    outlook: Fact | None = None  # how it usually goes, and how long it takes


@dataclass(frozen=True, slots=True)
class Concept:
    """A clue the matcher looks for: where it hurts, what sets it off, a sign or a name."""

    id: str
    label: str
    patterns: tuple[str, ...]
    exceptions: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class UrgencyAdvice:
    """What to tell a runner at one level of urgency."""

    urgency: Urgency
    title: str
    advice: str
    source: str


@dataclass(frozen=True, slots=True)
class Explanation:
    """Context that may explain a warning sign innocently ("numb from the cold").

    When `sign` is said next to one of the `context` concepts (same or a neighbouring clause),
    the matcher does not raise the flag; it lists the flag in `Reading.explained` instead, so
    the conversation can ask one short question to make sure rather than alarm.
    """

    sign: str
    context: tuple[str, ...]
    together_with: tuple[str, ...] = ()  # when given, one of these must be near the sign too
    unless: tuple[str, ...] = ()  # any of these anywhere in the message: no explanation


@dataclass(frozen=True, slots=True)
class RedFlag:
    """A warning sign, its urgency, and the concepts that reveal it in a message.

    The same shape serves the *concerns* (`Knowledge.concerns`): pictures that need a
    clinician's eye but are not among the eval's red-flag ids (a young athlete's back pain,
    new back pain after 50, inflammatory back pain).

    - `detect`: any one of these concepts raises it.
    - `detect_all`: rules; a rule raises it when every slot (a tuple of concepts, any one of
      which will do) is present — for pictures made of several clues (site + sign + risk).
    - `unless`: concepts that stop the `detect_all` rules ("for years", "again").
    - `explained_by`: context that may explain a sign (see `Explanation`).
    - `advice`: what to do, when the urgency's general advice is not enough.
    - `withhold_exercises`: do not hand out a stretching or exercise plan before an assessment.
    """

    id: str
    urgency: Urgency
    name: str
    question: str
    meaning: str
    detect: tuple[str, ...]
    sources: tuple[str, ...]
    detect_all: tuple[tuple[tuple[str, ...], ...], ...] = ()
    unless: tuple[str, ...] = ()
    explained_by: tuple[Explanation, ...] = ()
    advice: str | None = None
    withhold_exercises: bool = False

    def present(self, concepts: frozenset[str] | set[str]) -> bool:
        """Whether these concepts raise this flag."""
        if concepts.intersection(self.detect):
            return True
        if not self.detect_all or concepts.intersection(self.unless):
            return False
        return any(all(concepts.intersection(slot) for slot in rule) for rule in self.detect_all)


@dataclass(frozen=True, slots=True)
class OtherCondition:
    """A running-related problem outside the six: recognised, explained in a card, referred on.

    `detect` concepts name it on their own (jargon: "piriformis"); `recognise` scores it from
    everyday clues the way the six are scored, and `needs` lists slots (any one concept of each)
    without which it is never named. The card: `about` (what it likely is), `do_now`, `avoid`,
    and `see` (an urgency: who to see and how soon).
    """

    id: str
    name: str
    about: str
    detect: tuple[str, ...]
    sources: tuple[str, ...]
    recognise: Recognition = Recognition()
    needs: tuple[tuple[str, ...], ...] = ()
    do_now: str = ""
    avoid: str = ""
    see: Urgency = Urgency.SOON
    # a yes/no question that tells this problem apart when the matcher cannot choose between it
    # and one of the six; a yes adds the concept `confirms` to what the runner said
    question: str = ""
    confirms: str = ""

    @property
    def source(self) -> str:
        """The first source of the card."""
        return self.sources[0]


@dataclass(frozen=True, slots=True)
class PreventionGroup:
    """One group of the prevention routine (strength, mobility, form, load)."""

    id: str
    title: str
    exercises: tuple[Exercise, ...]
    items: tuple[Fact, ...]


@dataclass(frozen=True, slots=True)
class Prevention:
    """The whole prevention routine."""

    title: str
    groups: tuple[PreventionGroup, ...]


@dataclass(frozen=True, slots=True)
class Education:
    """Explanations: why hips and back matter, when to get help, returning to running."""

    why_it_matters: Fact
    closing_thought: Fact
    seek_help: tuple[Fact, ...]
    return_to_running: tuple[Fact, ...]
    about_accuracy: Fact
    load_and_recovery: Fact | None = None  # /about: biomechanics, load and recovery out of balance
    interim_self_care: tuple[Fact, ...] = ()  # safe for every candidate while the cause is unclear
    safety_net: Mapping[str, Fact] = field(default_factory=lambda: MappingProxyType({}))  # by region


@dataclass(frozen=True, slots=True)
class TriageOption:
    """A button in triage (a location or a trigger) and the concepts choosing it adds."""

    id: str
    label: str
    concepts: tuple[str, ...]
    follow_ups: tuple[str, ...] = ()  # for a location: the trigger ids that fit it


@dataclass(frozen=True, slots=True)
class Region:
    """Hip or lower back, and the locations to offer for it."""

    id: str
    label: str
    locations: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Screen:
    """The red-flag screen: the emergency question, the others together, then duration."""

    emergency: str
    together: tuple[str, ...]
    duration: str
    labels: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))  # short button labels


@dataclass(frozen=True, slots=True)
class Triage:
    """The questions the conversation asks, and what each answer means."""

    regions: Mapping[str, Region]
    locations: Mapping[str, TriageOption]
    triggers: Mapping[str, TriageOption]
    screen: Screen
    region_only: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class QuestionPatterns:
    """How runners ask (data/topics.yaml): question words, topic patterns, names, small talk."""

    openers: tuple[str, ...]
    fillers: tuple[str, ...]
    subject_names: tuple[str, ...]
    condition_names: Mapping[str, tuple[str, ...]]
    small_talk: Mapping[str, tuple[str, ...]]
    out_of_scope: tuple[str, ...]
    topics: Mapping[str, tuple[str, ...]]  # cues worth 1 each; ties go to the earlier topic
    strong_cues: Mapping[str, tuple[str, ...]]  # cues that outweigh several ordinary ones
    broad_topics: tuple[str, ...]  # topics whose cues are general words ("help", "why"): they count less
    diagnosis: tuple[str, ...]
    owns_subject: tuple[str, ...]
    not_pain_time: tuple[str, ...]  # in a message that asks: time phrases that do not date pain
    asks_within: tuple[str, ...]  # question phrases that ask wherever they stand in a clause
    hearsay: tuple[str, ...]  # "my physio said": who said something is not what is asked
    clarify_buttons: Mapping[str, str]  # topic -> button label, for "Do you mean: A / B?"


NEXT_STEPS: tuple[str, ...] = ("exercises", "return_to_running", "see_clinician", "resume")  # or topic:<id>
MAX_ANSWER_CHARS = 900


@dataclass(frozen=True, slots=True)
class Answer:
    """The answer to a question on one topic, in general or for one condition."""

    topic: str
    condition: str | None  # None: the general answer
    facts: tuple[Fact, ...]
    next: tuple[str, ...]  # button ids: NEXT_STEPS or "topic:<topic id>"
    caveat: str | None = None  # said whatever the runner reported ("not if you have ...")
    not_a_diagnosis: bool = False  # the engine adds "general information, not a diagnosis"

    @property
    def text(self) -> str:
        """The answer as one chat message (facts, then the caveat)."""
        return " ".join([*(f.text for f in self.facts), *([self.caveat] if self.caveat else [])])


@dataclass(frozen=True, slots=True)
class Knowledge:
    """Everything loaded from `knowledge/data`, validated and cross-referenced."""

    sources: Mapping[str, str]
    conditions: Mapping[str, Condition]
    exercises: Mapping[str, Exercise]
    concepts: Mapping[str, Concept]
    spelling: Mapping[str, str]
    common_words: frozenset[str]
    red_flags: Mapping[str, RedFlag]
    urgency_advice: Mapping[Urgency, UrgencyAdvice]
    prevention: Prevention
    education: Education
    triage: Triage
    other_conditions: Mapping[str, OtherCondition]
    messages: Mapping[str, str]
    questions: QuestionPatterns
    answers: Mapping[str, Mapping[str, Answer]]  # topic -> "general" or condition id -> answer

    def answer(self, topic: str, condition: str | None = None) -> Answer | None:
        """The answer for `topic` about `condition`, falling back to the general one."""
        by_condition = self.answers.get(topic, {})
        return (condition and by_condition.get(condition)) or by_condition.get("general")
    concerns: Mapping[str, RedFlag] = field(default_factory=lambda: MappingProxyType({}))

    def message(self, key: str, **values: object) -> str:
        """The user-facing text stored under `key`, with `{placeholders}` filled in."""
        template = self.messages[key]
        return template.format(**values) if values else template


def frozen_mapping(items: Mapping) -> Mapping:
    """A read-only view, so loaded knowledge cannot be changed by accident."""
    return MappingProxyType(dict(items))
