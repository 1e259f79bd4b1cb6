"""Google Gemini as an LlmProvider, through the ``google-genai`` package.

One streamed ``POST {base_url}/v1beta/models/{model}:streamGenerateContent?alt=sse`` per
attempt, with the scenario's system instruction and ``call_employee`` as a function
declaration. The client is pinned to the Gemini Developer API with an API key, so it
never looks for Google Cloud credentials (no ADC, no metadata server); the SDK's
record/replay mode, its retries, its automatic function calling and its automatic
stream continuation are all switched off: the broker owns retries and fallback. SDK
and HTTP exceptions are translated here into ``LlmError`` codes.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any, Final

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
    from google import genai

NAME: Final = "gemini"
API_VERSION: Final = "v1beta"


class GeminiLlm:
    """Streams replies from the Gemini ``streamGenerateContent`` endpoint."""

    def __init__(self, config: LlmProviderConfig, *, api_key: str | None) -> None:
        """Keep the settings and make the SDK client (when there is a key).

        Args:
            config: ``[llm.gemini]``: base_url, model and timeouts.
            api_key: from ``read_secret("gemini-api-key", "GEMINI_API_KEY")``; when
                None every call fails at once with the permanent ``llm-no-key``.
        """
        self._config = config
        self._api_key = api_key
        self._client: genai.Client | None = None
        if api_key:
            # Made now, at start-up: importing the SDK takes longer than a first-token
            # deadline, so the first turn must not pay for it.
            self._client = self._get_client()
        self._call_ids = itertools.count(1)

    @property
    def name(self) -> str:
        """The provider's name in ``[llm] order``."""
        return NAME

    @property
    def is_offline(self) -> bool:
        """A cloud provider: subject to the turn's budget."""
        return False

    async def stream(self, request: LlmRequest) -> AsyncIterator[StreamItem]:
        """Stream text deltas, then the complete function calls, of one reply.

        Raises:
            LlmError: see ``LlmProvider``; ``llm-stream-broken`` when the stream ends
                or drops without a finish reason.
        """
        import httpx2
        from google.genai import errors

        client = self._get_client()
        calls: list[ToolCall] = []
        has_started = False
        is_finished = False
        try:
            stream = await client.aio.models.generate_content_stream(
                model=self._config.model,
                contents=_contents(request),
                config=_generate_config(request),
            )
            try:
                async for response in stream:
                    has_started = True
                    texts, has_finish = self._read_response(response, calls)
                    is_finished = is_finished or has_finish
                    for text in texts:
                        yield text
            finally:
                aclose = getattr(stream, "aclose", None)
                if aclose is not None:
                    await aclose()
        except (errors.APIError, httpx2.HTTPError, ValueError) as err:
            # ValueError covers a stream line that is not JSON or not the schema.
            raise _translate(err, has_started=has_started) from None
        if not is_finished:
            raise LlmError("llm-stream-broken", transient=True)
        for call in calls:
            yield call

    async def aclose(self) -> None:
        """Close the SDK client and its connections."""
        client, self._client = self._client, None
        if client is not None:
            await client.aio.aclose()
            client.close()

    def _read_response(
        self, response: Any, calls: list[ToolCall]
    ) -> tuple[list[str], bool]:
        """The visible text parts of one streamed response, and whether it finished.

        Function calls are appended to ``calls``; thought parts are left out.
        """
        texts: list[str] = []
        has_finish = False
        for candidate in response.candidates or ():
            if candidate.finish_reason:
                has_finish = True
            parts = candidate.content.parts if candidate.content else None
            for part in parts or ():
                if part.function_call is not None:
                    calls.append(self._tool_call(part.function_call))
                elif part.text and not part.thought:
                    texts.append(part.text)
        return texts, has_finish

    def _tool_call(self, call: Any) -> ToolCall:
        args = call.args or {}
        return ToolCall(
            name=call.name or "",
            arguments={str(k): str(v) for k, v in args.items()},
            call_id=call.id or f"gemini_call_{next(self._call_ids)}",
        )

    def _get_client(self) -> genai.Client:
        if self._client is not None:
            return self._client
        if not self._api_key:
            raise LlmError("llm-no-key", "no Gemini API key is configured")
        from google import genai
        from google.genai import types
        from google.genai.client import DebugConfig

        self._client = genai.Client(
            vertexai=False,
            api_key=self._api_key,
            # Explicit, so GOOGLE_GENAI_CLIENT_MODE=record can never write prompts.
            debug_config=DebugConfig(
                client_mode=None, replays_directory=None, replay_id=None
            ),
            http_options=types.HttpOptions(
                base_url=self._config.base_url,
                api_version=API_VERSION,
                timeout=round(self._config.total_timeout_s * 1000),
                async_client_args={
                    "transport": _transport(self._config.connect_timeout_s)
                },
            ),
        )
        return self._client


