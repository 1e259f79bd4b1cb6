"""ASR: utterances in, transcripts out, decoding speculatively in one worker thread.

Whisper's encoder always sees a 30 s window, so a transcript costs a fixed part plus a
little per second of speech, however short the utterance. Waiting for the end of the
utterance would add that whole cost to the reply. So a tentative utterance (trailing
silence has just begun) starts decoding at once; the final one reuses that result when
its id and revision match, and a stale result (the visitor went on) is thrown away.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import logging
import time
from collections.abc import AsyncIterable, AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from kiosk_agent.config import AsrConfig
from kiosk_agent.messages import AudioFrame, Segment, Transcript, Utterance, wipe

logger = logging.getLogger(__name__)


class AsrEngine(Protocol):
    """An on-device speech recognizer; called from one worker thread at a time."""

    def transcribe(
        self, audio: npt.NDArray[np.float32]
    ) -> tuple[Sequence[Segment], str]:
        """Segments (times relative to ``audio``; silence and hallucinations dropped)
        and the language of 16 kHz mono float samples."""
        ...


class Segmenter(Protocol):
    """What turns frames into utterances (``VadSegmenter``)."""

    def push(self, frame: AudioFrame) -> list[Utterance]:
        """Feed a frame; the utterances it completed."""
        ...

    def flush(self) -> list[Utterance]:
        """End of stream: the utterance in progress."""
        ...


@dataclass(slots=True)
class AsrStats:
    """Counters for the benchmark and ``status``."""

    decoded: int = 0
    """Utterances decoded (speculative or not)."""
    reused: int = 0
    """Final utterances answered by a speculative decoding."""
    discarded: int = 0
    """Speculative decodings thrown away because the visitor went on."""


_Key = tuple[int, int]


class AsrStage:
    """Decodes utterances; takes ownership of their samples and wipes them.

    Args:
        engine: the recognizer; all calls come from one worker thread.
        config: the ``[asr]`` section (``speculative`` switches speculation).
    """

    def __init__(self, engine: AsrEngine, config: AsrConfig) -> None:
        self._engine = engine
        self._config = config
        self._worker = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="asr"
        )
        self._pending: dict[_Key, concurrent.futures.Future[Transcript | None]] = {}
        self.stats = AsrStats()

    async def on_utterance(self, utterance: Utterance) -> Transcript | None:
        """Start decoding a tentative utterance (returns None at once), or return the
        transcript of a final one; None when it holds no text."""
        key = (utterance.utterance_id, utterance.revision)
        self._discard_except(key)
        if not utterance.is_final:
            if self._config.speculative and key not in self._pending:
                self._pending[key] = self._submit(utterance)
            else:
                wipe(utterance.samples)
            return None
        future = self._pending.pop(key, None)
        if future is None:
            return await asyncio.wrap_future(self._submit(utterance))
        self.stats.reused += 1
        wipe(utterance.samples)  # The tentative copy is what was decoded.
        transcript = await asyncio.wrap_future(future)
        if transcript is None:
            return None
        # Same speech; the final utterance only adds trailing silence.
        return dataclasses.replace(transcript, end_s=utterance.end_s)

    def close(self) -> None:
        """Drop pending decodings and stop the worker (without waiting for it)."""
        self._discard_except(None)
        self._worker.shutdown(wait=False, cancel_futures=True)

    def _discard_except(self, key: _Key | None) -> None:
        for stale in [k for k in self._pending if k != key]:
            self._pending.pop(stale).cancel()
            self.stats.discarded += 1

    def _submit(
        self, utterance: Utterance
    ) -> concurrent.futures.Future[Transcript | None]:
        future = self._worker.submit(self._decode, utterance)

        def wipe_if_cancelled(
            done: concurrent.futures.Future[Transcript | None],
        ) -> None:
            if done.cancelled():
                wipe(utterance.samples)

        future.add_done_callback(wipe_if_cancelled)
        return future

    def _decode(self, utterance: Utterance) -> Transcript | None:
        """In the worker thread: decode, then wipe the utterance and its float copy."""
        started = time.monotonic()
        audio = utterance.samples.astype(np.float32) / 32768.0
        try:
            segments, language = self._engine.transcribe(audio)
        finally:
            wipe(audio)
            wipe(utterance.samples)
        self.stats.decoded += 1
        audio_ms = round((utterance.end_s - utterance.start_s) * 1000)
        logger.debug(
            "asr.done",
            extra={
                "fields": {
                    "duration_ms": round((time.monotonic() - started) * 1000),
                    "audio_ms": audio_ms,
                    "outcome": "final" if utterance.is_final else "speculative",
                }
            },
        )
        text = " ".join(s.text.strip() for s in segments if s.text.strip())
        if not text:
            return None
        return Transcript(
            text=text,
            language=language,
            start_s=utterance.start_s,
            end_s=utterance.end_s,
            segments=tuple(
                Segment(
                    start_s=utterance.start_s + s.start_s,
                    end_s=min(utterance.end_s, utterance.start_s + s.end_s),
                    text=s.text,
                )
                for s in segments
            ),
            utterance_id=utterance.utterance_id,
        )


async def transcribe_stream(
    frames: AsyncIterable[AudioFrame], segmenter: Segmenter, asr: AsrStage
) -> AsyncIterator[Transcript]:
    """Transcripts from a stream of frames, in order; wipes each frame after use.

    The composable audio path for the CLI, the demo and the dialog: capture frames ->
    ``segmenter`` -> ``asr``. At the end of the stream the utterance in progress is
    flushed and transcribed too.
    """
    async for frame in frames:
        try:
            utterances = segmenter.push(frame)
        finally:
            wipe(frame.samples)
        for utterance in utterances:
            transcript = await asr.on_utterance(utterance)
            if transcript is not None:
                yield transcript
    for utterance in segmenter.flush():
        transcript = await asr.on_utterance(utterance)
        if transcript is not None:
            yield transcript
