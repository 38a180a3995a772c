"""Other languages, honestly: the bot speaks English for now. A message in German, Spanish,
French, Italian, Portuguese or Dutch from a runner whose app is set to that language gets one
line in it saying so (messages.yaml, `language_<code>`), with the menu.

A message counts as written in the language when it has at least two of that language's common
words (chosen not to be English words too) and more of them than English ones: a German-set
phone that writes English is answered in English as usual.
"""

from __future__ import annotations

import re

COMMON_WORDS = {
    "de": "ich mein meine meinem meinen mir mich tut weh habe hab und nicht ist beim laufen schmerzen schmerz hüfte rücken wenn seit oder sehr auch bei wie was kann ein eine der das".split(),
    "es": "el los las y es mi tengo duele dolor cadera espalda cuando correr corro desde muy pero también puedo qué cómo una un del por con".split(),
    "fr": "je j'ai mon ma mes mal douleur hanche dos quand courir cours depuis très mais aussi est les le la et une un avec pour dans peux".split(),
    "it": "il mi ho fa male dolore anca schiena quando correre corro da molto ma anche posso che come una un della con per non".split(),
    "pt": "eu meu minha tenho dói dor quadril anca costas quando correr corro desde muito mas também posso não uma um com para os".split(),
    "nl": "ik mijn heb doet pijn heup rug als lopen hardlopen sinds erg maar ook kan het een en niet met bij wat hoe".split(),
}
ENGLISH_WORDS = frozenset(
    "i my me it is and the a an of to in on at when after before pain hurts hurt hip back run running ran can should what how".split()
)
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")
SUPPORTED = frozenset(COMMON_WORDS)


def written_in(text: str, language: str) -> bool:
    """Whether `text` reads as written in `language` (one of SUPPORTED) rather than English."""
    code = language.lower().split("-")[0]
    if code not in COMMON_WORDS:
        return False
    words = _WORD.findall(text.lower())
    theirs = sum(word in COMMON_WORDS[code] for word in words)
    english = sum(word in ENGLISH_WORDS for word in words)
    return theirs >= 2 and theirs > english


def language_of(language: str) -> str:
    """The supported language code of an app's language ("de-AT" -> "de"), or ""."""
    code = language.lower().split("-")[0]
    return code if code in SUPPORTED else ""
