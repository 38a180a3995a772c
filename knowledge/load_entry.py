"""The reading side of the loader: `Entry` (a mapping that names its file and path in every error),
YAML reading and the field readers every data file shares."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NoReturn

import yaml

from knowledge.model import (
    ADVICE_KINDS,
    Concept,
    Fact,
    Urgency,
)
from knowledge.patterns import PatternError, compile_pattern

URGENCY_KEYS = tuple(u.key for u in Urgency)
RECOGNITION_GROUPS = ("names", "hallmarks", "where", "signs", "triggers", "background")


class KnowledgeError(ValueError):
    """A data file is missing, malformed, or refers to something that does not exist."""


class Entry:
    """A mapping read from a data file, with the file and entry path for error messages."""

    def __init__(self, data: Any, file: str, path: str = "") -> None:
        self.file = file
        self.path = path
        if not isinstance(data, dict):
            self.fail(f"expected a mapping, found {describe_kind(data)}")
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
            self.fail(f"field '{key}' must be non-empty text, found {describe_kind(value)}")
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
                Entry({}, self.file, path).fail(f"expected one lower-case word, found {describe_kind(item)}")
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
            self.fail(f"field '{key}' must be a list, found {describe_kind(value)}")
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


def describe_kind(value: Any) -> str:
    """What a wrong value is, for an error message (and why a bare yes/no is a trap)."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"{value!r} (YAML reads yes/no/on/off as true/false: quote it)"
    return f"{type(value).__name__} {value!r}"[:80]


def read_yaml(relative: str, data_dir: Path) -> Any:
    """Parse one data file, or raise KnowledgeError naming it when missing or not YAML."""
    path = data_dir / relative
    try:
        with path.open(encoding="utf-8") as stream:
            return yaml.load(stream, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except FileNotFoundError:
        raise KnowledgeError(f"{relative}: file is missing") from None
    except yaml.YAMLError as error:
        raise KnowledgeError(f"{relative}: not valid YAML: {error}") from None


def read_fact(value: Any, file: str, path: str, sources: Mapping[str, str]) -> Fact:
    """A sentence with its source id and optional advice kind, checked against the sources."""
    entry = Entry(value, file, path).allow("text", "source", "kind")
    source = entry.source(sources)
    kind = entry.optional_text("kind")
    if kind is not None and kind not in ADVICE_KINDS:
        entry.fail(f"field 'kind' must be one of {', '.join(ADVICE_KINDS)}, found {kind!r}")
    return Fact(text=entry.text("text"), source=source, kind=kind)


def read_facts(entry: Entry, key: str, sources: Mapping[str, str], required: bool = True) -> tuple[Fact, ...]:
    """Every fact listed under `key` in `entry`."""
    return tuple(read_fact(item, entry.file, path, sources) for path, item in entry.items(key, required))


def optional_source(entry: Entry, key: str, sources: Mapping[str, str]) -> str | None:
    """The source id under `key` if there is one, checked against the sources."""
    value = entry.optional_text(key)
    if value is not None and value not in sources:
        entry.fail(f"field '{key}': unknown source {value!r}")
    return value


def optional_fact(entry: Entry, key: str, sources: Mapping[str, str]) -> Fact | None:
    """The fact under `key` if there is one."""
    value = entry.raw(key, required=False)
    return None if value is None else read_fact(value, entry.file, entry.child_path(key), sources)


def read_patterns(entry: Entry, key: str, required: bool) -> tuple[str, ...]:
    """The patterns listed under `key`, each compiled once here so a bad one fails at start-up."""
    patterns = []
    for path, item in entry.items(key, required):
        where = Entry({}, entry.file, path)
        if not isinstance(item, str):
            where.fail(f"a pattern must be text, found {describe_kind(item)}")
        try:
            compile_pattern(item)
        except PatternError as error:
            where.fail(f"bad pattern {item!r}: {error}")
        patterns.append(item)
    if required and not patterns:
        entry.fail(f"field '{key}' needs at least one pattern")
    return tuple(patterns)


def optional_concept(entry: Entry, key: str, concepts: Mapping[str, Concept]) -> str:
    """The concept id under `key` ('' when absent), checked against the lexicon."""
    value = entry.optional_text(key) or ""
    if value and value not in concepts:
        entry.fail(f"unknown concept {value!r} in '{key}'")
    return value
