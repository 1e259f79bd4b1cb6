"""One request to an LLM provider, cut into whole sentences under two deadlines.

Text is forwarded in whole sentences as soon as a sentence boundary arrives, so the
dialog can speak the first sentence while the rest is still streaming. The time to the
first token and the total time are enforced with ``asyncio.timeout_at``; the deadline
scope is left while the caller consumes a sentence, so speaking does not count.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncGenerator
from typing import Final

from kiosk_agent.errors import LlmError
from kiosk_agent.messages import ToolCall
from kiosk_agent.stages.llm_chat import LlmProvider, LlmRequest

_SENTENCE_END: Final = re.compile(r"[.!?…](?:[\"')\]»“”]*)(?:\s+|$)|\n+")


async def stream_sentences(
    provider: LlmProvider,
    request: LlmRequest,
    *,
    first_token_s: float,
    total_s: float,
    tool_calls: list[ToolCall],
) -> AsyncGenerator[str, None]:
    """Whole sentences of one request; complete tool calls go to ``tool_calls``.

    Args:
        provider: the provider to ask once (no retries here).
        request: what to send.
        first_token_s: deadline for the first item, from now.
        total_s: deadline for the whole reply, from now; caps ``first_token_s``.
        tool_calls: receives the tool calls the provider yields.

    Raises:
        LlmError: ``llm-timeout`` when a deadline passed, or the provider's own error.
    """
    loop = asyncio.get_running_loop()
    total_at = loop.time() + total_s
    first_at = min(loop.time() + first_token_s, total_at)
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
                sentences, pending = split_sentences(pending)
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


def split_sentences(text: str) -> tuple[str, str]:
    """Split buffered text into whole sentences and the unfinished rest."""
    end = 0
    for match in _SENTENCE_END.finditer(text):
        if match.end() == len(text) and not match.group(0)[-1:].isspace():
            # "3." at the very end may be a number still streaming ("3.5").
            break
        end = match.end()
    return text[:end], text[end:]
