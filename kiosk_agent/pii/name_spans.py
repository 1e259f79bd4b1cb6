"""Name spans: the record ``find_names`` returns, and joining the parts of one name.

Split out of kiosk_agent/pii/name_finder.py: building a span for an employee or someone
else, telling whether two words are one employee's first name and surname, merging
the parts of one name (Hrubá-Lindgren, Thu Trang Hoang), first names written in
lowercase right after a self-introduction or relation cue ("i'm george", "my daughter
zoe"), which the capitalisation-driven finder does not see, and a cued "First Surname"
whose surname is a place or title word ("my name is Kevin Hall").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Final

from kiosk_agent.pii.name_context import (
    Context,
    cue_before,
    is_plain,
    neighbour_folded,
    resolve,
    title_gender,
)
from kiosk_agent.pii.name_cues import (
    GREETINGS,
    PLACE_AFTER,
    PLACE_BEFORE,
    RELATION_CUES,
    SELF_CUES,
    STOP,
    TITLES,
)
from kiosk_agent.pii.name_index import DirectoryIndex, Word
from kiosk_agent.pii.name_misheard import fuzzy_partner, misheard_pair_ids
from kiosk_agent.pii.names import WORDLIKE, first_name_lexicon, fold

_HYPHEN_PART: Final = re.compile(r"-([^\W\d_]+)")


@dataclass(frozen=True, slots=True)
class NameSpan:
    """A person's name found in the text; employee ids empty for anyone else."""

    start: int
    end: int
    label: str
    employee_ids: tuple[str, ...]
    key: str


def lowercase_introduced(
    index: DirectoryIndex,
    text: str,
    words: list[Word],
    taken: Sequence[tuple[int, int]],
) -> list[NameSpan]:
    """Lowercase first names right after "i'm", "jsem", "my sister", "dcera": others.

    Only a word of the first-name lexicon that is no ordinary word, stop word or
    employee name form counts ("i'm george", "her sister laura", "my daughter zoe").
    """
    lexicon = first_name_lexicon()
    found: list[NameSpan] = []
    for i, w in enumerate(words):
        if w.is_cap or w.matches or w.folded not in lexicon or i == 0:
            continue
        if w.folded in WORDLIKE or w.folded in index.stop:
            continue
        if any(s < w.end and w.start < e for s, e in taken):
            continue
        if text[words[i - 1].end : w.start].strip(" ,") != "":
            continue
        before = tuple(x.folded for x in words[max(0, i - 3) : i])
        is_self = any(before[-len(cue) :] == cue for cue in SELF_CUES)
        if is_self or words[i - 1].folded in RELATION_CUES:
            last = i + 1 if _is_lowercase_surname(index, text, words, i) else i
            found.append(other_span(text, words, i, last))
    return found


_NOT_SURNAME: Final = frozenset(
    """from here there calling speaking and with for to at in on the a an i i'm im
    jsem jsme a z ze se s od do na k ke u za jdu mam mám have has had need would like
    was will want came come am is are sorry please prosím prosim""".split()
)
"""Lowercase words after a first name that do not make it "first surname"."""


def _is_lowercase_surname(
    index: DirectoryIndex, text: str, words: list[Word], i: int
) -> bool:
    """ "my name is karen whitlock and ...": after a naming cue, the lowercase word
    after a first name is its surname when a clause boundary or "and" follows it."""
    before = tuple(x.folded for x in words[max(0, i - 3) : i])
    if not any(before[-len(cue) :] == cue for cue in _NAMING_CUES):
        return False
    if i + 1 >= len(words) or text[words[i].end : words[i + 1].start] != " ":
        return False
    b = words[i + 1]
    if b.is_cap or b.folded in _NOT_SURNAME or b.folded in index.stop:
        return False
    after = text[b.end :].lstrip()
    return len(b.folded) >= 3 and (after[:1] in ("", ",", ".") or after[:4] == "and ")


_SIGN_OFFS: Final = frozenset({"here", "speaking", "calling"})
"""Words after a name that make it the speaker's own ("Kevin Hall here/speaking")."""


_NAMING_CUES: Final = (
    ("name", "is"),
    ("jmenuji", "se"),
    ("jmenuju", "se"),
    ("jmeno", "je"),
    ("rikaji", "mi"),
    ("call", "me"),
    ("na", "jmeno"),
)
"""Cues that can only be followed by a name, whatever word it is."""


# TODO(#4): a lowercase place-word surname ("my name is kevin hall") and a name with
# no cue ("Kevin Park is here to pick me up", "I am with Kevin Hall") still leak it.
def cued_surname(
    index: DirectoryIndex, text: str, words: list[Word], i: int
) -> int | None:
    """The index of a place or title word that is the surname of first name ``i``.

    After a self-introduction, relation cue or title ("my name is Kevin Hall", "my
    colleague Olga Doctor", "paní Ingrid Park"), or before a sign-off ("This is Kevin
    Hall speaking", "Good morning, Kevin Hall here"), a capitalised first name followed
    by a capitalised word is "First Surname" even when that word names places or
    titles elsewhere ("Carnegie Hall", "Dr."). Without such a cue "Victoria Park" and
    "Charles Bridge" stay places.
    """
    a = words[i]
    if i + 1 >= len(words) or not a.is_cap:
        return None
    before = tuple(w.folded for w in words[max(0, i - 2) : i])
    # After "my name is" or "jmenuji se" an unknown first name counts too.
    is_named = any(before[-len(cue) :] == cue for cue in _NAMING_CUES)
    is_first = a.is_lexicon or any(m.part == "first" for m in a.matches)
    if not (is_first or (is_named and is_plain(a) and a.folded not in index.stop)):
        return None
    b = words[i + 1]
    place_or_title = b.folded in PLACE_AFTER or b.folded in PLACE_BEFORE
    place_or_title = place_or_title or b.folded in TITLES
    is_plain_word = b.folded not in STOP or b.folded in PLACE_AFTER
    if not (place_or_title and is_plain_word and is_plain(b)):
        return None
    if text[a.end : b.start] != " ":
        return None
    # "It's Charles Bridge", "the sign says Victoria Park": a place, not a speaker.
    is_weak = before[-1:] in (("it's",), ("says",))
    has_cue = cue_before(text, words, i) is not None and not is_weak
    if has_cue or title_gender(text, words, i) is not None:
        return i + 1
    opens = a.is_initial or before == ("this", "is")
    opens = opens or bool(GREETINGS.intersection(before[-1:]))
    after = neighbour_folded(text, words, i + 1, +1)
    # "Kevin Hall here, ..." but not "Victoria Station here is closed".
    ends = text[words[i + 1].end :].lstrip().removeprefix(after)[:1] in ",.!?"
    is_sign_off = after in _SIGN_OFFS and (after != "here" or ends)
    return i + 1 if opens and is_sign_off else None


