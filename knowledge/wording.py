"""Wording filled in from one source of truth when the data is loaded."""

from __future__ import annotations

import re
from collections.abc import Mapping

from knowledge.model import RedFlag, Urgency

URGENCY_PLACEHOLDER = re.compile(r"\{([Uu])rgency:([a-z_]+)\}")


def fill_urgency(text: str, flags: Mapping[str, RedFlag], titles: Mapping[Urgency, str]) -> str:
    """Replace ``{urgency:<flag id>}`` with the title of that flag's urgency in red_flags.yaml
    ("get seen today"), so an answer never words a sign's urgency differently from the flag;
    ``{Urgency:<flag id>}`` keeps the capital. Raises KeyError naming an unknown flag id."""

    def title(match: re.Match[str]) -> str:
        flag = flags.get(match.group(2))
        if flag is None:
            raise KeyError(match.group(2))
        words = titles[flag.urgency]
        return words if match.group(1) == "U" else words[0].lower() + words[1:]

    return URGENCY_PLACEHOLDER.sub(title, text)
