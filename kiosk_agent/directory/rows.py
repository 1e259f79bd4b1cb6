"""Directory rows to employees: validation, phone numbers in E.164, skipped rows.

Rows are validated one by one: a row without an id or a last name, or with a phone
number that cannot be normalized to E.164, is reported with its line and skipped, never
half-loaded. Two rows with the same id raise ``DirectoryError`` (which one to ring would
be a guess). Reading the file itself (encoding, JSON or CSV syntax, columns) is
``file``'s job.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Final

from kiosk_agent.directory.file import ALIAS_SEPARATOR, Record, read_document
from kiosk_agent.errors import ConfigError, DirectoryError
from kiosk_agent.messages import Employee

logger = logging.getLogger(__name__)

DEFAULT_REGION: Final = "CZ"


@dataclass(frozen=True, slots=True)
class RowProblem:
    """One row that was skipped, and why (the reason names no personal data)."""

    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass(frozen=True, slots=True)
class DirectoryLoad:
    """The valid employees of one document and the rows that were skipped."""

    employees: tuple[Employee, ...]
    problems: tuple[RowProblem, ...] = ()


def normalize_phone(raw: str, region: str = DEFAULT_REGION) -> str | None:
    """The number in E.164 (``+420601112233``), or None when it is not valid."""
    import phonenumbers  # A vendor package; only the directory needs it.

    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


def check_region(region: str) -> None:
    """Raise ConfigError unless ``region`` is a region phonenumbers knows (e.g. CZ)."""
    import phonenumbers

    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise ConfigError(
            "config-invalid",
            f'directory.default_region: unknown region {region!r} (e.g. "CZ", "GB")',
        )


def employee_from_values(values: Mapping[str, Any], *, region: str) -> Employee:
    """Build one validated Employee from a row's values.

    Raises:
        ValueError: the row has no id, no last name, or no valid phone number; the
            message says which and holds no personal data.
    """
    text = {
        key: "" if value is None else str(value).strip()
        for key, value in values.items()
    }
    if not text.get("id"):
        raise ValueError("no id")
    if not text.get("last_name"):
        raise ValueError("no name (last_name is empty)")
    if not text.get("phone"):
        raise ValueError("no phone number")
    phone = normalize_phone(text["phone"], region)
    if phone is None:
        raise ValueError("phone number cannot be normalized to E.164")
    first, last = text.get("first_name", ""), text["last_name"]
    return Employee(
        id=text["id"],
        first_name=first,
        last_name=last,
        full_name=text.get("full_name") or f"{first} {last}".strip(),
        gender=text.get("gender", ""),
        department=text.get("department", ""),
        role=text.get("role", ""),
        phone=phone,
        email=text.get("email", ""),
        aliases=_aliases(values.get("aliases")),
    )


def employee_values(employee: Employee) -> dict[str, Any]:
    """An employee as a JSON row (the inverse of ``employee_from_values``)."""
    values = asdict(employee)
    values["aliases"] = list(employee.aliases)
    return values


def validate_records(
    records: Sequence[Record], *, region: str, source: str
) -> DirectoryLoad:
    """Validate every row; the invalid ones are reported and skipped.

    Raises:
        DirectoryError: two rows share an id (which one to ring would be a guess).
    """
    _refuse_duplicates(records, source)
    employees: list[Employee] = []
    problems: list[RowProblem] = []
    for record in records:
        if record.not_object is not None:
            problems.append(RowProblem(record.line, "not an object"))
            continue
        if record.missing_cells:
            reason = f"{record.missing_cells} field(s) fewer than the header"
            problems.append(RowProblem(record.line, reason))
            continue
        try:
            employees.append(employee_from_values(record.values, region=region))
        except ValueError as err:
            problems.append(RowProblem(record.line, str(err)))
    return DirectoryLoad(tuple(employees), tuple(problems))


def parse_directory(path: str | Path, *, region: str = DEFAULT_REGION) -> DirectoryLoad:
    """Read and validate a directory file (JSON or CSV).

    Raises:
        DirectoryError: the file as a whole is unusable (see the module docstring).
    """
    document = read_document(Path(path))
    return validate_records(document.records, region=region, source=str(path))


def load_directory(
    path: str | Path, *, region: str = DEFAULT_REGION
) -> tuple[Employee, ...]:
    """The valid employees of a directory file; skipped rows are logged as a count.

    Raises:
        DirectoryError: the file as a whole is unusable (see the module docstring).
    """
    loaded = parse_directory(path, region=region)
    if loaded.problems:
        logger.warning(
            "directory.rows_skipped", extra={"fields": {"count": len(loaded.problems)}}
        )
    return loaded.employees


def _refuse_duplicates(records: Sequence[Record], source: str) -> None:
    seen: dict[str, int] = {}
    for record in records:
        key = str(record.values.get("id") or "").strip()
        if not key:
            continue
        if key in seen:
            raise DirectoryError(
                "directory-duplicate-id",
                f"{source}: duplicate id {key!r} "
                f"on lines {seen[key]} and {record.line}",
            )
        seen[key] = record.line


def _aliases(value: Any) -> tuple[str, ...]:
    if isinstance(value, list | tuple):
        items = [str(v) for v in value]
    elif isinstance(value, str):
        items = value.split(ALIAS_SEPARATOR)
    else:
        items = []
    return tuple(item.strip() for item in items if item.strip())
