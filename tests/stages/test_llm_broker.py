"""LlmBroker with scripted fake providers: order, deadlines, retries, breaker."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import pytest

from kiosk_agent.config import LlmConfig, LlmProviderConfig
from kiosk_agent.errors import LlmError
from kiosk_agent.messages import RedactedText, ToolCall, Transcript
from kiosk_agent.providers.local_llm import LocalLlm
from kiosk_agent.scenario import load_scenario
from kiosk_agent.stages.llm_broker import (
    ChatMessage,
    LlmBroker,
    LlmRequest,
    Outcome,
    Role,
    TextDelta,
    TurnResult,
)

FAST = LlmProviderConfig(first_token_timeout_s=0.1, total_timeout_s=0.5)
CONFIG = LlmConfig(
    turn_budget_s=5.0,
    breaker_failures=2,
    breaker_cooldown_s=30.0,
    max_retries=1,
    retry_backoff_s=0.0,
    openai=FAST,
    gemini=FAST,
)
APOLOGY = {"en": "Sorry, I cannot answer.", "cs": "Omlouvám se."}
HANG = object()


class FakeClock:
    """Monotonic seconds that only move when the test says so."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Advance:
    """A script step that moves the fake clock (a provider that took long)."""

    def __init__(self, clock: FakeClock, seconds: float) -> None:
        self.clock, self.seconds = clock, seconds


class FakeProvider:
    """Implements LlmProvider from a script per call: items, LlmError, HANG, Advance."""

    def __init__(
        self, name: str, *scripts: list[Any], is_offline: bool = False
    ) -> None:
        self._name = name
        self._is_offline = is_offline
        self._scripts = list(scripts) or [["Hello."]]
        self.requests: list[LlmRequest] = []
        self.gates: dict[int, asyncio.Event] = {}

    @property
    def name(self) -> str:
        return self._name

    @property
    def is_offline(self) -> bool:
        return self._is_offline

    @property
    def calls(self) -> int:
        return len(self.requests)

    async def stream(self, request: LlmRequest) -> AsyncIterator[str | ToolCall]:
        self.requests.append(request)
        script = self._scripts.pop(0) if len(self._scripts) > 1 else self._scripts[0]
        for step in script:
            if step is HANG:
                await asyncio.sleep(3600)
            elif isinstance(step, Advance):
                step.clock.now += step.seconds
            elif isinstance(step, LlmError):
                raise step
            elif isinstance(step, asyncio.Event):
                await step.wait()
            else:
                yield step

    async def aclose(self) -> None:
        pass


def server_error() -> LlmError:
    return LlmError("llm-server-error", transient=True)


def history(
    text: str = "I am here to see <EMPLOYEE_1>.", lang: str = "en"
) -> list[ChatMessage]:
    return [ChatMessage.user(RedactedText(text=text, language=lang))]


def make_broker(
    *providers: Any,
    config: LlmConfig = CONFIG,
    clock: Any = None,
    sleeps: list[float] | None = None,
) -> LlmBroker:
    async def sleep(seconds: float) -> None:
        if sleeps is not None:
            sleeps.append(seconds)

    return LlmBroker(
        providers,
        config,
        system_prompt="persona",
        apology=APOLOGY,
        clock=clock or FakeClock(),
        sleep=sleep,
    )


async def complete(broker: LlmBroker, messages: list[ChatMessage]) -> TurnResult:
    async with asyncio.timeout(2):
        return await broker.complete(messages)


async def test_primary_ok_answers_and_fallback_is_not_asked() -> None:
    primary = FakeProvider("openai", ["Hello ", "there."])
    fallback = FakeProvider("gemini")
    result = await complete(make_broker(primary, fallback), history())
    assert result.reply.text == "Hello there."
    assert result.reply.provider == "openai"
    assert result.report.provider == "openai"
    assert [a.outcome for a in result.report.attempts] == [Outcome.ANSWERED]
    assert fallback.calls == 0


async def test_primary_hanging_times_out_at_first_token_then_fallback_answers() -> None:
    primary = FakeProvider("openai", [HANG])
    fallback = FakeProvider("gemini", ["Fallback here."])
    result = await complete(make_broker(primary, fallback), history())
    assert result.reply.text == "Fallback here."
    first, second = result.report.attempts
    assert (first.provider, first.outcome, first.error_code) == (
        "openai",
        Outcome.FAILED,
        "llm-timeout",
    )
    assert second.outcome is Outcome.ANSWERED


async def test_slow_stream_after_first_token_hits_total_timeout() -> None:
    gate = asyncio.Event()  # Never set: the stream stalls after the first delta.
    primary = FakeProvider("openai", ["Hel", gate])
    fallback = FakeProvider("gemini", ["Fallback."])
    result = await complete(make_broker(primary, fallback), history())
    assert result.report.attempts[0].error_code == "llm-timeout"
    assert result.reply.text == "Fallback."


