"""The blocking HTTP request the customer's services share: bearer token, errors.

Used by the directory API, telephony and transcript platform clients. A timeout or a
connection failure becomes the caller's own ``KioskError`` (its code names the
service); the library's message, which can echo the URL, is never kept. Blocking
(requests): call it from a worker thread.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from kiosk_agent.errors import KioskError


@dataclass(frozen=True, slots=True)
class HttpAnswer:
    """What the service sent back."""

    status: int
    body: bytes = field(repr=False)
    headers: Mapping[str, str] = field(repr=False)
    """Response headers; names are looked up case-insensitively."""


def with_token(headers: dict[str, str], token: str | None) -> dict[str, str]:
    """Add ``Authorization: Bearer <token>`` to ``headers`` when there is a token."""
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return headers


def send(
    method: str,
    url: str,
    *,
    headers: Mapping[str, str],
    timeout_s: float | tuple[float, float],
    timed_out: KioskError,
    unreachable: KioskError,
    data: str | bytes | None = None,
) -> HttpAnswer:
    """Send one request and read the whole answer.

    Args:
        method: "GET" or "POST".
        url: the service's URL.
        headers: all request headers (see ``with_token``).
        timeout_s: seconds, or (connect, read) seconds.
        timed_out: raised when the service does not answer in time.
        unreachable: raised when the service cannot be reached.
        data: the request body, if any.

    Raises:
        KioskError: ``timed_out`` or ``unreachable``.
    """
    import requests

    try:
        response = requests.request(
            method, url, data=data, headers=dict(headers), timeout=timeout_s
        )
    except requests.Timeout:
        raise timed_out from None
    except requests.RequestException:
        raise unreachable from None
    with response:
        return HttpAnswer(response.status_code, response.content, response.headers)
