"""Find people's names in one transcript: directory employees and everyone else.

``find_names`` walks the words of a transcript, looks each up in the ``DirectoryIndex``
(``name_index``), groups adjacent name-like words into runs ("Pavla Krále", "Martin
Fischer from", "Hrubá-Lindgren"), and decides each run from evidence (the word lists
are in ``name_cues``): a first name and surname of the same employee together, a title
before it (Mr., paní, panem ředitelem), a self-introduction or relation cue ("my name
is", "my wife"), an unknown first name opening an introduction ("Zbyšek Král, dobrý
den"), capitals away from the start of a sentence, and whether the surname is also an
ordinary word ("black coffee", "zima"). Names as the recogniser mishears them ("Pable
Novick", "here to see painful novick") are matched loosely in ``name_misheard``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Final

from kiosk_agent.pii.name_context import (
    Context,
    cue_before,
    follows_relation,
    follows_speak_cue,
    has_person_verb,
    is_adjacent,
    is_feminine_surname,
    is_plain,
    is_sentence_initial,
    neighbour_folded,
    resolve,
    title_gender,
)
from kiosk_agent.pii.name_cues import (
    ARTICLES,
    COMPANY_PARTNERS,
    CONTRACTIONS,
    COPULAS,
    DEMONYMS,
    FEMININE_SURNAME,
    GREETINGS,
    INTRODUCTION_AFTER,
    PLACE_BEFORE,
    SENTENCE_STARTERS,
    TITLES,
)
from kiosk_agent.pii.name_index import DirectoryIndex, Word
from kiosk_agent.pii.name_misheard import (
    follows_visit_cue,
    misheard_after_visit,
)
from kiosk_agent.pii.name_spans import (
    NameSpan,
    cued_name,
    employee_span,
    join_parts,
    lowercase_introduced,
    other_span,
    pair_ids,
    spelled_names,
)
from kiosk_agent.pii.names import RANK_BASE, RANK_INFLECTED, first_name_lexicon, fold
from kiosk_agent.pii.proper_nouns import brand_spans, is_brand, is_place_name

__all__ = ["WORD", "DirectoryIndex", "NameSpan", "find_names", "is_sentence_initial"]

WORD: Final = re.compile(r"[^\W\d_]+(?:['\u2019][^\W\d_]+)*")


def find_names(
    index: DirectoryIndex, text: str, blocked: Sequence[tuple[int, int]], language: str
) -> list[NameSpan]:
    """Names of employees and other people in ``text``, outside ``blocked`` spans."""
    blocked = [*blocked, *brand_spans(text)]
    words = _words(index, text, blocked)
    for i, w in enumerate(words):
        w.is_brand = is_brand(text, words, i, follows_visit_cue(text, words, i))
    context = Context(
        text=text,
        language=language,
        folded_words=tuple(w.folded for w in words),
        words=frozenset(m.group(0) for m in WORD.finditer(text)),
        digits="".join(c for c in text if c.isdigit()),
    )
    spans: list[NameSpan] = []
    for run in _runs(index, text, words):
        spans += _decide(index, context, words, run)
    taken = [(s.start, s.end) for s in spans]
    for start, end, ids in misheard_after_visit(index, text, words, taken):
        spans.append(employee_span(text, start, end, ids))
    taken = [(s.start, s.end) for s in spans]
    spans += lowercase_introduced(index, text, words, taken)
    spans += spelled_names(index, text, spans)
    return join_parts(text, spans, blocked)


_VISIT_PREPOSITIONS: Final = frozenset({"za", "s", "se", "u", "k", "ke", "od"})
"""Czech prepositions before a person one goes to, meets or comes from."""

_CASE_ENDINGS: Final = ("em", "ou", "ovi", "im", "eho", "emu", "a", "e", "u", "y", "i")
"""Czech case endings of a declined first name (Ignácem, Pavla, Janu)."""
_FIRM_AFTER: Final = re.compile(r"\s*(?:&|and|a)\s+([^\W\d_]+)", re.IGNORECASE)


def _words(
    index: DirectoryIndex, text: str, blocked: Sequence[tuple[int, int]]
) -> list[Word]:
    lexicon = first_name_lexicon()
    out: list[Word] = []
    for m in WORD.finditer(text):
        start, end, surface = m.start(), m.end(), m.group(0)
        if any(s < end and start < e for s, e in blocked):
            continue
        is_possessive = (
            len(surface) > 3
            and surface[-2:].casefold() in ("'s", "\u2019s")
            and fold(surface) not in CONTRACTIONS
        )
        if is_possessive:
            end, surface = end - 2, surface[:-2]
        folded = fold(surface)
        initial = is_sentence_initial(text, start) and not (
            out
            and out[-1].folded in TITLES
            and text[out[-1].end : start].strip() == "."
        )
        word = Word(start, end, surface, folded, surface[0].isupper(), initial)
        word.is_lexicon = word.is_cap and folded in lexicon
        word.is_possessive = is_possessive
        if folded not in TITLES:
            index.lookup(word, allow_fuzzy=False)
        out.append(word)
    return out


def _is_nameish(index: DirectoryIndex, w: Word) -> bool:
    if w.folded in TITLES or w.is_brand:
        return False
    return bool(w.matches) or w.is_lexicon or (w.is_cap and w.folded not in index.stop)


def _runs(index: DirectoryIndex, text: str, words: list[Word]) -> list[list[int]]:
    runs: list[list[int]] = []
    for i, w in enumerate(words):
        if not _is_nameish(index, w):
            continue
        if runs and runs[-1][-1] == i - 1 and is_adjacent(text, words[i - 1], w):
            runs[-1].append(i)
        else:
            runs.append([i])
    return runs


def _decide(
    index: DirectoryIndex, ctx: Context, words: list[Word], run: list[int]
) -> list[NameSpan]:
    text = ctx.text
    first, last = run[0], run[-1]
    # "my name is Kevin Hall": after a cue, place and title words are surnames too.
    for i in run:
        if (cued := cued_name(index, ctx, words, i)) is not None:
            parts = [run[: run.index(i)], [j for j in run if j > i + 1]]
            return [cued] + [
                s for p in parts if p for s in _decide(index, ctx, words, p)
            ]
    if neighbour_folded(text, words, first, -1) in PLACE_BEFORE:
        return []
    if is_place_name(text, words, first, last):
        return []
    # "Náš technik je Němec, ...": a nationality after a copula ending a clause.
    is_demonym = len(run) == 1 and words[first].folded in DEMONYMS
    ends_clause = text[words[first].end : words[first].end + 1] in ("", ",", ".")
    if is_demonym and ends_clause:
        if neighbour_folded(text, words, first, -1) in COPULAS:
            return []
    firm = _FIRM_AFTER.match(text, words[last].end)
    if firm and fold(firm.group(1)) in COMPANY_PARTNERS:
        return []  # "Marsh and Partners", "Novák & Co", "Novák a synové"
    cue = cue_before(text, words, first)
    # "I'm Hana's guest" speaks of Hana, it does not introduce the visitor.
    if any(words[i].is_possessive for i in run[:3]):
        cue = None if cue == "self" else cue
    if cue == "self" and words[first].is_cap:
        caps = [i for i in run[:3] if words[i].is_cap]
        return [other_span(text, words, caps[0], caps[-1])]
    if _introduces_unknown_first_name(index, text, words, run):
        return [other_span(text, words, first, run[1])]
    # "I'm here to see Ignác Hunter": after a visit cue an unknown capitalised word
    # before an employee's surname is the first name as the recogniser heard it.
    # Not before an ordinary-word surname ("meeting with Burger King", "s Burger
    # Kingem") unless both words are declined ("jdu za Ignácem Kučerou").
    if follows_visit_cue(text, words, first) and _unknown_first_name(
        index, words, run, any_case=True
    ):
        surname = [m for m in words[run[1]].matches if m.part == "last"]
        declined = words[first].folded.endswith(_CASE_ENDINGS) and all(
            m.rank == RANK_INFLECTED for m in surname
        )
        if declined or not any(m.wordlike for m in surname):
            linked = resolve(index, ctx, surname, title_gender(text, words, first))
            return [employee_span(text, words[first].start, words[run[1]].end, linked)]

    spans: list[NameSpan] = []
    used: set[int] = set()
    for a, b in zip(run, run[1:], strict=False):
        ids = pair_ids(index, words[a], words[b])
        if ids and a not in used:
            gender = title_gender(text, words, a)
            found = resolve(index, ctx, ids, gender)
            spans.append(employee_span(text, words[a].start, words[b].end, found))
            used.update((a, b))
    has_cue = cue is not None or title_gender(text, words, first) is not None
    for a, b in zip(run, run[1:], strict=False):
        if a in used or b in used:
            continue
        if _is_person_pair(index, words[a], words[b], has_cue):
            end = b
            # A third part (Jean-Pierre Dubois, Anna Marie Smith) belongs to the name.
            after = run.index(b) + 1
            if after < len(run) and is_plain(words[run[after]]):
                if not words[run[after]].matches:
                    end = run[after]
            spans.append(other_span(text, words, a, end))
            used.update(range(a, end + 1))
    for i in run:
        if i not in used:
            span = _single(index, ctx, words, i, run, cue, used)
            if span is not None:
                spans.append(span)
    return spans


# TODO(#4): an unknown first name before an ordinary-word surname in its base form
# ("a meeting with Ignác Hunter") is still taken for a proper noun like "Burger King"
# and leaks whole; telling them apart needs a list of brand words.
def _introduces_unknown_first_name(
    index: DirectoryIndex, text: str, words: list[Word], run: list[int]
) -> bool:
    """A sentence opening "Zbyšek Král, ..." or "Hi, Ezekiel Dvořák here": someone else.

    An unknown first name (see ``_unknown_first_name``) opens the sentence or follows a
    greeting, and the surname is followed by a comma, the end of the sentence, an
    introduction word or a verb of a person ("Ezekiel Dvořák asked me ...").
    """
    if not _unknown_first_name(index, words, run):
        return False
    a, b = words[run[0]], words[run[1]]
    greeted = run[0] > 0 and words[run[0] - 1].folded in GREETINGS
    opens = a.is_initial or (greeted and text[words[run[0] - 1].end : a.start] == ", ")
    if not opens or a.folded in SENTENCE_STARTERS or a.folded.endswith("ly"):
        return False
    tail = text[b.end : b.end + 2]
    after = neighbour_folded(text, words, run[1], +1)
    if tail[:1] in (",", ".", "") or after in INTRODUCTION_AFTER:
        return True
    return has_person_verb(text, words, run[1])


def _unknown_first_name(
    index: DirectoryIndex, words: list[Word], run: list[int], any_case: bool = False
) -> bool:
    """The run opens with a capitalised word that is no name form, first name, stop
    word or sentence starter, followed by an employee's surname in its base form (or
    in any case form, with ``any_case``)."""
    if len(run) < 2:
        return False
    a, b = words[run[0]], words[run[1]]
    if not (a.is_cap and not a.matches and not a.is_lexicon and b.is_cap):
        return False
    if a.folded in SENTENCE_STARTERS or a.folded in index.stop or len(a.folded) < 3:
        return False
    highest = RANK_INFLECTED if any_case else RANK_BASE
    if not any(m.part == "last" and m.rank <= highest for m in b.matches):
        return False
    return not pair_ids(index, a, b)


def _is_person_pair(index: DirectoryIndex, a: Word, b: Word, has_cue: bool) -> bool:
    """'First Surname' of someone who is not in the directory (Martin Fischer)."""
    if not b.is_cap or b.folded in index.stop or a.folded in index.stop:
        return False
    if a.is_initial and a.folded in SENTENCE_STARTERS:
        return False  # "Can Vlk sign for this?"
    a_first = a.is_lexicon or any(m.part == "first" for m in a.matches)
    if a_first and a.is_cap:
        return True
    b_surname = any(m.part in ("last", "relative") for m in b.matches)
    if has_cue and a.is_cap:
        return True
    b_is_plain = b_surname and not any(m.wordlike for m in b.matches)
    return (
        a.is_cap
        and not a.is_initial
        and (b_is_plain or bool(FEMININE_SURNAME.search(b.text)))
    )


def _single(
    index: DirectoryIndex,
    ctx: Context,
    words: list[Word],
    i: int,
    run: list[int],
    cue: str | None,
    used: set[int],
) -> NameSpan | None:
    text, w = ctx.text, words[i]
    gender = title_gender(text, words, i)
    has_title = gender is not None
    if not w.matches and w.is_cap and not w.is_initial and not w.is_lexicon:
        if w.folded not in index.stop and len(w.folded) >= 4:
            index.lookup(w, allow_fuzzy=True)
    employee = [m for m in w.matches if m.part in ("first", "last")]
    # "pan Tran" is not the employee Trang: a title of the other gender rules out
    # every candidate.
    if gender and all(
        index.employees[m.employee_id].gender not in (gender, "u") for m in employee
    ):
        employee = []
    if employee and _is_accepted(index, ctx, words, i, run, used, has_title):
        if cue == "relation" and i == run[0] and not has_title:
            return other_span(text, words, i, i)
        return employee_span(
            text, w.start, w.end, resolve(index, ctx, employee, gender)
        )
    relative = bool(w.matches) and not employee
    # "i'm here to see mr hoffmann" about Sabine Hoffmann: the title is wrong for
    # every employee so called, but a lowercase name after a title is still a person.
    if has_title and relative and not w.is_cap and len(w.folded) >= 3:
        return other_span(text, words, i, i)
    if (
        w.is_cap
        and w.folded not in index.stop
        and (
            (relative and (has_title or not w.is_initial))
            or (w.is_lexicon and not employee)
            or (has_title and not employee)
            or (follows_relation(text, words, i, run, cue) and not employee)
            or (follows_speak_cue(words, i, run) and not employee and is_plain(w))
            or (is_feminine_surname(text, w) and not employee)
        )
    ):
        return other_span(text, words, i, i)
    return None


def _is_accepted(
    index: DirectoryIndex,
    ctx: Context,
    words: list[Word],
    i: int,
    run: list[int],
    used: set[int],
    has_title: bool,
) -> bool:
    """Whether a lone word matching an employee's name form is meant as a name."""
    w = words[i]
    if has_title:
        return True
    wordlike = any(m.wordlike for m in w.matches)
    if not w.is_cap:
        exact = not w.is_fuzzy and (
            w.text.isascii() or w.text.casefold() in index.exact
        )
        # An inflected lowercase Czech surname form is far more often a common noun
        # (beránka, kočku) than a name the recogniser forgot to capitalise.
        # "jdu za novákem" still counts: a preposition of visiting comes first.
        is_noun_like = (
            ctx.language == "cs"
            and neighbour_folded(ctx.text, words, i, -1) not in _VISIT_PREPOSITIONS
            and all(
                m.part == "last" and m.rank != RANK_BASE
                for m in w.matches
                if m.part in ("first", "last")
            )
        )
        return not wordlike and exact and len(w.folded) >= 3 and not is_noun_like
    pos = run.index(i)
    prev = words[run[pos - 1]] if pos > 0 else None
    prev_plain = (
        prev is not None
        and run[pos - 1] not in used
        and not prev.matches
        and not prev.is_initial
    )
    if prev_plain and not words[run[pos - 1]].is_lexicon and wordlike:
        return False  # part of a proper noun: "Burger King", "The Lion King"
    if wordlike and neighbour_folded(ctx.text, words, i, -1) in ARTICLES:
        return False  # "the King of Spreadsheets", "a Baker"
    next_plain = pos + 1 < len(run) and not words[run[pos + 1]].matches
    if wordlike and next_plain:
        return False  # "Black Forest"
    after_article = neighbour_folded(ctx.text, words, i, -1) in ARTICLES
    if next_plain and after_article and not words[run[pos + 1]].is_lexicon:
        return False  # "the Nagy Bakery order": a firm named after its founder
    if not w.is_initial or (w.is_possessive and not w.is_fuzzy):
        return True  # "Tesar's office is ...": an ordinary word takes no 's
    if w.is_fuzzy:
        return False
    return not wordlike or has_person_verb(ctx.text, words, i)
