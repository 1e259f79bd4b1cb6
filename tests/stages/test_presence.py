"""Presence: the tracker on an injected clock, the motion gate, frame hygiene, and the
whole stage on videos made at test time with the real OpenCV detector."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from kiosk_agent.config import PresenceConfig
from kiosk_agent.messages import Image, PresenceEvent, PresenceKind, VideoFrame
from kiosk_agent.stages.presence import (
    Face,
    MotionGate,
    PresenceStage,
    PresenceState,
    PresenceTracker,
    run_presence,
)
from tests import video

ARRIVED, LEFT = PresenceKind.ARRIVED, PresenceKind.LEFT


def tracker(**overrides: float) -> PresenceTracker:
    settings = {"arrive_checks": 2, "leave_after_s": 5.0, "recheck_s": 0.5}
    settings.update(overrides)
    return PresenceTracker(
        arrive_checks=int(settings["arrive_checks"]),
        leave_after_s=settings["leave_after_s"],
        recheck_s=settings["recheck_s"],
    )


# --- The tracker: durations and booleans, no frames ---------------------------------


def test_face_in_consecutive_checks_announces_arrival_with_mean_confidence() -> None:
    t = tracker()
    assert t.observe(0.0, 0.8) is None
    assert t.state is PresenceState.CONFIRMING
    event = t.observe(0.1, 0.6)
    assert event == PresenceEvent(kind=ARRIVED, t_s=0.1, confidence=pytest.approx(0.7))
    assert t.state is PresenceState.PRESENT


def test_check_without_face_breaks_the_streak() -> None:
    t = tracker(arrive_checks=3)
    assert t.observe(0.0, 0.9) is None
    assert t.observe(0.1, 0.9) is None
    assert t.observe(0.2, None) is None
    assert t.observe(0.3, 0.9) is None
    assert t.observe(0.4, 0.9) is None
    assert t.state is PresenceState.CONFIRMING
    assert t.observe(0.5, 0.9) is not None


def test_visitor_leaves_after_leave_after_s_without_face() -> None:
    t = tracker()
    t.observe(0.0, 0.9)
    t.observe(0.1, 0.9)
    for i in range(1, 10):
        assert t.observe(0.1 + i * 0.5, None) is None
    assert t.tick(5.09) is None
    event = t.tick(5.1)
    assert event is not None and event.kind is LEFT and event.t_s == 5.1
    assert event.confidence == pytest.approx(0.9)
    assert t.state is PresenceState.ABSENT
    assert t.tick(20.0) is None


def test_face_seen_again_keeps_the_visitor() -> None:
    t = tracker()
    t.observe(0.0, 0.9)
    t.observe(0.1, 0.9)
    t.observe(4.0, None)
    t.observe(4.5, 0.8)
    assert t.tick(9.0) is None
    assert t.tick(9.5) is not None


def test_leave_decided_on_few_checks_has_lower_confidence() -> None:
    t = tracker()
    t.observe(0.0, 0.9)
    t.observe(0.1, 0.9)
    t.observe(2.0, None)
    event = t.tick(6.0)
    assert event is not None and event.confidence == pytest.approx(0.1)


def test_detector_wanted_on_motion_when_absent_every_frame_when_confirming() -> None:
    t = tracker()
    assert not t.wants_check(0.0, moved=False)
    assert t.wants_check(0.0, moved=True)
    t.observe(0.0, 0.9)
    assert t.wants_check(0.1, moved=False)


def test_detector_wanted_every_recheck_s_while_present() -> None:
    t = tracker()
    t.observe(0.0, 0.9)
    t.observe(0.1, 0.9)
    assert not t.wants_check(0.3, moved=True)
    assert t.wants_check(0.6, moved=False)


# --- The motion gate ------------------------------------------------------------------


def test_motion_gate_ignores_sensor_noise_and_sees_a_visitor() -> None:
    rng = np.random.default_rng(0)
    room = video.background()
    gate = MotionGate(0.01)
    assert gate.moved(video.noisy(room, rng))
    assert not any(gate.moved(video.noisy(room, rng, sigma=4.0)) for _ in range(10))
    with_visitor = room.copy()
    video.paste(with_visitor, video.head(140), 250, 100)
    assert gate.moved(video.noisy(with_visitor, rng))


def test_motion_gate_wipes_the_copy_it_replaces() -> None:
    gate = MotionGate(0.01)
    gate.moved(video.background())
    previous = gate._previous
    assert previous is not None and previous.any()
    gate.moved(video.background())
    assert not previous.any()
    current = gate._previous
    assert current is not None and current.any()
    gate.close()
    assert not current.any()


def test_motion_gate_keeps_its_own_copy_never_the_frame() -> None:
    grey = np.full((6, 8), 120, np.uint8)
    gate = MotionGate(0.01, step=1)
    gate.moved(grey)
    grey.fill(0)
    assert gate._previous is not None and gate._previous.all()


# --- The stage with a scripted detector -----------------------------------------------


class ScriptedDetector:
    """Returns the scripted faces in order (then none); checks it sees real pixels."""

    def __init__(self, script: Sequence[Sequence[Face]] = ()) -> None:
        self.script = list(script)
        self.calls: list[int] = []

    def detect(self, image: Image, *, min_size_px: int) -> Sequence[Face]:
        assert image.any(), "the detector got a wiped frame"
        self.calls.append(min_size_px)
        return self.script.pop(0) if self.script else []


def frames_with_motion(count: int, *, size: tuple[int, int] = (48, 64)) -> list[Image]:
    """Frames that alternate between two patterns, so every frame moves."""
    a = np.full((*size, 3), 40, np.uint8)
    b = np.full((*size, 3), 200, np.uint8)
    return [(a if i % 2 else b).copy() for i in range(count)]


def test_detector_does_not_run_on_a_still_scene() -> None:
    detector = ScriptedDetector()
    stage = PresenceStage(PresenceConfig(), detector)
    for i in range(50):
        stage.check(VideoFrame(image=np.full((48, 64, 3), 90, np.uint8), t_s=i / 10))
    assert len(detector.calls) == 1  # The first frame has nothing to compare with.


def test_small_face_does_not_count_and_min_size_scales_with_frame_height() -> None:
    detector = ScriptedDetector([[Face(size_px=10, confidence=1.0)]] * 10)
    stage = PresenceStage(PresenceConfig(min_face_px=80), detector)
    events = [
        stage.check(VideoFrame(image=image, t_s=i / 10))
        for i, image in enumerate(frames_with_motion(10, size=(240, 320)))
    ]
    assert events == [None] * 10
    assert detector.calls == [40] * 10


def test_stage_announces_arrival_then_departure() -> None:
    big = [Face(size_px=150, confidence=0.9)]
    detector = ScriptedDetector([big, big, big])
    stage = PresenceStage(PresenceConfig(), detector)
    events = []
    for i, image in enumerate(frames_with_motion(100)):
        event = stage.check(VideoFrame(image=image, t_s=i / 10))
        if event is not None:
            events.append((event.kind, event.t_s))
    # Checks at 0.0 and 0.1 confirm; the recheck at 0.6 sees the last face.
    assert events == [(ARRIVED, 0.1), (LEFT, pytest.approx(5.6))]


def test_frames_are_zeroed_after_check_and_live_buffers_stay_bounded() -> None:
    face = [Face(size_px=150, confidence=0.9)]
    script = ([face] * 3 + [[]] * 30) * 100
    stage = PresenceStage(PresenceConfig(leave_after_s=1.0), ScriptedDetector(script))
    handed_out: list[weakref.ref[Image]] = []
    rng = np.random.default_rng(0)
    for i in range(2000):
        image = rng.integers(1, 255, (48, 64, 3), dtype=np.uint8)
        handed_out.append(weakref.ref(image))
        frame = VideoFrame(image=image, t_s=i / 10)
        stage.check(frame)
        assert not frame.image.any(), f"frame {i} not wiped"
        del frame, image
        assert sum(ref() is not None for ref in handed_out) == 0
    assert stage.tracker.state is not None
    # Derived buffers: one small previous copy plus two scratch buffers, all wiped
    # except the copy kept for the next difference.
    gate = stage._gate
    assert gate._diff is not None and not gate._diff.any()
    assert gate._mask is not None and not gate._mask.any()
    assert stage.stats.checks > 100


def test_frame_is_wiped_even_when_the_detector_fails() -> None:
    class Broken:
        def detect(self, image: Image, *, min_size_px: int) -> Sequence[Face]:
            raise RuntimeError("boom")

    stage = PresenceStage(PresenceConfig(), Broken())
    frame = VideoFrame(image=np.full((48, 64, 3), 9, np.uint8), t_s=0.0)
    with pytest.raises(RuntimeError):
        stage.check(frame)
    assert not frame.image.any()


# --- The real detector on generated videos --------------------------------------------

VISIT = video.Visit(enter_s=2.0, stand_s=2.5, leave_s=6.0, gone_s=6.5)
SCENES = {
    "visit": lambda: video.visit_scene(VISIT, 13.0),
    "background": lambda: video.background_scene(6.0),
    "passer_by": lambda: video.passer_by_scene(6.0),
    "darkness": lambda: video.dark_scene(5.0),
}


@pytest.fixture(scope="module")
def videos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("presence")
    return {
        name: video.write_video(folder / f"{name}.avi", make())
        for name, make in SCENES.items()
    }


@pytest.fixture(scope="module")
def detector() -> object:
    from kiosk_agent.providers.face_detector import HaarFaceDetector

    return HaarFaceDetector()


def events_of(
    path: Path, detector: object
) -> tuple[list[PresenceEvent], PresenceStage]:
    from kiosk_agent.providers.camera import VideoFileSource

    source = VideoFileSource(path)
    stage = PresenceStage(PresenceConfig(), detector)  # type: ignore[arg-type]
    events = []
    while (frame := source.read()) is not None:
        event = stage.check(frame)
        if event is not None:
            events.append(event)
    return events, stage


def test_visitor_who_enters_stays_and_leaves(
    videos: dict[str, Path], detector: object
) -> None:
    events, _ = events_of(videos["visit"], detector)
    assert [e.kind for e in events] == [ARRIVED, LEFT]
    arrived, left = events
    assert VISIT.enter_s <= arrived.t_s <= VISIT.stand_s + 0.5
    assert arrived.confidence >= 0.5
    leave_after_s = PresenceConfig().leave_after_s
    assert (
        VISIT.leave_s + leave_after_s - 0.6
        <= left.t_s
        <= VISIT.gone_s + leave_after_s + 0.6
    )


@pytest.mark.parametrize("scene", ["background", "passer_by", "darkness"])
def test_no_visitor_is_announced(
    scene: str, videos: dict[str, Path], detector: object
) -> None:
    events, stage = events_of(videos[scene], detector)
    assert events == []
    if scene == "darkness":
        assert stage.stats.checks <= 2  # Too dark for the gate to open.
    else:
        assert stage.stats.checks >= 20  # The detector did look, and said no.


# --- The daemon's runner -----------------------------------------------------------


class FlakySource:
    """A real video file whose reads fail for a while, like an unplugged camera."""

    def __init__(self, path: Path, fail_reads: range) -> None:
        from kiosk_agent.providers.camera import VideoFileSource

        self.inner = VideoFileSource(path)
        self.fail_reads = fail_reads
        self.reads = 0
        self.idle = 0
        self.handed_out: list[weakref.ref[Image]] = []

    @property
    def is_ended(self) -> bool:
        return self.inner.is_ended

    def read(self) -> VideoFrame | None:
        self.reads += 1
        if self.reads == 5:
            raise OSError("a device hiccup the runner must survive")
        if self.reads in self.fail_reads:
            return None
        frame = self.inner.read()
        if frame is not None:
            self.handed_out.append(weakref.ref(frame.image))
        return frame

    def close(self) -> None:
        self.inner.close()


async def collect(
    source: FlakySource, detector: object
) -> tuple[list[PresenceEvent], PresenceStage]:
    stage = PresenceStage(PresenceConfig(), detector)  # type: ignore[arg-type]
    queue: asyncio.Queue[PresenceEvent] = asyncio.Queue()

    def idle() -> None:
        source.idle += 1

    async with asyncio.timeout(20):
        await run_presence(source, stage, queue, on_idle=idle)
    events = []
    while not queue.empty():
        events.append(queue.get_nowait())
    return events, stage


async def test_runner_survives_a_failing_source_and_keeps_announcing(
    videos: dict[str, Path], detector: object, caplog: pytest.LogCaptureFixture
) -> None:
    # Reads 40..59 fail: two seconds without frames while the visitor is present.
    source = FlakySource(videos["visit"], range(40, 60))
    events, stage = await collect(source, detector)
    assert [e.kind for e in events] == [ARRIVED, LEFT]
    assert source.idle == 20 + 1  # The failing reads, then the end of the file.
    assert "presence.step_failed" in caplog.messages
    assert stage.stats.frames == len(source.handed_out)


async def test_runner_wipes_every_frame_and_closes_the_source(
    videos: dict[str, Path], detector: object
) -> None:
    source = FlakySource(videos["passer_by"], range(0))
    _, stage = await collect(source, detector)
    for _ in range(100):
        if source.inner.is_ended and stage._gate._previous is None:
            break
        await asyncio.sleep(0.01)
    assert source.inner.state.value == "closed"
    assert stage._gate._previous is None
    assert source.handed_out, "no frame was read: the wipe check would be empty"
    assert all(ref() is None for ref in source.handed_out)
