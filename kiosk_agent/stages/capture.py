"""Capture: run an audio source in its own thread and hand its frames to the loop.

A source (microphone, WAV file, in-memory samples) blocks in ``read()``; it runs in a
reader thread that passes each frame to the asyncio loop with ``call_soon_threadsafe``
into a bounded queue. For a live source a full queue drops its oldest frame (counted),
so the reader never waits on the loop; a file read as fast as possible waits instead,
so no audio is lost.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol

from kiosk_agent.config import AudioConfig
from kiosk_agent.errors import CaptureError
from kiosk_agent.messages import AudioFrame, wipe

logger = logging.getLogger(__name__)


class AudioSource(Protocol):
    """A blocking source of fixed-length audio frames."""

    def read(self) -> AudioFrame | None:
        """The next frame, blocking until it is there; None at the end of the stream."""
        ...

    def close(self) -> None:
        """Release the device or buffer and wipe what is held."""
        ...


@dataclass(slots=True)
class CaptureStats:
    """Counters a technician can read in ``status``."""

    frames: int = 0
    """Frames handed to the loop."""
    dropped_frames: int = 0
    """Frames dropped because the queue was full (the oldest goes first)."""


_END = object()


def queue_frames(config: AudioConfig) -> int:
    """How many frames the capture queue holds for ``config.buffer_s``."""
    return max(1, round(config.buffer_s * 1000 / config.frame_ms))


class CaptureStage:
    """Reads one source in a thread and yields its frames on the loop.

    Args:
        source: the audio source; closed by this stage when the stream ends.
        max_frames: bound of the frame queue.
        lossless: wait for room instead of dropping the oldest frame; for files read
            faster than real time, never for a live device.
    """

    def __init__(
        self, source: AudioSource, *, max_frames: int, lossless: bool = False
    ) -> None:
        self._source = source
        self._max_frames = max_frames
        self._lossless = lossless
        self._stop = threading.Event()
        self.stats = CaptureStats()

    async def frames(self) -> AsyncIterator[AudioFrame]:
        """Frames in order until the source ends; the consumer wipes each frame.

        Raises:
            CaptureError: the source failed (re-raised from the reader thread).
        """
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[object] = asyncio.Queue(
            maxsize=0 if self._lossless else self._max_frames
        )
        # In lossless mode the reader takes a permit per frame and the consumer
        # returns it, which bounds the queue without dropping.
        room = threading.Semaphore(self._max_frames) if self._lossless else None
        reader = threading.Thread(
            target=self._read_loop,
            args=(loop, queue, room),
            name="capture",
            daemon=True,
        )
        reader.start()
        try:
            while True:
                item = await queue.get()
                if room is not None:
                    room.release()
                if item is _END:
                    return
                if isinstance(item, BaseException):
                    raise item
                assert isinstance(item, AudioFrame)
                yield item
        finally:
            self._stop.set()
            # Frames still queued are wiped; the reader closes the source itself.
            while not queue.empty():
                item = queue.get_nowait()
                if isinstance(item, AudioFrame):
                    wipe(item.samples)

    def stop(self) -> None:
        """Ask the reader thread to close the source and end the stream."""
        self._stop.set()

    def _read_loop(
        self,
        loop: asyncio.AbstractEventLoop,
        queue: asyncio.Queue[object],
        room: threading.Semaphore | None,
    ) -> None:
        end: object = _END
        try:
            while not self._stop.is_set():
                frame = self._source.read()
                if frame is None:
                    break
                if room is not None:
                    # Back-pressure: wait for the consumer, but wake up to check stop.
                    while not room.acquire(timeout=0.1):
                        if self._stop.is_set():
                            wipe(frame.samples)
                            return
                if not self._post(loop, self._offer, queue, frame):
                    wipe(frame.samples)
                    return
        except CaptureError as err:
            end = err
        except Exception as err:  # noqa: BLE001 - reported to the consumer, once.
            logger.error(
                "capture.failed",
                extra={"fields": {"error_type": type(err).__name__}},
            )
            end = CaptureError("audio-read-failed", type(err).__name__)
        finally:
            self._source.close()
        self._post(loop, self._offer_end, queue, end)

    @staticmethod
    def _post(loop: asyncio.AbstractEventLoop, callback: object, *args: object) -> bool:
        try:
            loop.call_soon_threadsafe(callback, *args)  # type: ignore[arg-type]
        except RuntimeError:
            return False  # The loop is closed: nobody is listening any more.
        return True

    def _offer(self, queue: asyncio.Queue[object], frame: AudioFrame) -> None:
        if queue.full():
            oldest = queue.get_nowait()
            if isinstance(oldest, AudioFrame):
                wipe(oldest.samples)
            self.stats.dropped_frames += 1
            # Logged at 1, 10, 100, ... drops: visible, but never a flood.
            if str(self.stats.dropped_frames).rstrip("0") == "1":
                logger.warning(
                    "capture.frames_dropped",
                    extra={"fields": {"dropped_frames": self.stats.dropped_frames}},
                )
        queue.put_nowait(frame)
        self.stats.frames += 1

    def _offer_end(self, queue: asyncio.Queue[object], end: object) -> None:
        if queue.full():
            oldest = queue.get_nowait()
            if isinstance(oldest, AudioFrame):
                wipe(oldest.samples)
            self.stats.dropped_frames += 1
        queue.put_nowait(end)
