"""What the LLM broker sends: the pseudonymized chat history, the tool, the provider.

Privacy is a boundary in the types: the only visitor text a ``ChatMessage`` can carry
is a ``RedactedText``; a ``Transcript`` is refused with ``TypeError``. An ``LlmRequest``
holds everything a provider may send for one attempt, and nothing else leaves.
"""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Final, Protocol

from kiosk_agent.messages import RedactedText, Reply, ToolCall


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
