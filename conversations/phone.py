"""A message's length on a phone, and folding a long one to fit: about 35 characters a line,
20 lines a screen. What does not fit goes into an expandable blockquote (Telegram HTML
`<blockquote expandable>`), which a phone shows collapsed, as about 3 lines, until tapped.

What is folded is the tail of a long list (the first items stay in view), or failing that a
run of middle paragraphs — never a card's first paragraph, never one that says how urgent it
is (⚠️), never its last line (the disclaimer). A folded paragraph's first lines still show.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Callable

PHONE_WIDTH = 35  # characters a line on a phone, about
PHONE_LINES = 20  # lines a screen
COLLAPSED_QUOTE_LINES = 3  # an expandable blockquote, collapsed
OPEN, CLOSE = "<blockquote expandable>", "</blockquote>"
_QUOTE = re.compile(r"<blockquote(?: expandable)?>.*?</blockquote>", re.S)
_ADJACENT = re.compile(re.escape(CLOSE) + r"\s*" + re.escape(OPEN))
_TAG = re.compile(r"</?[a-z]+(?: expandable)?>")
_ITEM = re.compile(r"^(?:• |\d+\. |  ↳ )")
_KEPT = ("⚠️", "🚨")  # paragraphs that say how urgent it is are never folded away


def phone_lines(text: str) -> int:
    """How many lines a message takes on a phone (a collapsed blockquote as 3)."""
    text = _QUOTE.sub("\n".join(["…"] * COLLAPSED_QUOTE_LINES), text)
    plain = html.unescape(_TAG.sub("", text))
    return sum(max(1, math.ceil(len(line) / PHONE_WIDTH)) for line in plain.split("\n"))


def fit(text: str) -> str:
    """The text, with what does not fit a phone screen folded into expandable blockquotes."""
    if phone_lines(text) <= PHONE_LINES:
        return text
    text = _ADJACENT.sub("\n\n", text)
    text = _fold_while_shorter(text, _fold_list)
    text = _fold_while_shorter(text, lambda t: _adjacent_joined(_fold_paragraphs(t)))
    if phone_lines(text) > PHONE_LINES and (folded := _fold_sentences(text)) is not None:
        text = folded
    if phone_lines(text) > PHONE_LINES and (folded := _fold_clauses(text)) is not None:
        text = folded
    return text


def _fold_while_shorter(text: str, fold: Callable[[str], str | None]) -> str:
    """Fold again and again while the text is too long and each fold makes it shorter — a fold
    that gains nothing (a quote split across paragraphs, folded again) ends the loop."""
    while phone_lines(text) > PHONE_LINES:
        folded = fold(text)
        if folded is None or phone_lines(folded) >= phone_lines(text):
            break
        text = folded
    return text


def _adjacent_joined(text: str | None) -> str | None:
    """Two folds side by side are one."""
    return None if text is None else _ADJACENT.sub("\n\n", text)


def _fold_list(text: str) -> str | None:
    """Fold the tail of the longest list not yet folded (keeping as many items as fit)."""
    lines = text.split("\n")
    runs, start, quoted = [], None, False
    for i, line in enumerate([*lines, ""]):
        opens = "<blockquote" in line
        inside = quoted or opens
        quoted = (quoted or opens) and CLOSE not in line
        if _ITEM.match(line) and _balanced(line) and not inside:
            start = i if start is None else start
            continue
        if start is not None and i - start >= 2 and phone_lines("\n".join(lines[start + 1 : i])) > COLLAPSED_QUOTE_LINES:
            runs.append((start, i))
        start = None
    if not runs:
        return None
    first, end = max(runs, key=lambda r: sum(phone_lines(x) for x in lines[r[0] : r[1]]))
    over = phone_lines(text) - PHONE_LINES + COLLAPSED_QUOTE_LINES
    keep = end
    while keep > first + 1 and over > 0:
        keep -= 1
        over -= phone_lines(lines[keep])
    keep = min(keep, end - 1)
    folded = "\n".join(lines[keep:end])
    return "\n".join([*lines[:keep], OPEN + folded + CLOSE, *lines[end:]])


def _fold_paragraphs(text: str) -> str | None:
    """Fold the longest run of middle paragraphs that may fold (not the first, not the last,
    not an urgency, nothing folded already) into one blockquote."""
    paragraphs = _paragraphs(text)
    foldable = [
        0 < i < len(paragraphs) - 1 and not _folded(p) and not p.startswith(_KEPT) and _balanced(p)
        for i, p in enumerate(paragraphs)
    ]
    runs, start = [], None
    for i, ok in enumerate([*foldable, False]):
        if ok and start is None:
            start = i
        elif not ok and start is not None:
            runs.append((start, i))
            start = None
    def lines_of(first: int, end: int) -> int:
        return phone_lines("\n\n".join(paragraphs[first:end]))

    runs = [r for r in runs if lines_of(*r) > COLLAPSED_QUOTE_LINES]
    if not runs:
        return None
    # the fewest paragraphs nearest the end that are enough (what to do stays in view); else
    # the longest run
    over = phone_lines(text) - PHONE_LINES
    enough = [
        (start, end)
        for first, end in reversed(runs)
        for start in range(end - 1, first - 1, -1)
        if lines_of(start, end) - COLLAPSED_QUOTE_LINES >= over
    ]
    first, end = enough[0] if enough else max(runs, key=lambda r: lines_of(*r))
    inner = "\n\n".join(paragraphs[first:end]).replace(OPEN, "").replace(CLOSE, "")
    return "\n\n".join([*paragraphs[:first], OPEN + inner + CLOSE, *paragraphs[end:]])


def _fold_sentences(text: str) -> str | None:
    """Last resort: in the longest paragraph, keep the first sentences that fit and fold the rest."""
    paragraphs = _paragraphs(text)
    i = max(range(len(paragraphs)), key=lambda n: phone_lines(paragraphs[n]))
    paragraph = paragraphs[i]
    if "<blockquote" in paragraph or "\n" in paragraph:
        return None
    sentences = re.split(r"(?<=[.!?)]) (?=[A-Z(])", paragraph)
    budget = PHONE_LINES - COLLAPSED_QUOTE_LINES - (phone_lines(text) - phone_lines(paragraph))
    keep = 1
    while keep < len(sentences) and phone_lines(" ".join(sentences[: keep + 1])) <= budget:
        keep += 1
    head, tail = " ".join(sentences[:keep]), " ".join(sentences[keep:])
    if not tail or not (_balanced(head) and _balanced(tail)):
        return None
    paragraphs[i] = f"{head}\n{OPEN}{tail}{CLOSE}"
    return "\n\n".join(paragraphs)


def _fold_clauses(text: str) -> str | None:
    """Last resort for one long line that runs a list together ("none reported; ruled out: a,
    b, c, …", as in the summary): keep the first clauses that fit and fold the rest. Never an
    urgency's line."""
    lines = text.split("\n")
    i = max(range(len(lines)), key=lambda n: phone_lines(lines[n]))
    line = lines[i]
    if "<blockquote" in line or line.startswith(_KEPT):
        return None
    clauses = re.split(r"(?<=[,;]) ", line)
    budget = PHONE_LINES - COLLAPSED_QUOTE_LINES - (phone_lines(text) - phone_lines(line))
    keep = 1
    while keep < len(clauses) and phone_lines(" ".join(clauses[: keep + 1])) <= budget:
        keep += 1
    head, tail = " ".join(clauses[:keep]), " ".join(clauses[keep:])
    if not tail or not (_balanced(head) and _balanced(tail)):
        return None
    lines[i] = f"{head}\n{OPEN}{tail}{CLOSE}"
    return "\n".join(lines)


def _paragraphs(text: str) -> list[str]:
    """The text's paragraphs, a folded quote that spans several kept as one."""
    paragraphs: list[str] = []
    for piece in text.split("\n\n"):
        if paragraphs and paragraphs[-1].count(OPEN) > paragraphs[-1].count(CLOSE):
            paragraphs[-1] += "\n\n" + piece
        else:
            paragraphs.append(piece)
    return paragraphs


def _folded(paragraph: str) -> bool:
    """Whether a paragraph is one folded part already."""
    return paragraph.startswith(OPEN) and paragraph.endswith(CLOSE) and paragraph.count(OPEN) == 1


def _balanced(part: str) -> bool:
    """Whether every tag opened in `part` is closed in it (a fold must not cut a tag)."""
    return all(part.count(f"<{t}>") == part.count(f"</{t}>") for t in ("b", "i", "u", "code"))
