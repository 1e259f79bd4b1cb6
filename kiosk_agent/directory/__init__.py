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

This module builds the directory from the config and keeps it fresh. The parts live
along the data flow and are re-exported here: ``file`` (raw JSON/CSV),
``rows`` (validation), ``memory`` (the in-memory ``Directory``),
``cache`` (the admin API's last good copy) and ``sources`` (file and
admin API sources).
"""

from __future__ import annotations

import asyncio

from kiosk_agent.config import Config, read_secret
from kiosk_agent.directory.cache import (
    CACHE_NAME,
    cache_path,
    erase_from_cache,
    read_cache,
    write_cache,
)
from kiosk_agent.directory.memory import Changes, Directory, Listener
from kiosk_agent.directory.rows import (
    DEFAULT_REGION,
    DirectoryLoad,
    RowProblem,
    check_region,
    employee_from_values,
    employee_values,
    load_directory,
    normalize_phone,
    parse_directory,
    validate_records,
)
from kiosk_agent.directory.sources import (
    FAILED_SYNC_RETRY_S,
    ApiSource,
    DirectoryFetcher,
    DirectorySource,
    Fetched,
    FileSource,
    SyncReport,
)
from kiosk_agent.errors import ConfigError
from kiosk_agent.storage import remove_stale_tmp

__all__ = [
    "CACHE_NAME",
    "DEFAULT_REGION",
    "FAILED_SYNC_RETRY_S",
    "ApiSource",
    "Changes",
    "Directory",
    "DirectoryFetcher",
    "DirectoryLoad",
    "DirectorySource",
    "Fetched",
    "FileSource",
    "Listener",
    "RowProblem",
    "SyncReport",
    "cache_path",
    "check_region",
    "employee_from_values",
    "employee_values",
    "erase_from_cache",
    "keep_fresh",
    "load_directory",
    "normalize_phone",
    "open_directory",
    "parse_directory",
    "read_cache",
    "validate_records",
    "write_cache",
]


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
