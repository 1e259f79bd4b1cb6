"""Reidentify stage: reply -> spoken reply, mapping pseudonyms back on the kiosk only.

A pseudonym the session knows becomes its natural spoken form (an employee's full name
from the directory, else the words the visitor said). One the session does not know is
never spoken raw: it becomes a neutral phrase ("that person", "ta osoba"). Models
mangle pseudonyms slightly, so ``EMPLOYEE_1``, ``[EMPLOYEE_1]`` and ``< employee_1 >``
are recognised too; an English possessive after it ("<EMPLOYEE_1>'s") simply stays.
"""

from __future__ import annotations

import re
from typing import Final

from kiosk_agent.messages import SpokenReply
from kiosk_agent.pseudonyms import LABEL_OF_TOKEN, PseudonymTable

_LOOSE_PSEUDONYM: Final = re.compile(
    r"(?:[<\[{(]\s*)?\b(EMPLOYEE|PERSON|PHONE|EMAIL|ADDRESS|DATE_OF_BIRTH|ID_NUMBER"
    r"|LICENCE_PLATE|LICENSE_PLATE)_(\d+)\b(?:\s*[>\]})])?",
    re.IGNORECASE,
)
_NEUTRAL: Final[dict[str, dict[str, str]]] = {
    "en": {
        "PERSON_EMPLOYEE": "that person",
        "PERSON_OTHER": "that person",
        "PHONE": "that number",
        "EMAIL": "that e-mail address",
        "ADDRESS": "that address",
        "DATE_OF_BIRTH": "that date",
        "ID_NUMBER": "that number",
        "LICENCE_PLATE": "that licence plate",
    },
    "cs": {
        "PERSON_EMPLOYEE": "ta osoba",
        "PERSON_OTHER": "ta osoba",
        "PHONE": "to číslo",
        "EMAIL": "ta e-mailová adresa",
        "ADDRESS": "ta adresa",
        "DATE_OF_BIRTH": "to datum",
        "ID_NUMBER": "to číslo",
        "LICENCE_PLATE": "ta poznávací značka",
    },
}
"""What is said instead of a pseudonym the session does not know."""


def reidentify(reply_text: str, table: PseudonymTable, language: str) -> SpokenReply:
    """Map the pseudonyms in a reply back to what they stand for, for speech."""
    neutral = _NEUTRAL.get(language, _NEUTRAL["en"])

    def spoken(m: re.Match[str]) -> str:
        kind = m.group(1).upper().replace("LICENSE", "LICENCE")
        entry = table.lookup(f"<{kind}_{int(m.group(2))}>")
        return entry.display if entry is not None else neutral[LABEL_OF_TOKEN[kind]]

    text = _LOOSE_PSEUDONYM.sub(spoken, reply_text)
    return SpokenReply(text=re.sub(r"[ \t]{2,}", " ", text), language=language)
