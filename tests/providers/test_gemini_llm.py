"""GeminiLlm through the real google-genai SDK against a local Gemini-like server."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk_agent.config import LlmProviderConfig
from kiosk_agent.errors import LlmError
from kiosk_agent.messages import RedactedText, ToolCall
from kiosk_agent.providers.gemini_llm import GeminiLlm
from kiosk_agent.stages.llm_broker import ChatMessage, LlmRequest
from tests.llm_servers import Drop, FakeGeminiServer, Reply, Status, unused_port


@pytest.fixture
def server() -> Iterator[FakeGeminiServer]:
    with FakeGeminiServer() as fake:
        yield fake


def provider(base_url: str, api_key: str | None = "test-key") -> GeminiLlm:
    config = LlmProviderConfig(
        base_url=base_url,
        model="fake-model",
        connect_timeout_s=0.5,
        first_token_timeout_s=1.0,
        total_timeout_s=2.0,
    )
    return GeminiLlm(config, api_key=api_key)


def request(*extra: ChatMessage) -> LlmRequest:
    user = ChatMessage.user(
        RedactedText(text="Mám schůzku s <EMPLOYEE_1>.", language="cs")
    )
    return LlmRequest(
        system_prompt="You are a kiosk.", history=(user, *extra), language="cs"
    )


async def collect(llm: GeminiLlm, req: LlmRequest) -> list[str | ToolCall]:
    try:
        async with asyncio.timeout(5):
            return [item async for item in llm.stream(req)]
    finally:
        await llm.aclose()


async def test_streams_text_then_the_function_call(server: FakeGeminiServer) -> None:
    server.script(
        Reply(
            "Hned volám kolegu.",
            pieces=3,
            calls=[("call_employee", {"employee": "<EMPLOYEE_1>"})],
        )
    )
    items = await collect(provider(server.base_url), request())
    texts = [i for i in items if isinstance(i, str)]
    assert "".join(texts) == "Hned volám kolegu." and len(texts) == 3
    call = items[-1]
    assert isinstance(call, ToolCall)
    assert (call.name, call.arguments, call.call_id) == (
        "call_employee",
        {"employee": "<EMPLOYEE_1>"},
        "fc_1",
    )


async def test_request_uses_the_developer_api_with_key_tool_and_instruction(
    server: FakeGeminiServer,
) -> None:
    await collect(provider(server.base_url), request())
    (recorded,) = server.requests
    assert recorded.path == "/v1beta/models/fake-model:streamGenerateContent?alt=sse"
    assert recorded.headers["x-goog-api-key"] == "test-key"
    assert "authorization" not in recorded.headers  # No OAuth token, no ADC.
    body = recorded.body
    assert body["systemInstruction"]["parts"] == [{"text": "You are a kiosk."}]
    assert body["contents"] == [
        {"role": "user", "parts": [{"text": "Mám schůzku s <EMPLOYEE_1>."}]}
    ]
    (declaration,) = body["tools"][0]["functionDeclarations"]
    assert declaration["name"] == "call_employee"
    assert declaration["parameters"]["required"] == ["employee"]


async def test_function_call_and_its_response_are_sent_back_in_gemini_format(
    server: FakeGeminiServer,
) -> None:
    call = ToolCall(
        name="call_employee", arguments={"employee": "<EMPLOYEE_9>"}, call_id="fc_1"
    )
    await collect(
        provider(server.base_url),
        request(
            ChatMessage.assistant("Volám.", [call]),
            ChatMessage.tool_result(call, "refused: not in this session"),
        ),
    )
    contents = server.bodies()[0]["contents"]
    assert contents[1]["role"] == "model"
    assert contents[1]["parts"][0] == {"text": "Volám."}
    assert contents[1]["parts"][1]["functionCall"]["args"] == {
        "employee": "<EMPLOYEE_9>"
    }
    assert contents[2]["role"] == "user"
    response = contents[2]["parts"][0]["functionResponse"]
    assert response["name"] == "call_employee"
    assert response["response"] == {"result": "refused: not in this session"}


@pytest.mark.parametrize(
    ("behaviour", "code", "transient"),
    [
        (Status(500), "llm-server-error", True),
        (Status(429), "llm-rate-limited", True),
        (Status(401), "llm-auth", False),
        (Status(400), "llm-bad-request", False),
        (Drop(), "llm-stream-broken", True),
    ],
    ids=["500", "429", "401", "400", "dropped-stream"],
)
async def test_errors_are_translated_and_not_retried_or_continued_by_the_sdk(
    server: FakeGeminiServer, behaviour: object, code: str, transient: bool
) -> None:
    server.script(behaviour)
    with pytest.raises(LlmError) as caught:
        await collect(provider(server.base_url), request())
    assert (caught.value.code, caught.value.transient) == (code, transient)
    assert "fake error" not in str(caught.value)
    assert len(server.requests) == 1


async def test_unreachable_server_is_a_transient_connect_error() -> None:
    with pytest.raises(LlmError) as caught:
        await collect(provider(f"http://127.0.0.1:{unused_port()}"), request())
    assert caught.value.code == "llm-connect" and caught.value.transient


async def test_missing_key_fails_permanently_without_a_request(
    server: FakeGeminiServer,
) -> None:
    with pytest.raises(LlmError) as caught:
        await collect(provider(server.base_url, api_key=None), request())
    assert caught.value.code == "llm-no-key" and not caught.value.transient
    assert server.requests == []


async def test_google_environment_cannot_redirect_record_or_switch_to_cloud_auth(
    server: FakeGeminiServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each of these would send the text elsewhere, look for credentials or write it.
    monkeypatch.setenv("GOOGLE_GENAI_USE_VERTEXAI", "true")
    monkeypatch.setenv("GOOGLE_GENAI_USE_ENTERPRISE", "true")
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "none.json"))
    monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", f"http://127.0.0.1:{unused_port()}")
    monkeypatch.setenv("GOOGLE_GENAI_CLIENT_MODE", "record")
    monkeypatch.setenv("GOOGLE_GENAI_REPLAYS_DIRECTORY", str(tmp_path))
    monkeypatch.setenv("GOOGLE_GENAI_API_VERSION", "v1")
    monkeypatch.setenv("GOOGLE_API_KEY", "other-key")
    items = await collect(provider(server.base_url), request())
    assert "".join(i for i in items if isinstance(i, str)) == "Hello."
    (recorded,) = server.requests
    assert recorded.path.startswith("/v1beta/models/fake-model:")
    assert recorded.headers["x-goog-api-key"] == "test-key"
    assert list(tmp_path.iterdir()) == []
