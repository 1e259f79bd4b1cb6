"""Anonymize stage: transcript -> redacted text; pseudonyms go to the session table.

``Pseudonymizer`` is built once per directory version (the name indexes are computed
then) and ``redact`` runs in every turn: pattern detectors first (e-mails, numbers,
plates, dates of birth, addresses; also as speech recognition garbles them, see
kiosk_agent/pii/asr_patterns.py), then names in the words the patterns left, then one
pseudonym per span from the session's ``PseudonymTable``. ``find_residue`` is the last
check the egress function runs on the result. No model is loaded: it runs in well under
a millisecond per utterance on the kiosk.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from kiosk_agent.config import AnonymizerConfig
from kiosk_agent.messages import Employee, RedactedText, Span
from kiosk_agent.pii.asr_patterns import find_garbled
from kiosk_agent.pii.name_finder import WORD, DirectoryIndex, find_names
from kiosk_agent.pii.names import first_name_lexicon, fold
from kiosk_agent.pii.patterns import Found, find_patterns, is_business_number
from kiosk_agent.pseudonyms import PSEUDONYM, PseudonymTable

_PRIORITY: Final[dict[str, int]] = {
    "EMAIL": 0,
    "ID_NUMBER": 1,
    "LICENCE_PLATE": 1,
    "PHONE": 2,
    "DATE_OF_BIRTH": 2,
    "ADDRESS": 3,
    "PERSON_EMPLOYEE": 4,
    "PERSON_OTHER": 4,
}
"""Which detector wins when two spans overlap (lower first, then the longer span)."""

_RESIDUAL_DIGITS: Final = re.compile(r"\+?\d(?:[\s\-./()]{0,2}\d){8,}")


@dataclass(frozen=True, slots=True)
class _Candidate:
    start: int
    end: int
    label: str
    key: str
    employee_ids: tuple[str, ...] = ()


class Pseudonymizer:
    """Replaces personal data in transcripts by session pseudonyms."""

    def __init__(self, employees: Sequence[Employee], config: AnonymizerConfig) -> None:
        # The first-name lexicon loads once per process (about 13 ms); load it here, at
        # start-up, rather than in the first visitor's turn.
        first_name_lexicon()
        self._index = DirectoryIndex(employees, config.fuzzy_max_distance)
        self._employees = {e.id: e for e in employees}
        # The first word of the surname: WORD splits "Hrubá-Lindgren" at the hyphen.
        self._full_names = {
            (fold(e.first_name), fold(re.split(r"[\s\-]+", e.last_name)[0]))
            for e in employees
            if e.first_name and e.last_name
        }

    def redact(self, text: str, language: str, table: PseudonymTable) -> RedactedText:
        """Replace every piece of personal data in ``text`` by its session pseudonym.

        Span offsets refer to ``text``. Titles and an English possessive 's stay outside
        the spans: "Mr. Novák's" -> "Mr. <EMPLOYEE_1>'s".
        """
        candidates = self._detect(text, language)
        spans: list[Span] = []
        pieces: list[str] = []
        position = 0
        for c in candidates:
            ids = self._remember(c, table)
            surface = text[c.start : c.end]
            pseudonym = table.pseudonym_for(
                c.label,
                c.key if not ids else "E:" + ",".join(ids),
                surface,
                display=self._display(ids, surface),
                employee_ids=ids,
            )
            spans.append(
                Span(
                    start=c.start,
                    end=c.end,
                    label=c.label,
                    pseudonym=pseudonym,
                    employee_id=ids[0] if len(ids) == 1 else None,
                )
            )
            pieces += [text[position : c.start], pseudonym]
            position = c.end
        pieces.append(text[position:])
        return RedactedText(text="".join(pieces), language=language, spans=tuple(spans))

    def _detect(self, text: str, language: str) -> list[_Candidate]:
        found: list[_Candidate] = [
            _Candidate(f.start, f.end, f.label, f.key) for f in _find_all(text)
        ]
        kept = _without_overlaps(found)
        blocked = [(c.start, c.end) for c in kept]
        names = find_names(self._index, text, blocked, language)
        kept += [
            _Candidate(n.start, n.end, n.label, n.key, n.employee_ids) for n in names
        ]
        return sorted(_without_overlaps(kept), key=lambda c: c.start)

    def _remember(self, c: _Candidate, table: PseudonymTable) -> tuple[str, ...]:
        """Use the session: an ambiguous "Pavel" after "Pavel Král" is Pavel Král."""
        if len(c.employee_ids) <= 1:
            return c.employee_ids
        known = table.known_employees() & set(c.employee_ids)
        return (known.pop(),) if len(known) == 1 else c.employee_ids

    def _display(self, ids: tuple[str, ...], surface: str) -> str:
        if len(ids) == 1 and ids[0] in self._employees:
            employee = self._employees[ids[0]]
            return employee.full_name or f"{employee.first_name} {employee.last_name}"
        return surface

    def find_residue(self, redacted: str, language: str) -> str | None:
        """What the last check before egress still finds in redacted text, else None.

        Returns a code naming the kind of data ("email", "phone", "directory-name"),
        never the data itself.
        """
        masked = PSEUDONYM.sub(lambda m: " " * len(m.group(0)), redacted)
        for f in _find_all(masked):
            if f.label in ("EMAIL", "PHONE"):
                return f.label.lower()
        for m in _RESIDUAL_DIGITS.finditer(masked):
            digit_count = sum(c.isdigit() for c in m.group(0))
            if not is_business_number(masked, m.start(), digit_count):
                return "phone"
        words = [fold(m.group(0)) for m in WORD.finditer(masked)]
        if any(
            pair in self._full_names for pair in zip(words, words[1:], strict=False)
        ):
            return "directory-name"
        names = find_names(self._index, masked, (), language)
        if any(n.label == "PERSON_EMPLOYEE" for n in names):
            return "directory-name"
        return None


def _find_all(text: str) -> list[Found]:
    """Pattern detectors for clean shapes and for the shapes ASR garbles them into."""
    return find_patterns(text) + find_garbled(text)


def _without_overlaps(candidates: Sequence[_Candidate]) -> list[_Candidate]:
    """Keep the best of overlapping spans: by detector priority, then the longest."""
    ordered = sorted(candidates, key=lambda c: (_PRIORITY[c.label], c.start - c.end))
    kept: list[_Candidate] = []
    for c in ordered:
        if all(c.end <= k.start or k.end <= c.start for k in kept):
            kept.append(c)
    return kept
