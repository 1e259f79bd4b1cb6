"""Reidentify: pseudonyms become names again; unknown ones are never spoken."""

import pytest

from kiosk_agent.config import AnonymizerConfig
from kiosk_agent.pseudonyms import PseudonymTable
from kiosk_agent.stages.anonymize import Pseudonymizer
from kiosk_agent.stages.reidentify import reidentify
from tests.anonymizer_directory import DIRECTORY


@pytest.fixture
def table() -> PseudonymTable:
    table = PseudonymTable()
    Pseudonymizer(DIRECTORY, AnonymizerConfig()).redact(
        "Jdu za panem Kučerou, moje číslo je 603 123 456.", "cs", table
    )
    return table


@pytest.mark.parametrize(
    ("reply", "spoken"),
    [
        ("I will call <EMPLOYEE_1> now.", "I will call Zdeněk Kučera now."),
        ("<EMPLOYEE_1>'s desk is upstairs.", "Zdeněk Kučera's desk is upstairs."),
        ("EMPLOYEE_1 is on his way.", "Zdeněk Kučera is on his way."),
        ("Calling [employee_1] at once.", "Calling Zdeněk Kučera at once."),
        ("I have < EMPLOYEE_1 > on the line.", "I have Zdeněk Kučera on the line."),
        ("Your number <PHONE_1> is noted.", "Your number 603 123 456 is noted."),
    ],
    ids=["plain", "possessive", "no-brackets", "square-lowercase", "spaces", "phone"],
)
def test_known_pseudonyms_are_spoken_naturally(table, reply, spoken):
    assert reidentify(reply, table, "en").text == spoken


@pytest.mark.parametrize(
    ("reply", "lang", "spoken"),
    [
        ("Shall I call <PERSON_4>?", "en", "Shall I call that person?"),
        ("Zavolám <EMPLOYEE_7>.", "cs", "Zavolám ta osoba."),
        (
            "Your plate LICENCE_PLATE_2 is noted.",
            "en",
            "Your plate that licence plate is noted.",
        ),
        (
            "Poslal jsem to na <EMAIL_3>.",
            "cs",
            "Poslal jsem to na ta e-mailová adresa.",
        ),
    ],
    ids=["person-en", "employee-cs", "plate-no-brackets-en", "email-cs"],
)
def test_unknown_pseudonyms_are_never_spoken_raw(table, reply, lang, spoken):
    result = reidentify(reply, table, lang)
    assert result.text == spoken
    assert "_" not in result.text and "<" not in result.text


def test_reply_after_wipe_speaks_no_name(table):
    table.wipe()
    assert (
        reidentify("Calling <EMPLOYEE_1>.", table, "en").text == "Calling that person."
    )
