"""The customer's employee directory: validated rows held in memory and kept fresh.

The directory comes from one source. A local file (``[directory] path``, JSON in the
anonymizer-dev format or CSV with a header) is polled for changes by its stat; the
customer's admin API (``[directory] url``) is synced with conditional requests, and its
last good copy is kept in a small cache file (0600) so the kiosk can start offline.
Either way the running daemon holds one ``Directory`` whose version grows and whose
listeners are called on every change, so edits apply without a restart.

Rows are validated one by one: a row without an id or a last name, or with a phone
number that cannot be normalized to E.164, is reported with its line and skipped, never
half-loaded. Problems with the whole file (wrong encoding, broken syntax, a missing
column, duplicate ids) raise ``DirectoryError`` and leave the running directory as it
was.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Final, Protocol

from kiosk_agent.config import Config, read_secret
from kiosk_agent.directory_file import (
    ALIAS_SEPARATOR,
    Record,
    parse_document,
    read_document,
)
from kiosk_agent.errors import ConfigError, DirectoryError
from kiosk_agent.messages import Employee
from kiosk_agent.storage import (
    ensure_private_folder,
    remove_stale_tmp,
    state_directory,
    write_atomic,
)

logger = logging.getLogger(__name__)

DEFAULT_REGION: Final = "CZ"
CACHE_NAME: Final = "directory-cache.json"
"""The admin API's last good copy, in the state folder."""
FAILED_SYNC_RETRY_S: Final = 60.0
"""After a failed sync, try again this soon even when the sync interval is longer."""


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


@dataclass(frozen=True, slots=True)
class Changes:
    """What one replacement of the directory changed, in numbers of employees."""

    added: int = 0
    changed: int = 0
    removed: int = 0

    @property
    def any(self) -> bool:
        """True when at least one employee was added, changed or removed."""
        return bool(self.added or self.changed or self.removed)


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


Listener = Callable[["Directory"], None]