def _transport(connect_timeout_s: float) -> Any:
    """An httpx2 transport that caps the connect phase.

    The SDK passes one timeout for every phase of a request; this keeps it for reads
    and writes but makes an unreachable host fail after ``connect_timeout_s``.
    """
    import httpx2

    class _ConnectTimeoutTransport(httpx2.AsyncHTTPTransport):
        async def handle_async_request(
            self, request: httpx2.Request
        ) -> httpx2.Response:
            timeout = dict(request.extensions.get("timeout") or {})
            timeout["connect"] = connect_timeout_s
            request.extensions["timeout"] = timeout
            return await super().handle_async_request(request)

    return _ConnectTimeoutTransport()


def _generate_config(request: LlmRequest) -> Any:
    from google.genai import types

    return types.GenerateContentConfig(
        system_instruction=request.system_prompt,
        tools=[
            types.Tool(function_declarations=[_declaration(t) for t in request.tools])
        ],
        tool_config=types.ToolConfig(
            function_calling_config=types.FunctionCallingConfig(
                mode=types.FunctionCallingConfigMode.AUTO
            )
        ),
        automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
        automatic_continuation=False,
    )


def _declaration(spec: ToolSpec) -> Any:
    from google.genai import types

    return types.FunctionDeclaration(
        name=spec.name,
        description=spec.description,
        parameters=types.Schema(
            type=types.Type.OBJECT,
            properties={
                p.name: types.Schema(type=types.Type.STRING, description=p.description)
                for p in spec.parameters
            },
            required=[p.name for p in spec.parameters],
        ),
    )


def _contents(request: LlmRequest) -> list[Any]:
    """The history as Gemini contents; consecutive tool results share one turn."""
    from google.genai import types

    contents: list[Any] = []
    for message in request.history:
        parts = _parts(message)
        if not parts:
            continue
        role = "model" if message.role is Role.ASSISTANT else "user"
        previous = contents[-1] if contents else None
        if (
            message.role is Role.TOOL
            and previous is not None
            and previous.role == "user"
            and previous.parts
            and previous.parts[0].function_response is not None
        ):
            previous.parts.extend(parts)
            continue
        contents.append(types.Content(role=role, parts=parts))
    return contents


def _parts(message: ChatMessage) -> list[Any]:
    from google.genai import types

    if message.role is Role.TOOL:
        assert message.call is not None
        # TODO(#5): Gemini 3 wants each function call's thought_signature echoed back
        # in the history; ToolCall has no slot for it yet (fine for gemini-2.x).
        return [
            types.Part(
                function_response=types.FunctionResponse(
                    id=message.call.call_id or None,
                    name=message.call.name,
                    response={"result": message.content},
                )
            )
        ]
    parts: list[Any] = []
    if message.content:
        parts.append(types.Part(text=message.content))
    for call in message.tool_calls:
        parts.append(
            types.Part(
                function_call=types.FunctionCall(
                    id=call.call_id or None,
                    name=call.name,
                    args=dict(call.arguments),
                )
            )
        )
    return parts


def _translate(err: Exception, *, has_started: bool) -> LlmError:
    """An SDK or HTTP exception as an LlmError; its message is never kept."""
    import httpx2
    from google.genai import errors

    if isinstance(err, errors.APIError):
        status = err.code if isinstance(err.code, int) else 0
        if status == 429:
            return LlmError("llm-rate-limited", transient=True)
        if status in (401, 403):
            return LlmError("llm-auth", f"HTTP {status}")
        if status >= 500:
            return LlmError("llm-server-error", f"HTTP {status}", transient=True)
        if has_started:
            return LlmError("llm-stream-broken", transient=True)
        return LlmError("llm-bad-request", f"HTTP {status}")
    if isinstance(err, httpx2.TimeoutException):
        return LlmError("llm-timeout", transient=True)
    if isinstance(err, httpx2.ConnectError):
        return LlmError("llm-connect", transient=True)
    if isinstance(err, httpx2.HTTPError | ValueError):
        # A dropped connection, or a line of the stream that is not JSON.
        code = "llm-stream-broken" if has_started else "llm-connect"
        return LlmError(code, transient=True)
    return LlmError("llm-provider-error", type(err).__name__)
