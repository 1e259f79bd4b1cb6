"""Presence: VideoFrame -> PresenceEvent, through a motion gate, a face detector and
hysteresis; every frame buffer is wiped right after its last use.

The pieces, cheapest first:

- ``MotionGate`` compares a small grey copy of each frame with the previous one (about
  0.3 ms at 640x480) and says whether anything moved.
- ``PresenceTracker`` is the state machine. It decides when the face detector should
  run (on motion while nobody is there, on every frame while a face is being confirmed,
  every ``recheck_s`` while a visitor is present) and turns checks into
  ``visitor_arrived`` / ``visitor_left`` with hysteresis. Its clock is stream time.
- ``PresenceStage`` wires both to a ``FaceDetector`` and owns frame hygiene.
- ``run_presence`` is the daemon's loop: a worker thread reads and checks frames, the
  event loop only receives PresenceEvents.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import enum
import logging
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final, Protocol

import numpy as np
import numpy.typing as npt

from kiosk_agent.config import PresenceConfig
from kiosk_agent.messages import (
    Image,
    PresenceEvent,
    PresenceKind,
    VideoFrame,
    wipe,
)

logger = logging.getLogger(__name__)

REFERENCE_HEIGHT_PX: Final = 480
"""Frame height at which ``min_face_px`` is given; other heights scale it."""
GATE_STEP_PX: Final = 8
"""The motion gate samples every 8th pixel: 640x480 becomes 80x60."""
GATE_PIXEL_DELTA: Final = 25
"""Grey-level change that counts a sampled pixel as moved; sensor and JPEG noise at a
lit kiosk stays well below it."""
WORKER_NICE: Final = 10
"""Niceness of the presence worker thread, so speech recognition wins the CPU."""
MAX_STEP_BACKOFF_S: Final = 10.0
"""Longest pause after a failing step before the runner tries again."""
EVENT_NAMES: Final = {
    PresenceKind.ARRIVED: "presence.visitor_arrived",
    PresenceKind.LEFT: "presence.visitor_left",
}
"""The fixed log event name of each kind of presence event."""


@dataclass(frozen=True, slots=True)
class Face:
    """One face a detector found; a size and a score, no pixels."""

    size_px: int
    """Side of the face box in pixels of the image that was searched."""
    confidence: float
    """0..1, how sure the detector is."""


class FaceDetector(Protocol):
    """Finds faces in one image; implemented in ``providers/face_detector.py``."""

    def detect(self, image: Image, *, min_size_px: int) -> Sequence[Face]:
        """Faces at least ``min_size_px`` high in a BGR (or grey) image.

        The detector must wipe every copy it derives from ``image`` before returning;
        ``image`` itself belongs to the caller.
        """
        ...


class VideoSource(Protocol):
    """Where frames come from: a camera or a video file (``providers/camera.py``)."""

    def read(self) -> VideoFrame | None:
        """The next frame, or None while the source is failing or after it ended."""
        ...

    def close(self) -> None:
        """Release the device or file; a blocked ``read`` returns soon after."""
        ...

    @property
    def is_ended(self) -> bool:
        """True once a file has no more frames or the source was closed."""
        ...


class PresenceSink(Protocol):
    """Where events go: any ``asyncio.Queue`` that accepts PresenceEvents."""

    async def put(self, item: PresenceEvent, /) -> None:
        """Deliver one event, waiting while the sink is full."""
        ...


class MotionGate:
    """Says whether a frame differs from the previous one, on a small grey copy.

    It keeps exactly one derived buffer between frames (the previous small copy) and
    wipes it when it is replaced; its scratch buffers are wiped after every use.
    """

    def __init__(self, threshold: float, *, step: int = GATE_STEP_PX) -> None:
        self._threshold = threshold
        self._step = step
        self._previous: npt.NDArray[np.uint8] | None = None
        self._diff: npt.NDArray[np.int16] | None = None
        self._mask: npt.NDArray[np.bool_] | None = None

    def moved(self, image: Image) -> bool:
        """True when the share of changed sampled pixels reaches the threshold.

        The first frame, and a frame of a new size, count as motion.
        """
        small = self._shrink(image)
        previous, self._previous = self._previous, small
        if previous is None or previous.shape != small.shape:
            wipe(previous)
            self._diff = np.zeros(small.shape, dtype=np.int16)
            self._mask = np.zeros(small.shape, dtype=np.bool_)
            return True
        assert self._diff is not None and self._mask is not None

        # Differences go into preallocated scratch buffers, wiped once counted.
        np.subtract(small, previous, out=self._diff, dtype=np.int16)
        np.abs(self._diff, out=self._diff)
        np.greater(self._diff, GATE_PIXEL_DELTA, out=self._mask)
        changed = int(np.count_nonzero(self._mask))
        wipe(self._diff)
        wipe(self._mask)
        wipe(previous)
        return changed >= self._threshold * small.size

    def close(self) -> None:
        """Wipe and forget the previous small copy."""
        wipe(self._previous)
        self._previous = None

    def _shrink(self, image: Image) -> npt.NDArray[np.uint8]:
        # The green channel stands in for luma: it is a strided view, so the only copy
        # made is the small one, with no float maths. Always a copy, never the frame's
        # own buffer, which is wiped after this step.
        view = image[:: self._step, :: self._step]
        if view.ndim == 3:
            view = view[:, :, 1 if view.shape[2] >= 3 else 0]
        return np.array(view, dtype=np.uint8, copy=True, order="C")


class PresenceState(enum.Enum):
    """Where the tracker is between visitors."""

    ABSENT = "absent"
    CONFIRMING = "confirming"
    """A face was seen; checking every frame until ``arrive_checks`` agree."""
    PRESENT = "present"


class PresenceTracker:
    """Hysteresis from face checks to arrived/left on stream time; no I/O, no frames."""

    def __init__(
        self, *, arrive_checks: int, leave_after_s: float, recheck_s: float
    ) -> None:
        self._arrive_checks = arrive_checks
        self._leave_after_s = leave_after_s
        self._recheck_s = recheck_s
        self.state = PresenceState.ABSENT
        self._streak: list[float] = []
        self._last_check_s = -float("inf")
        self._last_face_s = -float("inf")
        self._empty_checks = 0

    def wants_check(self, now_s: float, *, moved: bool) -> bool:
        """Whether the face detector should look at the frame of time ``now_s``."""
        if self.state is PresenceState.ABSENT:
            return moved
        if self.state is PresenceState.CONFIRMING:
            return True
        return now_s - self._last_check_s >= self._recheck_s

    def observe(self, now_s: float, confidence: float | None) -> PresenceEvent | None:
        """Record one check: the best qualifying face's confidence, or None for none."""
        self._last_check_s = now_s
        if self.state is PresenceState.PRESENT:
            if confidence is None:
                self._empty_checks += 1
            else:
                self._last_face_s = now_s
                self._empty_checks = 0
            return self.tick(now_s)
        if confidence is None:
            self.state = PresenceState.ABSENT
            self._streak.clear()
            return None
        self._streak.append(confidence)
        if len(self._streak) < self._arrive_checks:
            self.state = PresenceState.CONFIRMING
            return None
        mean = sum(self._streak) / len(self._streak)
        self.state = PresenceState.PRESENT
        self._streak.clear()
        self._last_face_s = now_s
        self._empty_checks = 0
        return PresenceEvent(kind=PresenceKind.ARRIVED, t_s=now_s, confidence=mean)

    def tick(self, now_s: float) -> PresenceEvent | None:
        """``visitor_left`` once no face was seen for ``leave_after_s``."""
        if self.state is not PresenceState.PRESENT:
            return None
        if now_s - self._last_face_s < self._leave_after_s:
            return None

        # Confidence: how many empty checks backed the decision, against how many the
        # recheck period promises (fewer when the camera delivered few frames).
        expected = max(1.0, self._leave_after_s / self._recheck_s)
        confidence = min(1.0, self._empty_checks / expected)
        self.state = PresenceState.ABSENT
        self._empty_checks = 0
        return PresenceEvent(kind=PresenceKind.LEFT, t_s=now_s, confidence=confidence)


