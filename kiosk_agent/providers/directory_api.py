"""Client of the customer's admin API that serves the employee directory.

Wire protocol: ``GET {url}`` with ``Authorization: Bearer <token>`` answers 200 with the
whole directory as JSON (``{"employees": [...]}``, the same rows as the file format)
and an ``ETag`` and/or ``Last-Modified`` header. The next request sends them back as
``If-None-Match`` / ``If-Modified-Since``, and the API answers 304 when nothing changed.
An employee missing from a 200 answer has been deleted. Blocking (requests): call it
from a worker thread.
"""

from __future__ import annotations

from collections.abc import Mapping

from kiosk_agent.directory import Fetched
from kiosk_agent.errors import DirectoryError
from kiosk_agent.providers.http_request import send, with_token


class HttpDirectoryApi:
    """Conditional GETs of the directory; errors become DirectoryError codes."""

    def __init__(self, url: str, *, token: str | None, timeout_s: float) -> None:
        self.url = url
        self.token = token
        self.timeout_s = timeout_s

    def fetch(self, *, etag: str = "", last_modified: str = "") -> Fetched | None:
        """GET the directory; None when the API answers 304 Not Modified.

        Raises:
            DirectoryError: unreachable or slow (transient), refused (auth, 4xx) or a
                server error (5xx, transient).
        """
        headers = with_token({"Accept": "application/json"}, self.token)
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        answer = send(
            "GET",
            self.url,
            headers=headers,
            timeout_s=self.timeout_s,
            timed_out=DirectoryError(
                "directory-api-timeout",
                "admin API did not answer in time",
                transient=True,
            ),
            unreachable=DirectoryError(
                "directory-api-unreachable",
                "admin API cannot be reached",
                transient=True,
            ),
        )
        return _result(answer.status, answer.body, answer.headers)


def _result(status: int, body: bytes, headers: Mapping[str, str]) -> Fetched | None:
    if status == 304:
        return None
    if status in (401, 403):
        raise DirectoryError(
            "directory-api-auth", f"admin API refused the token (HTTP {status})"
        )
    if status >= 300:
        raise DirectoryError(
            "directory-api-http",
            f"admin API answered HTTP {status}",
            transient=status >= 500,
        )
    return Fetched(
        body=body,
        etag=headers.get("ETag", ""),
        last_modified=headers.get("Last-Modified", ""),
    )