def cued_name(
    index: DirectoryIndex, ctx: Context, words: list[Word], i: int
) -> NameSpan | None:
    """First name i and a place or title word after it as one cued name (see
    ``cued_surname``): an employee's if the pair is one, else someone else's."""
    surname = cued_surname(index, ctx.text, words, i)
    if surname is None:
        return None
    span = other_span(ctx.text, words, i, surname)
    if ids := pair_ids(index, words[i], words[surname]):
        linked = resolve(index, ctx, ids, title_gender(ctx.text, words, i))
        span = employee_span(ctx.text, span.start, span.end, linked)
    return span


def pair_ids(index: DirectoryIndex, a: Word, b: Word) -> set[str]:
    """Employees whose first name and surname are words a and b (either order)."""
    if not a.matches and b.matches and a.is_cap:
        fuzzy_partner(index, a)
    if a.matches and not b.matches and b.is_cap:
        fuzzy_partner(index, b)
    firsts_a = {m.employee_id for m in a.matches if m.part == "first"}
    lasts_a = {m.employee_id for m in a.matches if m.part == "last"}
    firsts_b = {m.employee_id for m in b.matches if m.part == "first"}
    lasts_b = {m.employee_id for m in b.matches if m.part == "last"}
    # Two parts of one surname (Hrubá-Lindgren) count as a full name too.
    ids = (firsts_a & lasts_b) | (lasts_a & firsts_b) | (lasts_a & lasts_b)
    return ids or misheard_pair_ids(index, a, b)


def join_parts(
    text: str, spans: list[NameSpan], blocked: Sequence[tuple[int, int]]
) -> list[NameSpan]:
    """Merge the parts of a hyphenated surname into one span (Hrubá-Lindgren).

    Two spans of the same person joined by a bare hyphen (or, for an employee, a
    space) become one, and a name span
    followed by "-Capitalised" (Anna Smith-Jones, a part not in the directory) takes
    that part in.
    """
    out: list[NameSpan] = []
    for span in sorted(spans, key=lambda found: found.start):
        if out and out[-1].key == span.key:
            gap = text[out[-1].end : span.start]
            # One employee's first name of two words (Thu Trang Hoang) is one span.
            if gap == "-" or (gap == " " and span.label == "PERSON_EMPLOYEE"):
                span = replace(out.pop(), end=span.end)
        out.append(span)

    # A second part nobody recognised ("Smith-Jones") joins the span before it.
    taken = [(s.start, s.end) for s in out] + list(blocked)
    for n, span in enumerate(out):
        m = _HYPHEN_PART.match(text, span.end)
        if m is None or not m.group(1)[0].isupper():
            continue
        if any(start < m.end() and m.start() < end for start, end in taken):
            continue
        grown = replace(span, end=m.end())
        if span.label == "PERSON_OTHER":
            grown = replace(grown, key="P:" + fold(text[span.start : m.end()]))
        out[n] = grown
    return out


_SPELLED: Final = re.compile(r"(?<![\w'\u2019])[^\W\d_](?:[ \-][^\W\d_]){2,}(?!\w)")
"""Three or more single letters in a row: a name spelled out ("S M I T H")."""


def spelled_names(
    index: DirectoryIndex, text: str, spans: Sequence[NameSpan]
) -> list[NameSpan]:
    """Names spelled letter by letter ("my name is Smith, S M I T H").

    The letters count as a name when they spell a name already found in the same
    transcript (they then get its pseudonym) or an employee's surname (they link to
    that employee); other letter runs ("D H L") stay.
    """
    found: list[NameSpan] = []
    for m in _SPELLED.finditer(text):
        if any(s.start < m.end() and m.start() < s.end for s in spans):
            continue
        spelled = fold(m.group(0).replace(" ", "").replace("-", ""))
        said = [s for s in spans if spelled in fold(text[s.start : s.end]).split()]
        if said:
            found.append(replace(said[0], start=m.start(), end=m.end()))
            continue
        ids = {e.employee_id for e in index.folded.get(spelled, ()) if e.part == "last"}
        if ids:
            found.append(employee_span(text, m.start(), m.end(), tuple(sorted(ids))))
    return found


def employee_span(text: str, start: int, end: int, ids: tuple[str, ...]) -> NameSpan:
    """A span of an employee mention, linked to the candidate ids."""
    return NameSpan(start, end, "PERSON_EMPLOYEE", ids, "E:" + ",".join(ids))


def other_span(text: str, words: list[Word], a: int, b: int) -> NameSpan:
    """A span of someone else's name over words a..b."""
    start, end = words[a].start, words[b].end
    return NameSpan(start, end, "PERSON_OTHER", (), "P:" + fold(text[start:end]))
