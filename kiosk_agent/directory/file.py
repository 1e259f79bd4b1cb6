"""The customer's directory file as written: JSON or CSV rows with their line numbers.

This module reads and rewrites the file without judging its rows (``directory.py``
validates them), so a technician's edit keeps everything it does not touch: other keys
of the JSON document, unknown columns and the delimiter of a CSV, even rows that are
currently invalid. A rewrite is atomic and keeps the file's mode.
"""

from __future__ import annotations

import csv
import io
import json
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from kiosk_agent.errors import DirectoryError
from kiosk_agent.storage import write_atomic

REQUIRED_COLUMNS: Final = ("id", "first_name", "last_name", "phone")
"""Columns a CSV header must have; the others are optional."""

KNOWN_COLUMNS: Final = (
    *REQUIRED_COLUMNS,
    "email",
    "department",
    "role",
    "gender",
    "full_name",
    "aliases",
)
"""Columns a new CSV file gets, in this order."""

ALIAS_SEPARATOR: Final = "|"
"""Separates aliases inside one CSV cell."""


@dataclass(slots=True)
class Record:
    """One row as written in the file."""

    line: int
    """Line number where the row starts (1-based)."""
    values: dict[str, Any]
    """JSON: the object itself. CSV: column name -> cell, for the cells present."""
    extra_cells: list[str] = field(default_factory=list)
    """CSV cells beyond the header, kept as they are."""
    missing_cells: int = 0
    """CSV: how many cells this row has fewer than the header."""
    not_object: Any = None
    """JSON: a list element that is not an object, kept as it is (and reported)."""


@dataclass(slots=True)
class DirectoryDocument:
    """A whole directory file: its rows and what is needed to write it back alike."""

    path: Path
    kind: str
    """"json" or "csv"."""
    records: list[Record]
    head: dict[str, Any] = field(default_factory=dict)
    """JSON: the other top-level keys ("company", ...); CSV: unused."""
    is_bare_list: bool = False
    """JSON: the document is a bare list rather than {"employees": [...]}."""
    indent: int | None = 1
    header: list[str] = field(default_factory=list)
    delimiter: str = ","


def kind_of(path: Path) -> str:
    """The format a file name implies: "csv" for *.csv, else "json"."""
    return "csv" if path.suffix.lower() == ".csv" else "json"


def read_document(path: Path) -> DirectoryDocument:
    """Read a directory file with its rows and line numbers.

    Raises:
        DirectoryError: missing or unreadable file, not UTF-8, broken JSON or CSV, no
            employees list, or a CSV header without a required column.
    """
    return parse_document(_read_text(path), path=path, kind=kind_of(path))


def parse_document(text: str, *, path: Path, kind: str) -> DirectoryDocument:
    """Parse directory text already read (from a file or the admin API).

    Args:
        text: the whole document.
        path: where it came from; named in errors.
        kind: "json" or "csv".

    Raises:
        DirectoryError: as ``read_document``.
    """
    if kind == "csv":
        return _read_csv(path, text)
    return _read_json(path, text)


def empty_document(path: Path) -> DirectoryDocument:
    """A new document without rows, in the format the file name implies."""
    if kind_of(path) == "csv":
        return DirectoryDocument(
            path=path, kind="csv", records=[], header=list(KNOWN_COLUMNS)
        )
    return DirectoryDocument(path=path, kind="json", records=[])


def write_document(document: DirectoryDocument) -> None:
    """Rewrite the file atomically in its own format, keeping its mode (else 0600).

    Raises:
        DirectoryError: the file cannot be written; it is left as it was.
    """
    if document.kind == "csv":
        data = _render_csv(document)
    else:
        data = _render_json(document)
    try:
        mode = stat.S_IMODE(document.path.stat().st_mode)
    except FileNotFoundError:
        mode = 0o600
    try:
        write_atomic(document.path, data.encode("utf-8"), mode=mode)
    except OSError as err:
        raise DirectoryError(
            "directory-unwritable", f"{document.path}: {err.strerror}"
        ) from None


