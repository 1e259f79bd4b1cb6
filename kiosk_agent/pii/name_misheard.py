"""Names as speech recognition mishears them: one letter off, a surname two edits
away next to its first name, a garbled name right after "here to see".

The directory lookups are the loose ones of ``DirectoryIndex`` (kiosk_agent/
name_index.py); each needs evidence around the word before it counts, so ordinary
words stay.
"""

from __future__ import annotations

from typing import Final

from kiosk_agent.pii.name_context import is_adjacent
from kiosk_agent.pii.name_cues import ARTICLES, FUNCTION_WORDS, TITLES, VISIT_CUES
from kiosk_agent.pii.name_index import DirectoryIndex, Word, distance
from kiosk_agent.pii.names import RANK_BASE

_VISIT_OBJECT_WORDS: Final = 2
"""How many words after "here to see" may be the garbled name."""


def fuzzy_partner(index: DirectoryIndex, w: Word) -> None:
    """Look a word up again with fuzzy matching, allowed next to a matched name."""
    if w.folded in index.stop or len(w.folded) < 3:
        return
    found = index.fuzzy(w.folded) if len(w.folded) >= 4 else None
    if found is None and len(w.folded) == 3:
        found = [
            m
            for form, ms in index.folded.items()
            if len(form) == 3
            and form[0] == w.folded[0]
            and distance(form, w.folded) <= 1
            for m in ms
            if m.rank == RANK_BASE
        ] or None
    if found:
        w.matches, w.is_fuzzy = list(found), True


# TODO(#4): two edits also link a visitor's own surname to a namesake employee
# ("Emily Parker" -> Emily Baker); the kiosk should confirm a fuzzy link before
# calling, which needs the dialog to know the link was fuzzy.
def misheard_pair_ids(index: DirectoryIndex, a: Word, b: Word) -> set[str]:
    """Employees whose first name is word a, maybe misheard, and whose surname word b
    may be as ASR misheard it ("Pable Novick" for Pavel Novák).

    b must be a capitalised word that matches nothing: not a name form, first name,
    stop word, place or department word. Even when no employee fits, a keeps its
    fuzzy first-name matches, so the pair becomes one ``<PERSON_n>``.
    """
    if b.matches or b.is_lexicon or not (a.is_cap and b.is_cap):
        return set()
    if b.folded in index.stop or len(b.folded) < 3 or b.text.isupper():
        return set()
    if not a.matches and not a.is_lexicon:
        fuzzy_partner(index, a)
    firsts = {m.employee_id for m in a.matches if m.part == "first"}
    return {e for e in firsts if index.is_misheard_surname(e, b.folded)}


def misheard_after_visit(
    index: DirectoryIndex, text: str, words: list[Word], taken: list[tuple[int, int]]
) -> list[tuple[int, int, tuple[str, ...]]]:
    """(start, end, employee ids) of a garbled name right after a visit cue.

    "I am here to see painful novick" (Pavel Novák): one of the two words after "to
    see", "meeting with", "jdu za"... is an employee's surname as ASR misheard it, so
    the words from the cue to it are that mention. Words already in a span, titles,
    articles, stop words and exact name forms end the search.
    """
    out: list[tuple[int, int, tuple[str, ...]]] = []
    for i in range(1, len(words)):
        if not follows_visit_cue(text, words, i):
            continue
        for j in range(i, min(i + _VISIT_OBJECT_WORDS, len(words))):
            w = words[j]
            if not is_adjacent(text, words[j - 1], w) or _is_closed(index, w, taken):
                break
            ids = index.misheard_surname_ids(w.folded) if len(w.folded) >= 4 else ()
            if ids and _opens_proper_noun(index, text, words, j):
                break  # "a meeting with Škoda Auto" is a firm, not Skopec misheard
            if ids:
                out.append((words[i].start, w.end, tuple(sorted(ids))))
                break
    return out


_CUES_BY_LAST_WORD: Final[dict[str, tuple[tuple[str, ...], ...]]] = {
    last: tuple(cue for cue in VISIT_CUES if cue[-1] == last)
    for last in {cue[-1] for cue in VISIT_CUES}
}


def follows_visit_cue(text: str, words: list[Word], i: int) -> bool:
    """Whether a visit cue ("here to see", "meeting with", "jdu za") ends right before
    word i."""
    if i < 1:
        return False
    for cue in _CUES_BY_LAST_WORD.get(words[i - 1].folded, ()):
        n = len(cue)
        if i >= n and tuple(w.folded for w in words[i - n : i]) == cue:
            return is_adjacent(text, words[i - 1], words[i])
    return False


def _opens_proper_noun(
    index: DirectoryIndex, text: str, words: list[Word], j: int
) -> bool:
    """Capitalised word j is followed by another capitalised word that is no name."""
    if j + 1 >= len(words) or not words[j].is_cap:
        return False
    after = words[j + 1]
    if not (after.is_cap and is_adjacent(text, words[j], after)):
        return False
    return not after.matches and after.folded not in index.stop


def _is_closed(index: DirectoryIndex, w: Word, taken: list[tuple[int, int]]) -> bool:
    """A word that cannot be part of a garbled name after a visit cue.

    A word that is a name form already had its say: "Hledám kováře" (a smith) stays.
    """
    if w.folded in ARTICLES or w.folded in TITLES or w.folded in index.stop:
        return True
    if w.folded in FUNCTION_WORDS or w.matches:
        return True
    return any(start < w.end and w.start < end for start, end in taken)
