"""Staged rehab plans and the /mileage numbers (companion.yaml `stages` and `mileage`, issue 18).

A plan is a list of stages per condition. Each stage unlocks its exercises in the order each
exercise's own rule allows (holds before side-lying raises, a plank from the knees before a full
plank, no hip flexor stretch in the first days), allows a kind of running and at most a share of
the runner's 4-week average before the injury. What moves a runner on is the body's response
over 24 hours — `next_stage` — not the calendar; a stage with a `gate` (the hop test) is only
entered once that check is passed. Pure functions; the engine keeps the state.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from knowledge.loader import DATA_DIR, KnowledgeError
from knowledge.model import CONDITION_IDS, Knowledge

FILE = "companion.yaml"
RUNNING = ("none", "walk", "walk_run", "easy_running", "full")  # least to most
GATES = ("hop_test",)
STAGE_KEYS = frozenset({"id", "title", "running", "max_share", "exercises", "gate"})
MIN_SESSIONS = 3  # companion fact unlock_rule: "at least three times"
MILEAGE_KEYS = ("base_weeks", "increase", "hold_above", "cut_above", "cut_to")


@dataclass(frozen=True, slots=True)
class Stage:
    """One stage of a plan."""

    id: str
    title: str
    running: str  # one of RUNNING
    max_share: float  # most weekly distance allowed, as a share of the pre-injury 4-week average
    exercises: tuple[str, ...]
    gate: str | None = None  # a check passed before the stage starts (GATES)


@dataclass(frozen=True, slots=True)
class Plan:
    """A condition's staged plan."""

    condition: str
    weeks: int
    stages: tuple[Stage, ...]

    def stage(self, stage_id: str) -> Stage:
        """The stage with this id (KeyError when there is none)."""
        for stage in self.stages:
            if stage.id == stage_id:
                return stage
        raise KeyError(stage_id)

    def index(self, stage_id: str) -> int:
        """The position of a stage in the plan."""
        return self.stages.index(self.stage(stage_id))


@dataclass(frozen=True, slots=True)
class Mileage:
    """The /mileage numbers."""

    base_weeks: int
    increase: float
    hold_above: float
    cut_above: float
    cut_to: float


@dataclass(frozen=True, slots=True)
class Plans:
    """Every condition's plan and the mileage numbers."""

    plans: Mapping[str, Plan]
    mileage: Mileage


def _fail(where: str, problem: str) -> KnowledgeError:
    return KnowledgeError(f"{FILE}: {where}: {problem}")


def _stage(raw: Any, where: str, knowledge: Knowledge) -> Stage:
    if not isinstance(raw, dict):
        raise _fail(where, "a stage must be a mapping")
    if not set(raw) <= STAGE_KEYS or not isinstance(raw.get("title"), str):
        raise _fail(where, f"a stage has only {', '.join(sorted(STAGE_KEYS))}, and a title (quote a title with a comma)")
    unknown = [e for e in raw.get("exercises", []) if e not in knowledge.exercises]
    if unknown:
        raise _fail(where, f"unknown exercise {unknown[0]!r}")
    if raw.get("running") not in RUNNING:
        raise _fail(where, f"running must be one of {', '.join(RUNNING)}")
    if raw.get("gate") not in (None, *GATES):
        raise _fail(where, f"unknown gate {raw['gate']!r}")
    share = raw.get("max_share")
    if not isinstance(share, int | float) or isinstance(share, bool) or not 0 <= share <= 1:
        raise _fail(where, "max_share must be a number from 0 to 1")
    return Stage(str(raw["id"]), str(raw["title"]), raw["running"], float(share), tuple(raw["exercises"]), raw.get("gate"))


def load_plans(knowledge: Knowledge, data_dir: Path = DATA_DIR) -> Plans:
    """Read and check the stages and mileage sections of companion.yaml."""
    try:
        data: Any = yaml.safe_load((data_dir / FILE).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise KnowledgeError(f"{FILE}: cannot be read: {error}") from None
    plans = {}
    for condition, raw in data["stages"].items():
        if condition not in CONDITION_IDS:
            raise _fail(f"stages.{condition}", "unknown condition")
        stages = tuple(_stage(s, f"stages.{condition}[{i}]", knowledge) for i, s in enumerate(raw["stages"]))
        if not stages or stages[0].gate is not None:
            raise _fail(f"stages.{condition}", "a plan needs stages, and its first stage starts at once (no gate)")
        if len({s.id for s in stages}) != len(stages):
            raise _fail(f"stages.{condition}", "stage ids must differ")
        plans[condition] = Plan(condition, int(raw["weeks"]), stages)
    missing = set(CONDITION_IDS) - set(plans)
    if missing:
        raise _fail("stages", f"no plan for {sorted(missing)[0]!r}")
    raw_mileage = data["mileage"]
    if set(raw_mileage) != set(MILEAGE_KEYS):
        raise _fail("mileage", f"needs exactly {', '.join(MILEAGE_KEYS)}")
    mileage = Mileage(
        int(raw_mileage["base_weeks"]),
        float(raw_mileage["increase"]),
        float(raw_mileage["hold_above"]),
        float(raw_mileage["cut_above"]),
        float(raw_mileage["cut_to"]),
    )
    return Plans(MappingProxyType(plans), mileage)


@cache
def default_plans() -> Plans:
    """The packaged plans, loaded once per process."""
    from knowledge import default_knowledge

    return load_plans(default_knowledge())


def next_stage(
    plan: Plan,
    current: str,
    sessions_done: int,
    morning_pain: Sequence[int],
    too_painful: bool = False,
    gate_passed: bool = False,
    pain_safe: float = 3,
) -> str:
    """The stage to be in after a session: on, back or the same, by the 24-hour response.

    - back one stage when the session was too painful or the morning pain rose;
    - on one stage after at least MIN_SESSIONS sessions with the last morning pain at most
      `pain_safe` and no higher than the one before — and, for a stage with a gate, only when
      that check (the hop test) was passed;
    - otherwise the same stage. How many days have passed plays no part.
    """
    index = plan.index(current)
    rose = len(morning_pain) >= 2 and morning_pain[-1] > morning_pain[-2]
    if too_painful or rose:
        return plan.stages[max(index - 1, 0)].id
    settled = bool(morning_pain) and morning_pain[-1] <= pain_safe
    if sessions_done < MIN_SESSIONS or not settled or index + 1 == len(plan.stages):
        return current
    following = plan.stages[index + 1]
    if following.gate is not None and not gate_passed:
        return current
    return following.id


def mileage_target(mileage: Mileage, weeks_km: Sequence[float], pain: float | None, stage: Stage | None, base_km: float | None = None) -> tuple[float, str]:
    """Next week's distance and why: "build", "hold", "cut" or "stage_cap".

    Builds from the average of the last `base_weeks` weeks by at most `increase`; holds the
    average when pain is above `hold_above`; cuts to `cut_to` of it above `cut_above`; and never
    goes over the stage's `max_share` of `base_km` (the pre-injury average; default: the same
    4-week average).
    """
    recent = list(weeks_km)[-mileage.base_weeks :]
    average = sum(recent) / len(recent) if recent else 0.0
    if pain is not None and pain > mileage.cut_above:
        target, why = average * mileage.cut_to, "cut"
    elif pain is not None and pain > mileage.hold_above:
        target, why = average, "hold"
    else:
        target, why = average * (1 + mileage.increase), "build"
    if stage is not None:
        cap = stage.max_share * (base_km if base_km is not None else average)
        if target > cap:
            target, why = cap, "stage_cap"
    return round(target, 1), why
