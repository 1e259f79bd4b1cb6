"""Find people's names in one transcript: directory employees and everyone else.

``DirectoryIndex`` is built once per directory version: every Czech case form of every
employee's first name, surname and nicknames (with and without diacritics), plus a
deletion index for ASR misspellings. ``find_names`` then walks the words of a
transcript, groups adjacent name-like words into runs ("Pavla Krále", "Martin Fischer
from"), and decides each run from evidence: a first name and surname of the same
employee together, a title before it (Mr., paní, panem ředitelem), a self-introduction
cue ("my name is", "jmenuji se"), capitals away from the start of a sentence, and
whether the surname is also an ordinary word ("black coffee", "zima").
"""

# TODO(#4): split DirectoryIndex into its own module; this one is past 600 lines.

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

from kiosk_agent.messages import Employee
from kiosk_agent.names import (
    NICKNAMES,
    RANK_BASE,
    RANK_DERIVED,
    RANK_INFLECTED,
    WORDLIKE,
    feminine_surname,
    first_name_lexicon,
    fold,
    inflect,
    masculine_surname,
)

WORD: Final = re.compile(r"[^\W\d_]+(?:['\u2019][^\W\d_]+)*")

_TITLES: Final[dict[str, str]] = {
    **dict.fromkeys(
        [
            "mr",
            "mister",
            "sir",
            "herr",
            "pan",
            "pana",
            "panu",
            "panem",
            "pane",
            "pán",
            "panovi",
        ],
        "m",
    ),
    **dict.fromkeys(
        [
            "ms",
            "mrs",
            "miss",
            "madam",
            "frau",
            "paní",
            "pani",
            "slečna",
            "slečny",
            "slečně",
            "slečnu",
            "slečnou",
            "slecna",
        ],
        "f",
    ),
    **dict.fromkeys(
        [
            "dr",
            "doctor",
            "prof",
            "professor",
            "ing",
            "mgr",
            "bc",
            "doktor",
            "doktora",
            "doktorem",
            "doktorovi",
            "inženýr",
            "inženýra",
            "inženýrem",
            "ředitel",
            "ředitele",
            "řediteli",
            "ředitelem",
            "director",
            "kolegy",
            "vedoucí",
            "vedoucího",
            "vedoucím",
        ],
        "",
    ),
    **dict.fromkeys(
        [
            "doktorka",
            "doktorku",
            "doktorkou",
            "doktorce",
            "ředitelka",
            "ředitelku",
            "ředitelkou",
            "ředitelce",
            "inženýrka",
            "inženýrku",
            "inženýrkou",
        ],
        "f",
    ),
}
"""Titles and forms of address (folded, without the dot) and the gender they show."""

# TODO(#4): an unknown first name not in the lexicon, at the start of a sentence and
# followed by a plain surname, is still taken as an employee mention, not a visitor.
_SELF_CUES: Final = (
    ("my", "name", "is"),
    ("name", "is"),
    ("name's",),
    ("i'm",),
    ("i", "am"),
    ("call", "me"),
    ("jmenuji", "se"),
    ("jmenuju", "se"),
    ("jmenuje", "se"),
    ("jsem",),
    ("ja", "jsem"),
    ("rikaji", "mi"),
    ("mi", "rikaji"),
    ("it's",),
    ("says",),
    ("named",),
    ("jmenem",),
    ("na", "jmeno"),
)
"""Words before a name that is not the employee's even if it sounds the same."""

_RELATION_CUES: Final = frozenset(
    fold(w)
    for w in """colleague colleagues brother sister wife husband son daughter
    mother father friend partner courier driver kolega kolegou kolegu kolegovi kolegyně
    kolegyní kolegyni bratr bratrem bratra sestra sestrou sestru manželka manželkou
    manžel manželem syn synem dcera dcerou kamarád kamarádem kamarádka kamarádkou
    řidič kurýr""".split()
)
"""Words right before a name of someone the visitor brought or speaks of."""

