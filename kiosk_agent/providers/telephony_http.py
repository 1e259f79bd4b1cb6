"""HTTP adapter of the telephony service: one POST per call, carrying only the number.

Wire protocol (kept deliberately small)::

    POST {url}/calls
    Authorization: Bearer <token>          (when a token is configured)
    Idempotency-Key: <random UUID>         (same for the retries of one call)
    Content-Type: application/json

    {"to": "+420601112233", "ring_timeout_s": 30}

The service rings the number, waits up to ``ring_timeout_s`` and answers
``200 {"status": "answered" | "busy" | "no_answer" | "failed"}``. Nothing else about
anyone travels: no name, department or visitor data in the URL, the headers or the body.
A 5xx, 429 or a connection failure is transient (the stage may retry with the same
Idempotency-Key, so the service can refuse to ring twice); other statuses are failures.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any, Final

from kiosk_agent.errors import TelephonyError
from kiosk_agent.providers.http_request import send, with_token
from kiosk_agent.stages.telephony import E164, TIMEOUT_CODE, CallOutcome

STATUSES: Final = {
    "answered": CallOutcome.ANSWERED,
    "busy": CallOutcome.BUSY,
    "no_answer": CallOutcome.NO_ANSWER,
    "failed": CallOutcome.FAILED,
}


class HttpTelephony:
    """The TelephonyProvider over HTTP (requests, run in a worker thread)."""

    def __init__(self, url: str, *, token: str | None, timeout_s: float) -> None:
        self.url = url.rstrip("/")
        self.token = token
        self.timeout_s = timeout_s

    async def dial(
        self, number: str, *, ring_timeout_s: float, call_id: str
    ) -> CallOutcome:
        """Ring ``number`` and return the service's verdict.

        Raises:
            TelephonyError: ``telephony-timeout``, ``telephony-unreachable``
                (transient), ``telephony-http`` (transient for 5xx and 429),
                ``telephony-bad-answer``, ``telephony-bad-number`` (not E.164; nothing
                is sent).
        """
        if not E164.fullmatch(number):
            raise TelephonyError("telephony-bad-number", "not an E.164 number")
        return await asyncio.to_thread(self._post, number, ring_timeout_s, call_id)

    def _post(self, number: str, ring_timeout_s: float, key: str) -> CallOutcome:
        headers = with_token(
            {"Content-Type": "application/json", "Idempotency-Key": key}, self.token
        )
        body = json.dumps({"to": number, "ring_timeout_s": ring_timeout_s})
        answer = send(
            "POST",
            f"{self.url}/calls",
            data=body,
            headers=headers,
            timeout_s=(self.timeout_s, ring_timeout_s + self.timeout_s),
            timed_out=TelephonyError(TIMEOUT_CODE, transient=True),
            unreachable=TelephonyError("telephony-unreachable", transient=True),
        )
        return _outcome(answer.status, answer.body)


def _outcome(status: int, content: bytes) -> CallOutcome:
    if status >= 300:
        transient = status >= 500 or status == 429
        raise TelephonyError("telephony-http", f"HTTP {status}", transient=transient)
    try:
        answer: Any = json.loads(content)
        return STATUSES[answer["status"]]
    except (ValueError, KeyError, TypeError):
        raise TelephonyError("telephony-bad-answer", "unexpected answer") from None
