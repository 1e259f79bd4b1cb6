"""Pattern detectors for personal data that is not a name: numbers, e-mails, addresses.

Each detector returns ``Found`` spans (offsets into the text it was given). Shapes that
are personal by themselves (an e-mail, a +420 number, a Czech plate, a birth number)
are always found; shapes that are only personal in context (a date, "Korunní 48", a
foreign plate) need a cue word in the same utterance, e.g. "passport", "born",
"bydlím". A bare number of seven or more digits is replaced unless a business word
("order", "faktura") stands right before it. English and Czech cues are both active
whatever the language tag says, because visitors mix them. The shapes speech
recognition garbles these into are in kiosk_agent/pii/asr_patterns.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

UPPER: Final = "A-ZÁČĎÉĚÍŇÓŘŠŤÚŮÝŽÄÖÜŁŚŻŹĆŃ"
LETTER: Final = r"[^\W\d_]"


@dataclass(frozen=True, slots=True)
class Found:
    """One piece of personal data found by a pattern."""

    start: int
    end: int
    label: str
    key: str
    """A normalised value, so the same number said twice gets the same pseudonym."""


def _rx(pattern: str, flags: int = re.IGNORECASE) -> re.Pattern[str]:
    return re.compile(pattern, flags)


_EMAIL: Final = _rx(r"[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)*\.[a-z]{2,}\b")
_SPOKEN_WORD: Final = r"[^\W_]+(?:[.\-_][^\W_]+)*"
_SPOKEN_SEP: Final = (
    r"\s*(?:\bdot\b|\btečka\b|\btecka\b|\bunderscore\b|\bpodtržítko\b|\bpodtrzitko\b"
    r"|\bdash\b|\bhyphen\b|\bpomlčka\b|\bpomlcka\b|\.)\s*"
)
_SPOKEN_AT: Final = r"\s+(?:at\s+sign|at|zavináč|zavinac|@)\s+"
_SPOKEN_DOT: Final = r"\s*(?:\bdot\b|\btečka\b|\btecka\b|\.)\s*"
_SPOKEN_EMAIL: Final = _rx(
    rf"\b{_SPOKEN_WORD}(?:{_SPOKEN_SEP}{_SPOKEN_WORD})*{_SPOKEN_AT}"
    rf"{_SPOKEN_WORD}(?:{_SPOKEN_SEP}{_SPOKEN_WORD})*?{_SPOKEN_DOT}[a-z]{{2,6}}\b(?!{_SPOKEN_AT})"
)

_WORD_BEFORE: Final = re.compile(rf"(?<![\w'\u2019.\-@])({LETTER}+)\s+\Z")
_NOT_LOCAL_PART: Final = frozenset(
    """is was be to at on in me my it its it's the an and or of for by via je na to mi
    můj moje mě mne nebo zní je jsem email mail address adresa adresu adrese send
    write pošlete napište piste poslat napsat reach contact me please prosím z ze
    from adresy""".split()
)
"""Lowercase words before a spoken e-mail that are never part of its local part."""

# A "00" prefix opens a number; it never continues a digit group before it (the
# middle of "tracking number 7734 0091 5521").
_INTL_PHONE: Final = _rx(
    r"(?<![\w+])(?<!\d[ \-])(?:\+|\b00)\d{1,3}(?:[ \-./]?\(?\d{1,4}\)?){2,6}"
)
_GROUPED_DIGITS: Final = _rx(
    r"(?<![\w/.:,])\d{2,5}(?:[ \-]\d{2,4}){1,5}(?![\w/]|[.:]\d)"
)
_LONG_DIGITS: Final = _rx(r"(?<![\w/.:])\d{7,15}(?![\w/]|[.:]\d)")
_DIGIT_WORD: Final = (
    r"(?:zero|oh|one|two|three|four|five|six|seven|eight|nine|nula|jedna|jednička|"
    r"dva|dvě|tři|tri|čtyři|ctyri|pět|pet|šest|sest|sedm|osm|devět|devet)"
)
NUMBER_WORD: Final = (
    rf"(?:{_DIGIT_WORD}|double|triple|ten|eleven|twelve|thirteen|fourteen|fifteen"
    r"|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy"
    r"|eighty|ninety|hundred|deset|jedenáct|dvanáct|třináct|čtrnáct|patnáct"
    r"|šestnáct|sedmnáct|osmnáct|devatenáct|dvacet|třicet|čtyřicet|padesát|šedesát"
    r"|sedmdesát|osmdesát|devadesát|sto|stě|sta|set|jeden|jedno)"
)
_SPOKEN_DIGITS: Final = _rx(
    rf"(?:\bplus\s+)?(?:\b(?:double|triple)\s+)?\b{_DIGIT_WORD}"
    rf"(?:(?:[\s,.\-]|\band\b|\ba\b)+{NUMBER_WORD}){{6,}}\b"
)
"""A phone number said as words: at least seven number words in a row ("seven seven
six ...", "šest set tři, dvě stě dvanáct ..."), with a spoken "plus" before it."""

_BIRTH_NUMBER: Final = _rx(r"(?<![\w/])\d{2}[0-35-8]\d{3}\s?/\s?\d{3,4}(?![\w/])")
_LETTER_ID: Final = re.compile(
    rf"(?<!\w)[{UPPER}]{{1,3}}[ \-]?\d{{3}}[ \-]?\d{{3,4}}(?!\w)"
)
_CZ_PLATE: Final = re.compile(rf"(?<!\w)\d[{UPPER}][{UPPER}0-9][ \-]?\d{{4}}(?!\w)")
_FOREIGN_PLATE: Final = re.compile(
    rf"(?<!\w)(?=[{UPPER}0-9 \-]*\d)(?=[{UPPER}0-9 \-]*[{UPPER}])"
    rf"[{UPPER}0-9]{{1,4}}(?:[ \-][{UPPER}0-9]{{1,5}}){{0,2}}(?!\w)"
)

_ID_CUE: Final = _rx(
    r"\b(?:id|identity|passport|pas[ua]?|občank\w*|obcank\w*|průkaz\w*|prukaz\w*"
    r"|licen[cs]e|driver'?s|driving|řidičák\w*|ridicak\w*|řidičsk\w*|rodné|rodne"
    r"|birth\s+number|social\s+security|insurance\s+number|pojištěnc\w*|doklad\w*)\b"
)
_PLATE_CUE: Final = _rx(
    r"\b(?:plates?|registration|reg\.?|spz|rz|značk\w*|znack\w*|číslo\s+auta"
    r"|cislo\s+auta|car|auto|autem|vůz|vehicle)\b"
)
_PHONE_CUE: Final = _rx(
    r"\b(?:phone|mobile|cell|number|line|call|tel\w*|mobil\w*|číslo|cislo|volat"
    r"|zavolejte|zavolat)\b"
)
_BUSINESS_CUE: Final = _rx(
    r"\b(?:order|orders|invoice|reference|ref|tracking|shipment|parcel|ticket|case"
    r"|po|contract|account|objednávk\w*|objednavk\w*|faktur\w*|zásilk\w*|zasilk\w*"
    r"|balík\w*|balik\w*|smlouv\w*|jednací|jednaci|tiket\w*|účet|ucet)\b"
)
"""Words right before a number that make it a business reference, not personal."""
BIRTH_CUE: Final = _rx(
    r"\b(?:born|birth|birthday|dob|date\s+of\s+birth|narozen\w*|narodil\w*"
    r"|narození|narozeni|nar\.)"
)
_ADDRESS_CUE: Final = _rx(
    r"\b(?:address|live|living|lives|home|street|adres\w*|bydlím|bydlim|bydliště"
    r"|bydliste|bytem|bydlí|domů|domu|ulice|ulici|trvalé|trvale)\b"
)

MONTHS_EN: Final = (
    r"(?:january|february|march|april|may|june|july|august|september|october"
    r"|november|december|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec)"
)
MONTHS_CS: Final = (
    r"(?:ledna|února|unora|března|brezna|dubna|května|kvetna|června|cervna"
    r"|července|cervence|srpna|září|zari|října|rijna|listopadu|prosince)"
)
_DATES: Final = (
    _rx(r"(?<![\d.])\d{1,2}\.\s?\d{1,2}\.\s?(?:19|20)\d{2}\b"),
    _rx(r"(?<![\d/])\d{1,2}/\d{1,2}/(?:19|20)?\d{2}\b"),
    _rx(r"\b(?:19|20)\d{2}-\d{2}-\d{2}\b"),
    _rx(
        rf"\b\d{{1,2}}(?:st|nd|rd|th)?(?:\s+of)?\s+{MONTHS_EN}\.?,?\s+(?:19|20)\d{{2}}\b"
    ),
    _rx(rf"\b{MONTHS_EN}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+(?:19|20)\d{{2}}\b"),
    _rx(rf"(?<![\d.])\d{{1,2}}\.\s*{MONTHS_CS}\s+(?:19|20)\d{{2}}\b"),
)
_YEAR_AFTER_CUE: Final = _rx(r"\b(?:v\s+roce|roku|in)\s+((?:19|20)\d{2})\b")
_LATEST_BIRTH_YEAR: Final = 2012
"""A full date with a year up to this one is taken as a date of birth even without a
cue: meeting dates are in the present, while visitors were born long before."""

_STREET_WORD: Final = rf"[{UPPER}]{LETTER}*\.?"
_STREET_PREP: Final = (
    r"(?:Pod|Nad|Na|U|V|Ve|K|Ke|Za|Před|Mezi|Při|Nové|Staré|Malé|Velké)"
)
_PLACE_NOUN: Final = r"(?:náměstí|nám\.|nábřeží|třída|tř\.|sady|ulice|ul\.)"
_HOUSE_NUMBER: Final = r"\d{1,4}[a-zA-Z]?(?:/\d{1,4}[a-zA-Z]?)?"
_CZ_STREET: Final = re.compile(
    rf"(?<!\w)(?:{_STREET_PREP}\s+{_STREET_WORD}|{_PLACE_NOUN}\s+{_STREET_WORD}"
    rf"|{_STREET_WORD}\s+{_PLACE_NOUN}|{_STREET_WORD})\s+{_HOUSE_NUMBER}(?![\w:])"
)
_EN_STREET: Final = re.compile(
    rf"(?<!\w)\d{{1,5}}[a-zA-Z]?\s+(?:{_STREET_WORD}\s+){{1,3}}"
    r"(?:Street|St\.?|Road|Rd\.?|Avenue|Ave\.?|Lane|Ln\.?|Drive|Dr\.?|Way|Place"
    r"|Close|Court|Crescent|Boulevard|Blvd\.?|Square|Terrace|Gardens|Row|Strasse"
    r"|Straße)(?!\w)"
)
_FOREIGN_STREET: Final = re.compile(
    rf"(?<!\w)\d{{1,5}}[a-zA-Z]?,?\s+(?:Rue|Avenue|Av\.|Boulevard|Bd\.?|Chemin|Allée"
    rf"|Quai|Via|Viale|Calle|Avenida|Rua|Ulica|ul\.)"
    rf"(?:\s+(?:de|des|du|la|le|del|della|di|da|do|dos|{_STREET_WORD})){{1,4}}(?!\w)"
)
"""French, Italian, Spanish and Polish streets: the number comes first ("14 Rue des
Lilas")."""
_EXTENSION: Final = _rx(
    r"\A,?\s*(?:extension|ext\.?|klapka|klapku|klapky|linka|linku|lince|kl\.)"
    r"\s+(\d{1,5})(?!\w)"
)
"""An extension said right after a phone number: "... 0321 extension 14"."""
_POSTCODE: Final = r"(?:\d{3}\s?\d{2}|\d{5}|[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2})"
_TOWN: Final = (
    rf"[{UPPER}]{LETTER}+(?!\w)(?:[ \-][{UPPER}]{LETTER}+(?!\w))?(?:\s\d{{1,2}}(?!\w))?"
)
_POSTCODE_TOWN: Final = re.compile(
    rf"\A(?:,?\s*{_POSTCODE}(?!\w))?(?:,?\s*{_TOWN})?(?:,?\s*{_POSTCODE}(?!\w))?"
)
_GENERIC_ID: Final = re.compile(
    rf"(?<!\w)(?=(?:[{UPPER}\- ]*\d){{5}})"
    rf"[{UPPER}0-9]+(?:[ \-/][{UPPER}0-9]+){{0,5}}(?!\w)"
)
_NOT_STREET: Final = frozenset(
    """room meeting floor gate terminal building platform level bus tram line page
    step stage track version bydlím bydlim adresa adrese adresu at is address
    praha prague brno ostrava plzeň místnost budova patro hala brána linka
    tramvaj autobus číslo the in on kolik je""".split()
)
_TIME_AFTER: Final = re.compile(
    r"\A\s*(?:h\b|hod|hours|o'clock|a\.m|p\.m|am\b|pm\b|min|minut|:\d|\.\d)", re.I
)


def find_patterns(text: str) -> list[Found]:
    """All pattern-detected personal data in ``text``, overlapping spans included."""
    found: list[Found] = []
    found += _emails(text)
    found += _ids_and_plates(text)
    found += _phones(text)
    found += _dates_of_birth(text)
    found += _addresses(text)
    return found


def _digits(text: str) -> str:
    return "".join(c for c in text if c.isdigit())


def _alnum(text: str) -> str:
    return "".join(c for c in text.casefold() if c.isalnum())


def _emails(text: str) -> list[Found]:
    out = [
        Found(m.start(), m.end(), "EMAIL", m.group(0).casefold())
        for m in _EMAIL.finditer(text)
    ]
    for m in _SPOKEN_EMAIL.finditer(text):
        start = _local_part_start(text, m.start())
        out.append(Found(start, m.end(), "EMAIL", _alnum(text[start : m.end()])))
    return out


def _local_part_start(text: str, start: int) -> int:
    """Where a spoken local part really starts, left of the word the pattern found.

    ASR writes "jana novotna at gmail dot com" or spells it "k o v a l at post dot cz":
    the pattern only sees the last word before "at". Take in up to two more lowercase
    words that are not function words, or any number of single letters.
    """
    words = 0
    while True:
        m = _WORD_BEFORE.search(text, 0, start)
        if m is None or m.group(1) in _NOT_LOCAL_PART:
            return start
        if len(m.group(1)) > 1:
            if words == 2 or not m.group(1).islower():
                return start
            words += 1
        start = m.start(1)


def _cue_before(cue: re.Pattern[str], text: str, start: int, window: int = 60) -> bool:
    return cue.search(text, max(0, start - window), start) is not None


def _ids_and_plates(text: str) -> list[Found]:
    out = [
        Found(m.start(), m.end(), "ID_NUMBER", _digits(m.group(0)))
        for m in _BIRTH_NUMBER.finditer(text)
    ]
    out += [
        Found(m.start(), m.end(), "LICENCE_PLATE", _alnum(m.group(0)))
        for m in _CZ_PLATE.finditer(text)
    ]
    for cue in _ID_CUE.finditer(text):
        window_end = min(len(text), cue.end() + 30)
        for m in _GENERIC_ID.finditer(text, cue.end(), window_end):
            out.append(Found(m.start(), m.end(), "ID_NUMBER", _alnum(m.group(0))))
            break
    for m in _LETTER_ID.finditer(text):
        if _cue_before(_ID_CUE, text, m.start()):
            out.append(Found(m.start(), m.end(), "ID_NUMBER", _alnum(m.group(0))))
        elif _cue_before(_PLATE_CUE, text, m.start(), 40):
            out.append(Found(m.start(), m.end(), "LICENCE_PLATE", _alnum(m.group(0))))
    for cue in _PLATE_CUE.finditer(text):
        window_end = min(len(text), cue.end() + 30)
        for m in _FOREIGN_PLATE.finditer(text, cue.end(), window_end):
            token = m.group(0)
            if sum(c.isdigit() for c in token) >= 2 and any(c.isalpha() for c in token):
                out.append(Found(m.start(), m.end(), "LICENCE_PLATE", _alnum(token)))
                break
    return out


def _number_label(text: str, start: int, digit_count: int) -> str | None:
    """PHONE, ID_NUMBER or None (not personal) for a bare number, from its context.

    Fails closed: a number of seven or more digits with no cue at all is taken as an
    identity number; only a business cue right before it ("order", "faktura") keeps
    it, and never for nine digits, the length of a Czech phone number.
    """
    if _cue_before(_ID_CUE, text, start):
        return "ID_NUMBER"
    if _cue_before(_PLATE_CUE, text, start, 30) and digit_count <= 8:
        return "LICENCE_PLATE"
    if is_business_number(text, start, digit_count):
        return None
    if digit_count >= 9 or _cue_before(_PHONE_CUE, text, start):
        return "PHONE"
    return "ID_NUMBER"


def is_business_number(text: str, start: int, digit_count: int) -> bool:
    """A number right after a business word (order, tracking, zásilka), not nine digits.

    Redaction keeps such a number, and the last check before egress accepts it.
    """
    return digit_count != 9 and _cue_before(_BUSINESS_CUE, text, start, 25)


def _phones(text: str) -> list[Found]:
    out: list[Found] = []
    for m in _INTL_PHONE.finditer(text):
        digits = _digits(m.group(0))
        if 8 <= len(digits) <= 15:
            out.append(Found(m.start(), m.end(), "PHONE", digits))
    for rx, least in ((_GROUPED_DIGITS, 7), (_LONG_DIGITS, 7)):
        for m in rx.finditer(text):
            digits = _digits(m.group(0))
            if len(digits) < least or _TIME_AFTER.match(text, m.end()):
                continue
            label = _number_label(text, m.start(), len(digits))
            if label is not None:
                out.append(Found(m.start(), m.end(), label, digits))
    for m in _SPOKEN_DIGITS.finditer(text):
        out.append(Found(m.start(), m.end(), "PHONE", _alnum(m.group(0))))
    # The extension of a private number is personal too, unlike a company's own
    # internal line said alone ("linka 245").
    for f in [f for f in out if f.label == "PHONE"]:
        if ext := _EXTENSION.match(text[f.end : f.end + 30]):
            start, end = f.end + ext.start(1), f.end + ext.end(1)
            out.append(Found(start, end, "PHONE", f.key + "x" + ext.group(1)))
    return out


def _dates_of_birth(text: str) -> list[Found]:
    out: list[Found] = []
    for rx in _DATES:
        for m in rx.finditer(text):
            years = re.findall(r"(?:19|20)\d{2}", m.group(0))
            is_old = bool(years) and int(years[-1]) <= _LATEST_BIRTH_YEAR
            cue = _cue_before(BIRTH_CUE, text, m.start(), 50)
            cue_after = BIRTH_CUE.search(text, m.end(), m.end() + 25) is not None
            if cue or cue_after or is_old:
                out.append(
                    Found(m.start(), m.end(), "DATE_OF_BIRTH", _alnum(m.group(0)))
                )
    for m in _YEAR_AFTER_CUE.finditer(text):
        if _cue_before(BIRTH_CUE, text, m.start(), 40):
            out.append(Found(m.start(1), m.end(1), "DATE_OF_BIRTH", m.group(1)))
    return out


def _addresses(text: str) -> list[Found]:
    out: list[Found] = []
    has_cue = _ADDRESS_CUE.search(text) is not None
    for m in [*_EN_STREET.finditer(text), *_FOREIGN_STREET.finditer(text)]:
        end = _extend_town(text, m.end())
        out.append(Found(m.start(), end, "ADDRESS", _alnum(text[m.start() : end])))
    for m in _CZ_STREET.finditer(text):
        first = m.group(0).split()[0].casefold()
        if first in _NOT_STREET or _TIME_AFTER.match(text, m.end()):
            continue
        end = _extend_town(text, m.end())
        has_postcode = re.search(r"\d{3}\s?\d{2}", text[m.end() : end]) is not None
        if has_cue or has_postcode:
            out.append(Found(m.start(), end, "ADDRESS", _alnum(text[m.start() : end])))
    return out


def _extend_town(text: str, end: int) -> int:
    """Include ", 120 00 Praha 2" or ", Brno" right after a street and number."""
    tail = _POSTCODE_TOWN.match(text[end : end + 60])
    return end + tail.end() if tail else end
