"""The LLM broker: redacted history in, one reply out, from the first provider that can.

Providers are tried in the configured order (``[llm] order``: openai, gemini, local).
Each attempt has three deadlines: the provider's own connect timeout (inside the
provider), the time to the first token and the total time (enforced with
``asyncio.timeout`` in ``llm_sentences``), all clipped to what is left of the turn's
budget. A 429 or 5xx is retried with backoff while the budget allows; a permanent error
(auth, bad request) switches provider at once. A circuit breaker per provider
(``llm_breaker``) skips one that failed ``breaker_failures`` times in a row for
``breaker_cooldown_s``, so a dead cloud costs one timeout, not one per turn. When every
provider fails, the reply is the scenario's fixed apology and the session goes on.

Streaming and fallback: text is forwarded to the dialog in whole sentences, as soon as
a sentence boundary arrives, so the first sentence can be spoken while the rest is
still streaming. A provider that fails before any sentence was forwarded is replaced
silently by the next one (its buffered text is dropped). Once a sentence has been
forwarded the visitor may already hear it, so a later failure does not fall back: the
reply is cut to the sentences already forwarded and the report says ``is_truncated``.
Tool calls are only ever complete (providers yield them whole), so a broken stream
never yields half a call.

The types live next to this module and are re-exported here, so
``from kiosk_agent.stages.llm_broker import ...`` keeps working: what is sent in
``llm_chat`` (``ChatMessage``, ``LlmRequest``, ``LlmProvider``, the tool), what comes
back in ``llm_turn`` (``TextDelta``, ``TurnResult``, ``TurnReport``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Mapping, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Final

from kiosk_agent.config import LlmConfig, LlmProviderConfig
from kiosk_agent.errors import LlmError
from kiosk_agent.messages import Reply, ToolCall
from kiosk_agent.stages.llm_breaker import CircuitBreaker
from kiosk_agent.stages.llm_chat import (
    CALL_EMPLOYEE,
    TOOLS,
    ChatMessage,
    LlmProvider,
    LlmRequest,
    Role,
    StreamItem,
    ToolParameter,
    ToolSpec,
)
from kiosk_agent.stages.llm_sentences import stream_sentences
from kiosk_agent.stages.llm_turn import (
    Attempt,
    Outcome,
    TextDelta,
    TurnEvent,
    TurnReport,
    TurnResult,
)

__all__ = [
    "CALL_EMPLOYEE",
    "TOOLS",
    "Attempt",
    "ChatMessage",
    "LlmBroker",
    "LlmProvider",
    "LlmRequest",
    "Outcome",
    "Role",
    "StreamItem",
    "TextDelta",
    "ToolParameter",
    "ToolSpec",
    "TurnEvent",
    "TurnReport",
    "TurnResult",
]

logger = logging.getLogger(__name__)

_RETRIED_CODES: Final = frozenset({"llm-rate-limited", "llm-server-error"})
_DEFAULT_LIMITS: Final = LlmProviderConfig()


@dataclass(slots=True)
class _TryState:
    """What one provider's attempt collected: its tool calls and the requests sent."""

    tool_calls: list[ToolCall] = field(default_factory=list)
    tries: int = 0


class _Failed(Exception):
    """One provider failed for good in a turn; carries its LlmError and tries."""

    def __init__(self, error: LlmError, tries: int) -> None:
        super().__init__(error.code)
        self.error = error
        self.tries = tries