async def test_permanent_error_switches_at_once_without_retry() -> None:
    sleeps: list[float] = []
    primary = FakeProvider("openai", [LlmError("llm-auth")])
    fallback = FakeProvider("gemini", ["Hi."])
    result = await complete(make_broker(primary, fallback, sleeps=sleeps), history())
    assert primary.calls == 1
    assert sleeps == []
    assert result.report.attempts[0].error_code == "llm-auth"
    assert result.report.provider == "gemini"


async def test_server_error_is_retried_with_backoff_then_answers() -> None:
    sleeps: list[float] = []
    config = replace(CONFIG, retry_backoff_s=0.25)
    primary = FakeProvider("openai", [server_error()], ["Second try."])
    result = await complete(
        make_broker(primary, config=config, sleeps=sleeps), history()
    )
    assert primary.calls == 2
    assert sleeps == [0.25]
    assert result.reply.text == "Second try."
    assert result.report.attempts[0].tries == 2


async def test_timeout_is_not_retried_on_the_same_provider() -> None:
    primary = FakeProvider("openai", [HANG])
    fallback = FakeProvider("gemini", ["B."])
    await complete(make_broker(primary, fallback), history())
    assert primary.calls == 1


async def test_both_clouds_down_the_local_responder_answers() -> None:
    scenario = load_scenario()
    openai = FakeProvider("openai", [LlmError("llm-connect", transient=True)])
    gemini = FakeProvider("gemini", [server_error()])
    broker = make_broker(openai, gemini, LocalLlm(scenario))
    result = await complete(broker, history("Mám schůzku s <EMPLOYEE_1>.", "cs"))
    assert result.report.provider == "local"
    assert result.reply.text == scenario.say("calling", "cs", employee="<EMPLOYEE_1>")
    assert result.reply.tool_calls[0].arguments == {"employee": "<EMPLOYEE_1>"}
    assert [a.outcome for a in result.report.attempts] == [
        Outcome.FAILED,
        Outcome.FAILED,
        Outcome.ANSWERED,
    ]


async def test_all_providers_failing_gives_the_apology_in_the_visitor_language() -> (
    None
):
    openai = FakeProvider("openai", [LlmError("llm-auth")])
    gemini = FakeProvider("gemini", [LlmError("llm-bad-request")])
    broker = make_broker(openai, gemini)
    events = []
    async with asyncio.timeout(2):
        async for event in broker.stream(history("Dobrý den", "cs")):
            events.append(event)
    assert events[0] == TextDelta(text="Omlouvám se.")
    result = events[-1]
    assert isinstance(result, TurnResult)
    assert result.report.is_apology
    assert result.reply.text == "Omlouvám se."


async def test_open_breaker_skips_the_dead_provider_until_the_cooldown_ends() -> None:
    clock = FakeClock()
    config = replace(CONFIG, breaker_failures=1)
    primary = FakeProvider("openai", [LlmError("llm-connect", transient=True)])
    fallback = FakeProvider("gemini", ["Fine."])
    broker = make_broker(primary, fallback, config=config, clock=clock)

    await complete(broker, history())
    assert broker.is_skipped("openai")
    second = await complete(broker, history())
    assert primary.calls == 1
    assert second.report.attempts[0].outcome is Outcome.SKIPPED_BREAKER

    clock.now += config.breaker_cooldown_s + 1
    third = await complete(broker, history())
    assert primary.calls == 2  # Half-open: tried again once the cooldown is over.
    assert third.report.attempts[0].outcome is Outcome.FAILED
    assert broker.is_skipped("openai")  # One more failure re-opens it.


async def test_breaker_needs_consecutive_failures_and_success_resets_it() -> None:
    primary = FakeProvider(
        "openai", [LlmError("llm-auth")], ["Ok."], [LlmError("llm-auth")], ["Ok."]
    )
    broker = make_broker(primary, FakeProvider("gemini"))
    for _ in range(4):
        await complete(broker, history())
    assert not broker.is_skipped("openai")
    assert primary.calls == 4


async def test_used_up_budget_skips_clouds_but_not_the_offline_responder() -> None:
    clock = FakeClock()
    sleeps: list[float] = []
    primary = FakeProvider("openai", [Advance(clock, 4.95), server_error()])
    gemini = FakeProvider("gemini")
    local = FakeProvider("local", ["Please wait."], is_offline=True)
    broker = make_broker(primary, gemini, local, clock=clock, sleeps=sleeps)
    result = await complete(broker, history())
    assert primary.calls == 1 and sleeps == []  # No retry: the budget cannot afford it.
    outcomes = [a.outcome for a in result.report.attempts]
    assert outcomes == [Outcome.FAILED, Outcome.SKIPPED_BUDGET, Outcome.ANSWERED]
    assert gemini.calls == 0
    assert result.reply.text == "Please wait."


