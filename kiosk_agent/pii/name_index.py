"""Every written form of every employee's names, built once per directory version.

``DirectoryIndex`` holds each Czech case form of each employee's first name, surname and
nicknames (with and without diacritics, ä/ö/ü also as ae/oe/ue), a deletion index for
ASR misspellings, and the department and role word stems used to tell namesakes apart.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

from kiosk_agent.messages import Employee
from kiosk_agent.pii.name_cues import PLACE_AFTER, STOP
from kiosk_agent.pii.names import (
    NICKNAMES,
    RANK_DERIVED,
    RANK_INFLECTED,
    WORDLIKE,
    feminine_surname,
    fold,
    inflect,
    masculine_surname,
)

GENERIC_ROLE_WORDS: Final = frozenset(
    "of and the for head lead senior junior specialist manager partner business "
    "officer assistant".split()
)
DEPARTMENT_STEMS: Final[dict[str, tuple[str, ...]]] = {
    "finance": ("financ", "ucet", "ucto"),
    "hr": ("personal", "lidsk", "nabor", "human"),
    "legal": ("pravn", "legal"),
    "sales": ("obchod", "prodej", "sales"),
    "marketing": ("marketing",),
    "facilities": ("sprav", "udrzb", "facilit"),
    "engineering": ("vyvoj", "engineer"),
    "customer success": ("zakaznick", "podpor", "support"),
    "office": ("kancelar", "recepc", "office"),
    "procurement": ("nakup", "purchas", "procure"),
    "production": ("vyrob", "production"),
    "logistics": ("logisti", "sklad"),
    "management": ("vedeni", "reditel", "director", "management"),
    "security": ("bezpecn", "ostrah", "security"),
    "data": ("data",),
}
"""English department name (folded) -> Czech and English word stems that mention it."""


@dataclass(frozen=True, slots=True)
class Match:
    """A word that is one form of an employee's name."""

    employee_id: str
    part: str
    """'first', 'last', or 'relative' (a surname form of the other gender)."""
    rank: int
    wordlike: bool
    """The name is also an ordinary word (Black, Zima): needs stronger evidence."""


@dataclass(slots=True)
class Word:
    """One word of a transcript with its offsets and the name forms it matches."""

    start: int
    end: int
    text: str
    folded: str
    is_cap: bool
    is_initial: bool
    matches: list[Match] = field(default_factory=list)
    is_fuzzy: bool = False
    is_lexicon: bool = False
    is_possessive: bool = False
    """An English possessive 's followed (and was cut off): "Hana's guest"."""
    is_brand: bool = False
    """A brand that is also a name ("Billa nebo Albert"), see ``proper_nouns``."""


