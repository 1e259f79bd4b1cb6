"""Transcript sink: a visit's anonymous transcript, delivered to the chatbot platform.

A ``VisitTranscript`` accepts only ``RedactedText`` (the visitor's turns) and ``Reply``
(the kiosk's, still pseudonymized): never a ``Transcript`` or a ``SpokenReply``, which
hold names. It keeps no audio and no time finer than the minute the visit started. When
the visit ends the transcript goes into the durable outbox first and is then delivered
in order, each with its id as the idempotency key, so a platform that was down receives
everything once it returns, and a transcript sent twice (a crash between delivery and
deletion) is recognised as the same one.

Payload (JSON)::

    {"id": "<uuid4>", "kiosk": "<kiosk id>", "started": "2026-12-03T16:50Z",
     "turns": [{"role": "visitor" | "kiosk", "text": "<pseudonymized text>"}]}
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Final, Protocol

from kiosk_agent.config import TranscriptsConfig
from kiosk_agent.errors import TranscriptError
from kiosk_agent.messages import RedactedText, Reply

logger = logging.getLogger(__name__)

FIRST_BACKOFF_S: Final = 1.0


def kiosk_id_for(config: TranscriptsConfig) -> str:
    """The kiosk's name in transcripts: ``[transcripts] kiosk_id``, else the host."""
    return config.kiosk_id or socket.gethostname()


class TranscriptStore(Protocol):
    """Durable storage of transcripts waiting (``kiosk_agent.outbox.Outbox``)."""

    def put(self, key: str, payload: bytes) -> None:
        """Store one transcript durably (may drop the oldest when full)."""
        ...

    def oldest(self) -> tuple[str, bytes] | None:
        """The oldest waiting transcript, or None."""
        ...

    def remove(self, key: str) -> None:
        """Delete a delivered transcript."""
        ...

    def reject(self, key: str) -> None:
        """Delete and count a transcript the platform refused for good."""
        ...


class TranscriptPlatform(Protocol):
    """The chatbot platform (``providers/transcripts_http.py``, or a test fake)."""

    async def deliver(self, key: str, payload: bytes) -> None:
        """Send one transcript with ``key`` as its idempotency key.

        Raises:
            TranscriptError: ``transient`` when it should be retried later.
        """
        ...


class VisitTranscript:
    """The anonymous transcript of one visit, built turn by turn."""

    def __init__(self, *, kiosk_id: str, started: datetime) -> None:
        self.id = str(uuid.uuid4())
        self.kiosk_id = kiosk_id
        self.started = started.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")
        """Start of the visit, to the minute only."""
        self._turns: list[dict[str, str]] = []

    def __repr__(self) -> str:
        return f"VisitTranscript(turns={len(self._turns)})"

    def __len__(self) -> int:
        return len(self._turns)

    def add_visitor(self, text: RedactedText) -> None:
        """Add what the visitor said, as redacted text."""
        if not isinstance(text, RedactedText):
            raise TypeError("a visitor turn must be RedactedText")  # Fail closed.
        self._turns.append({"role": "visitor", "text": text.text})

    def add_kiosk(self, reply: Reply) -> None:
        """Add what the kiosk answered, as the pseudonymized reply."""
        if not isinstance(reply, Reply):
            raise TypeError("a kiosk turn must be a Reply")  # Never a SpokenReply.
        self._turns.append({"role": "kiosk", "text": reply.text})

    def payload(self) -> bytes:
        """The JSON sent to the platform."""
        data = {
            "id": self.id,
            "kiosk": self.kiosk_id,
            "started": self.started,
            "turns": self._turns,
        }
        return json.dumps(data, ensure_ascii=False).encode("utf-8")


class TranscriptSink:
    """Stores finished visits in the outbox and delivers them, oldest first."""

    def __init__(
        self,
        store: TranscriptStore,
        platform: TranscriptPlatform,
        *,
        kiosk_id: str,
        deliver_timeout_s: float = 10.0,
        max_backoff_s: float = 300.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.store = store
        self.platform = platform
        self.kiosk_id = kiosk_id
        self.deliver_timeout_s = deliver_timeout_s
        self.max_backoff_s = max_backoff_s
        self._sleep = sleep
        self._wake = asyncio.Event()

    def open_visit(self, started: datetime | None = None) -> VisitTranscript:
        """Start the transcript of a new visit."""
        return VisitTranscript(
            kiosk_id=self.kiosk_id, started=started or datetime.now(UTC)
        )

    async def close_visit(self, visit: VisitTranscript) -> None:
        """Put a finished visit into the outbox and wake the delivery loop.

        A visit without turns leaves nothing behind.

        Raises:
            TranscriptError: the outbox refused the write (disk full, read-only).
        """
        if not len(visit):
            return
        await asyncio.to_thread(self.store.put, visit.id, visit.payload())
        logger.info("transcripts.stored", extra={"fields": {"turn": len(visit)}})
        self._wake.set()

    async def deliver_pending(self) -> bool:
        """Deliver waiting transcripts in order; False when the platform is down."""
        # TODO(#6): one POST per transcript; batching would matter only for a backlog of
        # thousands after a long outage (about 4 ms each to a local server).
        while True:
            item = await asyncio.to_thread(self.store.oldest)
            if item is None:
                return True
            key, payload = item
            try:
                async with asyncio.timeout(self.deliver_timeout_s):
                    await self.platform.deliver(key, payload)
            except TimeoutError:
                logger.warning(
                    "transcripts.deliver_failed",
                    extra={"fields": {"error_code": "transcripts-timeout"}},
                )
                return False
            except TranscriptError as err:
                if err.transient:
                    logger.warning(
                        "transcripts.deliver_failed",
                        extra={"fields": {"error_code": err.code}},
                    )
                    return False
                logger.error(
                    "transcripts.rejected", extra={"fields": {"error_code": err.code}}
                )
                await asyncio.to_thread(self.store.reject, key)
                continue
            await asyncio.to_thread(self.store.remove, key)
            logger.info("transcripts.delivered", extra={"fields": {"count": 1}})

    async def run(self) -> None:
        """Deliver forever: at start, after each visit, and with backoff while down."""
        backoff_s = FIRST_BACKOFF_S
        while True:
            self._wake.clear()
            if await self.deliver_pending():
                backoff_s = FIRST_BACKOFF_S
                await self._wake.wait()
                continue
            logger.debug(
                "transcripts.backoff", extra={"fields": {"backoff_s": backoff_s}}
            )
            await self._sleep(backoff_s)
            backoff_s = min(backoff_s * 2, self.max_backoff_s)
