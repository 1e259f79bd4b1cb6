"""The customer's employee directory: loaded from their file, held in memory.

# TODO(#6): CSV files, the admin API with periodic sync, technician edits and erasure.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from kiosk_agent.errors import DirectoryError
from kiosk_agent.messages import Employee

logger = logging.getLogger(__name__)


def load_directory(path: str | Path) -> tuple[Employee, ...]:
    """Read a directory JSON file in the anonymizer-dev format.

    Raises:
        DirectoryError: the file is missing, not JSON, or a row lacks an id or a name.
    """
    file = Path(path)
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DirectoryError("directory-missing", f"{file}: file not found") from None
    except UnicodeDecodeError:
        raise DirectoryError("directory-invalid", f"{file}: not UTF-8 text") from None
    except json.JSONDecodeError as err:
        raise DirectoryError(
            "directory-invalid", f"{file}: line {err.lineno}: not valid JSON"
        ) from None
    rows = data.get("employees") if isinstance(data, dict) else None
    if not isinstance(rows, list):
        raise DirectoryError("directory-invalid", f"{file}: no 'employees' list")
    return tuple(_employee(row, file, index) for index, row in enumerate(rows))


def _employee(row: object, file: Path, index: int) -> Employee:
    if not isinstance(row, dict) or not row.get("id") or not row.get("last_name"):
        raise DirectoryError(
            "directory-invalid", f"{file}: employees[{index}]: needs id and last_name"
        )
    first, last = str(row.get("first_name", "")), str(row["last_name"])
    return Employee(
        id=str(row["id"]),
        first_name=first,
        last_name=last,
        full_name=str(row.get("full_name") or f"{first} {last}".strip()),
        gender=str(row.get("gender", "")),
        department=str(row.get("department", "")),
        role=str(row.get("role", "")),
        phone=str(row.get("phone", "")),
        email=str(row.get("email", "")),
        aliases=tuple(str(a) for a in row.get("aliases", ())),
    )
