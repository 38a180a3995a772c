"""Turn a runner's message into clean tokens, and lexicon patterns into regular expressions.

Messages are read as a sequence of lower-case word tokens with "." standing for every sentence
or clause break. Patterns (see data/lexicon.yaml) are compiled to regular expressions over
that token string, so a pattern can never reach across a break.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import fuzz, process

BREAK = "."
MAX_MESSAGE_CHARS = 20_000  # Telegram caps a message at 4,096; this only bounds the work on pasted text
SHORT_GAP, LONG_GAP = 3, 8
TYPO_MIN_LENGTH = 4
TYPO_CUTOFF = 80.0
MIN_STEM = 3  # shortest stem before a *: shorter ones would match too much

_WORD = "[a-z0-9]+"
_TOKEN = re.compile(r"[a-z0-9]+|[.,;:!?()\[\]{}\n|…–—]| - ")
_APOSTROPHE_S = re.compile(r"['’‘`]s\b")
# "what's" is "what is", not a possessive: spelled out before possessive 's is dropped ("hip's")
_IS_CONTRACTION = re.compile(r"\b(what|where|how|who|there|that|it|he|she|here)['’‘`]s\b")
_APOSTROPHES = re.compile(r"['’‘`]")
_DIGIT_LETTER = re.compile(r"(\d)([a-z])")
_JOINER = re.compile(r"(?<=[a-z0-9])[-/_](?=[a-z0-9])")
_SLOT = re.compile(r"^[a-z0-9_|*]+\??$")
# Contractions lose their apostrophe in cleaning; they are words, not typos to correct.
CONTRACTIONS = frozenset(
    "dont doesnt didnt isnt wasnt arent werent havent hasnt hadnt wont wouldnt couldnt "
    "shouldnt cant im ive id ill youre youve theyre theyve thats whats theres its hes shes "
    "lets weve were ".split()
)


class PatternError(ValueError):
    """A lexicon pattern does not follow the pattern syntax."""


def compile_pattern(pattern: str) -> str:
    """The regular expression for one lexicon pattern (see data/lexicon.yaml for the syntax)."""
    pieces = []
    slots = pattern.split()
    if not slots:
        raise PatternError("empty pattern")
    if slots[0] in ("..", "...") or slots[-1] in ("..", "..."):
        raise PatternError("a gap cannot start or end a pattern")
    for slot in slots:
        if slot in ("..", "..."):
            pieces.append(f"(?:{_WORD} ){{0,{SHORT_GAP if slot == '..' else LONG_GAP}}}")
            continue
        if not _SLOT.match(slot) or "||" in slot or slot.startswith("|") or slot.rstrip("?").endswith("|"):
            raise PatternError(f"cannot read {slot!r}: use words, a|b, word*, a_b, word? and .. or ...")
        optional = slot.endswith("?")
        alternatives = "|".join(_alternative(alt) for alt in slot.rstrip("?").split("|"))
        piece = f"(?:{alternatives}) "
        pieces.append(f"(?:{piece})?" if optional else piece)
    return "(?<![^ ])" + "".join(pieces)


def _alternative(alternative: str) -> str:
    words = alternative.split("_")
    if not all(words):
        raise PatternError(f"cannot read {alternative!r}")
    out = []
    for word in words:
        if word.endswith("*"):
            stem = word[:-1]
            if len(stem) < MIN_STEM or "*" in stem:
                raise PatternError(
                    f"cannot read {word!r}: a * may only end a word of {MIN_STEM} or more letters"
                )
            out.append(re.escape(stem) + "[a-z0-9]*")
        elif "*" in word:
            raise PatternError(f"cannot read {word!r}: a * may only end a word")
        else:
            out.append(re.escape(word))
    return " ".join(out)


def pattern_words(patterns: Iterable[str]) -> tuple[set[str], set[str]]:
    """The literal words and the prefix stems (``snap*`` gives ``snap``) that patterns use."""
    words: set[str] = set()
    stems: set[str] = set()
    for pattern in patterns:
        for slot in pattern.split():
            for alternative in slot.rstrip("?").split("|"):
                for word in alternative.split("_"):
                    if word.endswith("*"):
                        stems.add(word[:-1])
                    elif word not in ("..", "...") and word:
                        words.add(word)
    return words, stems


def entry_words(pattern: str) -> tuple[set[str], set[str]]:
    """The words (and stems) a pattern's match can start with: a message without any of them cannot match."""
    words: set[str] = set()
    stems: set[str] = set()
    for slot in pattern.split():
        for alternative in slot.rstrip("?").split("|"):
            first = alternative.split("_")[0]
            (stems.add(first[:-1]) if first.endswith("*") else words.add(first))
        if not slot.endswith("?"):
            break
    return words, stems