@dataclass(slots=True)
class PresenceStats:
    """Counters for the benchmark and ``kiosk-agent status``."""

    frames: int = 0
    moved: int = 0
    checks: int = 0
    faces: int = 0


class PresenceStage:
    """VideoFrame -> PresenceEvent; wipes each frame's pixels before returning."""

    def __init__(self, config: PresenceConfig, detector: FaceDetector) -> None:
        self._config = config
        self._detector = detector
        self._gate = MotionGate(config.motion_threshold)
        self.tracker = PresenceTracker(
            arrive_checks=config.arrive_checks,
            leave_after_s=config.leave_after_s,
            recheck_s=config.recheck_s,
        )
        self.stats = PresenceStats()

    def check(self, frame: VideoFrame) -> PresenceEvent | None:
        """Look at one frame, then zero its buffer whatever happens."""
        try:
            return self._check(frame.image, frame.t_s)
        finally:
            wipe(frame.image)

    def close(self) -> None:
        """Wipe the motion gate's last small copy."""
        self._gate.close()

    def _check(self, image: Image, now_s: float) -> PresenceEvent | None:
        self.stats.frames += 1
        moved = self._gate.moved(image)
        self.stats.moved += int(moved)
        if not self.tracker.wants_check(now_s, moved=moved):
            return self.tracker.tick(now_s)

        # Only a face big enough to be standing at the kiosk counts.
        min_size_px = max(
            1, round(self._config.min_face_px * image.shape[0] / REFERENCE_HEIGHT_PX)
        )
        faces = self._detector.detect(image, min_size_px=min_size_px)
        near = [face.confidence for face in faces if face.size_px >= min_size_px]
        self.stats.checks += 1
        self.stats.faces += int(bool(near))
        event = self.tracker.observe(now_s, max(near) if near else None)
        if event is not None:
            logger.info(
                EVENT_NAMES[event.kind],
                extra={"fields": {"confidence": round(event.confidence, 2)}},
            )
        return event


