"""One visit from media in memory, as fast as possible: ``simulate`` and ``demo``.

Audio pieces are cut into frames, pass VAD and ASR, and each final transcript runs a
turn of the wired dialog. Time is the media's stream time, not the wall clock: while
the avatar speaks (into an in-memory sink) the microphone is muted exactly as on the
kiosk, i.e. frames before ``utterance end + spoken audio + tail`` are replaced by
silence. A new piece starts only after the avatar finished, like a visitor who waits
for the answer. Presence events are delivered at their stream time.

One stretch runs at the wall clock's pace: from a tentative utterance (trailing silence
has begun) to the final one. On a live kiosk the speculative decode overlaps exactly
that silence, so pacing it makes the per-turn latencies what a visitor would get,
while the rest of the visit still runs as fast as possible.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from kiosk_agent.daemon import Kiosk
from kiosk_agent.dialog import Heard
from kiosk_agent.messages import (
    AudioFrame,
    PresenceEvent,
    PresenceKind,
    Samples,
    Utterance,
    wipe,
)
from kiosk_agent.providers.tts_engine import MemorySink
from kiosk_agent.stages.asr import AsrEngine, AsrStage, Segmenter
from kiosk_agent.stages.tts import MUTE_TAIL_MS

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class ReplayStats:
    """Numbers about one replayed visit."""

    frames: int = 0
    muted_frames: int = 0
    turns: int = 0
    audio_s: float = 0.0
    latencies_ms: list[dict[str, float]] = field(default_factory=list)


class Replay:
    """Feeds one visit's media through a kiosk wired with an in-memory sink."""

    def __init__(
        self, kiosk: Kiosk, sink: MemorySink, engine: AsrEngine, segmenter: Segmenter
    ) -> None:
        self._kiosk = kiosk
        self._sink = sink
        self._asr = AsrStage(engine, kiosk.config.asr)
        self._segmenter = segmenter
        self._rate_hz = kiosk.config.audio.sample_rate_hz
        self._frame_n = self._rate_hz * kiosk.config.audio.frame_ms // 1000
        self._t_s = 0.0
        self._mute_until_s = 0.0
        self._pace_anchor: tuple[float, float] | None = None
        self._events: list[PresenceEvent] = []
        self.stats = ReplayStats()

    async def run(
        self, pieces: Sequence[Samples], presence: Sequence[PresenceEvent] | None = None
    ) -> ReplayStats:
        """Replay the pieces; without presence events the visitor is always there."""
        total_s = sum(len(p) for p in pieces) / self._rate_hz
        if presence is None:
            presence = [
                PresenceEvent(kind=PresenceKind.ARRIVED, t_s=0.0, confidence=1.0),
                PresenceEvent(kind=PresenceKind.LEFT, t_s=total_s, confidence=1.0),
            ]
        self._events = sorted(presence, key=lambda e: e.t_s)
        try:
            for piece in pieces:
                await self._deliver_events(self._t_s)
                self._t_s = max(self._t_s, self._mute_until_s)
                await self._feed(piece)
            for utterance in self._segmenter.flush():
                await self._on_utterance(utterance)
            await self._deliver_events(float("inf"))
            if self._kiosk.machine.session is not None:
                await self._kiosk.dialog.visitor_left()
        finally:
            self._asr.close()
        self.stats.audio_s = self._t_s
        return self.stats

    async def _feed(self, piece: Samples) -> None:
        for start in range(0, len(piece) - self._frame_n + 1, self._frame_n):
            await self._deliver_events(self._t_s)
            block = piece[start : start + self._frame_n].copy()
            if self._t_s < self._mute_until_s:
                block.fill(0)
                self.stats.muted_frames += 1
            frame = AudioFrame(
                samples=block, start_s=self._t_s, sample_rate_hz=self._rate_hz
            )
            await self._pace()
            self._t_s += self._frame_n / self._rate_hz
            self.stats.frames += 1
            try:
                utterances = self._segmenter.push(frame)
            finally:
                wipe(frame.samples)
            for utterance in utterances:
                await self._on_utterance(utterance)

    async def _pace(self) -> None:
        """While trailing silence runs, stream time passes no faster than the clock."""
        if self._pace_anchor is None:
            return
        anchor_t_s, anchor_wall_s = self._pace_anchor
        delay_s = anchor_wall_s + (self._t_s - anchor_t_s) - time.monotonic()
        if delay_s > 0:
            await asyncio.sleep(delay_s)

    async def _on_utterance(self, utterance: Utterance) -> None:
        end_of_utterance_ns = time.monotonic_ns()
        is_final, end_s = utterance.is_final, utterance.end_s
        if is_final:
            self._pace_anchor = None
        elif self._pace_anchor is None:
            self._pace_anchor = (self._t_s, time.monotonic())
        transcript = await self._asr.on_utterance(utterance)
        if not is_final or transcript is None or self._kiosk.machine.session is None:
            return
        before_ms = self._sink.audio_ms
        turn = await self._kiosk.dialog.on_transcript(
            Heard(transcript=transcript, end_of_utterance_ns=end_of_utterance_ns)
        )
        if turn is not None:
            self.stats.turns += 1
            self.stats.latencies_ms.append(dict(turn.latency_ms))
        self._mute_after(end_s, before_ms)

    async def _deliver_events(self, until_s: float) -> None:
        while self._events and self._events[0].t_s <= until_s:
            event = self._events.pop(0)
            before_ms = self._sink.audio_ms
            if event.kind is PresenceKind.ARRIVED:
                await self._kiosk.dialog.visitor_arrived()
                self._mute_after(max(event.t_s, self._t_s), before_ms)
            else:
                await self._kiosk.dialog.visitor_left()

    def _mute_after(self, start_s: float, before_ms: float) -> None:
        spoken_s = (self._sink.audio_ms - before_ms) / 1000
        if spoken_s > 0:
            until_s = start_s + spoken_s + MUTE_TAIL_MS / 1000
            self._mute_until_s = max(self._mute_until_s, until_s)
