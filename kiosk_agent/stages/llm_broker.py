"""The LLM broker: redacted history in, one reply out, from the first provider that can.

Providers are tried in the configured order (``[llm] order``: openai, gemini, local).
Each attempt has three deadlines: the provider's own connect timeout (inside the
provider), the time to the first token and the total time (enforced here with
``asyncio.timeout``), all clipped to what is left of the turn's budget. A 429 or 5xx is
retried with backoff while the budget allows; a permanent error (auth, bad request)
switches provider at once. A circuit breaker per provider skips one that failed
``breaker_failures`` times in a row for ``breaker_cooldown_s``, so a dead cloud costs
one timeout, not one per turn. When every provider fails, the reply is the scenario's
fixed apology and the session goes on.

Streaming and fallback: text is forwarded to the dialog in whole sentences, as soon as
a sentence boundary arrives, so the first sentence can be spoken while the rest is
still streaming. A provider that fails before any sentence was forwarded is replaced
silently by the next one (its buffered text is dropped). Once a sentence has been
forwarded the visitor may already hear it, so a later failure does not fall back: the
reply is cut to the sentences already forwarded and the report says ``is_truncated``.
Tool calls are only ever complete (providers yield them whole), so a broken stream
never yields half a call.

Privacy is a boundary in the types: the only visitor text a ``ChatMessage`` can carry
is a ``RedactedText``; a ``Transcript`` is refused with ``TypeError``.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import re
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Mapping, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Final, Protocol

from kiosk_agent.config import LlmConfig, LlmProviderConfig
from kiosk_agent.errors import LlmError
from kiosk_agent.messages import RedactedText, Reply, ToolCall

logger = logging.getLogger(__name__)

# -------------------------------------------------------------------------------------
# What is sent: chat messages and the offered tool.
# -------------------------------------------------------------------------------------


class Role(enum.Enum):
    """Who wrote a chat message (the system prompt is passed separately)."""

    USER = "user"
    ASSISTANT = "assistant"
    TOOL = "tool"


@dataclass(frozen=True, slots=True, kw_only=True)
class ChatMessage:
    """One entry of a session's pseudonymized history.

    Build it with the class methods, not the constructor:
    ``ChatMessage.user(redacted)``, ``ChatMessage.assistant(text, tool_calls)`` or
    ``ChatMessage.from_reply(reply)``, and ``ChatMessage.tool_result(call, text)``.
    A user message can only be built from a ``RedactedText``.
    """

    role: Role
    redacted: RedactedText | None = field(default=None, repr=False)
    """The visitor's words (role USER only)."""
    text: str = field(default="", repr=False)
    """Assistant text or tool result (roles ASSISTANT and TOOL); pseudonymized."""
    tool_calls: tuple[ToolCall, ...] = ()
    """Calls the assistant asked for (role ASSISTANT)."""
    call: ToolCall | None = None
    """The call this message answers (role TOOL)."""

    def __post_init__(self) -> None:
        if self.role is Role.USER:
            if not isinstance(self.redacted, RedactedText):
                raise TypeError("a user message takes RedactedText only")
            if self.text or self.tool_calls or self.call is not None:
                raise TypeError("a user message carries only its RedactedText")
        elif self.redacted is not None:
            raise TypeError("only a user message carries RedactedText")
        if self.role is Role.TOOL and self.call is None:
            raise TypeError("a tool result needs the call it answers")

    @classmethod
    def user(cls, redacted: RedactedText) -> ChatMessage:
        """The visitor's turn, as redacted text."""
        return cls(role=Role.USER, redacted=redacted)

    @classmethod
    def assistant(cls, text: str, tool_calls: Sequence[ToolCall] = ()) -> ChatMessage:
        """What the kiosk said (still pseudonymized) and the calls it asked for."""
        return cls(role=Role.ASSISTANT, text=text, tool_calls=tuple(tool_calls))

    @classmethod
    def from_reply(cls, reply: Reply) -> ChatMessage:
        """The assistant message for a broker reply."""
        return cls.assistant(reply.text, reply.tool_calls)

    @classmethod
    def tool_result(cls, call: ToolCall, text: str) -> ChatMessage:
        """The outcome of a tool call, told to the model (e.g. a refusal)."""
        return cls(role=Role.TOOL, call=call, text=text)

    @property
    def content(self) -> str:
        """The message text as sent to a provider."""
        return self.redacted.text if self.redacted is not None else self.text

    @property
    def language(self) -> str | None:
        """The visitor's language for a user message, else None."""
        return self.redacted.language if self.redacted is not None else None


@dataclass(frozen=True, slots=True, kw_only=True)
class ToolParameter:
    """One string parameter of an offered tool."""

    name: str
    description: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ToolSpec:
    """A function offered to the model; every parameter is a required string."""

    name: str
    description: str
    parameters: tuple[ToolParameter, ...]


CALL_EMPLOYEE: Final = ToolSpec(
    name="call_employee",
    description=(
        "Phone an employee so they come to reception. Use it when the visitor has "
        "named the employee they came to see."
    ),
    parameters=(
        ToolParameter(
            name="employee",
            description=(
                "The employee's token exactly as it appears in the conversation, "
                "e.g. <EMPLOYEE_1>."
            ),
        ),
    ),
)
"""The only tool the kiosk offers."""

TOOLS: Final = (CALL_EMPLOYEE,)


@dataclass(frozen=True, slots=True, kw_only=True)
class LlmRequest:
    """Everything a provider may send for one attempt; nothing else leaves."""

    system_prompt: str = field(repr=False)
    history: tuple[ChatMessage, ...] = field(repr=False)
    tools: tuple[ToolSpec, ...] = TOOLS
    language: str = "en"
    """The visitor's language (of the last user message)."""