_STOP: Final = frozenset(
    fold(w)
    for w in """
    monday tuesday wednesday thursday friday saturday sunday january february march
    april may june july august september october november december pondělí úterý
    středa čtvrtek pátek sobota neděle leden únor březen duben květen červen
    červenec srpen září říjen listopad prosinec czech english german polish slovak
    american british french italian spanish ukrainian russian indian chinese
    japanese austrian dutch hungarian i i'm i'll i've i'd meeting room office
    building floor street square airport station university hall team teams the a
    an and or hello hi hey good morning afternoon evening dobrý den ahoj thanks
    thank please sorry yes no ok okay dear god christmas vánoce easter wifi wi fi
    dobré ráno odpoledne večer prosím děkuji děkuju ano ne
    """.split()
)
"""Capitalised words that are never part of a private person's name."""

_PLACE_AFTER: Final = frozenset(
    fold(w)
    for w in """airport street st square avenue road bridge station park hall
    university college school institute hospital hotel centre center tower building
    stadium arena theatre theater museum gallery prize award foundation lane way drive
    boulevard gardens church cathedral castle palace library memorial monument
    company group inc ltd gmbh corp restaurant cafe bistro pub letiště náměstí ulice
    nábřeží nádraží most třída sady""".split()
)
_PLACE_BEFORE: Final = frozenset(
    fold(w)
    for w in """náměstí nám ulice ulici ulicí nábřeží třída třídě letiště
    letišti nádraží most mostu sady park hotel hotelu restaurace kavárna kavárně room
    zasedačka zasedačce zasedačku zasedačky místnost místnosti budova budově budovy
    stanice zastávka metro kostel gymnázium škola univerzita nemocnice firma firmy
    firmě firmou společnost společnosti street""".split()
)
_PERSON_VERBS: Final = frozenset(
    fold(w)
    for w in """said says told asked called wants wrote sent
    říkal říkala řekl řekla volal volala psal psala poslal poslala chtěl chtěla čeká
    čekal čekala""".split()
)
_ARTICLES: Final = frozenset({"the", "a", "an", "this", "that", "our", "my", "your"})
_GENERIC_ROLE_WORDS: Final = frozenset(
    "of and the for head lead senior junior specialist manager partner business "
    "officer assistant".split()
)
_DEPARTMENT_STEMS: Final[dict[str, tuple[str, ...]]] = {
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
_FEMININE_SURNAME: Final = re.compile(r"(?:ová|ové|ovou|ská|cká|ské|cké|skou|ckou)$")


@dataclass(frozen=True, slots=True)
class Match:
    """A word that is one form of an employee's name."""

    employee_id: str
    part: str
    """'first', 'last', or 'relative' (a surname form of the other gender)."""
    rank: int
    wordlike: bool
    """The name is also an ordinary word (Black, Zima): needs stronger evidence."""


@dataclass(frozen=True, slots=True)
class NameSpan:
    """A person's name found in the text; employee ids empty for anyone else."""

    start: int
    end: int
    label: str
    employee_ids: tuple[str, ...]
    key: str


@dataclass(slots=True)
class _Word:
    start: int
    end: int
    text: str
    folded: str
    is_cap: bool
    is_initial: bool
    matches: list[Match] = field(default_factory=list)
    is_fuzzy: bool = False
    is_lexicon: bool = False


class DirectoryIndex:
    """Every written form of every employee's names, built once per directory."""

    def __init__(self, employees: Sequence[Employee], fuzzy_max_distance: int) -> None:
        self.employees = {e.id: e for e in employees}
        self.fuzzy_max_distance = fuzzy_max_distance
        self.exact: dict[str, list[Match]] = {}
        self.folded: dict[str, list[Match]] = {}
        self.deletes: dict[str, set[str]] = {}
        self.context: dict[str, tuple[set[str], set[str]]] = {}
        self.stop = set(_STOP) | _PLACE_AFTER
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
        for word in name.split():
            if len(word) <= 1 or (word.islower() and len(word) <= 3):
                continue  # particles such as "van", "de"
            base = fold(word)
            wordlike = base in WORDLIKE or (
                part == "relative" and fold(masculine_surname(word) or "") in WORDLIKE
            )
            for form in inflect(word, gender):
                rank = form.rank if part != "alias" else max(form.rank, RANK_INFLECTED)
                match = Match(eid, "first" if part == "alias" else part, rank, wordlike)
                self._add(form.form, match, fuzzy=rank < RANK_DERIVED)
                for variant in _umlaut_variants(form.form):
                    self._add(variant, match, fuzzy=False)

    def _add_employee(self, e: Employee) -> None:
        gender = e.gender if e.gender in ("m", "f") else "u"
        self._add_name(e.first_name, gender, e.id, "first")
        self._add_name(e.last_name, gender, e.id, "last")
        for alias in NICKNAMES.get(e.first_name.casefold(), ()) + e.aliases:
            self._add_name(alias, gender, e.id, "alias")
        if gender == "f" and not e.last_name.casefold().endswith(("á", "a")):
            self._add_name(e.last_name + "ová", "f", e.id, "last")
        elif gender == "m":
            self._add_name(feminine_surname(e.last_name), "f", e.id, "relative")
        elif gender == "f" and (male := masculine_surname(e.last_name)):
            self._add_name(male, "m", e.id, "relative")
        self.stop.update(fold(w) for w in e.department.split() if len(w) > 3)
        words = {fold(w) for w in (e.role + " " + e.department).split()}
        words -= _GENERIC_ROLE_WORDS
        acronym = "".join(w[0] for w in e.role.split() if w[:1].isupper())
        stems = set(_DEPARTMENT_STEMS.get(fold(e.department), ()))
        stems.update(w for w in words if len(w) > 3)
        exact = {w for w in (e.department, acronym) if 2 <= len(w) <= 4}
        self.context[e.id] = (stems, exact)

    def lookup(self, word: _Word, allow_fuzzy: bool) -> None:
        """Fill ``word.matches`` from the exact, folded or fuzzy index."""
        key = word.text.casefold().replace("\u2019", "'")
        matches = self.exact.get(key)
        if matches is None and (word.is_cap or key.isascii()):
            matches = self.folded.get(word.folded)
        if matches is None and allow_fuzzy and word.is_cap:
            matches = self._fuzzy(word.folded)
            word.is_fuzzy = matches is not None
        word.matches = list(matches or ())

    def _fuzzy(self, folded: str) -> list[Match] | None:
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
                if _distance(folded, form) <= limit:
                    found += [m for m in self.folded[form] if m.rank < RANK_DERIVED]
        return found or None


def _deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def _umlaut_variants(form: str) -> list[str]:
    if not any(c in form for c in "äöü"):
        return []
    return [form.replace("ä", "ae").replace("ö", "oe").replace("ü", "ue")]


def _distance(a: str, b: str) -> int:
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


def is_sentence_initial(text: str, start: int) -> bool:
    """True when only punctuation and spaces separate ``start`` from a sentence end."""
    i = start - 1
    while i >= 0 and not text[i].isalnum():
        if text[i] in ".?!":
            return True
        i -= 1
    return i < 0


@dataclass(frozen=True, slots=True)
class _Context:
    """What the whole transcript says that helps choose between employees."""

    text: str
    language: str
    folded_words: tuple[str, ...]
    words: frozenset[str]
    digits: str


def find_names(
    index: DirectoryIndex, text: str, blocked: Sequence[tuple[int, int]], language: str
) -> list[NameSpan]:
    """Names of employees and other people in ``text``, outside ``blocked`` spans."""
    words = _words(index, text, blocked)
    context = _Context(
        text=text,
        language=language,
        folded_words=tuple(w.folded for w in words),
        words=frozenset(m.group(0) for m in WORD.finditer(text)),
        digits="".join(c for c in text if c.isdigit()),
    )
    spans: list[NameSpan] = []
    for run in _runs(index, text, words):
        spans += _decide(index, context, words, run)
    return spans


def _words(
    index: DirectoryIndex, text: str, blocked: Sequence[tuple[int, int]]
) -> list[_Word]:
    lexicon = first_name_lexicon()
    out: list[_Word] = []
    for m in WORD.finditer(text):
        start, end, surface = m.start(), m.end(), m.group(0)
        if any(s < end and start < e for s, e in blocked):
            continue
        if len(surface) > 3 and surface[-2:].casefold() in ("'s", "\u2019s"):
            end, surface = end - 2, surface[:-2]
        folded = fold(surface)
        initial = is_sentence_initial(text, start) and not (
            out
            and out[-1].folded in _TITLES
            and text[out[-1].end : start].strip() == "."
        )
        word = _Word(start, end, surface, folded, surface[0].isupper(), initial)
        word.is_lexicon = word.is_cap and folded in lexicon
        if folded not in _TITLES:
            index.lookup(word, allow_fuzzy=False)
        out.append(word)
    return out


def _is_adjacent(text: str, a: _Word, b: _Word) -> bool:
    gap = text[a.end : b.start]
    return len(gap) <= 3 and gap.strip() == ""


def _is_nameish(index: DirectoryIndex, w: _Word) -> bool:
    if w.folded in _TITLES:
        return False
    return bool(w.matches) or w.is_lexicon or (w.is_cap and w.folded not in index.stop)


def _runs(index: DirectoryIndex, text: str, words: list[_Word]) -> list[list[int]]:
    runs: list[list[int]] = []
    for i, w in enumerate(words):
        if not _is_nameish(index, w):
            continue
        if runs and runs[-1][-1] == i - 1 and _is_adjacent(text, words[i - 1], w):
            runs[-1].append(i)
        else:
            runs.append([i])
    return runs


def _title_gender(text: str, words: list[_Word], i: int) -> str | None:
    """The gender shown by a title right before word i ('' if none shown), else None."""
    j = i - 1
    gender: str | None = None
    while j >= 0 and i - j <= 2:
        prev = words[j]
        gap = text[prev.end : words[j + 1].start]
        if prev.folded not in _TITLES or gap.strip() not in ("", "."):
            break
        gender = _TITLES[prev.folded] or gender or ""
        j -= 1
    return gender


def _cue_before(text: str, words: list[_Word], i: int) -> str | None:
    """'self' or 'relation' when a cue phrase ends right before word i."""
    for cue in _SELF_CUES:
        n = len(cue)
        if i >= n and tuple(w.folded for w in words[i - n : i]) == cue:
            gap = text[words[i - 1].end : words[i].start]
            if gap.strip() in ("", ","):
                return "self"
    if i >= 1 and words[i - 1].folded in _RELATION_CUES:
        before = words[i - 2].folded if i >= 2 else ""
        if before not in ("her", "his", "their", "jeho", "jeji", "jejich", "of"):
            return "relation"
    return None


def _neighbour_folded(text: str, words: list[_Word], i: int, step: int) -> str:
    j = i + step
    if not 0 <= j < len(words):
        return ""
    a, b = (words[j], words[i]) if step < 0 else (words[i], words[j])
    return words[j].folded if _is_adjacent(text, a, b) else ""


def _decide(
    index: DirectoryIndex, ctx: _Context, words: list[_Word], run: list[int]
) -> list[NameSpan]:
    text = ctx.text
    first, last = run[0], run[-1]
    if _neighbour_folded(text, words, first, -1) in _PLACE_BEFORE:
        return []
    if _neighbour_folded(text, words, last, +1) in _PLACE_AFTER:
        return []
    cue = _cue_before(text, words, first)
    if cue == "self" and words[first].is_cap:
        caps = [i for i in run[:3] if words[i].is_cap]
        return [_other(text, words, caps[0], caps[-1])]

    spans: list[NameSpan] = []
    used: set[int] = set()
    for a, b in zip(run, run[1:], strict=False):
        ids = _pair_ids(index, words[a], words[b])
        if ids and a not in used:
            gender = _title_gender(text, words, a)
            found = _resolve(index, ctx, ids, gender)
            spans.append(_employee(text, words[a].start, words[b].end, found))
            used.update((a, b))
    has_cue = cue is not None or _title_gender(text, words, first) is not None
    for a, b in zip(run, run[1:], strict=False):
        if a in used or b in used:
            continue
        if _is_person_pair(index, words[a], words[b], has_cue):
            end = b
            spans.append(_other(text, words, a, end))
            used.update((a, b))
    for i in run:
        if i not in used:
            span = _single(index, ctx, words, i, run, cue, used)
            if span is not None:
                spans.append(span)
    return spans


def _pair_ids(index: DirectoryIndex, a: _Word, b: _Word) -> set[str]:
    """Employees whose first name and surname are words a and b (either order)."""
    if not a.matches and b.matches and a.is_cap:
        _fuzzy_partner(index, a)
    if a.matches and not b.matches and b.is_cap:
        _fuzzy_partner(index, b)
    firsts_a = {m.employee_id for m in a.matches if m.part == "first"}
    lasts_a = {m.employee_id for m in a.matches if m.part == "last"}
    firsts_b = {m.employee_id for m in b.matches if m.part == "first"}
    lasts_b = {m.employee_id for m in b.matches if m.part == "last"}
    return (firsts_a & lasts_b) | (lasts_a & firsts_b)


def _fuzzy_partner(index: DirectoryIndex, w: _Word) -> None:
    """Look a word up again with fuzzy matching, allowed next to a matched name."""
    if w.folded in index.stop or len(w.folded) < 3:
        return
    found = index._fuzzy(w.folded) if len(w.folded) >= 4 else None
    if found is None and len(w.folded) == 3:
        found = [
            m
            for form, ms in index.folded.items()
            if len(form) == 3 and _distance(form, w.folded) <= 1
            for m in ms
            if m.rank == RANK_BASE
        ] or None
    if found:
        w.matches, w.is_fuzzy = list(found), True


def _is_person_pair(index: DirectoryIndex, a: _Word, b: _Word, has_cue: bool) -> bool:
    """'First Surname' of someone who is not in the directory (Martin Fischer)."""
    if not b.is_cap or b.folded in index.stop or a.folded in index.stop:
        return False
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
        and (b_is_plain or bool(_FEMININE_SURNAME.search(b.text)))
    )


