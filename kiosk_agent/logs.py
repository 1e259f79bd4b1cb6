"""Quiet, structured logs that carry no personal data.

Call sites log a fixed event name and put values in ``extra={"fields": {...}}``. Only
fields on ``ALLOWED_FIELDS`` reach a handler; anything else is dropped here, so a
transcript passed by mistake never lands in the journal. Under systemd the records go to
journald as native fields, elsewhere as JSON lines on stderr.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from typing import Any, Final

ALLOWED_FIELDS: Final = frozenset(
    {
        "session_id",
        "turn",
        "stage",
        "duration_ms",
        "audio_ms",
        "queue_depth",
        "dropped_frames",
        "confidence",
        "language",
        "provider",
        "model",
        "attempt",
        "http_status",
        "error_code",
        "error_type",
        "pseudonym_count",
        "version",
        "count",
        "state",
        "outcome",
        "reason",
        "backoff_s",
        # The employee pseudonym a call was placed for (<EMPLOYEE_n>), never a name.
        "pseudonym",
    }
)
"""Fields a log record may carry. Values must be numbers, codes or pseudonyms."""


def allowed_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The record's fields that are on the allow-list; the rest are dropped."""
    fields = getattr(record, "fields", None)
    if not isinstance(fields, dict):
        return {}
    return {k: v for k, v in fields.items() if k in ALLOWED_FIELDS}


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, event and allowed fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(record.created)),
            "level": record.levelname,
            "logger": record.name,
            # The message is a fixed event name; arguments are never interpolated.
            "event": str(record.msg),
        }
        entry.update(allowed_fields(record))
        if record.exc_info and record.exc_info[0] is not None:
            entry.setdefault("error_type", record.exc_info[0].__name__)
        return json.dumps(entry, ensure_ascii=False, default=str)


class JournalHandler(logging.Handler):
    """Send records to journald with the allowed fields as native structured fields."""

    def __init__(self) -> None:
        super().__init__()
        from systemd import journal  # type: ignore[attr-defined]  # Only under systemd.

        self._send = journal.send

    def emit(self, record: logging.LogRecord) -> None:
        try:
            fields = {
                f"KIOSK_{k.upper()}": str(v) for k, v in allowed_fields(record).items()
            }
            priority = {
                logging.DEBUG: 7,
                logging.INFO: 6,
                logging.WARNING: 4,
                logging.ERROR: 3,
                logging.CRITICAL: 2,
            }.get(record.levelno, 6)
            self._send(str(record.msg), PRIORITY=priority, LOGGER=record.name, **fields)
        except Exception:  # noqa: BLE001 - a log sink must never take the daemon down.
            self.handleError(record)


def _handler(stream: Any) -> logging.Handler:
    if os.environ.get("JOURNAL_STREAM") and stream is None:
        try:
            return JournalHandler()
        except ImportError:
            pass
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    return handler


def setup_logging(level: str = "INFO", *, stream: Any = None) -> None:
    """Install the process's one handler: journald under systemd, else JSON lines."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    root.addHandler(_handler(stream))
    root.setLevel(level)
    # Vendor libraries log prompts, URLs with bodies or file names at DEBUG/INFO.
    for noisy in (
        "httpx",
        "httpcore",
        "openai",
        "google_genai",
        "urllib3",
        "faster_whisper",
    ):
        logging.getLogger(noisy).setLevel(logging.WARNING)
