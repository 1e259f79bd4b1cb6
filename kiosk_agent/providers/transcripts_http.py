"""HTTP adapter of the customer's chatbot platform: POST one anonymous transcript.

Wire protocol::

    POST {url}
    Authorization: Bearer <token>         (when a token is configured)
    Idempotency-Key: <transcript id>
    Content-Type: application/json

    {"id": ..., "kiosk": ..., "started": "2026-12-03T16:50Z", "turns": [...]}

Any 2xx is delivered; so is 409 (the platform already has this id). A timeout, a
connection failure, 408, 425, 429, 5xx and 401/403 (a token to fix; the transcript must
wait, not be lost) are transient; any other status means the platform refuses this
transcript for good.
"""

from __future__ import annotations

import asyncio
from typing import Final

from kiosk_agent.errors import TranscriptError
from kiosk_agent.providers.http_request import send, with_token

RETRY_STATUSES: Final = frozenset({401, 403, 408, 425, 429})


class HttpTranscriptPlatform:
    """The TranscriptPlatform over HTTP (requests, run in a worker thread)."""

    def __init__(self, url: str, *, token: str | None, timeout_s: float) -> None:
        self.url = url
        self.token = token
        self.timeout_s = timeout_s

    async def deliver(self, key: str, payload: bytes) -> None:
        """POST the transcript; see the module docstring for the statuses.

        Raises:
            TranscriptError: ``transcripts-timeout``, ``transcripts-unreachable`` or
                ``transcripts-http`` (transient or not, by status).
        """
        await asyncio.to_thread(self._post, key, payload)

    def _post(self, key: str, payload: bytes) -> None:
        headers = with_token(
            {"Content-Type": "application/json", "Idempotency-Key": key}, self.token
        )
        answer = send(
            "POST",
            self.url,
            data=payload,
            headers=headers,
            timeout_s=self.timeout_s,
            timed_out=TranscriptError("transcripts-timeout", transient=True),
            unreachable=TranscriptError("transcripts-unreachable", transient=True),
        )
        status = answer.status
        if 200 <= status < 300 or status == 409:
            return
        transient = status >= 500 or status in RETRY_STATUSES
        raise TranscriptError("transcripts-http", f"HTTP {status}", transient=transient)