def _single(
    index: DirectoryIndex,
    ctx: _Context,
    words: list[_Word],
    i: int,
    run: list[int],
    cue: str | None,
    used: set[int],
) -> NameSpan | None:
    text, w = ctx.text, words[i]
    gender = _title_gender(text, words, i)
    has_title = gender is not None
    if not w.matches and w.is_cap and not w.is_initial and not w.is_lexicon:
        if w.folded not in index.stop and len(w.folded) >= 4:
            index.lookup(w, allow_fuzzy=True)
    employee = [m for m in w.matches if m.part in ("first", "last")]
    if employee and _is_accepted(index, ctx, words, i, run, used, has_title):
        if cue == "relation" and i == run[0] and not has_title:
            return _other(text, words, i, i)
        return _employee(text, w.start, w.end, _resolve(index, ctx, employee, gender))
    relative = bool(w.matches) and not employee
    if (
        w.is_cap
        and w.folded not in index.stop
        and (
            (relative and (has_title or not w.is_initial))
            or (w.is_lexicon and not employee)
            or (has_title and not employee)
            or (bool(_FEMININE_SURNAME.search(w.text)) and len(w.text) >= 6)
        )
    ):
        return _other(text, words, i, i)
    return None


def _is_accepted(
    index: DirectoryIndex,
    ctx: _Context,
    words: list[_Word],
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
        return not wordlike and exact and len(w.folded) >= 3
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
    if wordlike and _neighbour_folded(ctx.text, words, i, -1) in _ARTICLES:
        return False  # "the King of Spreadsheets", "a Baker"
    next_plain = pos + 1 < len(run) and not words[run[pos + 1]].matches
    if wordlike and next_plain:
        return False  # "Black Forest"
    if not w.is_initial:
        return True
    if w.is_fuzzy:
        return False
    return not wordlike or _neighbour_folded(ctx.text, words, i, +1) in _PERSON_VERBS


def _resolve(
    index: DirectoryIndex,
    ctx: _Context,
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
        scores = {e: _context_score(index, ctx, e) for e in ids}
        top = max(scores.values())
        if top > 0:
            ids = [e for e in ids if scores[e] == top]
    return tuple(ids)


def _context_score(index: DirectoryIndex, ctx: _Context, eid: str) -> int:
    stems, exact = index.context[eid]
    score = sum(1 for s in stems if any(w.startswith(s) for w in ctx.folded_words))
    score += sum(1 for x in exact if x in ctx.words)
    phone = "".join(c for c in index.employees[eid].phone if c.isdigit())[-9:]
    if len(phone) == 9 and phone in ctx.digits:
        score += 3
    return score


def _employee(text: str, start: int, end: int, ids: tuple[str, ...]) -> NameSpan:
    return NameSpan(start, end, "PERSON_EMPLOYEE", ids, "E:" + ",".join(ids))


def _other(text: str, words: list[_Word], a: int, b: int) -> NameSpan:
    start, end = words[a].start, words[b].end
    return NameSpan(start, end, "PERSON_OTHER", (), "P:" + fold(text[start:end]))