class LlmBroker:
    """Asks providers in order for the reply to a turn; see the module docstring."""

    def __init__(
        self,
        providers: Sequence[LlmProvider],
        config: LlmConfig,
        *,
        system_prompt: str,
        apology: Mapping[str, str],
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], object] | None = None,
    ) -> None:
        """Build the broker.

        Args:
            providers: in the order to try them (daemon.py follows ``[llm] order``).
            config: budget, breaker and per-provider limits (``config.openai`` for the
                provider named "openai", ``config.gemini`` for "gemini", defaults for
                any other).
            system_prompt: the scenario's persona, sent first in every request.
            apology: per language, what to say when every provider failed.
            clock: monotonic seconds; drives the budget and the breakers.
            sleep: awaited for retry backoff; defaults to ``asyncio.sleep``.
        """
        if not providers:
            raise ValueError("the broker needs at least one provider")
        self._providers = tuple(providers)
        self._config = config
        self._system_prompt = system_prompt
        self._apology = dict(apology)
        self._clock = clock
        self._sleep = sleep
        self._breakers = {
            p.name: CircuitBreaker(config.breaker_failures, config.breaker_cooldown_s)
            for p in self._providers
        }

    @property
    def provider_names(self) -> tuple[str, ...]:
        """The providers in the order they are tried."""
        return tuple(p.name for p in self._providers)

    def is_skipped(self, provider: str) -> bool:
        """True while the named provider's circuit breaker is open."""
        breaker = self._breakers.get(provider)
        return breaker is not None and breaker.is_open(self._clock())

    async def complete(
        self, history: Sequence[ChatMessage], *, turn: int = 0
    ) -> TurnResult:
        """The whole reply to a turn without streaming (simulate, tests)."""
        result: TurnResult | None = None
        async for event in self.stream(history, turn=turn):
            if isinstance(event, TurnResult):
                result = event
        assert result is not None  # stream() always ends with a TurnResult.
        return result

    async def stream(
        self, history: Sequence[ChatMessage], *, turn: int = 0
    ) -> AsyncIterator[TurnEvent]:
        """Stream the reply to the last message of ``history``.

        Yields ``TextDelta`` events (whole sentences) as they arrive, then exactly
        one ``TurnResult``. Never raises ``LlmError``: when every provider fails the
        result carries the apology in the visitor's language.

        Args:
            history: the session's messages, oldest first; the last is usually the
                visitor's ``ChatMessage.user(...)`` or a tool result.
            turn: the turn number, for logs and the report.
        """
        started = self._clock()
        request = LlmRequest(
            system_prompt=self._system_prompt,
            history=tuple(history),
            language=_language_of(history),
        )
        attempts: list[Attempt] = []
        forwarded: list[str] = []
        first_text_ms: int | None = None

        for provider in self._providers:
            skipped = self._skipped(provider, started, turn)
            if skipped is not None:
                attempts.append(skipped)
                continue

            attempt_started = self._clock()
            state = _TryState()
            attempt = self._attempt(provider, request, started, state, turn)
            try:
                async with aclosing(attempt) as sentences:
                    async for sentence in sentences:
                        if first_text_ms is None:
                            first_text_ms = _ms(self._clock() - started)
                        forwarded.append(sentence)
                        yield TextDelta(text=sentence)
            except _Failed as failed:
                attempts.append(
                    self._failed(
                        provider.name, failed, attempt_started, bool(forwarded), turn
                    )
                )
                if not forwarded:
                    continue
                yield self._result(
                    provider.name,
                    "".join(forwarded),
                    (),
                    attempts,
                    first_text_ms,
                    started,
                    is_truncated=True,
                )
                return

            attempts.append(self._answered(provider.name, state.tries, attempt_started))
            yield self._result(
                provider.name,
                "".join(forwarded),
                tuple(state.tool_calls),
                attempts,
                first_text_ms,
                started,
            )
            return

        # Every provider failed or was skipped: the fixed apology; the visit goes on.
        apology = self._apology_for(request.language)
        logger.error("llm.all_failed", extra={"fields": {"turn": turn}})
        yield TextDelta(text=apology)
        yield self._result(
            "apology",
            apology,
            (),
            attempts,
            _ms(self._clock() - started),
            started,
            is_apology=True,
        )

    async def aclose(self) -> None:
        """Close every provider."""
        for provider in self._providers:
            await provider.aclose()

    # -- one provider ---------------------------------------------------------------

    async def _attempt(
        self,
        provider: LlmProvider,
        request: LlmRequest,
        started: float,
        state: _TryState,
        turn: int,
    ) -> AsyncGenerator[str, None]:
        """Whole sentences from one provider, retrying 429/5xx within the budget.

        Raises:
            _Failed: the provider failed for good in this turn.
        """
        limits = self._limits(provider.name)
        while True:
            state.tries += 1
            tries = state.tries
            has_forwarded = False
            state.tool_calls.clear()
            one_try = stream_sentences(
                provider,
                request,
                first_token_s=limits.first_token_timeout_s,
                total_s=min(limits.total_timeout_s, self._remaining_s(started)),
                tool_calls=state.tool_calls,
            )
            try:
                async with aclosing(one_try) as sentences:
                    async for sentence in sentences:
                        has_forwarded = True
                        yield sentence
                return
            except LlmError as err:
                logger.warning(
                    "llm.attempt_failed",
                    extra={
                        "fields": {
                            "turn": turn,
                            "provider": provider.name,
                            "attempt": tries,
                            "error_code": err.code,
                        }
                    },
                )
                backoff_s = self._config.retry_backoff_s * 2 ** (tries - 1)
                if (
                    has_forwarded
                    or err.code not in _RETRIED_CODES
                    or tries > self._config.max_retries
                    or not self._budget_allows_retry(started, backoff_s, limits)
                ):
                    raise _Failed(err, tries) from None
            await self._backoff(backoff_s)

    # -- bookkeeping ----------------------------------------------------------------

    def _limits(self, name: str) -> LlmProviderConfig:
        limits = getattr(self._config, name, None)
        return limits if isinstance(limits, LlmProviderConfig) else _DEFAULT_LIMITS

    def _remaining_s(self, started: float) -> float:
        return max(0.0, self._config.turn_budget_s - (self._clock() - started))

    def _budget_allows_retry(
        self, started: float, backoff_s: float, limits: LlmProviderConfig
    ) -> bool:
        # A retry is worth it only if a reply could still arrive in time after it.
        needed_s = backoff_s + min(limits.first_token_timeout_s, 1.0)
        return self._remaining_s(started) > needed_s

    def _skip_reason(self, provider: LlmProvider, started: float) -> Outcome | None:
        if provider.is_offline:
            return None
        if self._breakers[provider.name].is_open(self._clock()):
            return Outcome.SKIPPED_BREAKER
        # An attempt that could not even wait for its first token is not worth it.
        limits = self._limits(provider.name)
        if self._remaining_s(started) < min(limits.first_token_timeout_s, 1.0):
            return Outcome.SKIPPED_BUDGET
        return None

    def _skipped(
        self, provider: LlmProvider, started: float, turn: int
    ) -> Attempt | None:
        """The skipped attempt when the provider is not to be tried, else None."""
        skip = self._skip_reason(provider, started)
        if skip is None:
            return None
        logger.info(
            "llm.provider_skipped",
            extra={
                "fields": {
                    "turn": turn,
                    "provider": provider.name,
                    "reason": skip.value,
                }
            },
        )
        return Attempt(provider=provider.name, outcome=skip)

    def _failed(
        self,
        name: str,
        failed: _Failed,
        attempt_started: float,
        has_forwarded: bool,
        turn: int,
    ) -> Attempt:
        """Count a provider's failure in its breaker and report the attempt."""
        self._record_failure(name, failed.error, turn)
        return Attempt(
            provider=name,
            outcome=Outcome.TRUNCATED if has_forwarded else Outcome.FAILED,
            error_code=failed.error.code,
            tries=failed.tries,
            duration_ms=_ms(self._clock() - attempt_started),
        )

    def _answered(self, name: str, tries: int, attempt_started: float) -> Attempt:
        """Count a provider's answer in its breaker and report the attempt."""
        self._breakers[name].record_success()
        return Attempt(
            provider=name,
            outcome=Outcome.ANSWERED,
            tries=tries,
            duration_ms=_ms(self._clock() - attempt_started),
        )

    def _apology_for(self, language: str) -> str:
        """The fixed apology in ``language``, else in the first language configured."""
        return self._apology.get(language) or next(iter(self._apology.values()), "")

    def _record_failure(self, name: str, error: LlmError, turn: int) -> None:
        if self._breakers[name].record_failure(self._clock()):
            logger.warning(
                "llm.breaker_open",
                extra={
                    "fields": {"turn": turn, "provider": name, "error_code": error.code}
                },
            )

    async def _backoff(self, delay_s: float) -> None:
        if self._sleep is not None:
            await _maybe_await(self._sleep(delay_s))
        else:
            await asyncio.sleep(delay_s)

    def _result(
        self,
        provider: str,
        text: str,
        tool_calls: tuple[ToolCall, ...],
        attempts: list[Attempt],
        first_text_ms: int | None,
        started: float,
        *,
        is_apology: bool = False,
        is_truncated: bool = False,
    ) -> TurnResult:
        report = TurnReport(
            provider=provider,
            attempts=tuple(attempts),
            first_text_ms=first_text_ms,
            duration_ms=_ms(self._clock() - started),
            is_apology=is_apology,
            is_truncated=is_truncated,
        )
        if provider != self._providers[0].name:
            logger.warning(
                "llm.fallback_used",
                extra={"fields": {"provider": provider, "count": len(attempts)}},
            )
        logger.info(
            "llm.turn_done",
            extra={
                "fields": {
                    "provider": provider,
                    "duration_ms": report.duration_ms,
                    "count": len(tool_calls),
                }
            },
        )
        return TurnResult(
            reply=Reply(text=text.strip(), provider=provider, tool_calls=tool_calls),
            report=report,
        )


def _language_of(history: Sequence[ChatMessage]) -> str:
    for message in reversed(history):
        if message.language:
            return message.language
    return "en"


def _ms(seconds: float) -> int:
    return round(seconds * 1000)


async def _maybe_await(value: object) -> None:
    if asyncio.iscoroutine(value) or isinstance(value, asyncio.Future):
        await value
