"""The Haar face detector on a face from scikit-image composited into a room."""

from __future__ import annotations

import numpy as np
import pytest

from kiosk_agent.messages import Image
from kiosk_agent.providers import face_detector
from kiosk_agent.providers.face_detector import HaarFaceDetector
from tests import video


@pytest.fixture(scope="module")
def detector() -> HaarFaceDetector:
    return HaarFaceDetector()


def room_with_face(face_px: int, x: int = 250, y: int = 120) -> Image:
    image = video.background()
    video.paste(image, video.head(face_px), x, y)
    return image


def test_finds_a_face_at_kiosk_distance(detector: HaarFaceDetector) -> None:
    faces = detector.detect(room_with_face(140), min_size_px=80)
    assert len(faces) == 1
    assert 110 <= faces[0].size_px <= 175
    assert 0.5 <= faces[0].confidence <= 1.0


@pytest.mark.parametrize("face_px", [25, 55], ids=["4m", "2m"])
def test_passer_by_in_the_background_is_below_the_searched_size(
    detector: HaarFaceDetector, face_px: int
) -> None:
    image = room_with_face(face_px, x=300, y=150)
    assert detector.detect(image, min_size_px=80) == []


def test_face_smaller_than_asked_for_is_there_when_asked_for_small_faces(
    detector: HaarFaceDetector,
) -> None:
    # What keeps a passer-by out is the size asked for, not a blind detector.
    small = detector.detect(room_with_face(55, x=300, y=150), min_size_px=40)
    assert len(small) == 1 and 40 <= small[0].size_px < 80


@pytest.mark.parametrize(
    "image",
    [video.background(), np.zeros((480, 640, 3), np.uint8)],
    ids=["empty-room", "darkness"],
)
def test_finds_no_face_where_there_is_none(
    detector: HaarFaceDetector, image: Image
) -> None:
    assert detector.detect(image, min_size_px=80) == []


def test_finds_no_face_in_a_cat(detector: HaarFaceDetector) -> None:
    for x in range(-150, 640, 40):
        image = video.background()
        animal = video.cat(200)
        video.paste(image, animal, x, 480 - animal.shape[0])
        assert detector.detect(image, min_size_px=80) == [], f"cat at x={x}"


def test_wipes_its_grey_copies_and_leaves_the_input_alone(
    detector: HaarFaceDetector, monkeypatch: pytest.MonkeyPatch
) -> None:
    wiped: list[Image] = []
    real_wipe = face_detector.wipe

    def spy(buffer: Image | None) -> None:
        real_wipe(buffer)
        if buffer is not None:
            wiped.append(buffer)

    monkeypatch.setattr(face_detector, "wipe", spy)
    image = room_with_face(140)
    before = image.copy()
    assert len(detector.detect(image, min_size_px=80)) == 1
    assert sorted(b.shape for b in wiped) == [(216, 288), (480, 640)]
    assert all(not b.any() for b in wiped)
    assert np.array_equal(image, before)


def test_accepts_a_grey_image(detector: HaarFaceDetector) -> None:
    import cv2

    grey = cv2.cvtColor(room_with_face(140), cv2.COLOR_BGR2GRAY)
    assert len(detector.detect(grey, min_size_px=80)) == 1
    assert grey.any()
