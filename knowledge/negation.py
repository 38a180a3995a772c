"""When a mention of a clue is denied: negation scope over the normalised tokens.

A negation word ("no", "not", "doesn't", ...) denies a hit in its clause before it or inside
it; it never reaches past a turn ("except ...", "until this week"), a quoted answer ("when I said
no: ...") is no negation, and "lying on it is fine" denies what comes before "is fine".
"""

from __future__ import annotations

from knowledge.patterns import BREAK, Tokens

NEGATORS = frozenset(
    "no not never nothing none without dont doesnt didnt isnt wasnt arent werent havent "
    "hasnt hadnt wont wouldnt nor neither aint nope ".split()
)
NOT_NEGATING_NEXT = frozenset("sure know idea certain clue doubt ".split())  # "not sure if ..."
CLAUSE_WORDS = frozenset(
    "but though although however and except yet so because now then which while whereas plus also "
    "actually until till ".split()
)
NOT_NEGATING_NEXT |= {"only"}  # "not only my back but ..."
HEDGES = frozenset("say recall remember".split())  # after "cannot": a denial
# A hit that reaches over one of these ("no numbness except around my bottom") admits what
# comes after it, whatever negation stood before.
EXCEPTION_WORDS = frozenset("except excepting besides".split())
# "no bladder problems until this week": a negation followed by until/till and a time is a
# change, so what was denied is now there.
TURN_WORDS = frozenset("until till".split())
TIME_WORDS = frozenset(
    "this last yesterday today tonight recently lately a the few couple monday tuesday "
    "wednesday thursday friday saturday sunday weekend morning week month".split()
)


FINE_VERBS = frozenset("is are was were feels feel seems".split())
FINE_WORDS = frozenset("fine ok okay alright good painless".split())


def fine_after(words: tuple[str, ...], end: int) -> bool:
    """Whether the hit is followed by "is fine" ("lying on it is fine, stairs fine"): a denial."""
    following = list(words[end : end + 3])
    if following[:1] and following[0] in FINE_WORDS:
        return True
    return len(following) >= 2 and following[0] in FINE_VERBS and following[1] in FINE_WORDS


def negated(tokens: Tokens, start: int, end: int, own_negators: frozenset[str]) -> bool:
    """Whether a negation word stands in the hit's clause before it, or inside it ("legs don't feel weak").

    A negation never reaches past a turn: a hit that spans "except" or "apart from" admits
    what follows it, and "no ... until this week" says it has started.
    """
    words = tokens.words
    turn = max((i for i in range(start, end) if is_exception(words, i)), default=None)
    if turn is not None:
        return any(negates(words, i) and words[i] not in own_negators for i in range(turn + 1, end))
    if any(negates(words, i) and words[i] not in own_negators for i in range(start, end)):
        return True
    index = start - 1
    while index >= 0 and words[index] != BREAK and words[index] not in CLAUSE_WORDS:
        if negates(words, index):
            return not turns_after(words, end)
        index -= 1
    return False


def is_exception(words: tuple[str, ...], index: int) -> bool:
    word = words[index]
    return word in EXCEPTION_WORDS or (
        word == "apart" and index + 1 < len(words) and words[index + 1] == "from"
    )


def turns_after(words: tuple[str, ...], end: int) -> bool:
    """Whether the rest of the clause after `end` takes the denial back: "until <a time>" (it has
    begun) or "except ..." ("no numbness anywhere except a patch round my bottom")."""
    index = end
    while index < len(words) - 1 and words[index] != BREAK:
        if words[index] in TURN_WORDS and words[index + 1] in TIME_WORDS:
            return True
        if is_exception(words, index):
            return True
        if words[index] in CLAUSE_WORDS or negates(words, index):
            return False  # a new clause or a new denial: the first one stands
        index += 1
    return False


# "when I said no", "I answered no": a quoted answer, not a denial of what follows
QUOTING = frozenset("said say says answered answer replied told put ticked".split())


def negates(words: tuple[str, ...], index: int) -> bool:
    word, following = words[index], words[index + 1] if index + 1 < len(words) else ""
    if word == "no" and index > 0 and words[index - 1] in QUOTING:
        return False
    if word == "cannot":  # "I can't say I've noticed any numbness" denies; "can't feel my foot" does not
        return following in HEDGES
    return word in NEGATORS and following not in NOT_NEGATING_NEXT
