"""Dates of birth said in words: "born on the third of May nineteen eighty".

Speech recognition writes a date the way it was said, so the digit shapes in
kiosk_agent/pii/patterns.py miss "twenty first of January two thousand and one" and
"třetího května devatenáct set osmdesát". A date in words counts only after a birth
cue ("born", "date of birth", "narodil jsem se"): meeting dates said the same way stay.
"""

from __future__ import annotations

import re
from typing import Final

from kiosk_agent.pii.patterns import BIRTH_CUE, MONTHS_CS, MONTHS_EN, NUMBER_WORD, Found

_CUE_WINDOW: Final = 50
"""Characters before a date in which the birth cue must end."""

_EN_ORDINAL_UNIT: Final = (
    r"(?:first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh"
    r"|twelfth|thirteenth|fourteenth|fifteenth|sixteenth|seventeenth|eighteenth"
    r"|nineteenth|twentieth|thirtieth)"
)
_EN_ORDINAL: Final = (
    rf"(?:(?:twenty|thirty)[\s\-]{_EN_ORDINAL_UNIT}|{_EN_ORDINAL_UNIT}"
    r"|\d{1,2}(?:st|nd|rd|th))"
)
_EN_YEAR: Final = (
    rf"(?:(?:19|20)\d{{2}}|{NUMBER_WORD}(?:[\s\-]+(?:and\s+|oh\s+|thousand\s+)?"
    rf"(?:{NUMBER_WORD}|thousand))*)"
)
_CS_ORDINAL_UNIT: Final = (
    r"(?:prvního|druhého|třetího|čtvrtého|pátého|šestého|sedmého|osmého|devátého"
    r"|desátého|jedenáctého|dvanáctého|třináctého|čtrnáctého|patnáctého"
    r"|šestnáctého|sedmnáctého|osmnáctého|devatenáctého|dvacátého|třicátého)"
)
_CS_ORDINAL: Final = (
    rf"(?:(?:dvacátého|třicátého)\s+{_CS_ORDINAL_UNIT}|{_CS_ORDINAL_UNIT}|\d{{1,2}}\.)"
)
_CS_YEAR: Final = (
    rf"(?:(?:roku\s+)?(?:(?:19|20)\d{{2}}|(?:{NUMBER_WORD}|tisíc|tisíce)"
    rf"(?:\s+(?:{NUMBER_WORD}|tisíc|tisíce))*))"
)
_SPOKEN_DATES: Final = (
    re.compile(
        rf"\b{_EN_ORDINAL}(?:\s+of)?\s+{MONTHS_EN}\b(?:,?\s+{_EN_YEAR}\b)?",
        re.IGNORECASE,
    ),
    re.compile(
        rf"\b{MONTHS_EN}\s+(?:the\s+)?{_EN_ORDINAL}\b(?:,?\s+{_EN_YEAR}\b)?",
        re.IGNORECASE,
    ),
    re.compile(rf"(?<!\w){_CS_ORDINAL}\s*{MONTHS_CS}\b(?:\s+{_CS_YEAR}\b)?", re.I),
)


def find_spoken_dates_of_birth(text: str) -> list[Found]:
    """Dates said in words (or with an ordinal) right after a birth cue."""
    out: list[Found] = []
    for rx in _SPOKEN_DATES:
        for m in rx.finditer(text):
            cue = BIRTH_CUE.search(text, max(0, m.start() - _CUE_WINDOW), m.start())
            if cue is None:
                continue
            key = "".join(c for c in m.group(0).casefold() if c.isalnum())
            out.append(Found(m.start(), m.end(), "DATE_OF_BIRTH", key))
    return out
