"""Problems a runner had before and that are over: "Had ITB trouble two years ago, long gone".

A name said only in a clause that dates it to the past ("two years ago", "last year", "used to")
describes history, not the pain now, so it does not point to that problem — unless the message
says it has come back ("it's back", "flared up again"). Names of warning signs are never set
aside this way: an earlier stress fracture is itself a risk the safety rules read.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping

from knowledge.patterns import BREAK, Tokens

_PAST = re.compile(
    r"(?<![a-z])(?:(?:\d+|a|one|two|three|four|five|six|seven|eight|nine|ten|few|several|couple of|many) "
    r"(?:years?|yrs?) (?:ago|back)|last year|years ago|used to|long gone|all gone|cleared up|back in (?:19|20)\d\d"
    r"|as a (?:kid|teen|teenager|child)|at school)(?![a-z])"
)
_BACK_AGAIN = re.compile(
    r"(?<![a-z])(?:it is back|its back|is back|came back|come back|coming back|returned|flared up again|again now|back again)(?![a-z])"
)


def past_names(tokens: Tokens, spans: Mapping[str, list[int]], flag_concepts: Collection[str]) -> set[str]:
    """The problem names (concepts ending in `_name`) said only in clauses about the past."""
    names = [c for c in spans if c.endswith("_name") and c not in flag_concepts]
    if not names or _BACK_AGAIN.search(tokens.text):
        return set()
    clause_of = _clauses(tokens.words)
    past = {clause_of[tokens.index_at(m.start())] for m in _PAST.finditer(tokens.text)}
    return {c for c in names if spans[c] and all(clause_of[i] in past for i in spans[c])}


def _clauses(words: tuple[str, ...]) -> list[int]:
    out, number = [], 0
    for word in words:
        number += word == BREAK
        out.append(number)
    return out
