"""Frame sources through OpenCV: a camera that reopens itself, or a video file.

Both hand out ``VideoFrame``s held in memory only; nothing is written, encoded or sent.
A camera whose reads fail (unplugged, driver hiccup) logs ``camera.read_failed``, goes
to ``reconnecting`` and reopens with capped exponential backoff; ``read`` returns None
meanwhile, so the daemon keeps running. ``state`` shows technicians where it is.
"""

from __future__ import annotations

import enum
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final, cast

from kiosk_agent.config import CameraConfig
from kiosk_agent.errors import CaptureError
from kiosk_agent.messages import Image, VideoFrame

logger = logging.getLogger(__name__)

FIRST_BACKOFF_S: Final = 0.1
"""Wait before the first reopen; it doubles up to ``reopen_max_backoff_s``."""
FALLBACK_FPS: Final = 10.0
"""Frame rate assumed for a video file that does not state one."""


class SourceState(enum.Enum):
    """Where a source is, as technicians see it."""

    OPENING = "opening"
    OK = "ok"
    RECONNECTING = "reconnecting"
    ENDED = "ended"
    CLOSED = "closed"


def read_image(path: Path, *, width_px: int, height_px: int) -> Image | None:
    """Decode an image file into a BGR image of the given size; None if unreadable."""
    import cv2
    import numpy as np

    image = cv2.imdecode(np.frombuffer(path.read_bytes(), np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        return None
    size = (width_px, height_px)
    return cast(Image, cv2.resize(image, size, interpolation=cv2.INTER_AREA))


def parse_device(device: str) -> int | str:
    """``"0"`` -> camera index 0; anything else is a path such as ``/dev/video2``."""
    text = device.strip()
    return int(text) if text.isdigit() else text


def open_camera(config: CameraConfig) -> CameraSource | VideoFileSource:
    """The configured camera; a path to a regular file plays as a paced video instead.

    A file stands in for the camera where there is none (tests, trying the daemon):
    it is paced like a camera and ends with its last frame.

    Raises:
        CaptureError: the file is not a readable video (``video-unreadable``).
    """
    device = parse_device(config.device)
    if isinstance(device, str) and Path(device).is_file():
        return VideoFileSource(device, realtime=True)
    return CameraSource(config)


class _CaptureOwner:
    """What both sources share: one OpenCV capture, its lock, and a close that any
    thread may call to cut a wait short."""

    def __init__(self) -> None:
        self._capture: Any = None
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self.state = SourceState.OK

    def close(self) -> None:
        """Release the capture; safe from any thread, more than once."""
        self._closing.set()
        with self._lock:
            self._release()
            self.state = SourceState.CLOSED

    def _wait(self, delay_s: float) -> bool:
        """Sleep up to ``delay_s`` unless closed meanwhile; False once closed."""
        if delay_s > 0:
            self._closing.wait(delay_s)
        return not self._closing.is_set()

    def _release(self) -> None:
        if self._capture is not None:
            self._capture.release()
            self._capture = None


class CameraSource(_CaptureOwner):
    """A camera (index or /dev/video path) at the configured size and frame rate.

    ``read`` blocks for at most about one frame period, or, while reconnecting, until
    the next reopen attempt; ``close`` from another thread cuts that wait short.
    Frames come at most at ``config.fps``: extra frames a camera delivers are grabbed
    and dropped without being decoded.
    """

    def __init__(
        self,
        config: CameraConfig,
        *,
        clock: Callable[[], float] = time.monotonic,
        first_backoff_s: float = FIRST_BACKOFF_S,
    ) -> None:
        self._config = config
        self._device = parse_device(config.device)
        self._clock = clock
        self._first_backoff_s = min(first_backoff_s, config.reopen_max_backoff_s)
        super().__init__()
        self._started_s = clock()
        self._last_frame_s = -float("inf")
        self._retry_at_s = 0.0
        self._backoff_s = 0.0
        self.attempts = 0
        """Failed opens or reads since the last good frame."""
        self.state = SourceState.OPENING

    @property
    def is_ended(self) -> bool:
        """A camera ends only when closed."""
        return self.state is SourceState.CLOSED

    @property
    def backoff_s(self) -> float:
        """Current wait between reopen attempts; 0 while frames flow."""
        return self._backoff_s

    def open(self) -> None:
        """Open the device now, for a technician who wants a clear failure.

        Raises:
            CaptureError: ``camera-unavailable`` naming the device.
        """
        with self._lock:
            if not self._open():
                self._failed("camera-unavailable", quiet=True)
                raise CaptureError(
                    "camera-unavailable",
                    f"camera {self._config.device}: cannot be opened",
                )

    def read(self) -> VideoFrame | None:
        """The next frame, or None while the camera is away (after waiting a while)."""
        if self._capture is None and not self._wait_for_retry():
            return None
        with self._lock:
            if self._closing.is_set():
                return None
            if self._capture is None and not self._open():
                self._failed("camera-unavailable")
                return None
            image = self._read_due()
            if image is None:
                self._failed("camera-read-failed")
                return None
            self._last_frame_s = self._clock()
            if self.state is not SourceState.OK:
                logger.info(
                    "camera.ok",
                    extra={"fields": {"state": "ok", "attempt": self.attempts}},
                )
            self.state = SourceState.OK
            self.attempts = 0
            self._backoff_s = 0.0
            return VideoFrame(image=image, t_s=self._last_frame_s - self._started_s)

    def _open(self) -> bool:
        import cv2

        # OpenCV prints a multi-line warning to stderr on every failed open; while a
        # camera is unplugged that would flood the journal, and camera.read_failed
        # already reports it.
        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_FATAL)
        capture = cv2.VideoCapture(self._device)
        if not capture.isOpened():
            capture.release()
            return False
        capture.set(cv2.CAP_PROP_FRAME_WIDTH, self._config.width)
        capture.set(cv2.CAP_PROP_FRAME_HEIGHT, self._config.height)
        capture.set(cv2.CAP_PROP_FPS, self._config.fps)
        # One buffered frame: when the reader falls behind it gets the newest frame.
        capture.set(cv2.CAP_PROP_BUFFERSIZE, 1)
        self._capture = capture
        return True

    # TODO(#3): OpenCV's own capture buffers (V4L2 mmap ring, FFmpeg's decoded frame)
    # are reused by the driver and freed on release, never zeroed by us; only the
    # arrays handed out in VideoFrames are wiped (by the presence stage).
    def _read_due(self) -> Any:
        # Frames that come sooner than the configured rate are grabbed (dequeued) but
        # not decoded, which is most of a frame's cost.
        period_s = 1.0 / self._config.fps
        while True:
            if not self._capture.grab():
                return None
            if self._clock() - self._last_frame_s >= 0.9 * period_s:
                break
        ok, image = self._capture.retrieve()
        return image if ok and image is not None else None

    def _failed(self, code: str, *, quiet: bool = False) -> None:
        self._release()
        self.attempts += 1
        self._backoff_s = min(
            self._config.reopen_max_backoff_s,
            self._first_backoff_s * 2 ** min(self.attempts - 1, 30),
        )
        self._retry_at_s = self._clock() + self._backoff_s
        if not quiet:
            self._log_failure(code)
        self.state = SourceState.RECONNECTING

    def _log_failure(self, code: str) -> None:
        # The first failure is a warning; the reopen attempts after it are debug noise.
        if self.state is not SourceState.RECONNECTING:
            logger.warning(
                "camera.read_failed",
                extra={
                    "fields": {
                        "error_code": code,
                        "state": "reconnecting",
                        "backoff_s": round(self._backoff_s, 2),
                    }
                },
            )
        else:
            logger.debug(
                "camera.reopen_failed",
                extra={
                    "fields": {
                        "error_code": code,
                        "attempt": self.attempts,
                        "backoff_s": round(self._backoff_s, 2),
                    }
                },
            )

    def _wait_for_retry(self) -> bool:
        return self._wait(self._retry_at_s - self._clock())


class VideoFileSource(_CaptureOwner):
    """A video file for tests and demos, as fast as possible or paced like a camera.

    Stream time comes from the frame index and the file's frame rate. Paced
    (``realtime=True``) it sleeps until each frame is due and, like a camera, skips
    frames that are already late, counting them in ``dropped_frames``.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        realtime: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Open the file and check that it holds video.

        Raises:
            CaptureError: ``video-missing`` or ``video-unreadable``, naming the file.
        """
        import cv2

        self._path = Path(path)
        if not self._path.is_file():
            raise CaptureError("video-missing", f"{self._path}: no such video file")
        capture = cv2.VideoCapture(str(self._path))
        if not capture.isOpened() or capture.get(cv2.CAP_PROP_FRAME_COUNT) <= 0:
            capture.release()
            raise CaptureError(
                "video-unreadable", f"{self._path}: not a readable video"
            )
        super().__init__()
        self._capture = capture
        fps = float(capture.get(cv2.CAP_PROP_FPS))
        self.fps = fps if fps > 0 else FALLBACK_FPS
        self._realtime = realtime
        self._clock = clock
        self._index = 0
        self._started_s: float | None = None
        self.dropped_frames = 0

    @property
    def is_ended(self) -> bool:
        """True after the last frame or once closed."""
        return self.state in (SourceState.ENDED, SourceState.CLOSED)

    def read(self) -> VideoFrame | None:
        """The next frame (the next due one when paced), or None at the end."""
        if self._realtime and not self._pace():
            return None
        with self._lock:
            if self.is_ended:
                return None
            ok, image = self._capture.read()
            if not ok or image is None:
                self.state = SourceState.ENDED
                self._release()
                return None
            frame = VideoFrame(image=image, t_s=self._index / self.fps)
            self._index += 1
            return frame

    def _pace(self) -> bool:
        now_s = self._clock()
        if self._started_s is None:
            self._started_s = now_s
        due_index = int((now_s - self._started_s) * self.fps)

        # Frames already late are grabbed and dropped, as a camera would.
        with self._lock:
            while self._index < due_index and not self.is_ended:
                if not self._capture.grab():
                    self.state = SourceState.ENDED
                    self._release()
                    return False
                self._index += 1
                self.dropped_frames += 1
        return self._wait(self._started_s + self._index / self.fps - self._clock())
