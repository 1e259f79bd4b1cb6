"""Where a word sits: sentence start, titles and cues around it, and which employee
the rest of the transcript points to (department and role words, a phone number).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from kiosk_agent.pii.name_cues import (
    AUXILIARIES,
    FEMININE_SURNAME,
    OWN,
    OWN_RELATION_CUES,
    PERSON_VERBS,
    RELATION_CUES,
    SELF_CUES,
    SPEAK_CUES,
    TITLES,
)
from kiosk_agent.pii.name_index import DirectoryIndex, Match, Word
from kiosk_agent.pii.names import RANK_DERIVED


def is_sentence_initial(text: str, start: int) -> bool:
    """True when only punctuation and spaces separate ``start`` from a sentence end."""
    i = start - 1
    while i >= 0 and not text[i].isalnum():
        if text[i] in ".?!":
            return True
        i -= 1
    return i < 0


@dataclass(frozen=True, slots=True)
class Context:
    """What the whole transcript says that helps choose between employees."""

    text: str
    language: str
    folded_words: tuple[str, ...]
    words: frozenset[str]
    digits: str


def is_adjacent(text: str, a: Word, b: Word) -> bool:
    """Words a and b are neighbours: only spaces or a bare hyphen between them."""
    gap = text[a.end : b.start]
    return (len(gap) <= 3 and gap.strip() == "") or gap == "-"


def title_gender(text: str, words: list[Word], i: int) -> str | None:
    """The gender shown by a title right before word i ('' if none shown), else None."""
    j = i - 1
    gender: str | None = None
    while j >= 0 and i - j <= 2:
        prev = words[j]
        gap = text[prev.end : words[j + 1].start]
        if prev.folded not in TITLES or gap.strip() not in ("", "."):
            break
        gender = TITLES[prev.folded] or gender or ""
        j -= 1
    return gender


def cue_before(text: str, words: list[Word], i: int) -> str | None:
    """'self' or 'relation' when a cue phrase ends right before word i."""
    for cue in SELF_CUES:
        n = len(cue)
        if i >= n and tuple(w.folded for w in words[i - n : i]) == cue:
            # "Volal jsem Skopcovi": "jsem" after a past participle is no introduction.
            if cue == ("jsem",) and i > n and words[i - n - 1].folded.endswith(_PAST):
                continue
            gap = text[words[i - 1].end : words[i].start]
            if gap.strip() in ("", ","):
                return "self"
    before = words[i - 2].folded if i >= 2 else ""
    if i >= 1 and words[i - 1].folded in RELATION_CUES:
        if before not in ("her", "his", "their", "jeho", "jeji", "jejich", "of"):
            return "relation"
    if i >= 1 and words[i - 1].folded in OWN_RELATION_CUES and before in OWN:
        return "relation"
    return None


_PAST: Final = ("l", "la", "li", "ly")
"""Endings of a Czech past participle (volal, mluvila) before "jsem"."""


def neighbour_folded(text: str, words: list[Word], i: int, step: int) -> str:
    """The folded word right before (step -1) or after (+1) word i, else ''."""
    j = i + step
    if not 0 <= j < len(words):
        return ""
    a, b = (words[j], words[i]) if step < 0 else (words[i], words[j])
    return words[j].folded if is_adjacent(text, a, b) else ""


def has_person_verb(text: str, words: list[Word], i: int) -> bool:
    """A verb of a person follows word i, maybe after an auxiliary ("is expecting")."""
    j = i
    after = neighbour_folded(text, words, j, +1)
    # Up to two auxiliaries: "Lamb prý dneska pracuje z domu".
    while after in AUXILIARIES and j < i + 2:
        j += 1
        after = neighbour_folded(text, words, j, +1)
    return after in PERSON_VERBS


def is_plain(w: Word) -> bool:
    """A capitalised word that may be a name: not an acronym (DHL) or a stop word."""
    return w.is_cap and not w.text.isupper() and len(w.text) >= 3


# FIXME(#4): in Czech "je tu Jana?" stays linked to both Jana and Jan (whose genitive is
# "Jana"); choosing needs the case the verb governs. Harmless: the kiosk asks back.
def resolve(
    index: DirectoryIndex,
    ctx: Context,
    matches: list[Match] | set[str],
    gender: str | None,
) -> tuple[str, ...]:
    """Narrow candidate employees by title gender, form rank and the words around."""
    if isinstance(matches, set):
        ids = sorted(matches)
    else:
        ranked = [m for m in matches if m.part in ("first", "last")]
        best = min(m.rank for m in ranked)
        if ctx.language == "en":
            ranked = [m for m in ranked if m.rank == best]
        elif best < RANK_DERIVED:
            ranked = [m for m in ranked if m.rank < RANK_DERIVED]
        ids = sorted({m.employee_id for m in ranked})
    if gender and len(ids) > 1:
        same = [e for e in ids if index.employees[e].gender == gender]
        ids = same or ids
    if len(ids) > 1:
        scores = {e: context_score(index, ctx, e) for e in ids}
        top = max(scores.values())
        if top > 0:
            ids = [e for e in ids if scores[e] == top]
    return tuple(ids)


def context_score(index: DirectoryIndex, ctx: Context, eid: str) -> int:
    """How many department, role and phone hints for employee ``eid`` the text has."""
    stems, exact = index.context[eid]
    score = sum(1 for s in stems if any(w.startswith(s) for w in ctx.folded_words))
    score += sum(1 for x in exact if x in ctx.words)
    phone = "".join(c for c in index.employees[eid].phone if c.isdigit())[-9:]
    if len(phone) == 9 and phone in ctx.digits:
        score += 3
    return score


# TODO(#4): "jsem řidič Boltu" takes the firm in the genitive for the driver's name;
# telling a firm from a person after "řidič"/"kurýr" needs a list of brand words.
def follows_relation(
    text: str, words: list[Word], i: int, run: list[int], cue: str | None
) -> bool:
    """Word i opens the run right after a relation word ("his brother Khoa")."""
    if i != run[0] or not is_plain(words[i]):
        return False
    return cue == "relation" or neighbour_folded(text, words, i, -1) in RELATION_CUES


_NOUN_ENDINGS: Final = ("ing", "tion", "sion", "ment", "ity", "ance", "ence", "ness")


# TODO(#4): an unknown first name with no cue at all ("Tell him Ananya from Infosys is
# here") still leaks; "tell him" is also followed by firms, so it is not a cue here.
def follows_speak_cue(words: list[Word], i: int, run: list[int]) -> bool:
    """Word i opens a one-word run right after "ask for", "speak to", "mluvit s", and
    has no ending of an English common noun ("ask for Reception", "speak to Sales")."""
    if i != run[0] or len(run) > 1 or words[i].folded.endswith(_NOUN_ENDINGS):
        return False
    before = tuple(w.folded for w in words[max(0, i - 3) : i])
    return any(before[-len(cue) :] == cue for cue in SPEAK_CUES)


def is_feminine_surname(text: str, w: Word) -> bool:
    """A Czech feminine surname shape that is no street before a house number
    ("Vinohradská 12")."""
    if not (FEMININE_SURNAME.search(w.text) and len(w.text) >= 6):
        return False
    return _HOUSE_NUMBER_AFTER.match(text, w.end) is None


_HOUSE_NUMBER_AFTER: Final = re.compile(r"\s\d{1,4}(?:/\d{1,4})?[a-z]?\b")
