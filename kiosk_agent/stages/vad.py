"""Voice activity: turn a stream of audio frames into utterances.

An utterance starts at the first speech frame, with ``preroll_ms`` of audio before it
(cut at the first phoneme, tiny.en hears "below" for "Hello"), and ends after
``trailing_silence_ms`` without speech. Bursts shorter than ``min_speech_ms`` are
dropped; an utterance reaching ``max_utterance_s`` is emitted and a new one continues.

For speculative ASR, once ``tentative_after_ms`` of the trailing silence has passed a
tentative utterance (``is_final=False``) carries the speech so far. If speech resumes,
the revision goes up; when the silence is complete, the final utterance keeps the id and
the revision of the last tentative one, so ASR can reuse that decoding.
"""

from __future__ import annotations

import enum
from collections import deque
from typing import Protocol

import numpy as np

from kiosk_agent.config import VadConfig
from kiosk_agent.messages import AudioFrame, Samples, Utterance, wipe


class SpeechGate(Protocol):
    """The per-frame speech decision of a VAD engine."""

    def is_speech(self, frame: AudioFrame) -> bool:
        """True when the frame holds speech."""
        ...

    def reset(self) -> None:
        """Forget the engine's state."""
        ...


class _State(enum.Enum):
    IDLE = "idle"
    SPEECH = "speech"


class VadSegmenter:
    """Frames in, utterances out; a state machine driven by the gate's booleans.

    Frames are copied, so the caller wipes its own frame right after ``push``. Each
    emitted utterance owns fresh samples; the consumer (ASR) wipes them.
    """

    def __init__(self, config: VadConfig, gate: SpeechGate) -> None:
        self._config = config
        self._gate = gate
        self._next_id = 1
        self._preroll: deque[tuple[float, Samples, float]] = deque()
        """Recent non-speech frames: (start_s, samples, frame_ms)."""
        self._parts: list[Samples] = []
        self._reset_state()

    def push(self, frame: AudioFrame) -> list[Utterance]:
        """Feed one frame; the utterances (tentative or final) it completed."""
        is_speech = self._gate.is_speech(frame)
        frame_ms = frame.duration_s * 1000
        samples = frame.samples.copy()
        if self._state is _State.IDLE:
            if not is_speech:
                self._keep_preroll(frame.start_s, samples, frame_ms)
                return []
            self._start(frame.start_s)
        return self._extend(
            samples, frame.start_s + frame.duration_s, frame_ms, is_speech
        )

    def flush(self) -> list[Utterance]:
        """End of stream: the final utterance in progress, if it has enough speech."""
        out: list[Utterance] = []
        if (
            self._state is _State.SPEECH
            and self._speech_ms >= self._config.min_speech_ms
        ):
            out.append(self._emit(final=True))
        self.reset()
        return out

    def reset(self) -> None:
        """Drop any utterance in progress and the pre-roll; the gate starts afresh."""
        for _, samples, _ in self._preroll:
            wipe(samples)
        self._preroll.clear()
        self._drop_parts()
        self._reset_state()
        self._gate.reset()

    def _reset_state(self) -> None:
        self._state = _State.IDLE
        self._start_s = 0.0
        self._end_s = 0.0
        self._speech_ms = 0.0
        self._silence_ms = 0.0
        self._revision = 0
        self._tentative_sent = False
        self._preroll_ms = 0.0

    def _keep_preroll(self, start_s: float, samples: Samples, frame_ms: float) -> None:
        self._preroll.append((start_s, samples, frame_ms))
        self._preroll_ms += frame_ms
        # Keep the shortest run of frames that still covers preroll_ms.
        while self._preroll and (
            self._preroll_ms - self._preroll[0][2] >= self._config.preroll_ms
        ):
            _, old, old_ms = self._preroll.popleft()
            self._preroll_ms -= old_ms
            wipe(old)

    def _start(self, start_s: float) -> None:
        self._state = _State.SPEECH
        self._start_s = self._preroll[0][0] if self._preroll else start_s
        self._parts = [samples for _, samples, _ in self._preroll]
        self._preroll.clear()
        self._preroll_ms = 0.0
        self._speech_ms = self._silence_ms = 0.0
        self._revision = 0
        self._tentative_sent = False

    def _extend(
        self, samples: Samples, end_s: float, frame_ms: float, is_speech: bool
    ) -> list[Utterance]:
        out: list[Utterance] = []
        if end_s - self._start_s > self._config.max_utterance_s + 1e-6:
            # Too long: emit what we have; this frame opens a new utterance.
            # TODO(#2): cut at the last short pause; a hard cut may split a word.
            out += self._split(end_s - frame_ms / 1000)
        self._parts.append(samples)
        self._end_s = end_s
        if is_speech:
            if self._tentative_sent:
                # Speech resumed after a tentative utterance: that decoding is stale.
                self._revision += 1
                self._tentative_sent = False
            self._speech_ms += frame_ms
            self._silence_ms = 0.0
        else:
            self._silence_ms += frame_ms
        has_speech = self._speech_ms >= self._config.min_speech_ms
        tentative_ms = min(
            self._config.tentative_after_ms, self._config.trailing_silence_ms - frame_ms
        )
        if self._silence_ms >= self._config.trailing_silence_ms:
            if has_speech:
                out.append(self._emit(final=True))
            self._finish()
        elif (
            has_speech and not self._tentative_sent and self._silence_ms >= tentative_ms
        ):
            out.append(self._emit(final=False))
            self._tentative_sent = True
        return out

    def _split(self, at_s: float) -> list[Utterance]:
        out = []
        if self._speech_ms >= self._config.min_speech_ms:
            out.append(self._emit(final=True))
        self._drop_parts()
        self._start(at_s)
        return out

    def _emit(self, *, final: bool) -> Utterance:
        utterance = Utterance(
            samples=np.concatenate(self._parts),
            start_s=self._start_s,
            end_s=self._end_s,
            utterance_id=self._next_id,
            revision=self._revision,
            is_final=final,
        )
        if final:
            self._next_id += 1
        return utterance

    def _finish(self) -> None:
        self._drop_parts()
        self._reset_state()

    def _drop_parts(self) -> None:
        for samples in self._parts:
            wipe(samples)
        self._parts = []
