"""Where the directory comes from: the customer's file or the admin API.

A local file is reloaded when its stat (mtime, size, inode) changes. The admin API is
synced with conditional requests every ``sync_interval_s`` (sooner after a failure), and
its last good copy goes to the cache file (``cache``). A source never leaves
the directory half-loaded: an unusable document leaves it as it was.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Protocol

from kiosk_agent.directory.cache import decode_utf8, read_cache, write_cache
from kiosk_agent.directory.file import parse_document
from kiosk_agent.directory.memory import Changes, Directory
from kiosk_agent.directory.rows import RowProblem, parse_directory, validate_records
from kiosk_agent.errors import DirectoryError

logger = logging.getLogger(__name__)

FAILED_SYNC_RETRY_S: Final = 60.0
"""After a failed sync, try again this soon even when the sync interval is longer."""


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
        text = decode_utf8(fetched.body)
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


def _stamp(path: Path) -> tuple[int, int, int] | None:
    try:
        info = path.stat()
    except FileNotFoundError:
        return None
    return info.st_mtime_ns, info.st_size, info.st_ino
