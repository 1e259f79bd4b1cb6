"""What the LLM broker gives back: sentences of the reply, then the turn's result."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from kiosk_agent.messages import Reply


class Outcome(enum.Enum):
    """What happened to one provider in one turn."""

    ANSWERED = "answered"
    FAILED = "failed"
    """Tried and failed (after any retries); ``error_code`` says why."""
    TRUNCATED = "truncated"
    """Failed after a sentence was forwarded; the reply was cut there."""
    SKIPPED_BREAKER = "skipped-breaker"
    """Not tried: its circuit breaker is open."""
    SKIPPED_BUDGET = "skipped-budget"
    """Not tried: the turn's budget was used up."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Attempt:
    """One provider's part in a turn."""

    provider: str
    outcome: Outcome
    error_code: str = ""
    tries: int = 0
    """Requests sent (1 + retries); 0 when skipped."""
    duration_ms: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class TurnReport:
    """Which provider answered a turn and why the others did not."""

    provider: str
    """The provider that answered, or "apology" when none did."""
    attempts: tuple[Attempt, ...]
    first_text_ms: int | None
    """From the start of the turn to the first forwarded sentence; None if no text."""
    duration_ms: int
    is_apology: bool = False
    is_truncated: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class TextDelta:
    """One or more complete sentences of the reply, ready to be spoken."""

    text: str = field(repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class TurnResult:
    """The end of a turn: the whole reply (pseudonymized) and the report."""

    reply: Reply
    report: TurnReport


TurnEvent = TextDelta | TurnResult
"""What ``LlmBroker.stream`` yields: text deltas, then exactly one TurnResult."""
