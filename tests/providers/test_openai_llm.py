"""OpenAiLlm through the real openai SDK against a local OpenAI-protocol server."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from kiosk_agent.config import LlmProviderConfig
from kiosk_agent.errors import LlmError
from kiosk_agent.messages import RedactedText, ToolCall
from kiosk_agent.providers.openai_llm import OpenAiLlm
from kiosk_agent.stages.llm_broker import ChatMessage, LlmRequest
from tests.llm_servers import Drop, FakeOpenAiServer, Reply, Status, unused_port


@pytest.fixture
def server() -> Iterator[FakeOpenAiServer]:
    with FakeOpenAiServer() as fake:
        yield fake


def provider(base_url: str, api_key: str | None = "test-key") -> OpenAiLlm:
    config = LlmProviderConfig(
        base_url=base_url,
        model="fake-model",
        connect_timeout_s=0.5,
        first_token_timeout_s=1.0,
        total_timeout_s=2.0,
    )
    return OpenAiLlm(config, api_key=api_key)


def request(*extra: ChatMessage) -> LlmRequest:
    user = ChatMessage.user(RedactedText(text="I am here to see <EMPLOYEE_1>."))
    return LlmRequest(system_prompt="You are a kiosk.", history=(user, *extra))


async def collect(llm: OpenAiLlm, req: LlmRequest) -> list[str | ToolCall]:
    try:
        async with asyncio.timeout(5):
            return [item async for item in llm.stream(req)]
    finally:
        await llm.aclose()


async def test_streams_text_then_the_tool_call(server: FakeOpenAiServer) -> None:
    server.script(
        Reply(
            "Calling them now.",
            pieces=3,
            calls=[("call_employee", {"employee": "<EMPLOYEE_1>"})],
        )
    )
    items = await collect(provider(server.base_url), request())
    assert "".join(i for i in items if isinstance(i, str)) == "Calling them now."
    assert len([i for i in items if isinstance(i, str)]) == 3
    call = items[-1]
    assert isinstance(call, ToolCall)
    assert (call.name, call.arguments, call.call_id) == (
        "call_employee",
        {"employee": "<EMPLOYEE_1>"},
        "call_1",
    )


async def test_request_is_streamed_unstored_with_the_tool_and_system_prompt(
    server: FakeOpenAiServer,
) -> None:
    await collect(provider(server.base_url), request())
    (recorded,) = server.requests
    assert recorded.path == "/v1/chat/completions"
    assert recorded.headers["authorization"] == "Bearer test-key"
    body = recorded.body
    assert body["store"] is False and body["stream"] is True
    assert body["model"] == "fake-model"
    assert body["messages"][0] == {"role": "system", "content": "You are a kiosk."}
    assert body["messages"][1] == {
        "role": "user",
        "content": "I am here to see <EMPLOYEE_1>.",
    }
    (tool,) = body["tools"]
    assert tool["function"]["name"] == "call_employee"
    assert tool["function"]["parameters"]["required"] == ["employee"]


async def test_tool_call_and_its_result_are_sent_back_in_openai_format(
    server: FakeOpenAiServer,
) -> None:
    call = ToolCall(
        name="call_employee", arguments={"employee": "<EMPLOYEE_9>"}, call_id="call_abc"
    )
    await collect(
        provider(server.base_url),
        request(
            ChatMessage.assistant("", [call]),
            ChatMessage.tool_result(call, "refused: not in this session"),
        ),
    )
    messages = server.bodies()[0]["messages"]
    assert messages[2]["tool_calls"][0]["id"] == "call_abc"
    assert messages[2]["tool_calls"][0]["function"]["arguments"] == (
        '{"employee": "<EMPLOYEE_9>"}'
    )
    assert messages[3] == {
        "role": "tool",
        "tool_call_id": "call_abc",
        "content": "refused: not in this session",
    }


@pytest.mark.parametrize(
    ("behaviour", "code", "transient"),
    [
        (Status(500), "llm-server-error", True),
        (Status(503), "llm-server-error", True),
        (Status(429), "llm-rate-limited", True),
        (Status(401), "llm-auth", False),
        (Status(400), "llm-bad-request", False),
        (Drop(), "llm-stream-broken", True),
    ],
    ids=["500", "503", "429", "401", "400", "dropped-stream"],
)
async def test_errors_are_translated_and_not_retried_by_the_sdk(
    server: FakeOpenAiServer, behaviour: object, code: str, transient: bool
) -> None:
    server.script(behaviour)
    with pytest.raises(LlmError) as caught:
        await collect(provider(server.base_url), request())
    assert (caught.value.code, caught.value.transient) == (code, transient)
    assert "fake error" not in str(caught.value)  # The server's text is not kept.
    assert len(server.requests) == 1


async def test_unreachable_server_is_a_transient_connect_error() -> None:
    with pytest.raises(LlmError) as caught:
        await collect(provider(f"http://127.0.0.1:{unused_port()}/v1"), request())
    assert caught.value.code == "llm-connect" and caught.value.transient


async def test_missing_key_fails_permanently_without_a_request(
    server: FakeOpenAiServer,
) -> None:
    with pytest.raises(LlmError) as caught:
        await collect(provider(server.base_url, api_key=None), request())
    assert caught.value.code == "llm-no-key" and not caught.value.transient
    assert server.requests == []
