"""PseudonymTable: stable per-session pseudonyms, lookup, and wiping."""

import pytest

from kiosk_agent.pseudonyms import PseudonymTable


def test_same_value_gets_same_pseudonym_and_labels_count_separately():
    table = PseudonymTable()
    a = table.pseudonym_for("PHONE", "603123456", "603 123 456")
    b = table.pseudonym_for("PHONE", "603123456", "603123456")
    c = table.pseudonym_for("PHONE", "777000111", "777 000 111")
    d = table.pseudonym_for("PERSON_OTHER", "P:olga", "Olga")
    assert (a, b, c, d) == ("<PHONE_1>", "<PHONE_1>", "<PHONE_2>", "<PERSON_1>")


def test_lookup_returns_surface_display_and_employee_candidates():
    table = PseudonymTable()
    token = table.pseudonym_for(
        "PERSON_EMPLOYEE", "E:T14,T18", "Pavlem", employee_ids=("T14", "T18")
    )
    entry = table.lookup(token)
    assert entry is not None
    assert (entry.surface, entry.display, entry.employee_ids) == (
        "Pavlem",
        "Pavlem",
        ("T14", "T18"),
    )
    assert table.lookup("<PERSON_9>") is None


def test_known_employees_lists_only_unambiguous_ones():
    table = PseudonymTable()
    table.pseudonym_for("PERSON_EMPLOYEE", "E:T01", "Dvořák", employee_ids=("T01",))
    table.pseudonym_for(
        "PERSON_EMPLOYEE", "E:T14,T18", "Pavel", employee_ids=("T14", "T18")
    )
    assert table.known_employees() == {"T01"}


def test_wipe_forgets_everything_and_restarts_numbering():
    table = PseudonymTable()
    table.pseudonym_for("EMAIL", "a@b.cz", "a@b.cz")
    table.wipe()
    assert len(table) == 0
    assert table.lookup("<EMAIL_1>") is None
    assert table.pseudonym_for("EMAIL", "c@d.cz", "c@d.cz") == "<EMAIL_1>"


def test_repr_shows_no_content():
    table = PseudonymTable()
    table.pseudonym_for("PERSON_OTHER", "P:olga petrenko", "Olga Petrenko")
    entry = table.lookup("<PERSON_1>")
    assert "Olga" not in repr(table) and "Olga" not in repr(entry)


def test_unknown_label_is_rejected():
    with pytest.raises(ValueError):
        PseudonymTable().pseudonym_for("NAME", "x", "x")
