"""Durable outbox of anonymous transcripts waiting for the chatbot platform.

This is the only place where conversation data is written to disk, and it receives
pseudonymized transcripts only (``stages/transcript_sink.py`` builds them from
``RedactedText`` and ``Reply``). Each transcript is one file named
``<sequence>-<id>.json`` in a folder only the service user can open (0700, files 0600),
written atomically (temporary file, fsync, rename, fsync of the folder), so a crash or
a power cut leaves either the whole file or nothing; temporary files left by a crash are
deleted when the outbox opens. Files are delivered and deleted in sequence order.

The outbox is bounded: when ``max_items`` transcripts wait, the oldest is dropped with a
warning and counted. The counters live in ``counters.json`` beside the transcripts, so
``kiosk-agent status`` can show them with ``read_outbox_stats`` without opening the
outbox for writing.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from kiosk_agent.config import TranscriptsConfig
from kiosk_agent.errors import TranscriptError
from kiosk_agent.storage import (
    ensure_private_folder,
    remove_durable,
    remove_stale_tmp,
    systemd_state_directory,
    write_atomic,
)

logger = logging.getLogger(__name__)

ITEM_NAME: Final = re.compile(
    r"(\d{12})-([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.json"
)
"""``<sequence>-<transcript id>.json``; other files in the folder are not items."""
COUNTERS_NAME: Final = "counters.json"


@dataclass(frozen=True, slots=True)
class OutboxStats:
    """What ``kiosk-agent status`` shows about the outbox."""

    pending: int
    """Transcripts waiting for delivery."""
    dropped: int
    """Transcripts dropped (oldest first) because the outbox was full, ever."""
    rejected: int
    """Transcripts the platform refused for good (a 4xx other than auth), ever."""


def outbox_folder(config: TranscriptsConfig) -> Path:
    """$STATE_DIRECTORY/outbox under systemd, else ``[transcripts] outbox_dir``."""
    state = systemd_state_directory()
    return state / "outbox" if state else Path(config.outbox_dir)


def read_outbox_stats(folder: Path) -> OutboxStats:
    """The outbox's counters without opening it for writing (for ``status``)."""
    pending = sum(1 for _ in _scan(folder)) if folder.is_dir() else 0
    counters = _read_counters(folder / COUNTERS_NAME)
    return OutboxStats(
        pending=pending, dropped=counters["dropped"], rejected=counters["rejected"]
    )


class Outbox:
    """A folder of transcripts waiting, oldest first; safe to use from threads."""

    def __init__(self, folder: Path, *, max_items: int) -> None:
        """Open (or create) the outbox and clean what a crash left behind.

        Raises:
            TranscriptError: the folder cannot be created or read.
        """
        self.folder = folder
        self.max_items = max_items
        self._lock = threading.Lock()
        try:
            ensure_private_folder(folder)
            stale = remove_stale_tmp(folder)
            self._items = sorted(_scan(folder))
        except OSError as err:
            raise TranscriptError(
                "outbox-unusable", f"{folder}: {err.strerror}"
            ) from None
        if stale:
            logger.warning(
                "outbox.stale_tmp_removed", extra={"fields": {"count": stale}}
            )
        self._counters = _read_counters(folder / COUNTERS_NAME)

    def __len__(self) -> int:
        return len(self._items)

    def stats(self) -> OutboxStats:
        """Pending, dropped and rejected counts."""
        return OutboxStats(pending=len(self._items), **self._counters)

    def put(self, key: str, payload: bytes) -> None:
        """Store one transcript durably; drops the oldest first when the outbox is full.

        Args:
            key: the transcript's id (a UUID), also its idempotency key.
            payload: the transcript as JSON, pseudonymized text only.

        Raises:
            TranscriptError: bad key, or the disk refused the write.
        """
        if not ITEM_NAME.fullmatch(f"{0:012d}-{key}.json"):
            raise TranscriptError("outbox-bad-key", "the key must be a lowercase UUID")
        with self._lock:
            while len(self._items) >= self.max_items:
                self._drop_oldest()
            sequence = self._items[-1][0] + 1 if self._items else 1
            path = self.folder / f"{sequence:012d}-{key}.json"
            try:
                write_atomic(path, payload)
            except OSError as err:
                raise TranscriptError(
                    "outbox-write-failed", f"{path}: {err.strerror}"
                ) from None
            self._items.append((sequence, key, path))

    def oldest(self) -> tuple[str, bytes] | None:
        """The key and payload of the oldest transcript, or None when empty."""
        with self._lock:
            while self._items:
                _, key, path = self._items[0]
                try:
                    return key, path.read_bytes()
                except FileNotFoundError:
                    self._items.pop(0)  # Removed behind our back; nothing to send.
            return None

    def remove(self, key: str) -> None:
        """Delete a delivered transcript (no error when it is already gone)."""
        with self._lock:
            for item in [i for i in self._items if i[1] == key]:
                self._items.remove(item)
                remove_durable(item[2])

    def reject(self, key: str) -> None:
        """Delete a transcript the platform refused for good, and count it."""
        self.remove(key)
        with self._lock:
            self._counters["rejected"] += 1
            self._save_counters()

    def _drop_oldest(self) -> None:
        _, _, path = self._items.pop(0)
        remove_durable(path)
        self._counters["dropped"] += 1
        self._save_counters()
        fields = {"count": self._counters["dropped"], "queue_depth": len(self._items)}
        logger.warning("outbox.dropped_oldest", extra={"fields": fields})

    def _save_counters(self) -> None:
        data = json.dumps(self._counters).encode("ascii")
        try:
            write_atomic(self.folder / COUNTERS_NAME, data)
        except OSError as err:
            # The counter is for status only; losing it must not lose a transcript.
            logger.error(
                "outbox.counters_unwritable",
                extra={"fields": {"error_type": type(err).__name__}},
            )


def _scan(folder: Path) -> list[tuple[int, str, Path]]:
    items = []
    for entry in folder.iterdir():
        match = ITEM_NAME.fullmatch(entry.name)
        if match:
            items.append((int(match.group(1)), match.group(2), entry))
    return items


def _read_counters(path: Path) -> dict[str, int]:
    counters = {"dropped": 0, "rejected": 0}
    try:
        stored = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return counters
    if isinstance(stored, dict):
        for name in counters:
            value = stored.get(name)
            if isinstance(value, int) and value >= 0:
                counters[name] = value
    return counters
