"""Telephony sink: ring an employee by the telephony service, given only a number.

The stage looks the employee's phone number up locally (in the directory, at call time,
so an edit or an erasure applies at once), checks that it is E.164, and hands the
provider that string and nothing else. Retries and deadlines are bounded: whatever the
service does, ``place_call`` returns a ``CallOutcome`` within ``max_wait_s``, and the
dialog says the matching line from the scenario.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Final, Protocol

from kiosk_agent.config import TelephonyConfig
from kiosk_agent.errors import TelephonyError
from kiosk_agent.messages import Employee

logger = logging.getLogger(__name__)

E164: Final = re.compile(r"\+[1-9][0-9]{6,14}")
"""What a number handed to the provider must look like, whole."""

TIMEOUT_CODE: Final = "telephony-timeout"
"""The code a provider raises when the service did not answer in time."""


class CallOutcome(enum.Enum):
    """How a call ended; decides what the avatar says next."""

    ANSWERED = "answered"
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    FAILED = "failed"
    TIMED_OUT = "timed_out"


class TelephonyProvider(Protocol):
    """The telephony service (``providers/telephony_http.py``, or a test fake)."""

    async def dial(
        self, number: str, *, ring_timeout_s: float, call_id: str
    ) -> CallOutcome:
        """Ring ``number`` (E.164) for up to ``ring_timeout_s``; return how it ended.

        ``call_id`` is random and the same for the retries of one call, so the service
        can refuse to ring twice.

        Raises:
            TelephonyError: the call could not be placed; ``transient`` when a retry
                may help, code ``telephony-timeout`` when the service did not answer.
        """
        ...


class PhoneBook(Protocol):
    """Where the stage looks numbers up: the in-memory ``Directory``."""

    def phone_of(self, employee_id: str) -> str | None:
        """The employee's E.164 number, or None."""
        ...


class TelephonyStage:
    """Places one call per request, with bounded retries and an overall deadline."""

    def __init__(
        self,
        provider: TelephonyProvider,
        phone_book: PhoneBook,
        *,
        config: TelephonyConfig,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.provider = provider
        self.phone_book = phone_book
        self.config = config
        self._sleep = sleep

    async def place_call(self, employee: Employee) -> CallOutcome:
        """Ring the employee and return the outcome, within ``max_wait_s``.

        An employee without a valid number (or no longer in the directory) is FAILED
        without contacting the service.
        """
        started_ns = time.monotonic_ns()
        number = self.phone_book.phone_of(employee.id)
        if number is None or not E164.fullmatch(number):
            outcome = CallOutcome.FAILED
            logger.warning(
                "telephony.no_number", extra={"fields": {"outcome": outcome.value}}
            )
            return outcome
        try:
            async with asyncio.timeout(self.config.max_wait_s):
                outcome = await self._with_retries(number, str(uuid.uuid4()))
        except TimeoutError:
            outcome = CallOutcome.TIMED_OUT
        duration_ms = (time.monotonic_ns() - started_ns) // 1_000_000
        logger.info(
            "telephony.call_ended",
            extra={"fields": {"outcome": outcome.value, "duration_ms": duration_ms}},
        )
        return outcome

    async def _with_retries(self, number: str, call_id: str) -> CallOutcome:
        attempts = 1 + self.config.retries
        for attempt in range(1, attempts + 1):
            try:
                return await self._attempt(number, call_id)
            except TelephonyError as err:
                if err.code == TIMEOUT_CODE:
                    # The phone may be ringing: a retry could ring it twice.
                    return CallOutcome.TIMED_OUT
                fields = {"attempt": attempt, "error_code": err.code}
                logger.warning("telephony.attempt_failed", extra={"fields": fields})
                if not err.transient or attempt == attempts:
                    return CallOutcome.FAILED
            await self._sleep(self.config.retry_backoff_s * attempt)
        return CallOutcome.FAILED

    async def _attempt(self, number: str, call_id: str) -> CallOutcome:
        # The service answers after ringing, so one attempt may take the ring time plus
        # the network allowance; past that it is treated as a timeout.
        deadline_s = self.config.ring_timeout_s + self.config.timeout_s
        try:
            async with asyncio.timeout(deadline_s):
                return await self.provider.dial(
                    number, ring_timeout_s=self.config.ring_timeout_s, call_id=call_id
                )
        except TimeoutError:
            raise TelephonyError(TIMEOUT_CODE, transient=True) from None
