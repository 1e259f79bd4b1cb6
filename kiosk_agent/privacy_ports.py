"""The dialog's view of the pseudonymizer: one table per session, egress, re-identify.

Adapts the anonymizer's API (``pseudonyms.PseudonymTable``, ``stages.anonymize``,
``egress.prepare_egress``, ``stages.reidentify``) to the four callables the dialog
needs, so the dialog does not depend on their constructors.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from kiosk_agent.config import Config
from kiosk_agent.directory import Directory
from kiosk_agent.egress import prepare_egress
from kiosk_agent.messages import Employee, RedactedText, SpokenReply
from kiosk_agent.pseudonyms import PseudonymTable
from kiosk_agent.stages.anonymize import Pseudonymizer
from kiosk_agent.stages.reidentify import reidentify


@dataclass(frozen=True, slots=True, kw_only=True)
class PrivacyPorts:
    """Table factory, egress, re-identification and employee lookup for one kiosk."""

    new_table: Callable[[], PseudonymTable]
    redact: Callable[[str, str, PseudonymTable], RedactedText]
    reidentify: Callable[[str, PseudonymTable, str], SpokenReply]
    candidates: Callable[[PseudonymTable, str], Sequence[Employee]]


def build_privacy_ports(config: Config, directory: Directory) -> PrivacyPorts:
    """The ports backed by the anonymizer, rebuilt whenever the directory changes."""
    current = [Pseudonymizer(directory.employees, config.anonymizer)]

    def rebuild(changed: Directory) -> None:
        # An edit or an erasure in the directory applies from the next utterance on.
        current[0] = Pseudonymizer(changed.employees, config.anonymizer)

    directory.add_listener(rebuild)

    def redact(text: str, language: str, table: PseudonymTable) -> RedactedText:
        return prepare_egress(text, language, current[0], table)

    def candidates(table: PseudonymTable, pseudonym: str) -> Sequence[Employee]:
        entry = table.lookup(pseudonym)
        if entry is None or entry.label != "PERSON_EMPLOYEE":
            return ()
        found = (directory.get(i) for i in entry.employee_ids)
        return tuple(e for e in found if e is not None)

    return PrivacyPorts(
        new_table=PseudonymTable,
        redact=redact,
        reidentify=reidentify,
        candidates=candidates,
    )
