"""The admin API's last good copy of the directory: a small 0600 JSON file.

It holds only the employee fields the kiosk uses, with the ETag and Last-Modified they
came with, so the kiosk can start offline and the next sync can be conditional.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Final

from kiosk_agent.config import Config
from kiosk_agent.directory.file import parse_document
from kiosk_agent.directory.rows import DEFAULT_REGION, employee_values, validate_records
from kiosk_agent.errors import DirectoryError
from kiosk_agent.messages import Employee
from kiosk_agent.storage import ensure_private_folder, state_directory, write_atomic

CACHE_NAME: Final = "directory-cache.json"
"""The admin API's last good copy, in the state folder."""


def read_cache(
    path: Path, *, region: str = DEFAULT_REGION
) -> tuple[tuple[Employee, ...], str, str] | None:
    """The cached employees with the ETag and Last-Modified they came with, or None.

    Raises:
        DirectoryError: the cache exists but cannot be read or parsed.
    """
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as err:
        raise DirectoryError(
            "directory-cache-unreadable", f"{path}: {err.strerror}"
        ) from None
    document = parse_document(decode_utf8(raw), path=path, kind="json")
    loaded = validate_records(document.records, region=region, source=str(path))
    etag = str(document.head.get("etag", ""))
    return loaded.employees, etag, str(document.head.get("last_modified", ""))


def write_cache(
    path: Path,
    employees: Sequence[Employee],
    *,
    etag: str = "",
    last_modified: str = "",
) -> None:
    """Keep the last good copy: only the employee fields the kiosk uses (0600)."""
    data = {
        "etag": etag,
        "last_modified": last_modified,
        "employees": [employee_values(e) for e in employees],
    }
    ensure_private_folder(path.parent)
    body = json.dumps(data, ensure_ascii=False, indent=1) + "\n"
    try:
        write_atomic(path, body.encode("utf-8"))
    except OSError as err:
        raise DirectoryError(
            "directory-cache-unwritable", f"{path}: {err.strerror}"
        ) from None


def erase_from_cache(path: Path, employee_id: str) -> bool:
    """Remove one employee from the cache file at once; False when it was not there."""
    cache = read_cache(path)
    if cache is None:
        return False
    employees, etag, last_modified = cache
    kept = [e for e in employees if e.id != employee_id]
    if len(kept) == len(employees):
        return False
    write_cache(path, kept, etag=etag, last_modified=last_modified)
    return True


def cache_path(config: Config) -> Path:
    """Where the admin API's last good copy lives: the state folder."""
    return state_directory(config.resolve_path(config.directory.cache_dir)) / CACHE_NAME


def decode_utf8(raw: bytes) -> str:
    """The text of an admin API document or the cache (UTF-8, BOM allowed).

    Raises:
        DirectoryError: the bytes are not UTF-8.
    """
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DirectoryError(
            "directory-encoding", "admin API: not UTF-8 text"
        ) from None
