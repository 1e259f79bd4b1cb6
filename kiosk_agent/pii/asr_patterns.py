"""Personal data as speech recognition writes it: glued e-mails, digits in odd groups.

Whisper turns a spoken "jonathan dot smith at example dot com" into
"JonathanDotsmiffandemple.com", and "six oh one, one one two ..." into
"100, 100, 100, 12, 233". The clean shapes in kiosk_agent/pii/patterns.py miss such
text, so these detectors lean on the cue the visitor said first ("my e-mail is",
"číslo", "call me on"): after an e-mail cue the address-like run of words is an e-mail,
and after a phone cue a run of number groups is a phone number, whatever its grouping.
"""

from __future__ import annotations

import re
from typing import Final

from kiosk_agent.pii.patterns import NUMBER_WORD, Found
from kiosk_agent.pii.spoken_dates import find_spoken_dates_of_birth

_TLD: Final = (
    r"(?:com|cz|org|net|eu|sk|de|uk|io|info|biz|edu|gov|co|us|pl|fr|it|es|ch|nl|at"
    r"|ru|ua|me|app|dev|online|email|cloud|hu)"
)
_EMAIL_CUE: Final = re.compile(
    r"\b(?:e[\s\-]?)?mail(?:ov\w*|u|em|s)?\b"
    r"(?:\s+(?:(?:z|ze|from|na|to)\s+)?(?:address|adres[aueyo]\w*))?"
    r"(?:\s*[:\-]|\s+(?:is|was|je|zní|zni|mám|mam|it's|its|na|to|me|at)\b)*",
    re.IGNORECASE,
)
"""An e-mail cue and the words that may follow it before the address itself."""

_ANY_EMAIL_CUE: Final = re.compile(r"\b(?:e[\s\-]?)?mail", re.IGNORECASE)
_TOKEN: Final = re.compile(r"\S+")
_SPOKEN_DOT: Final = r"(?:\.|dot|tečka|tecka)"
_GLUED_DOMAIN: Final = re.compile(rf"(?<=[^\W_]){_SPOKEN_DOT}{_TLD}\Z", re.IGNORECASE)
"""A domain suffix at the end of a token, glued to the letters before it."""
_BARE_TLD: Final = re.compile(rf"{_TLD}\Z")
_COMMON_TLDS: Final = frozenset("com cz org net eu sk de uk info".split())
"""Domain endings that close an address even without a spoken dot before them."""
_SEPARATORS: Final = frozenset(
    "dot at tečka tecka zavináč zavinac underscore podtržítko dash pomlčka".split()
)
_GLUED_SPOKEN: Final = re.compile(
    r"[^\W_]{2}(?:dot|tečka|tecka|zavináč|zavinac)[^\W_]{2}", re.IGNORECASE
)
_TRAILING: Final = ".,;:!?\"')"
_LOOKAHEAD_TOKENS: Final = 8
"""How many words after an e-mail cue may still belong to the address."""

_GLUED_TOKEN: Final = re.compile(
    rf"(?<![\w@.])[^\W_][\w.\-]*?[^\W_]{_SPOKEN_DOT}{_TLD}\b", re.IGNORECASE
)

_PHONE_CUE: Final = re.compile(
    r"\b(?:(?:phone|mobile|cell|tel\w*|mobil\w*|číslo|cislo|čísle|číslu|kontakt\w*)"
    r"(?:\s+(?:number|numbers|číslo|cislo))?"
    r"|(?:my|our|your|moje|mé)\s+number"
    r"|(?:call|reach|text|ring|contact)\s+me(?:\s+back)?"
    r"|(?:zavolejte|volejte|napište|pište)\s+mi)\b"
    r"(?:\s*[:\-]|\s+(?:is|was|je|mám|mam|mi|on|at|to|na|under|pod)\b)*\s*",
    re.IGNORECASE,
)
_NUMBER_GROUP: Final = rf"(?:\d{{1,4}}|{NUMBER_WORD})"
_NUMBER_RUN: Final = re.compile(
    rf"(?:\+\s*|plus\s+)?{_NUMBER_GROUP}\b"
    rf"(?:(?:\s*[,.\-/]\s*|\s+(?:and\s+|a\s+)?){_NUMBER_GROUP}\b)+",
    re.IGNORECASE,
)
_LEAST_PHONE_DIGITS: Final = 6
"""Digits (a number word counts as one) in a run after a phone cue to call it a
phone number: a recogniser drops some of the nine, "at 10, 11" has four."""


