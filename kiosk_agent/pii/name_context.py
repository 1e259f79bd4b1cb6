"""Where a word sits: sentence start, titles and cues around it, and which employee
the rest of the transcript points to (department and role words, a phone number).
"""

from __future__ import annotations

from dataclasses import dataclass

from kiosk_agent.pii.name_cues import (
    AUXILIARIES,
    OWN,
    OWN_RELATION_CUES,
    PERSON_VERBS,
    RELATION_CUES,
    SELF_CUES,
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


def neighbour_folded(text: str, words: list[Word], i: int, step: int) -> str:
    """The folded word right before (step -1) or after (+1) word i, else ''."""
    j = i + step
    if not 0 <= j < len(words):
        return ""
    a, b = (words[j], words[i]) if step < 0 else (words[i], words[j])
    return words[j].folded if is_adjacent(text, a, b) else ""


def has_person_verb(text: str, words: list[Word], i: int) -> bool:
    """A verb of a person follows word i, maybe after an auxiliary ("is expecting")."""
    after = neighbour_folded(text, words, i, +1)
    if after in AUXILIARIES:
        after = neighbour_folded(text, words, i + 1, +1)
    return after in PERSON_VERBS


def is_plain(w: Word) -> bool:
    """A capitalised word that may be a name: not an acronym (DHL) or a stop word."""
    return w.is_cap and not w.text.isupper() and len(w.text) >= 3


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
