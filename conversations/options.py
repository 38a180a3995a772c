"""Typed answers to a question with buttons: its number, (nearly) its label, or a telling word."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rapidfuzz import fuzz

from knowledge.patterns import BREAK

if TYPE_CHECKING:
    from conversations.turn import Turn

GENERIC_LABEL_WORDS = frozenset(
    "the of a an or and on in my it hip hips back lower pain going just while for long that to is i am".split()
)
LABEL_MATCH = 85.0  # how closely typed text must match a button label to count as pressing it
# a direction that contradicts an option's label
OPPOSITES = {
    "forward": "back", "forwards": "back", "front": "back", "backward": "forward", "uphill": "downhill",
    "downhill": "uphill", "up": "down", "down": "up",
}  # fmt: skip


def option_for_text(turn: Turn, text: str) -> str | None:
    """The option a typed answer picks: its number, or (nearly) its label."""
    options = turn.current_options()
    keys = list(options)
    stripped = text.strip().rstrip(".").lower()
    if stripped.isascii() and stripped.isdigit() and 1 <= int(stripped) <= len(keys):
        return keys[int(stripped) - 1]
    best, best_score = None, LABEL_MATCH
    for key, label in options.items():
        score = fuzz.ratio(stripped, label.lower())
        if score >= best_score:
            best, best_score = key, score
    return best or option_by_keyword(turn, text, options)


def option_by_keyword(turn: Turn, text: str, options: dict[str, str]) -> str | None:
    """The one option whose label shares a telling word with a short answer ("side", "stairs"),
    and says nothing against it ("bending forward" is not "Bending or leaning back")."""
    normalise = turn.engine.matcher.normaliser.tokens
    words = set(normalise(text).words) - GENERIC_LABEL_WORDS - {BREAK}
    if not words or len(words) > 4:
        return None
    opposed = {OPPOSITES[w] for w in words if w in OPPOSITES}
    overlaps = {
        key: 0 if opposed & set(normalise(label).words) else len(words & set(normalise(label).words))
        for key, label in options.items()
    }
    best = max(overlaps.values(), default=0)
    winners = [key for key, overlap in overlaps.items() if overlap == best]
    return winners[0] if best and len(winners) == 1 else None


def options_by_keyword(turn: Turn, text: str) -> list[str]:
    """Every option whose label shares a telling word with a short answer ("side ... front")."""
    normalise = turn.engine.matcher.normaliser.tokens
    words = set(normalise(text).words) - GENERIC_LABEL_WORDS - {BREAK}
    if not words or len(words) > 12:
        return []
    opposed = {OPPOSITES[w] for w in words if w in OPPOSITES}
    options = turn.current_options()
    return [
        key
        for key, label in options.items()
        if words & (set(normalise(label).words) - GENERIC_LABEL_WORDS)
        and not opposed & set(normalise(label).words)
    ]
