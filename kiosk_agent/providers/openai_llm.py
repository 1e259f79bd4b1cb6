"""OpenAI chat completions as an LlmProvider, through the ``openai`` package.

One streamed ``POST {base_url}/chat/completions`` per attempt with ``store: false``
and the ``call_employee`` tool. The SDK's own retries are off (``max_retries=0``): the
broker owns retries, fallback and the first-token and total deadlines. Connect and
read timeouts go to the HTTP client as a backstop. SDK exceptions are translated here
into ``LlmError`` codes, so no vendor type and no error text (which can echo the
prompt) reaches the broker or a log.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any, Final, cast

from kiosk_agent.config import LlmProviderConfig
from kiosk_agent.errors import LlmError
from kiosk_agent.messages import ToolCall
from kiosk_agent.stages.llm_broker import (
    ChatMessage,
    LlmRequest,
    Role,
    StreamItem,
    ToolSpec,
)

if TYPE_CHECKING:
    from openai import AsyncOpenAI
    from openai.types.chat import ChatCompletionMessageParam, ChatCompletionToolParam

NAME: Final = "openai"


class OpenAiLlm:
    """Streams replies from an OpenAI-compatible ``/chat/completions`` endpoint."""

    def __init__(self, config: LlmProviderConfig, *, api_key: str | None) -> None:
        """Keep the settings and make the SDK client (when there is a key).

        Args:
            config: ``[llm.openai]``: base_url, model and timeouts.
            api_key: from ``read_secret("openai-api-key", "OPENAI_API_KEY")``; when
                None every call fails at once with the permanent ``llm-no-key``.
        """
        self._config = config
        self._api_key = api_key
        self._client: AsyncOpenAI | None = None
        if api_key:
            # Made now, at start-up: importing the SDK takes longer than a first-token
            # deadline, so the first turn must not pay for it.
            self._client = self._get_client()

    @property
    def name(self) -> str:
        """The provider's name in ``[llm] order``."""
        return NAME

    @property
    def is_offline(self) -> bool:
        """A cloud provider: subject to the turn's budget."""
        return False

    async def stream(self, request: LlmRequest) -> AsyncIterator[StreamItem]:
        """Stream text deltas, then the complete tool calls, of one reply.

        Raises:
            LlmError: see ``LlmProvider``; ``llm-stream-broken`` when the stream ends
                or drops without a finish reason.
        """
        import openai

        client = self._get_client()
        calls = _ToolCallAssembler()
        has_started = False
        is_finished = False
        try:
            stream = await client.chat.completions.create(
                model=self._config.model,
                messages=cast("list[ChatCompletionMessageParam]", _messages(request)),
                tools=cast("list[ChatCompletionToolParam]", _tools(request.tools)),
                stream=True,
                store=False,
            )
            try:
                async for event in stream:
                    has_started = True
                    for choice in event.choices:
                        if choice.delta.content:
                            yield choice.delta.content
                        for delta in choice.delta.tool_calls or ():
                            calls.add(delta)
                        if choice.finish_reason:
                            is_finished = True
            finally:
                await stream.close()
        except openai.OpenAIError as err:
            raise _translate(err, has_started=has_started) from None
        if not is_finished:
            raise LlmError("llm-stream-broken", transient=True)
        for call in calls.complete():
            yield call

    async def aclose(self) -> None:
        """Close the SDK client and its connections."""
        client, self._client = self._client, None
        if client is not None:
            await client.close()

    def _get_client(self) -> AsyncOpenAI:
        if self._client is not None:
            return self._client
        if not self._api_key:
            raise LlmError("llm-no-key", "no OpenAI API key is configured")
        import httpx2
        from openai import AsyncOpenAI

        self._client = AsyncOpenAI(
            api_key=self._api_key,
            base_url=self._config.base_url,
            max_retries=0,
            timeout=httpx2.Timeout(
                self._config.total_timeout_s, connect=self._config.connect_timeout_s
            ),
        )
        return self._client


