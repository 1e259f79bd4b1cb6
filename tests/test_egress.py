"""Egress: the only way out pseudonymizes and refuses what the last check still sees."""

import pytest

from kiosk_agent.config import AnonymizerConfig
from kiosk_agent.egress import prepare_egress
from kiosk_agent.errors import AnonymizeError, EgressRefused
from kiosk_agent.pseudonyms import PseudonymTable
from kiosk_agent.stages.anonymize import Pseudonymizer
from tests.anonymizer_directory import DIRECTORY

PSEUDONYMIZER = Pseudonymizer(DIRECTORY, AnonymizerConfig())


@pytest.mark.parametrize(
    ("lang", "text", "sent"),
    [
        ("en", "Hi, I'm here for George Black.", "Hi, I'm here for <EMPLOYEE_1>."),
        (
            "en",
            "A black coffee while I wait for Ms. Baker.",
            "A black coffee while I wait for Ms. <EMPLOYEE_1>.",
        ),
        (
            "cs",
            "Venku je zima, jdu za panem Zimou.",
            "Venku je zima, jdu za panem <EMPLOYEE_1>.",
        ),
        ("en", "Where is Meeting Room Jupiter?", "Where is Meeting Room Jupiter?"),
        (
            "cs",
            "Číslo zásilky je 4410 2277 18.",
            "Číslo zásilky je 4410 2277 18.",
        ),
    ],
    ids=[
        "employee-en",
        "wordlike-surname-en",
        "wordlike-surname-cs",
        "nothing-personal",
        "shipment-number-cs",
    ],
)
def test_redacted_text_passes_and_ordinary_words_do_not_block(lang, text, sent):
    assert prepare_egress(text, lang, PSEUDONYMIZER, PseudonymTable()).text == sent


class _LeakyPseudonymizer(Pseudonymizer):
    """Stands for a redactor with a bug: returns the text unchanged."""

    def redact(self, text, language, table):  # type: ignore[override]
        from kiosk_agent.messages import RedactedText

        return RedactedText(text=text, language=language)


class _BrokenPseudonymizer(Pseudonymizer):
    def redact(self, text, language, table):  # type: ignore[override]
        raise RuntimeError("Jan Dvořák 603 123 456")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("Call me on 603 123 456.", "phone"),
        ("Call me on +44 7700 900123.", "phone"),
        ("Mail p.smith@example.org.", "email"),
        ("Mail peter at outlook dot com.", "email"),
        ("I am meeting jan dvořák.", "directory-name"),
        ("Could you call Mr. Kučera?", "directory-name"),
    ],
    ids=["phone-local", "phone-intl", "email", "email-spoken", "full-name", "surname"],
)
def test_last_check_refuses_what_redaction_missed(text, reason):
    leaky = _LeakyPseudonymizer(DIRECTORY, AnonymizerConfig())
    with pytest.raises(EgressRefused) as caught:
        prepare_egress(text, "en", leaky, PseudonymTable())
    assert caught.value.code == "egress-refused"
    assert reason in str(caught.value)
    assert not any(w in str(caught.value) for w in ("603", "smith", "Kučera", "dvořák"))


def test_failing_redaction_fails_closed_without_personal_data_in_the_error():
    broken = _BrokenPseudonymizer(DIRECTORY, AnonymizerConfig())
    with pytest.raises(AnonymizeError) as caught:
        prepare_egress("Jan Dvořák 603 123 456", "en", broken, PseudonymTable())
    assert caught.value.code == "anonymize-failed"
    assert "Dvořák" not in str(caught.value) and "603" not in str(caught.value)
    assert caught.value.__cause__ is None
