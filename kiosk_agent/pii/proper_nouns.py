"""Brands and places that look like people's names: they stay in the redacted text.

A lobby hears many capitalised words that are also first names or surnames: retailers
and consumer brands ("Billa nebo Albert", "Philips monitors", "Fordem"), and rooms,
halls, streets and prizes named after famous people ("the Marie Curie meeting room",
"Karlově mostě"). A short list of brands that are also names, with their Czech case
forms, and a place noun after a name (one modifier may stand between: "meeting room")
tell them apart from people. A title, a self-introduction or relation cue, a visit
cue, a person's verb or a following surname still make a brand word a person.
"""

from __future__ import annotations

import functools
import re
from typing import Final

from kiosk_agent.pii.name_context import (
    cue_before,
    has_person_verb,
    is_adjacent,
    neighbour_folded,
    title_gender,
)
from kiosk_agent.pii.name_cues import (
    ARTICLES,
    AUXILIARIES,
    GREETINGS,
    INTRODUCTION_AFTER,
    PLACE_AFTER,
    STOP,
)
from kiosk_agent.pii.name_index import Word
from kiosk_agent.pii.names import RANK_BASE, RANK_DERIVED, fold, inflect

# TODO(#4): brands that are common first names (Paul bakery, Wendy's) are left out:
# a bare first name there would leak; "řidič Boltu" stays a relation cue.
BRANDS: Final = tuple(
    """albert billa lidl kaufland tesco penny globus makro hornbach bauhaus ikea
    philips ferrari porsche dell ford tesla siemens bosch baťa škoda tatra zetor jawa
    zara mango lacoste chanel dior gucci armani prada versace boss hilfiger adidas puma
    nike reebok mercedes benz opel renault peugeot citroën toyota honda mazda kia
    ferrero nestlé heineken guinness starbucks costa mcdonald kofola rohlík alza
    datart rossmann""".split()
)
"""Consumer brands and retailers a visitor names that are also names of people."""

_IRREGULAR_FORMS: Final = ("bati", "batou", "batu", "mcdonalds")
"""Case forms the ending rules do not make (Baťa -> Bati)."""

BRAND_PHRASE: Final = re.compile(
    r"\b(?:Hugo\s+Boss|Tommy\s+Hilfiger|Calvin\s+Klein|Ralph\s+Lauren|Louis\s+Vuitton"
    r"|Ben\s*(?:&|and)\s*Jerry['\u2019]s|Marks\s*(?:&|and)\s*Spencer"
    r"|Johnson\s*(?:&|and)\s*Johnson|Mercedes[-\s]Benz|Dr\.?\s+Oetker"
    r"|Victoria['\u2019]s\s+Secret|Tommy\s+Jeans)\b",
    re.IGNORECASE,
)
"""Brands of two or more words whose parts are a first name and a surname."""

_PERSON_AUXILIARIES: Final = AUXILIARIES | {"can", "could", "must", "might", "may"}
"""Words after a first name that make it the subject of a sentence ("Albert will")."""

PLACE_MODIFIERS: Final = frozenset(
    fold(w)
    for w in """meeting conference lecture seminar board training reading
    exhibition event concert zasedací konferenční""".split()
)
"""Words between a name and its place noun ("the Marie Curie meeting room")."""

ROOM_NOUNS: Final = frozenset("room rooms auditorium lab lounge suite wing".split())
"""Nouns that make the name before them a room only after an article ("the Einstein
room"); "Tell Jan room 5 is free" still speaks to Jan."""

PLACE_NOUNS: Final = PLACE_AFTER | frozenset(
    fold(w)
    for w in """mostě mostu muzeum muzea muzeu muzeem síň síni sál sálu sále aula
    aule aulu náměstím nábřežím nádražím ulicí ulici ulice""".split()
)
"""Nouns after a name that make it the name of a building, street or prize."""


@functools.cache
def brand_forms() -> frozenset[str]:
    """Folded forms (all Czech cases) of every word in ``BRANDS``."""
    forms = {fold(f) for f in _IRREGULAR_FORMS}
    for brand in BRANDS:
        forms.update(
            fold(f.form) for f in inflect(brand, "u") if f.rank != RANK_DERIVED
        )
    return frozenset(forms)


def brand_spans(text: str) -> list[tuple[int, int]]:
    """Spans of brands of several words ("Hugo Boss", "Ben & Jerry's") in ``text``."""
    return [(m.start(), m.end()) for m in BRAND_PHRASE.finditer(text)]


def is_brand(text: str, words: list[Word], i: int, after_visit: bool) -> bool:
    """Word i is a brand: a capitalised brand form that is no employee's name as written
    in the directory, with no title, greeting, cue, visit cue (``after_visit``) or
    person's verb, and no first name before or surname after it ("Albert Smith" and
    "Radim Ford" are people, "Billa nebo Albert" a supermarket)."""
    w = words[i]
    if not w.is_cap or w.folded not in brand_forms() or w.is_possessive:
        return False
    # An employee called exactly so (surname Ford, first name Albert) keeps the
    # name rules; a case form of a nickname (Billa for Bill) does not.
    exact = [m for m in w.matches if m.part in ("first", "last") and not w.is_fuzzy]
    if any(m.rank == RANK_BASE for m in exact) or after_visit:
        return False
    if title_gender(text, words, i) is not None or cue_before(text, words, i):
        return False
    before, after = (
        neighbour_folded(text, words, i, -1),
        neighbour_folded(text, words, i, +1),
    )
    if (
        before in GREETINGS
        or after in INTRODUCTION_AFTER
        or has_person_verb(text, words, i)
    ):
        return False
    # "Albert will come down": a first name before an auxiliary is the person.
    # TODO(#4): so "Albert has a sale on coffee" is replaced; telling a shop's verbs
    # from a person's needs more than the next word.
    if w.is_lexicon and after in _PERSON_AUXILIARIES:
        return False
    if i > 0 and _is_first_name_before(text, words[i - 1], w):
        return False
    if i + 1 < len(words) and is_adjacent(text, w, words[i + 1]):
        if words[i + 1].is_cap:
            return after in STOP or after in PLACE_NOUNS or after in ROOM_NOUNS
    return True


def _is_first_name_before(text: str, before: Word, w: Word) -> bool:
    """The word before a brand word is a first name: "my name is Radim Ford"."""
    if not (before.is_cap and is_adjacent(text, before, w)):
        return False
    if before.folded in STOP:
        return False
    is_first = before.is_lexicon or any(m.part == "first" for m in before.matches)
    return is_first or not before.is_initial


def is_place_name(text: str, words: list[Word], first: int, last: int) -> bool:
    """The run ``first..last`` names a place: a place noun follows ("Karlově mostě"),
    or after an article a room noun, maybe after one modifier ("the Marie Curie
    meeting room"); not after a possessive ("Novák's room" is his)."""
    if words[last].is_possessive:
        return False
    after = neighbour_folded(text, words, last, +1)
    if after in PLACE_NOUNS:
        return True
    if neighbour_folded(text, words, first, -1) not in ARTICLES:
        return False
    if after in PLACE_MODIFIERS:
        after = neighbour_folded(text, words, last + 1, +1)
    return after in PLACE_NOUNS or after in ROOM_NOUNS
