"""TTS stage: speaks spoken replies sentence by sentence, cancellable, mutes the mic.

The reply streams from the LLM: incoming text deltas are split at sentence ends, and the
first sentence is synthesized and played while the rest is still arriving. Synthesis
and blocking playback run in a worker thread. While the avatar speaks, and for a short
tail after, ``is_muted`` is true so the microphone path does not hear the avatar as a
visitor.
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from typing import Final, Protocol

from kiosk_agent.messages import Samples

logger = logging.getLogger(__name__)

MUTE_TAIL_MS: Final = 300
"""The microphone stays muted this long after the last sample was played (room echo)."""

_SENTENCE_END: Final = re.compile(r"(?<=[.!?…])[\"')\]]*\s+|\n+")


class TtsEngine(Protocol):
    """On-device speech synthesis that hands out samples block by block."""

    @property
    def sample_rate_hz(self) -> int:
        """Rate of the emitted samples."""
        ...

    def synthesize(
        self, text: str, language: str, emit: Callable[[Samples], bool]
    ) -> None:
        """Blocking synthesis; ``emit`` gets each block, False from it aborts."""
        ...


class AudioOutput(Protocol):
    """Where the samples go: the speaker, or an in-memory sink."""

    def play(self, samples: Samples, sample_rate_hz: int) -> None:
        """Blocking write of one block."""
        ...

    def abort(self) -> None:
        """Interrupt playback; thread-safe."""
        ...

    def resume(self) -> None:
        """Allow playback again after an abort."""
        ...


@dataclass(slots=True)
class SpeechResult:
    """What one call to the stage spoke."""

    first_audio_ns: int | None = None
    """monotonic_ns when the first block reached the output; None if nothing did."""
    audio_ms: float = 0.0
    sentences: int = 0
    is_cancelled: bool = False


class SentenceSplitter:
    """Collects text deltas and hands out whole sentences as soon as they end."""

    def __init__(self) -> None:
        self._pending = ""

    def feed(self, delta: str) -> list[str]:
        """Add a delta; returns the sentences it completed."""
        self._pending += delta
        parts = _SENTENCE_END.split(self._pending)
        self._pending = parts.pop()
        return [part.strip() for part in parts if part.strip()]

    def flush(self) -> list[str]:
        """The rest once the stream ended."""
        rest, self._pending = self._pending.strip(), ""
        return [rest] if rest else []


class TtsStage:
    """Speaks text through an engine into an output, one utterance at a time."""

    def __init__(
        self,
        engine: TtsEngine,
        output: AudioOutput,
        *,
        mute_tail_ms: int = MUTE_TAIL_MS,
        clock: Callable[[], int] = time.monotonic_ns,
    ) -> None:
        self._engine = engine
        self._output = output
        self._tail_ns = mute_tail_ms * 1_000_000
        self._clock = clock
        self._stop = threading.Event()
        self._speaking = 0
        self._last_audio_ns: int | None = None

    def is_muted(self, now_ns: int | None = None) -> bool:
        """True while the avatar speaks and for the tail after its last sample."""
        if self._speaking:
            return True
        if self._last_audio_ns is None:
            return False
        now = self._clock() if now_ns is None else now_ns
        return now - self._last_audio_ns < self._tail_ns

    def cancel(self) -> None:
        """Stop the current speech at the next block (visitor left or interrupts)."""
        self._stop.set()
        self._output.abort()

    async def speak(self, text: str, language: str) -> SpeechResult:
        """Speak one text, sentence by sentence."""
        return await self.speak_stream(_aiter(_split_all(text)), language)

    async def speak_stream(
        self, sentences: AsyncIterator[str], language: str
    ) -> SpeechResult:
        """Speak sentences as they arrive; reading runs ahead of the (slow) playback.

        The source is drained by its own task into a queue, so a streaming LLM reply is
        read at network speed while the first sentence already plays.
        """
        result = SpeechResult()
        queue: asyncio.Queue[str | None] = asyncio.Queue()
        self._stop.clear()
        self._output.resume()
        reader = asyncio.create_task(_drain(sentences, queue), name="tts-reader")
        self._speaking += 1
        try:
            while (sentence := await queue.get()) is not None:
                if self._stop.is_set():
                    result.is_cancelled = True
                    break
                await asyncio.to_thread(self._speak_one, sentence, language, result)
                result.sentences += 1
            await reader
        except asyncio.CancelledError:
            self.cancel()
            result.is_cancelled = True
            raise
        finally:
            reader.cancel()
            self._speaking -= 1
            if result.first_audio_ns is not None:
                self._last_audio_ns = self._clock()
        result.is_cancelled = result.is_cancelled or self._stop.is_set()
        return result

    def _speak_one(self, sentence: str, language: str, result: SpeechResult) -> None:
        rate_hz = self._engine.sample_rate_hz

        def emit(block: Samples) -> bool:
            if self._stop.is_set():
                return False
            self._output.play(block, rate_hz)
            if result.first_audio_ns is None:
                result.first_audio_ns = time.monotonic_ns()
            result.audio_ms += 1000.0 * len(block) / rate_hz
            return not self._stop.is_set()

        self._engine.synthesize(sentence, language, emit)


def _split_all(text: str) -> list[str]:
    splitter = SentenceSplitter()
    return splitter.feed(text) + splitter.flush()


async def _aiter(items: Iterable[str]) -> AsyncIterator[str]:
    for item in items:
        yield item


async def _drain(source: AsyncIterator[str], queue: asyncio.Queue[str | None]) -> None:
    try:
        async for item in source:
            queue.put_nowait(item)
    finally:
        queue.put_nowait(None)