def find_garbled(text: str) -> list[Found]:
    """E-mails, phone numbers and dates of birth in the shapes speech recognition
    writes them in."""
    found = _cued_emails(text) + _glued_emails(text) + _cued_phones(text)
    return found + find_spoken_dates_of_birth(text)


def _cued_emails(text: str) -> list[Found]:
    """The address-like run of words right after an e-mail cue.

    The run ends at its last domain ("example.com", "seznam tečka cz", "xyzdotcom"),
    else at the end of a spoken chain ("jsmith at example"), else it is the first word
    alone when that word cannot be an ordinary one (inner capitals, digits, a glued
    "dot"). A run that is none of these ("my e-mail is the same") is no e-mail.
    """
    out: list[Found] = []
    for cue in _EMAIL_CUE.finditer(text):
        tokens = _tokens_after(text, cue.end())
        if not tokens:
            continue
        ends = [_domain_end(tokens), _chain_end(tokens)]
        if _looks_glued(tokens[0][2]):
            ends.append(tokens[0][1])
        end = max((e for e in ends if e is not None), default=None)
        if end is not None:
            start = tokens[0][0]
            out.append(Found(start, end, "EMAIL", _alnum(text[start:end])))
    return out


def _tokens_after(text: str, start: int) -> list[tuple[int, int, str]]:
    """(start, end, word) of the words after ``start`` up to the end of the clause."""
    out: list[tuple[int, int, str]] = []
    for m in _TOKEN.finditer(text, start):
        if len(out) == _LOOKAHEAD_TOKENS or m.group(0).startswith("<"):
            break
        word = m.group(0).rstrip(_TRAILING)
        if word:
            out.append((m.start(), m.start() + len(word), word))
        # A comma or a sentence end closes the address: "example.com." keeps its dots.
        cut = m.group(0)[len(word) :]
        if not word or cut[:1] in (".", ",", ";", "!", "?"):
            break
    return out


def _domain_end(tokens: list[tuple[int, int, str]]) -> int | None:
    """End of the last word that is a domain ending ("example.com", "dot cz")."""
    end: int | None = None
    for n, (_, token_end, word) in enumerate(tokens):
        folded = word.casefold()
        if _GLUED_DOMAIN.search(word):
            end = token_end
        elif n > 0 and _BARE_TLD.match(folded):
            after_dot = tokens[n - 1][2].casefold() in _SEPARATORS
            if after_dot or folded in _COMMON_TLDS:
                end = token_end
    return end


def _chain_end(tokens: list[tuple[int, int, str]]) -> int | None:
    """End of "word (dot|at|zavináč) word ..." from the first word, if it has a link."""
    n = 0
    while n + 2 < len(tokens) and tokens[n + 1][2].casefold() in _SEPARATORS:
        n += 2
    return tokens[n][1] if n else None


def _looks_glued(word: str) -> bool:
    """A word that cannot be an ordinary one: inner capitals, digits, a glued "dot"."""
    inner_capital = any(
        a.islower() and b.isupper() for a, b in zip(word, word[1:], strict=False)
    )
    odd = any(c.isdigit() or c in "_@." for c in word)
    return inner_capital or odd or _GLUED_SPOKEN.search(word) is not None


def _glued_emails(text: str) -> list[Found]:
    """A glued domain ("Smithatgmail.com", "xyzdotcom") when an e-mail cue was said."""
    if _ANY_EMAIL_CUE.search(text) is None:
        return []
    return [
        Found(m.start(), m.end(), "EMAIL", _alnum(m.group(0)))
        for m in _GLUED_TOKEN.finditer(text)
    ]


def _cued_phones(text: str) -> list[Found]:
    """A run of number groups right after a phone cue, in any grouping."""
    out: list[Found] = []
    for cue in _PHONE_CUE.finditer(text):
        m = _NUMBER_RUN.match(text, cue.end())
        if m is None:
            continue
        groups = re.findall(rf"\b{_NUMBER_GROUP}\b", m.group(0), re.IGNORECASE)
        count = sum(len(g) if g.isdigit() else 1 for g in groups)
        if count >= _LEAST_PHONE_DIGITS:
            out.append(Found(m.start(), m.end(), "PHONE", _alnum(m.group(0))))
    return out


def _alnum(text: str) -> str:
    return "".join(c for c in text.casefold() if c.isalnum())