async def test_first_sentence_is_forwarded_while_the_rest_is_still_arriving() -> None:
    gate = asyncio.Event()
    slow = LlmProviderConfig(first_token_timeout_s=1.0, total_timeout_s=2.0)
    primary = FakeProvider("openai", ["Good morn", "ing. I will ", gate, "call now."])
    broker = make_broker(primary, config=replace(CONFIG, openai=slow))
    async with asyncio.timeout(2):
        events = aiter(broker.stream(history()))
        first = await anext(events)
        assert first == TextDelta(text="Good morning. ")
        gate.set()
        rest = [event async for event in events]
    assert rest[0] == TextDelta(text="I will call now.")
    assert isinstance(rest[-1], TurnResult)
    assert rest[-1].reply.text == "Good morning. I will call now."
    assert rest[-1].report.first_text_ms is not None


async def test_failure_before_any_sentence_falls_back_and_drops_partial_text() -> None:
    primary = FakeProvider(
        "openai", ["Half a sent", server_error()], ["ence never ends", server_error()]
    )
    fallback = FakeProvider("gemini", ["Clean answer."])
    result = await complete(make_broker(primary, fallback), history())
    assert result.reply.text == "Clean answer."
    assert result.report.attempts[0].tries == 2


async def test_failure_after_a_forwarded_sentence_cuts_the_reply_there() -> None:
    primary = FakeProvider("openai", ["First sentence. Second ", server_error()])
    fallback = FakeProvider("gemini", ["Other."])
    result = await complete(make_broker(primary, fallback), history())
    assert result.reply.text == "First sentence."
    assert result.report.is_truncated
    assert result.report.attempts[0].outcome is Outcome.TRUNCATED
    assert fallback.calls == 0


async def test_tool_calls_reach_the_reply_and_numbers_are_not_cut() -> None:
    call = ToolCall(
        name="call_employee", arguments={"employee": "<EMPLOYEE_1>"}, call_id="c1"
    )
    primary = FakeProvider("openai", ["It costs 3.", "5 crowns. Calling.", call])
    result = await complete(make_broker(primary), history())
    assert result.reply.text == "It costs 3.5 crowns. Calling."
    assert result.reply.tool_calls == (call,)


async def test_a_transcript_cannot_become_a_chat_message() -> None:
    transcript = Transcript(
        text="Jan Novák, +420 601 112 233", language="cs", start_s=0.0, end_s=1.0
    )
    with pytest.raises(TypeError):
        ChatMessage.user(transcript)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        ChatMessage(role=Role.USER, text="raw words")
    with pytest.raises(TypeError):
        ChatMessage(role=Role.ASSISTANT, redacted=RedactedText(text="x"))


async def test_providers_receive_only_redacted_text_and_the_system_prompt() -> None:
    primary = FakeProvider("openai", ["Ok."])
    call = ToolCall(
        name="call_employee", arguments={"employee": "<EMPLOYEE_9>"}, call_id="c9"
    )
    messages = history() + [
        ChatMessage.assistant("Calling.", [call]),
        ChatMessage.tool_result(call, "refused: not in this session"),
    ]
    await complete(make_broker(primary), messages)
    request = primary.requests[0]
    assert request.system_prompt == "persona"
    assert request.history == tuple(messages)
    for message in request.history:
        assert message.redacted is None or isinstance(message.redacted, RedactedText)
    assert request.language == "en"


async def test_cancelling_a_turn_closes_the_provider_stream() -> None:
    closed = asyncio.Event()

    class Slow(FakeProvider):
        async def stream(self, request: LlmRequest) -> AsyncIterator[str | ToolCall]:
            try:
                yield "One. "
                await asyncio.sleep(3600)
                yield "never"
            finally:
                closed.set()

    slow = LlmProviderConfig(first_token_timeout_s=1.0, total_timeout_s=60.0)
    broker = make_broker(Slow("openai"), config=replace(CONFIG, openai=slow))

    streaming = asyncio.Event()

    async def consume() -> None:
        async for _ in broker.stream(history()):
            streaming.set()

    task = asyncio.create_task(consume())
    async with asyncio.timeout(1):
        await streaming.wait()  # The provider stream is open and has spoken.
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        async with asyncio.timeout(1):
            await task
    # Closed by the broker while the turn unwinds, not later by garbage collection.
    assert closed.is_set()


async def test_logs_carry_codes_and_names_of_providers_never_text(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level("DEBUG", logger="kiosk_agent")
    primary = FakeProvider("openai", [LlmError("llm-auth", "secret prompt echo")])
    fallback = FakeProvider("gemini", ["Reply with <EMPLOYEE_1> in it."])
    await complete(make_broker(primary, fallback), history("Canary visitor words."))
    events = {record.getMessage() for record in caplog.records}
    assert {"llm.attempt_failed", "llm.fallback_used", "llm.turn_done"} <= events
    for record in caplog.records:
        dumped = repr(record.__dict__)
        for secret in ("Canary", "Reply with", "secret prompt", "persona"):
            assert secret not in dumped