def _read_text(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DirectoryError("directory-missing", f"{path}: file not found") from None
    except OSError as err:
        raise DirectoryError(
            "directory-unreadable", f"{path}: {err.strerror}"
        ) from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = raw.count(b"\n", 0, err.start) + 1
        raise DirectoryError(
            "directory-encoding",
            f"{path}: line {line}: not UTF-8 text (byte 0x{raw[err.start]:02X}); "
            "save the file as UTF-8",
        ) from None


def _read_json(path: Path, text: str) -> DirectoryDocument:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise DirectoryError(
            "directory-invalid",
            f"{path}: line {err.lineno}: not valid JSON ({err.msg})",
        ) from None
    if isinstance(data, list):
        rows, head, bare = data, {}, True
    elif isinstance(data, dict) and isinstance(data.get("employees"), list):
        rows, bare = data["employees"], False
        head = {k: v for k, v in data.items() if k != "employees"}
    else:
        raise DirectoryError(
            "directory-invalid", f'{path}: expected {{"employees": [...]}} or a list'
        )
    lines = _json_row_lines(text, bare)
    records = []
    for index, row in enumerate(rows):
        line = lines[index] if index < len(lines) else 0
        if isinstance(row, dict):
            records.append(Record(line=line, values=row))
        else:
            records.append(Record(line=line, values={}, not_object=row))
    return DirectoryDocument(
        path=path,
        kind="json",
        records=records,
        head=head,
        is_bare_list=bare,
        indent=_json_indent(text),
    )


def _json_row_lines(text: str, bare: bool) -> list[int]:
    """Line numbers where each element of the employees list starts."""
    decoder = json.JSONDecoder()
    pos = _skip_space(text, 0)
    if not bare:
        # Walk the top-level object's keys until "employees", skipping other values.
        pos = _skip_space(text, pos + 1)
        while text[pos] != "}":
            key, pos = decoder.raw_decode(text, pos)
            pos = _skip_space(text, _skip_space(text, pos) + 1)
            if key == "employees":
                break
            _, pos = decoder.raw_decode(text, pos)
            pos = _skip_space(text, pos)
            if text[pos] == ",":
                pos = _skip_space(text, pos + 1)
    lines: list[int] = []
    pos = _skip_space(text, pos + 1)  # Past "[".
    while pos < len(text) and text[pos] != "]":
        lines.append(text.count("\n", 0, pos) + 1)
        _, pos = decoder.raw_decode(text, pos)
        pos = _skip_space(text, pos)
        if text[pos] == ",":
            pos = _skip_space(text, pos + 1)
    return lines


def _skip_space(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t\r\n":
        pos += 1
    return pos


def _json_indent(text: str) -> int | None:
    for line in text.splitlines()[1:]:
        stripped = line.lstrip(" ")
        if stripped and len(stripped) < len(line):
            return len(line) - len(stripped)
    return None if "\n" not in text.strip() else 1


def _read_csv(path: Path, text: str) -> DirectoryDocument:
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = [name.strip().lower() for name in next(reader, [])]
        missing = [name for name in REQUIRED_COLUMNS if name not in header]
        if missing:
            raise DirectoryError(
                "directory-columns",
                f"{path}: line 1: header lacks column(s) {', '.join(missing)} "
                f"(needs {', '.join(REQUIRED_COLUMNS)})",
            )
        records = _csv_records(reader, header)
    except csv.Error as err:
        raise DirectoryError(
            "directory-invalid", f"{path}: line {reader.line_num}: broken CSV ({err})"
        ) from None
    return DirectoryDocument(
        path=path, kind="csv", records=records, header=header, delimiter=delimiter
    )


def _csv_records(reader: Any, header: list[str]) -> list[Record]:
    records: list[Record] = []
    end_of_last = reader.line_num
    for cells in reader:
        start, end_of_last = end_of_last + 1, reader.line_num
        if not any(cell.strip() for cell in cells):
            continue  # Blank lines are not rows.
        values = dict(zip(header, cells, strict=False))
        records.append(
            Record(
                line=start,
                values=values,
                extra_cells=cells[len(header) :],
                missing_cells=max(0, len(header) - len(cells)),
            )
        )
    return records


def _render_json(document: DirectoryDocument) -> str:
    rows = [
        record.values if record.not_object is None else record.not_object
        for record in document.records
    ]
    data: Any = rows if document.is_bare_list else {**document.head, "employees": rows}
    return json.dumps(data, ensure_ascii=False, indent=document.indent) + "\n"


def _render_csv(document: DirectoryDocument) -> str:
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=document.delimiter, lineterminator="\n")
    writer.writerow(document.header)
    for record in document.records:
        cells = [_cell(record.values.get(name, "")) for name in document.header]
        writer.writerow(cells + record.extra_cells)
    return out.getvalue()


def _cell(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ALIAS_SEPARATOR.join(str(v) for v in value)
    return str(value)
