"""The pseudonym table of one session: pseudonym <-> original, in memory only.

The same person or value gets the same pseudonym for the whole visit (``<EMPLOYEE_1>``
each time Jan Novák is mentioned, however inflected), so the cloud model can follow the
conversation. The table is the only place that maps pseudonyms back; ``wipe()`` empties
it when the visitor leaves. Python strings cannot be overwritten in place, so wiping
drops every reference and leaves the memory to the allocator.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

LABELS: Final = (
    "PERSON_EMPLOYEE",
    "PERSON_OTHER",
    "PHONE",
    "EMAIL",
    "ADDRESS",
    "DATE_OF_BIRTH",
    "ID_NUMBER",
    "LICENCE_PLATE",
)
"""Span labels, as in the anonymizer development set."""

TOKEN_NAMES: Final[dict[str, str]] = {
    "PERSON_EMPLOYEE": "EMPLOYEE",
    "PERSON_OTHER": "PERSON",
    "PHONE": "PHONE",
    "EMAIL": "EMAIL",
    "ADDRESS": "ADDRESS",
    "DATE_OF_BIRTH": "DATE_OF_BIRTH",
    "ID_NUMBER": "ID_NUMBER",
    "LICENCE_PLATE": "LICENCE_PLATE",
}
"""Span label -> the name inside the pseudonym (<EMPLOYEE_1>, <PERSON_2> ...)."""

LABEL_OF_TOKEN: Final = {v: k for k, v in TOKEN_NAMES.items()}

PSEUDONYM: Final = re.compile(
    r"<(EMPLOYEE|PERSON|PHONE|EMAIL|ADDRESS|DATE_OF_BIRTH|ID_NUMBER|LICENCE_PLATE)_(\d+)>"
)
"""A well-formed pseudonym as the pseudonymizer writes it."""


@dataclass(frozen=True, slots=True)
class PseudonymEntry:
    """What one pseudonym stands for; never logged, never leaves the device."""

    pseudonym: str
    label: str
    surface: str
    """The text as first heard (e.g. "Novákem", "+420 601 112 233")."""
    display: str
    """How to say it back: an employee's full name from the directory, else surface."""
    employee_ids: tuple[str, ...] = ()
    """The employee, or every candidate when the mention was ambiguous."""

    def __repr__(self) -> str:
        return f"PseudonymEntry(pseudonym={self.pseudonym!r}, label={self.label!r})"


class PseudonymTable:
    """Per-session map between pseudonyms and originals; memory only."""

    def __init__(self) -> None:
        self._by_key: dict[tuple[str, str], PseudonymEntry] = {}
        self._by_pseudonym: dict[str, PseudonymEntry] = {}
        self._counts: dict[str, int] = {}

    def pseudonym_for(
        self,
        label: str,
        key: str,
        surface: str,
        *,
        display: str = "",
        employee_ids: tuple[str, ...] = (),
    ) -> str:
        """The session's pseudonym for a value, creating it on first sight.

        Args:
            label: one of ``LABELS``.
            key: normalised value; equal keys share one pseudonym.
            surface: the text as heard, kept for re-identification.
            display: how to say it back (defaults to ``surface``).
            employee_ids: for an employee, the id or the candidate ids.
        """
        if label not in TOKEN_NAMES:
            raise ValueError(f"unknown label {label!r}")
        entry = self._by_key.get((label, key))
        if entry is not None:
            return entry.pseudonym
        number = self._counts.get(label, 0) + 1
        self._counts[label] = number
        pseudonym = f"<{TOKEN_NAMES[label]}_{number}>"
        entry = PseudonymEntry(
            pseudonym, label, surface, display or surface, tuple(employee_ids)
        )
        self._by_key[(label, key)] = entry
        self._by_pseudonym[pseudonym] = entry
        return pseudonym

    def lookup(self, pseudonym: str) -> PseudonymEntry | None:
        """The entry behind a pseudonym such as ``<EMPLOYEE_1>``, or None if unknown."""
        return self._by_pseudonym.get(pseudonym)

    def known_employees(self) -> set[str]:
        """Ids of employees the session has already named unambiguously."""
        return {
            e.employee_ids[0]
            for e in self._by_pseudonym.values()
            if e.label == "PERSON_EMPLOYEE" and len(e.employee_ids) == 1
        }

    def wipe(self) -> None:
        """Forget everything: called when the visitor leaves."""
        self._by_key.clear()
        self._by_pseudonym.clear()
        self._counts.clear()

    def __len__(self) -> int:
        return len(self._by_pseudonym)

    def __repr__(self) -> str:
        return f"PseudonymTable(pseudonyms={len(self._by_pseudonym)})"