class Directory:
    """The employees in memory, with a version that grows on every change.

    Thread-safe: sources replace the contents from worker threads while the daemon's
    stages read it. Listeners run in the thread that made the change.
    """

    def __init__(self, employees: Sequence[Employee] = ()) -> None:
        self._lock = threading.Lock()
        self._by_id: dict[str, Employee] = {e.id: e for e in employees}
        self._version = 0
        self._listeners: list[Listener] = []

    @property
    def version(self) -> int:
        """Grows by one on every change; 0 until the first change."""
        return self._version

    @property
    def employees(self) -> tuple[Employee, ...]:
        """All employees, in source order."""
        with self._lock:
            return tuple(self._by_id.values())

    def __len__(self) -> int:
        return len(self._by_id)

    def get(self, employee_id: str) -> Employee | None:
        """The employee with this id, or None."""
        return self._by_id.get(employee_id)

    def phone_of(self, employee_id: str) -> str | None:
        """The employee's E.164 phone number, or None when unknown."""
        employee = self._by_id.get(employee_id)
        return employee.phone if employee and employee.phone else None

    def add_listener(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener(directory)`` after every change; returns the unsubscriber."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def replace(self, employees: Sequence[Employee]) -> Changes:
        """Swap in a new set of employees; listeners run only when something changed."""
        new = {e.id: e for e in employees}
        with self._lock:
            old = self._by_id
            changes = Changes(
                added=sum(1 for key in new if key not in old),
                changed=sum(
                    1 for key, e in new.items() if key in old and old[key] != e
                ),
                removed=sum(1 for key in old if key not in new),
            )
            if not changes.any and list(old) == list(new):
                return changes
            self._by_id = new
            self._version += 1
        self._notify()
        return changes

    def remove(self, employee_id: str) -> bool:
        """Forget one employee at once (erasure); False when it was not there."""
        with self._lock:
            if employee_id not in self._by_id:
                return False
            self._by_id = {k: e for k, e in self._by_id.items() if k != employee_id}
            self._version += 1
        self._notify()
        return True

    def _notify(self) -> None:
        logger.info(
            "directory.changed",
            extra={"fields": {"version": self._version, "count": len(self)}},
        )
        for listener in list(self._listeners):
            try:
                listener(self)
            except Exception as err:  # noqa: BLE001 - one listener must not stop reloads.
                logger.error(
                    "directory.listener_failed",
                    extra={"fields": {"error_type": type(err).__name__}},
                )


class DirectorySource(Protocol):
    """Where the directory comes from; ``refresh`` is called periodically."""

    def refresh(self) -> bool:
        """Pick up changes, if any; True when the directory changed. Never raises."""
        ...


class FileSource:
    """The customer's file, reloaded when its stat (mtime, size, inode) changes."""

    def __init__(self, directory: Directory, path: Path, *, region: str) -> None:
        self.directory = directory
        self.path = path
        self.region = region
        self._stamp: tuple[int, int, int] | None = None
        self.last_problems: tuple[RowProblem, ...] = ()

    def reload(self) -> Changes:
        """Read the file now and replace the directory.

        Raises:
            DirectoryError: the file is unusable; the directory is left as it was.
        """
        stamp = _stamp(self.path)
        loaded = parse_directory(self.path, region=self.region)
        self._stamp = stamp
        self.last_problems = loaded.problems
        if loaded.problems:
            logger.warning(
                "directory.rows_skipped",
                extra={"fields": {"count": len(loaded.problems)}},
            )
        return self.directory.replace(loaded.employees)

    def refresh(self) -> bool:
        """Reload when the file changed since the last look; errors are logged."""
        stamp = _stamp(self.path)
        if stamp == self._stamp:
            return False
        try:
            return self.reload().any
        except DirectoryError as err:
            # Keep the running directory; look again only after the next change.
            self._stamp = stamp
            logger.error(
                "directory.reload_failed", extra={"fields": {"error_code": err.code}}
            )
            return False


@dataclass(frozen=True, slots=True)
class Fetched:
    """A full copy of the directory from the admin API, with its validators."""

    body: bytes
    etag: str = ""
    last_modified: str = ""


class DirectoryFetcher(Protocol):
    """The admin API client (``providers/directory_api.py``)."""

    def fetch(self, *, etag: str = "", last_modified: str = "") -> Fetched | None:
        """GET the directory; None when unchanged since ``etag``/``last_modified``.

        Raises:
            DirectoryError: the API is unreachable, slow, or refused the request.
        """
        ...


@dataclass(frozen=True, slots=True)
class SyncReport:
    """The outcome of one sync with the admin API."""

    is_modified: bool
    changes: Changes = Changes()
    problems: tuple[RowProblem, ...] = ()


class ApiSource:
    """The customer's admin API, synced periodically; its last good copy is cached."""

    def __init__(
        self,
        directory: Directory,
        fetcher: DirectoryFetcher,
        cache_path: Path,
        *,
        region: str,
        sync_interval_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.directory = directory
        self.fetcher = fetcher
        self.cache_path = cache_path
        self.region = region
        self.sync_interval_s = sync_interval_s
        self._clock = clock
        self._next_sync_s = clock()
        self._etag = ""
        self._last_modified = ""
        self._cache_stamp: tuple[int, int, int] | None = None

    def load_cache(self) -> bool:
        """Fill the directory from the cache file; False when it is missing or bad."""
        self._cache_stamp = _stamp(self.cache_path)
        try:
            cache = read_cache(self.cache_path, region=self.region)
        except DirectoryError as err:
            logger.error(
                "directory.cache_unusable", extra={"fields": {"error_code": err.code}}
            )
            return False
        if cache is None:
            return False
        employees, self._etag, self._last_modified = cache
        self.directory.replace(employees)
        return True

    def sync(self) -> SyncReport:
        """Fetch the directory now (conditionally) and replace it when it changed.

        Raises:
            DirectoryError: the API failed or sent an unusable document; the directory
                and the cache are left as they were.
        """
        # TODO(#6): a 200 carries the whole directory; a delta feed would matter only
        # above some 10,000 employees (about 2 MB per change).
        fetched = self.fetcher.fetch(etag=self._etag, last_modified=self._last_modified)
        if fetched is None:
            return SyncReport(is_modified=False)
        text = _decode(fetched.body)
        document = parse_document(text, path=Path("admin-api"), kind="json")
        loaded = validate_records(
            document.records, region=self.region, source="admin API"
        )
        self._etag, self._last_modified = fetched.etag, fetched.last_modified
        write_cache(
            self.cache_path,
            loaded.employees,
            etag=self._etag,
            last_modified=self._last_modified,
        )
        self._cache_stamp = _stamp(self.cache_path)
        changes = self.directory.replace(loaded.employees)
        return SyncReport(is_modified=True, changes=changes, problems=loaded.problems)

    def refresh(self) -> bool:
        """Follow cache edits by the CLI at once, and sync when the interval is up."""
        changed = False
        if _stamp(self.cache_path) != self._cache_stamp:
            changed = self.load_cache() or changed
        now = self._clock()
        if now < self._next_sync_s:
            return changed
        try:
            report = self.sync()
        except DirectoryError as err:
            self._next_sync_s = now + min(self.sync_interval_s, FAILED_SYNC_RETRY_S)
            logger.warning(
                "directory.sync_failed", extra={"fields": {"error_code": err.code}}
            )
            return changed
        self._next_sync_s = now + self.sync_interval_s
        if report.problems:
            logger.warning(
                "directory.rows_skipped",
                extra={"fields": {"count": len(report.problems)}},
            )
        return changed or report.changes.any


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
    document = parse_document(_decode(raw), path=path, kind="json")
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


def open_directory(config: Config) -> tuple[Directory, FileSource | ApiSource]:
    """Build the directory and its source from the config and load it once.

    A file source that cannot be read fails here; an admin API that is down is not an
    error (the cache is used, and the sync retries).

    Raises:
        ConfigError: neither ``[directory] path`` nor ``url`` is set, or a bad region.
        DirectoryError: the directory file is unusable.
    """
    settings = config.directory
    check_region(settings.default_region)
    directory = Directory()
    if settings.url:
        from kiosk_agent.providers.directory_api import HttpDirectoryApi

        token = read_secret("directory-token", "KIOSK_DIRECTORY_TOKEN")
        fetcher = HttpDirectoryApi(
            settings.url, token=token, timeout_s=settings.timeout_s
        )
        path = cache_path(config)
        if path.parent.is_dir():
            remove_stale_tmp(path.parent)
        api = ApiSource(
            directory,
            fetcher,
            path,
            region=settings.default_region,
            sync_interval_s=settings.sync_interval_s,
        )
        # The first sync happens in keep_fresh, so a slow API does not delay the start.
        api.load_cache()
        return directory, api
    if not settings.path:
        raise ConfigError(
            "config-missing-key",
            f"{config.source}: set [directory] path or [directory] url",
        )
    source = FileSource(
        directory, config.resolve_path(settings.path), region=settings.default_region
    )
    source.reload()
    return directory, source


async def keep_fresh(source: DirectorySource, poll_s: float) -> None:
    """Refresh the source every ``poll_s`` seconds (in a worker thread) ."""
    while True:
        await asyncio.to_thread(source.refresh)
        await asyncio.sleep(poll_s)


def _stamp(path: Path) -> tuple[int, int, int] | None:
    try:
        info = path.stat()
    except FileNotFoundError:
        return None
    return info.st_mtime_ns, info.st_size, info.st_ino


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DirectoryError(
            "directory-encoding", "admin API: not UTF-8 text"
        ) from None
