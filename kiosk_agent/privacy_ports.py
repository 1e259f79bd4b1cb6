"""The dialog's view of the pseudonymizer: one table per session, egress, re-identify.

Adapts the anonymizer's API (``pseudonyms.PseudonymTable``, ``stages.anonymize``,
``egress.prepare_egress``, ``stages.reidentify``) to the four callables the dialog
needs, so the dialog does not depend on their constructors.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from kiosk_agent.config import Config
from kiosk_agent.directory import Directory
from kiosk_agent.messages import Employee, RedactedText, Span, SpokenReply


@dataclass(frozen=True, slots=True, kw_only=True)
class PrivacyPorts:
    """Table factory, egress, re-identification and employee lookup for one kiosk."""

    new_table: Callable[[], Any]
    redact: Callable[[str, str, Any], RedactedText]
    reidentify: Callable[[str, Any, str], SpokenReply]
    candidates: Callable[[Any, str], Sequence[Employee]]


def build_privacy_ports(config: Config, directory: Directory) -> PrivacyPorts:
    """The ports backed by the anonymizer (the stand-in until it is installed)."""
    import importlib.util

    if importlib.util.find_spec("kiosk_agent.pseudonyms") is None:
        return _stand_in(directory)
    return _real(config, directory)


def _real(config: Config, directory: Directory) -> PrivacyPorts:
    import importlib.util

    from kiosk_agent.errors import EgressRefused
    from kiosk_agent.pseudonyms import PSEUDONYM, PseudonymTable
    from kiosk_agent.stages.anonymize import Pseudonymizer

    current = [Pseudonymizer(directory.employees, config.anonymizer)]

    def rebuild(changed: Directory) -> None:
        # An edit or an erasure in the directory applies from the next utterance on.
        current[0] = Pseudonymizer(changed.employees, config.anonymizer)

    directory.add_listener(rebuild)
    has_egress = importlib.util.find_spec("kiosk_agent.egress") is not None
    has_reidentify = (
        importlib.util.find_spec("kiosk_agent.stages.reidentify") is not None
    )

    def redact(text: str, language: str, table: PseudonymTable) -> RedactedText:
        if has_egress:
            from kiosk_agent.egress import prepare_egress

            result: RedactedText = prepare_egress(text, language, current[0], table)
            return result
        redacted = current[0].redact(text, language, table)
        residue = current[0].find_residue(redacted.text, language)
        if residue is not None:
            raise EgressRefused("egress-refused", residue)
        return redacted

    def reidentify(text: str, table: PseudonymTable, language: str) -> SpokenReply:
        if has_reidentify:
            from kiosk_agent.stages.reidentify import reidentify as real

            spoken: SpokenReply = real(text, table, language)
            return spoken

        def name(match: re.Match[str]) -> str:
            entry = table.lookup(match.group(0))
            return entry.display if entry is not None else match.group(0)

        return SpokenReply(text=PSEUDONYM.sub(name, text), language=language)

    def candidates(table: PseudonymTable, token: str) -> Sequence[Employee]:
        entry = table.lookup(token)
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


# FIXME(#5): stand-in used only when kiosk_agent.pseudonyms is missing; remove then.
class _Table:
    def __init__(self) -> None:
        self.entries: dict[str, tuple[str, tuple[Employee, ...]]] = {}

    def wipe(self) -> None:
        self.entries.clear()


def _stand_in(directory: Directory) -> PrivacyPorts:
    def redact(text: str, language: str, table: _Table) -> RedactedText:
        spans: list[Span] = []
        by_surface: dict[str, list[Employee]] = {}
        for e in directory.employees:
            for surface in (f"{e.first_name} {e.last_name}", e.last_name):
                by_surface.setdefault(surface.lower(), []).append(e)
        for surface in sorted(by_surface, key=len, reverse=True):
            match = re.search(rf"\b{re.escape(surface)}\b", text, re.IGNORECASE)
            if not match:
                continue
            token = next(
                (t for t, (s, _) in table.entries.items() if s.lower() == surface), ""
            )
            if not token:
                token = f"<EMPLOYEE_{len(table.entries) + 1}>"
                table.entries[token] = (match.group(0), tuple(by_surface[surface]))
            text = text[: match.start()] + token + text[match.end() :]
            spans.append(
                Span(
                    start=match.start(),
                    end=match.end(),
                    label="PERSON_EMPLOYEE",
                    pseudonym=token,
                )
            )
        return RedactedText(text=text, language=language, spans=tuple(spans))

    def reidentify(text: str, table: _Table, language: str) -> SpokenReply:
        for token, (surface, _) in table.entries.items():
            text = text.replace(token, surface)
        return SpokenReply(text=text, language=language)

    def candidates(table: _Table, token: str) -> Sequence[Employee]:
        return table.entries.get(token, ("", ()))[1]

    return PrivacyPorts(
        new_table=_Table, redact=redact, reidentify=reidentify, candidates=candidates
    )
