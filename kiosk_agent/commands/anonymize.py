"""``kiosk-agent anonymize``: pseudonymize JSON lines from stdin as egress would.

Input, one JSON object a line: ``{"id": "...", "text": "...", "lang": "en"|"cs"}``.
Output, one line per input line: ``{"id", "text", "spans": [{"start", "end", "label",
"pseudonym", "employee_id"}]}``. ``text`` is exactly what would be sent; offsets refer
to the input text; ``employee_id`` is the directory id, a list of candidate ids when the
mention was ambiguous, or null. Each line is its own session (a fresh pseudonym table)
unless ``--one-session`` is given.

When the egress check refuses a line, its record has ``"text": null`` and
``"refused": "<reason>"`` (nothing would be sent), the spans that were found are still
listed, and stderr gets one line with the line number and id. A line that is not valid
input is reported on stderr with its line number and skipped; the run goes on and
exits 1 at the end if any line was bad or refused.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, TextIO

from kiosk_agent.config import load_config
from kiosk_agent.directory import load_directory
from kiosk_agent.egress import prepare_egress
from kiosk_agent.errors import AnonymizeError, EgressRefused
from kiosk_agent.logs import setup_logging
from kiosk_agent.messages import RedactedText
from kiosk_agent.pseudonyms import PseudonymTable
from kiosk_agent.stages.anonymize import Pseudonymizer

HELP = "pseudonymize JSON lines {id, text, lang} from stdin as egress would"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``anonymize``."""
    parser.add_argument(
        "--directory", required=True, metavar="FILE", help="employee directory JSON"
    )
    parser.add_argument(
        "--one-session",
        action="store_true",
        help="share one pseudonym table across all lines (default: one per line)",
    )


def run(args: argparse.Namespace) -> int:
    """Read stdin, write one JSON line per input line to stdout."""
    config = load_config(args.config)
    setup_logging("DEBUG" if args.debug else "ERROR")
    pseudonymizer = Pseudonymizer(load_directory(args.directory), config.anonymizer)
    return anonymize_stream(
        pseudonymizer, sys.stdin, sys.stdout, sys.stderr, one_session=args.one_session
    )


def anonymize_stream(
    pseudonymizer: Pseudonymizer,
    lines: TextIO,
    out: TextIO,
    err: TextIO,
    *,
    one_session: bool = False,
) -> int:
    """The command's loop, separated for tests. Returns the exit code."""
    failures = 0
    shared = PseudonymTable()
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        record = _parse(line)
        if isinstance(record, str):
            print(f"kiosk-agent anonymize: line {number}: {record}", file=err)
            failures += 1
            continue
        uid, text, lang = record
        table = shared if one_session else PseudonymTable()
        result: dict[str, Any] = {"id": uid}
        try:
            redacted = prepare_egress(text, lang, pseudonymizer, table)
            result["text"] = redacted.text
        except EgressRefused as refusal:
            failures += 1
            reason = str(refusal).split(": ", 1)[-1]
            print(
                f"kiosk-agent anonymize: line {number}: id {uid}: egress refused "
                f"({reason})",
                file=err,
            )
            redacted = pseudonymizer.redact(text, lang, table)
            result.update(text=None, refused=reason)
        except AnonymizeError as error:
            failures += 1
            print(
                f"kiosk-agent anonymize: line {number}: id {uid}: {error.code}",
                file=err,
            )
            result.update(text=None, refused=error.code, spans=[])
            print(json.dumps(result, ensure_ascii=False), file=out)
            continue
        result["spans"] = _spans(redacted, table)
        print(json.dumps(result, ensure_ascii=False), file=out)
    return 1 if failures else 0


def _parse(line: str) -> tuple[str, str, str] | str:
    """(id, text, lang) from one input line, or a one-line description of the fault."""
    try:
        data = json.loads(line)
    except json.JSONDecodeError as error:
        return f"not valid JSON ({error.msg})"
    if not isinstance(data, dict):
        return "expected a JSON object"
    uid, text, lang = data.get("id"), data.get("text"), data.get("lang", "en")
    if not isinstance(uid, (str, int)) or isinstance(uid, bool):
        return "field 'id' missing or not a string"
    if not isinstance(text, str):
        return "field 'text' missing or not a string"
    if lang not in ("en", "cs"):
        return "field 'lang' must be 'en' or 'cs'"
    return str(uid), text, str(lang)


def _spans(redacted: RedactedText, table: PseudonymTable) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for span in redacted.spans:
        entry = table.lookup(span.pseudonym)
        ids = entry.employee_ids if entry is not None else ()
        employee_id: str | list[str] | None = None
        if span.label == "PERSON_EMPLOYEE":
            employee_id = span.employee_id or (list(ids) if ids else None)
        out.append(
            {
                "start": span.start,
                "end": span.end,
                "label": span.label,
                "pseudonym": span.pseudonym,
                "employee_id": employee_id,
            }
        )
    return out
