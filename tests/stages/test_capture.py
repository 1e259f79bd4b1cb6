"""CaptureStage: frames cross from the reader thread to the loop; a full queue drops
the oldest frame and counts it; a lossless stage drops nothing; errors surface."""

from __future__ import annotations

import asyncio
import threading

import numpy as np
import pytest

from kiosk_agent.errors import CaptureError
from kiosk_agent.messages import AudioFrame
from kiosk_agent.stages.capture import CaptureStage

# The reader is a real thread: a loaded machine can delay it, so allow more than 1 s.
TIMEOUT_S = 5.0


class CountingSource:
    """Frames whose samples hold their index; optionally fails after ``fail_at``."""

    def __init__(self, count: int, *, fail_at: int | None = None) -> None:
        self.count = count
        self.fail_at = fail_at
        self.index = 0
        self.done = threading.Event()
        self.closed = False
        self.made: list[AudioFrame] = []

    def read(self) -> AudioFrame | None:
        if self.index == self.fail_at:
            raise CaptureError("audio-read-failed", "unplugged")
        if self.index >= self.count:
            self.done.set()
            return None
        frame = AudioFrame(
            samples=np.full(480, self.index + 1, np.int16), start_s=self.index * 0.03
        )
        self.made.append(frame)
        self.index += 1
        return frame

    def close(self) -> None:
        self.closed = True


async def collect(stage: CaptureStage) -> list[AudioFrame]:
    async with asyncio.timeout(TIMEOUT_S):
        return [frame async for frame in stage.frames()]


async def test_full_queue_drops_oldest_frames_and_counts_them() -> None:
    source = CountingSource(20)
    stage = CaptureStage(source, max_frames=5)
    frames = stage.frames()

    # Let the reader run to the end before the consumer takes anything.
    async with asyncio.timeout(TIMEOUT_S):
        first = await anext(frames)
        await asyncio.to_thread(source.done.wait, TIMEOUT_S)
        await asyncio.sleep(0.05)
        rest = [frame async for frame in frames]

    got = [int(f.samples[0]) for f in [first, *rest]]
    assert got == sorted(got) and got[-1] == 20
    assert stage.stats.dropped_frames == 20 - len(got)
    assert stage.stats.dropped_frames >= 14
    # Frame n holds n in its samples; its position in ``made`` says which it was (its
    # stream time would not: int(15 * 0.03 / 0.03) is 14).
    dropped = [f for n, f in enumerate(source.made, start=1) if n not in got]
    assert all(not f.samples.any() for f in dropped)  # Dropped frames are wiped.
    assert source.closed


async def test_lossless_stage_keeps_every_frame_in_order() -> None:
    source = CountingSource(200)
    stage = CaptureStage(source, max_frames=5, lossless=True)

    frames = await collect(stage)

    assert [int(f.samples[0]) for f in frames] == list(range(1, 201))
    assert stage.stats.dropped_frames == 0


async def test_source_error_reaches_the_consumer_after_its_frames() -> None:
    source = CountingSource(10, fail_at=3)
    stage = CaptureStage(source, max_frames=50, lossless=True)
    seen = []

    with pytest.raises(CaptureError, match="audio-read-failed"):
        async with asyncio.timeout(TIMEOUT_S):
            async for frame in stage.frames():
                seen.append(frame)

    assert len(seen) == 3
    assert source.closed


async def test_consumer_leaving_early_stops_reader_and_closes_source() -> None:
    source = CountingSource(10_000)
    stage = CaptureStage(source, max_frames=5, lossless=True)

    async with asyncio.timeout(TIMEOUT_S):
        async for _frame in stage.frames():
            break
        # The reader thread notices the consumer has gone; wait for it (bounded by
        # the timeout above) rather than for a fixed number of polls.
        while not source.closed:
            await asyncio.sleep(0.01)

    assert source.index < 10_000