def lower_thread_priority(nice: int = WORKER_NICE) -> None:
    """Make the calling thread nicer, so it yields the CPU to speech recognition.

    Linux keeps niceness per thread; raising it needs no privilege. Elsewhere this does
    nothing.
    """
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), nice)
    except (AttributeError, OSError):
        return


async def run_presence(
    source: VideoSource,
    stage: PresenceStage,
    events: PresenceSink,
    *,
    on_idle: Callable[[], None] | None = None,
) -> None:
    """The daemon's presence loop: until the source ends or the task is cancelled.

    One dedicated worker thread, at lower priority, reads each frame and checks it, so
    no frame ever reaches the event loop and OpenCV never runs on it. The source drops
    stale frames when the worker falls behind (a camera keeps one buffered frame, a
    paced file skips late ones), and the tracker runs the detector at ``recheck_s``
    while a visitor is present, so the load stays bounded on two cores. The source and
    the stage are closed (frames wiped) on the worker thread when the loop ends.

    Args:
        on_idle: called on the worker after a read returned no frame (tests, status).
    """
    loop = asyncio.get_running_loop()
    executor = concurrent.futures.ThreadPoolExecutor(
        max_workers=1, thread_name_prefix="presence", initializer=lower_thread_priority
    )

    def step() -> PresenceEvent | None:
        frame = source.read()
        if frame is None:
            # TODO(#3): no visitor_left while the camera is away, as stream time stops;
            # the dialog's session timeout ends such a visit. Needs a source clock.
            if on_idle is not None:
                on_idle()
            return None
        return stage.check(frame)

    failures = 0
    try:
        while not source.is_ended:
            try:
                event = await loop.run_in_executor(executor, step)
            except Exception as err:  # noqa: BLE001 - a stage loop survives its faults.
                failures += 1
                backoff_s = min(MAX_STEP_BACKOFF_S, 0.1 * 2 ** min(failures, 10))
                logger.error(
                    "presence.step_failed",
                    extra={
                        "fields": {
                            "error_type": type(err).__name__,
                            "attempt": failures,
                            "backoff_s": backoff_s,
                        }
                    },
                )
                await asyncio.sleep(backoff_s)
                continue
            failures = 0
            if event is not None:
                await events.put(event)
    finally:
        # Closing runs after any step still in flight, on the same thread.
        executor.submit(_close, source, stage)
        executor.shutdown(wait=False)


def _close(source: VideoSource, stage: PresenceStage) -> None:
    source.close()
    stage.close()