@dataclass(frozen=True, slots=True)
class Tokens:
    """A normalised message: its tokens, their text joined by spaces, and where each starts."""

    words: tuple[str, ...]
    text: str
    starts: tuple[int, ...]

    def index_at(self, offset: int) -> int:
        """The index of the token that starts at character `offset` of `text`."""
        low, high = 0, len(self.starts)
        while low < high:
            middle = (low + high) // 2
            if self.starts[middle] < offset:
                low = middle + 1
            else:
                high = middle
        return low


def make_tokens(words: Iterable[str]) -> Tokens:
    """Tokens for a sequence of normalised words (breaks included)."""
    words = tuple(words)
    starts, offset = [], 0
    for word in words:
        starts.append(offset)
        offset += len(word) + 1
    return Tokens(words, " ".join(words) + " ", tuple(starts))


class Normaliser:
    """Cleans text: case, accents, emoji, punctuation, text-speak, and typos (via rapidfuzz)."""

    def __init__(
        self,
        spelling: Mapping[str, str],
        vocabulary: Iterable[str],
        stems: Iterable[str],
        common_words: frozenset[str],
    ) -> None:
        self._spelling = {k: tuple(v.split()) for k, v in spelling.items()}
        self._vocabulary = frozenset(vocabulary) | frozenset(self._spelling)
        self._stems = tuple(sorted(set(stems), key=len))
        self._common = common_words
        self._by_initial: dict[str, list[str]] = {}
        # a misspelling may be close to a whole word ("lowr") or to a stem ("flexer" ~ flexor*)
        targets = self._vocabulary | {stem for stem in self._stems if len(stem) >= TYPO_MIN_LENGTH + 1}
        for word in sorted(targets):
            if len(word) >= TYPO_MIN_LENGTH - 1 and word.isalpha():
                self._by_initial.setdefault(word[0], []).append(word)
        self.correct = lru_cache(maxsize=8192)(self._correct)

    @property
    def vocabulary(self) -> frozenset[str]:
        """The words this normaliser knows (and corrects typos towards)."""
        return self._vocabulary

    def tokens(self, message: str) -> Tokens:
        """Split a message into normalised tokens, with breaks as "."."""
        words: list[str] = []
        for raw in _TOKEN.findall(_clean(message)):
            if not raw[0].isalnum():
                if words and words[-1] != BREAK:
                    words.append(BREAK)
                continue
            words.extend(
                self._spelling.get(raw) or self._spelling.get(self.correct(raw)) or (self.correct(raw),)
            )
        while words and words[-1] == BREAK:
            words.pop()
        return make_tokens(words)

    def _correct(self, word: str) -> str:
        """The vocabulary word a misspelt `word` stands for, or `word` itself."""
        if (
            word in self._vocabulary
            or word in self._common
            or word in CONTRACTIONS
            or len(word) < TYPO_MIN_LENGTH
            or not word.isalpha()
            or any(word.startswith(stem) for stem in self._stems)
        ):
            return word
        if word.endswith("in") and word + "g" in self._vocabulary:  # runnin', twistin'
            return word + "g"
        candidates = [c for c in self._by_initial.get(word[0], ()) if abs(len(c) - len(word)) <= 2]
        best = process.extractOne(word, candidates, scorer=fuzz.ratio, score_cutoff=TYPO_CUTOFF)
        return best[0] if best else word


# emoji that stand for a word runners would type ("🧊 or 🔥 for my SI joint?"); fire is heat only
# beside ice — alone it is "on fire", a pain
EMOJI_WORDS = {
    "🧊": " ice ", "❄": " ice ", "💊": " painkillers ", "🏃": " run ",
    "👍": " ok ", "👌": " ok ", "🙏": " thanks ", "👋": " hi ",
}  # fmt: skip
_EMOJI = re.compile("|".join(EMOJI_WORDS))
_ICE_AND_FIRE = re.compile("(?:🧊|❄)[^\n]{0,12}🔥|🔥[^\n]{0,12}(?:🧊|❄)")


def _clean(message: str) -> str:
    message = message[:MAX_MESSAGE_CHARS]
    if _ICE_AND_FIRE.search(message):
        message = message.replace("🔥", " heat ")
    message = _EMOJI.sub(lambda m: EMOJI_WORDS[m.group(0)], message)
    text = unicodedata.normalize("NFKD", message)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    text = _APOSTROPHES.sub("", _APOSTROPHE_S.sub("", _IS_CONTRACTION.sub(r"\1 is", text)))
    text = text.replace("&", " and ").replace("+", " and ")
    text = _DIGIT_LETTER.sub(r"\1 \2", text)
    return _JOINER.sub(" ", text)