class _ToolCallAssembler:
    """Joins the streamed pieces of tool calls (by index) into complete calls."""

    def __init__(self) -> None:
        self._parts: dict[int, dict[str, str]] = {}

    def add(self, delta: Any) -> None:
        part = self._parts.setdefault(delta.index, {"id": "", "name": "", "args": ""})
        if delta.id:
            part["id"] = delta.id
        if delta.function is not None:
            part["name"] += delta.function.name or ""
            part["args"] += delta.function.arguments or ""

    def complete(self) -> list[ToolCall]:
        """The calls in index order.

        Raises:
            LlmError: ``llm-bad-response`` when a call's arguments are not an object.
        """
        calls = []
        for index in sorted(self._parts):
            part = self._parts[index]
            try:
                arguments = json.loads(part["args"] or "{}")
            except json.JSONDecodeError:
                raise LlmError("llm-bad-response", transient=True) from None
            if not isinstance(arguments, dict):
                raise LlmError("llm-bad-response", transient=True)
            calls.append(
                ToolCall(
                    name=part["name"],
                    arguments={str(k): str(v) for k, v in arguments.items()},
                    call_id=part["id"] or f"call_{index}",
                )
            )
        return calls


def _messages(request: LlmRequest) -> list[dict[str, Any]]:
    """The chat messages in OpenAI's format: system prompt, then the history."""
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": request.system_prompt}
    ]
    for message in request.history:
        messages.append(_message(message))
    return messages


def _message(message: ChatMessage) -> dict[str, Any]:
    if message.role is Role.USER:
        return {"role": "user", "content": message.content}
    if message.role is Role.TOOL:
        assert message.call is not None
        return {
            "role": "tool",
            "tool_call_id": message.call.call_id,
            "content": message.content,
        }
    entry: dict[str, Any] = {"role": "assistant", "content": message.content or None}
    if message.tool_calls:
        entry["tool_calls"] = [
            {
                "id": call.call_id,
                "type": "function",
                "function": {
                    "name": call.name,
                    "arguments": json.dumps(call.arguments),
                },
            }
            for call in message.tool_calls
        ]
    return entry


def _tools(specs: tuple[ToolSpec, ...]) -> list[dict[str, Any]]:
    return [_tool(spec) for spec in specs]


def _tool(spec: ToolSpec) -> dict[str, Any]:
    """An offered tool as an OpenAI function with string parameters."""
    return {
        "type": "function",
        "function": {
            "name": spec.name,
            "description": spec.description,
            "parameters": {
                "type": "object",
                "properties": {
                    p.name: {"type": "string", "description": p.description}
                    for p in spec.parameters
                },
                "required": [p.name for p in spec.parameters],
                "additionalProperties": False,
            },
        },
    }


def _translate(err: Exception, *, has_started: bool) -> LlmError:
    """An SDK exception as an LlmError; the SDK's message is never kept."""
    import openai

    if isinstance(err, openai.APITimeoutError):
        return LlmError("llm-timeout", transient=True)
    if isinstance(err, openai.APIConnectionError):
        code = "llm-stream-broken" if has_started else "llm-connect"
        return LlmError(code, transient=True)
    if isinstance(err, openai.RateLimitError):
        return LlmError("llm-rate-limited", transient=True)
    if isinstance(err, openai.AuthenticationError | openai.PermissionDeniedError):
        return LlmError("llm-auth")
    if isinstance(err, openai.APIStatusError):
        if err.status_code >= 500:
            return LlmError(
                "llm-server-error", f"HTTP {err.status_code}", transient=True
            )
        return LlmError("llm-bad-request", f"HTTP {err.status_code}")
    if isinstance(err, openai.APIError):
        # An error event inside the stream.
        return LlmError("llm-stream-broken", transient=True)
    return LlmError("llm-provider-error", type(err).__name__)