StreamItem = str | ToolCall
"""What a provider yields: a text delta, or one complete tool call."""


class LlmProvider(Protocol):
    """A language model reachable by the broker (cloud API or offline responder).

    Implementations translate their library's exceptions into ``LlmError`` with a
    stable code and ``transient`` set: ``llm-timeout``, ``llm-connect`` (transient),
    ``llm-rate-limited`` (429, transient), ``llm-server-error`` (5xx, transient),
    ``llm-stream-broken`` (transient), ``llm-auth`` and ``llm-bad-request``
    (permanent), ``llm-no-key`` (permanent: no API key configured).
    """

    @property
    def name(self) -> str:
        """Short stable name, as in ``[llm] order``: openai, gemini, local."""
        ...

    @property
    def is_offline(self) -> bool:
        """True when the provider needs no network (tried even past the budget)."""
        ...

    def stream(self, request: LlmRequest) -> AsyncIterator[StreamItem]:
        """Stream one reply: text deltas as they arrive, tool calls complete.

        Raises:
            LlmError: the call failed; ``code`` and ``transient`` say how.
        """
        ...

    async def aclose(self) -> None:
        """Release connections; the provider is not used afterwards."""
        ...


# -------------------------------------------------------------------------------------
# What comes back: events of a turn and its report.
# -------------------------------------------------------------------------------------


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

# -------------------------------------------------------------------------------------
# The broker.
# -------------------------------------------------------------------------------------

_RETRIED_CODES: Final = frozenset({"llm-rate-limited", "llm-server-error"})
_SENTENCE_END: Final = re.compile(r"[.!?…](?:[\"')\]»“”]*)(?:\s+|$)|\n+")
_DEFAULT_LIMITS: Final = LlmProviderConfig()


class _Breaker:
    """A per-provider circuit breaker on an injected clock."""

    def __init__(self, failures: int, cooldown_s: float) -> None:
        self._threshold = failures
        self._cooldown_s = cooldown_s
        self._failures = 0
        self._open_until: float | None = None

    def is_open(self, now: float) -> bool:
        """True while the provider should be skipped; half-open after the cooldown."""
        return self._open_until is not None and now < self._open_until

    def record_success(self) -> None:
        self._failures = 0
        self._open_until = None

    def record_failure(self, now: float) -> bool:
        """Count a failure; True when this one opened the breaker."""
        self._failures += 1
        if self._failures >= self._threshold:
            self._open_until = now + self._cooldown_s
            return True
        return False


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
            p.name: _Breaker(config.breaker_failures, config.breaker_cooldown_s)
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
            skip = self._skip_reason(provider, started)
            if skip is not None:
                attempts.append(Attempt(provider=provider.name, outcome=skip))
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
                self._record_failure(provider.name, failed.error, turn)
                outcome = Outcome.TRUNCATED if forwarded else Outcome.FAILED
                attempts.append(
                    Attempt(
                        provider=provider.name,
                        outcome=outcome,
                        error_code=failed.error.code,
                        tries=failed.tries,
                        duration_ms=_ms(self._clock() - attempt_started),
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

            self._breakers[provider.name].record_success()
            attempts.append(
                Attempt(
                    provider=provider.name,
                    outcome=Outcome.ANSWERED,
                    tries=state.tries,
                    duration_ms=_ms(self._clock() - attempt_started),
                )
            )
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
        apology = self._apology.get(request.language) or next(
            iter(self._apology.values()), ""
        )
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
            one_try = self._one_try(
                provider, request, limits, started, state.tool_calls
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

    async def _one_try(
        self,
        provider: LlmProvider,
        request: LlmRequest,
        limits: LlmProviderConfig,
        started: float,
        tool_calls: list[ToolCall],
    ) -> AsyncGenerator[str, None]:
        """One request: enforce first-token and total deadlines, cut into sentences."""
        loop = asyncio.get_running_loop()
        remaining_s = self._remaining_s(started)
        total_at = loop.time() + min(limits.total_timeout_s, remaining_s)
        first_at = min(loop.time() + limits.first_token_timeout_s, total_at)
        pending = ""
        stream = provider.stream(request)
        try:
            async with asyncio.timeout_at(first_at) as deadline:
                async for item in stream:
                    deadline.reschedule(total_at)
                    if isinstance(item, ToolCall):
                        tool_calls.append(item)
                        continue
                    pending += item
                    sentences, pending = _split_sentences(pending)
                    if sentences:
                        # Leave the deadline scope while the dialog consumes the text.
                        deadline.reschedule(None)
                        yield sentences
                        deadline.reschedule(total_at)
            if pending.strip():
                yield pending
        except TimeoutError as err:
            raise LlmError("llm-timeout", transient=True) from err
        finally:
            aclose = getattr(stream, "aclose", None)
            if aclose is not None:
                await aclose()

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

    def _record_failure(self, name: str, error: LlmError, turn: int) -> None:
        if self._breakers[name].record_failure(self._clock()):
            logger.warning(
                "llm.breaker_open",
                extra={
                    "fields": {"turn": turn, "provider": name, "error_code": error.code}
                },
            )

    async def _backoff(self, seconds: float) -> None:
        if self._sleep is not None:
            await _maybe_await(self._sleep(seconds))
        else:
            await asyncio.sleep(seconds)

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


def _split_sentences(text: str) -> tuple[str, str]:
    """Split buffered text into whole sentences and the unfinished rest."""
    end = 0
    for match in _SENTENCE_END.finditer(text):
        if match.end() == len(text) and not match.group(0)[-1:].isspace():
            # "3." at the very end may be a number still streaming ("3.5").
            break
        end = match.end()
    return text[:end], text[end:]


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
