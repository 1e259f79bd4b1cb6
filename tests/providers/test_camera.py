"""Camera and video-file sources through real OpenCV on videos made at test time."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from kiosk_agent.config import CameraConfig
from kiosk_agent.errors import CaptureError
from kiosk_agent.providers.camera import (
    CameraSource,
    SourceState,
    VideoFileSource,
    open_camera,
    parse_device,
)
from tests import video


@pytest.fixture
def clip(tmp_path: Path) -> Path:
    return video.write_video(tmp_path / "clip.avi", video.still_scene(2.0))


def test_file_source_gives_every_frame_with_stream_time_then_ends(clip: Path) -> None:
    source = VideoFileSource(clip)
    frames = []
    while (frame := source.read()) is not None:
        frames.append(frame)
    assert len(frames) == 20
    assert [f.t_s for f in frames] == pytest.approx([i / 10 for i in range(20)])
    assert frames[0].image.shape == (video.HEIGHT, video.WIDTH, 3)
    assert source.is_ended and source.state is SourceState.ENDED
    assert source.read() is None


def test_missing_video_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(CaptureError, match="nope.avi: no such video file") as err:
        VideoFileSource(tmp_path / "nope.avi")
    assert err.value.code == "video-missing"


def test_unreadable_video_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "notes.avi"
    path.write_text("not a video\n" * 100)
    with pytest.raises(CaptureError, match="notes.avi: not a readable video") as err:
        VideoFileSource(path)
    assert err.value.code == "video-unreadable"


def test_paced_file_skips_frames_that_are_already_late(clip: Path) -> None:
    now = [100.0]
    source = VideoFileSource(clip, realtime=True, clock=lambda: now[0])
    first = source.read()
    assert first is not None and first.t_s == 0.0
    now[0] += 0.55  # The reader was busy for 5.5 frame periods.
    late = source.read()
    assert late is not None and late.t_s == pytest.approx(0.5)
    assert source.dropped_frames == 4


def test_paced_file_takes_as_long_as_the_video(tmp_path: Path) -> None:
    clip = video.write_video(tmp_path / "short.avi", video.still_scene(0.8))
    source = VideoFileSource(clip, realtime=True)
    started = time.monotonic()
    count = 0
    while source.read() is not None:
        count += 1
    elapsed_s = time.monotonic() - started
    assert count >= 6
    assert 0.7 <= elapsed_s <= 1.6


def test_parse_device_takes_an_index_or_a_path() -> None:
    assert parse_device("0") == 0
    assert parse_device(" 2 ") == 2
    assert parse_device("/dev/video1") == "/dev/video1"


def test_video_file_as_camera_device_plays_paced_and_a_device_stays_a_camera(
    clip: Path,
) -> None:
    source = open_camera(CameraConfig(device=str(clip)))
    started = time.monotonic()
    frames = [source.read() for _ in range(4)]
    elapsed_s = time.monotonic() - started
    source.close()
    assert isinstance(source, VideoFileSource)
    assert all(f is not None for f in frames)
    assert elapsed_s >= 0.25  # 4 frames at 10 fps, paced like a camera
    for device in ("0", "/dev/video7"):
        camera = open_camera(CameraConfig(device=device))
        assert isinstance(camera, CameraSource)
        camera.close()


def test_unavailable_camera_fails_clearly_on_open() -> None:
    source = CameraSource(CameraConfig(device="/nonexistent/video7"))
    with pytest.raises(
        CaptureError, match="camera /nonexistent/video7: cannot be opened"
    ):
        source.open()


def test_missing_camera_retries_with_capped_backoff_and_warns_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    config = CameraConfig(device="/nonexistent/video7", reopen_max_backoff_s=0.1)
    source = CameraSource(config, first_backoff_s=0.02)
    backoffs = []
    for _ in range(5):
        assert source.read() is None
        backoffs.append(source.backoff_s)
    assert source.state is SourceState.RECONNECTING
    assert backoffs == pytest.approx([0.02, 0.04, 0.08, 0.1, 0.1])
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert [r.getMessage() for r in warnings] == ["camera.read_failed"]
    assert warnings[0].fields["error_code"] == "camera-unavailable"  # type: ignore[attr-defined]


def test_camera_that_disappears_mid_stream_comes_back(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # A video file stands in for the device: OpenCV opens both the same way. The file
    # is removed while open (the stream runs dry, as when a camera is unplugged) and
    # comes back later.
    caplog.set_level(logging.INFO, logger="kiosk_agent.providers.camera")
    device = tmp_path / "video0.avi"
    video.write_video(device, video.still_scene(1.0))
    config = CameraConfig(device=str(device), fps=60.0, reopen_max_backoff_s=0.1)
    source = CameraSource(config, first_backoff_s=0.02)
    first = source.read()
    assert first is not None and source.state is SourceState.OK
    device.unlink()

    deadline = time.monotonic() + 10
    while source.read() is not None:
        assert time.monotonic() < deadline
    assert source.state is SourceState.RECONNECTING
    assert source.read() is None  # Reopening fails while the device is gone.
    assert source.attempts >= 2

    video.write_video(device, video.still_scene(1.0))
    while (frame := source.read()) is None:
        assert time.monotonic() < deadline
    assert source.state is SourceState.OK and source.attempts == 0
    assert frame.t_s > first.t_s and frame.image.any()
    assert "camera.read_failed" in caplog.messages
    assert "camera.ok" in caplog.messages
    source.close()
    assert source.is_ended and source.read() is None


def test_close_cuts_a_reconnect_wait_short() -> None:
    config = CameraConfig(device="/nonexistent/video7", reopen_max_backoff_s=60.0)
    source = CameraSource(config, first_backoff_s=30.0)
    assert source.read() is None
    done = threading.Event()

    def reader() -> None:
        source.read()
        done.set()

    thread = threading.Thread(target=reader)
    thread.start()
    time.sleep(0.05)
    source.close()
    assert done.wait(2.0)
    thread.join(2.0)
    assert source.state is SourceState.CLOSED


@pytest.mark.hardware
def test_real_camera_delivers_frames_at_the_configured_size() -> None:
    source = CameraSource(CameraConfig(device="0"))
    source.open()
    try:
        frame = source.read()
        assert frame is not None and frame.image.shape[:2] == (480, 640)
        assert np.asarray(frame.image).dtype == np.uint8
    finally:
        source.close()