class DirectoryIndex:
    """Every written form of every employee's names, built once per directory."""

    def __init__(self, employees: Sequence[Employee], fuzzy_max_distance: int) -> None:
        self.employees = {e.id: e for e in employees}
        self.fuzzy_max_distance = fuzzy_max_distance
        self.exact: dict[str, list[Match]] = {}
        self.folded: dict[str, list[Match]] = {}
        self.deletes: dict[str, set[str]] = {}
        self.context: dict[str, tuple[set[str], set[str]]] = {}
        self.surnames: dict[str, set[str]] = {}
        """Employee id -> folded base and case forms of the surname."""
        self.surname_initials: dict[str, dict[str, set[str]]] = {}
        """First letter -> folded surname form -> employee ids, for misheard words."""
        self.stop = set(STOP) | PLACE_AFTER
        for employee in employees:
            self._add_employee(employee)

    def _add(self, form: str, match: Match, fuzzy: bool) -> None:
        folded = fold(form)
        for index, key in ((self.exact, form), (self.folded, folded)):
            bucket = index.setdefault(key, [])
            if match not in bucket:
                bucket.append(match)
        if fuzzy and len(folded) >= 4:
            for variant in (folded, *_deletes(folded)):
                self.deletes.setdefault(variant, set()).add(folded)

    def _add_name(self, name: str, gender: str, eid: str, part: str) -> None:
        # A hyphenated surname (Hrubá-Lindgren) is indexed part by part: ASR and the
        # word splitter see two words, and Czech declines only the first part.
        for word in re.split(r"[\s\-]+", name):
            # Particles such as "van", "de"; nicknames are listed in lowercase and
            # may be short ("tom", "ben").
            is_particle = part != "alias" and word.islower() and len(word) <= 3
            if len(word) <= 1 or is_particle:
                continue
            is_short_alias = part == "alias" and len(word) <= 3
            base = fold(word)
            wordlike = base in WORDLIKE or (
                part == "relative" and fold(masculine_surname(word) or "") in WORDLIKE
            )
            for form in inflect(word, gender):
                rank = form.rank if part != "alias" else max(form.rank, RANK_INFLECTED)
                match = Match(eid, "first" if part == "alias" else part, rank, wordlike)
                # A short nickname's forms (tom, dan -> Dane) would fuzzily match
                # ordinary words (Dáme); they count only when heard as they are.
                fuzzy = rank < RANK_DERIVED and not is_short_alias
                self._add(form.form, match, fuzzy=fuzzy)
                if part == "last" and rank < RANK_DERIVED:
                    folded = fold(form.form)
                    self.surnames.setdefault(eid, set()).add(folded)
                    initials = self.surname_initials.setdefault(folded[0], {})
                    initials.setdefault(folded, set()).add(eid)
                for variant in _spelling_variants(form.form):
                    self._add(variant, match, fuzzy=False)

    def _add_employee(self, e: Employee) -> None:
        gender = e.gender if e.gender in ("m", "f") else "u"
        self._add_name(e.first_name, gender, e.id, "first")
        self._add_name(e.last_name, gender, e.id, "last")
        for alias in NICKNAMES.get(e.first_name.casefold(), ()) + e.aliases:
            self._add_name(alias, gender, e.id, "alias")
        # Czech feminises each part of a foreign surname: Wood -> Woodová, López
        # García -> Lópezová García.
        feminine = _FOREIGN_PART.sub(_add_ova, e.last_name)
        if gender == "f" and feminine != e.last_name:
            self._add_name(feminine, "f", e.id, "last")
        elif gender == "m":
            self._add_name(feminine_surname(e.last_name), "f", e.id, "relative")
        elif gender == "f" and (male := masculine_surname(e.last_name)):
            self._add_name(male, "m", e.id, "relative")
        self.stop.update(fold(w) for w in e.department.split() if len(w) > 3)
        words = {fold(w) for w in (e.role + " " + e.department).split()}
        words -= GENERIC_ROLE_WORDS
        acronym = "".join(w[0] for w in e.role.split() if w[:1].isupper())
        stems = set(DEPARTMENT_STEMS.get(fold(e.department), ()))
        stems.update(w for w in words if len(w) > 3)
        exact = {w for w in (e.department, acronym) if 2 <= len(w) <= 4}
        self.context[e.id] = (stems, exact)

    def lookup(self, word: Word, allow_fuzzy: bool) -> None:
        """Fill ``word.matches`` from the exact, folded or fuzzy index."""
        key = word.text.casefold().replace("\u2019", "'")
        matches = self.exact.get(key)
        if matches is None and (word.is_cap or key.isascii()):
            matches = self.folded.get(word.folded)
        if matches is None and allow_fuzzy and word.is_cap:
            matches = self.fuzzy(word.folded)
            word.is_fuzzy = matches is not None
        word.matches = list(matches or ())

    def fuzzy(self, folded: str) -> list[Match] | None:
        """Matches within the configured edit distance of ``folded``, or None."""
        limit = min(self.fuzzy_max_distance, 1 if len(folded) < 8 else 2)
        if limit == 0 or len(folded) < 4 or folded in self.stop:
            return None
        found: list[Match] = []
        seen: set[str] = set()
        for variant in (folded, *_deletes(folded)):
            for form in self.deletes.get(variant, ()):
                if form in seen:
                    continue
                seen.add(form)
                # Recognisers rarely miss the first sound (Aničku is not Janičku).
                if form[:1] == folded[:1] and distance(folded, form) <= limit:
                    found += [m for m in self.folded[form] if m.rank < RANK_DERIVED]
        return found or None

    def is_misheard_surname(self, eid: str, folded: str) -> bool:
        """Whether ``folded`` may be employee ``eid``'s surname as ASR misheard it.

        Looser than ``fuzzy``, so only asked with more evidence: next to that
        employee's first name ("Pable Novick" for Pavel Novák) or right after "here to
        see".
        """
        return any(_is_near(folded, form) for form in self.surnames.get(eid, ()))

    def misheard_surname_ids(self, folded: str) -> set[str]:
        """Employees whose surname ``folded`` may be as ASR misheard it (same first
        letter: recognisers rarely miss the first sound)."""
        found: set[str] = set()
        for form, ids in self.surname_initials.get(folded[:1], {}).items():
            if abs(len(form) - len(folded)) <= 2 and _is_near(folded, form):
                found |= ids
        return found


_FOREIGN_PART: Final = re.compile(r"[^\s\-]*[^\s\-áa](?=[\s\-]|\Z)")
"""A part of a surname without a feminine ending."""


def _add_ova(m: re.Match[str]) -> str:
    return m.group(0) + "ová"


def _is_near(folded: str, form: str) -> bool:
    """Two edits for a surname of five letters or more, one below, or the same
    consonants with any vowels."""
    if distance(folded, form) <= (2 if len(form) >= 5 else 1):
        return True
    return len(form) >= 5 and _consonants(folded) == _consonants(form)


def _consonants(word: str) -> str:
    """The word with every run of vowels reduced to one marker (Novick ~ Novak)."""
    return re.sub(r"[aeiouy]+", "*", word)


def _deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


_CZECH_SPELLING: Final = (
    ("tsch", "č"),
    ("sch", "š"),
    ("sh", "š"),
    ("w", "v"),
    ("ß", "s"),
    ("ss", "s"),
    ("ä", "e"),
    ("ö", "e"),
    ("ü", "i"),
    ("th", "t"),
    ("ph", "f"),
    ("ck", "k"),
    ("qu", "kv"),
)
"""German and English letter groups as a Czech recogniser spells them by ear."""
# TODO(#4): vowels are left as spelt, so Weiß heard as "Vajs" or Cook as "Kuk" is not
# matched; adding ei->aj / oo->u needs a check against Czech ordinary words first.


def _spelling_variants(form: str) -> list[str]:
    """Other spellings of a name form: umlauts as ae/oe/ue (Mueller), and the form
    spelt the Czech way (Schäferová heard as Šéferová, Walsh as Valš)."""
    variants: list[str] = []
    if any(c in form for c in "äöü"):
        variants.append(form.replace("ä", "ae").replace("ö", "oe").replace("ü", "ue"))
    czech = form.casefold()
    for letters, sound in _CZECH_SPELLING:
        czech = czech.replace(letters, sound)
    if fold(czech) != fold(form):
        variants.append(czech)
    return variants


def distance(a: str, b: str) -> int:
    """Levenshtein distance with adjacent transpositions (small strings only)."""
    previous = list(range(len(b) + 1))
    before: list[int] = []
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                value = min(value, before[j - 2] + 1)
            current.append(value)
        before, previous = previous, current
    return previous[-1]
