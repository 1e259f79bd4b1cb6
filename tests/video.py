"""Test video made at test time: a face from scikit-image on a synthetic room.

Scenes are lists of frames built in memory; ``write_video`` stores them as MJPG in an
AVI (OpenCV writes that without extra codecs) under a test's tmp_path.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
from skimage import data

Image = npt.NDArray[np.uint8]

WIDTH, HEIGHT, FPS = 640, 480, 10.0
HEAD_CROP = (slice(20, 260), slice(130, 370))
"""Head and shoulders of ``skimage.data.astronaut()``; the face box is ~95 px of 240."""
FACE_SHARE = 95 / 240


def background() -> Image:
    """A lit, still room: gradients, a cupboard and a picture on the wall (BGR)."""
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH]
    room = np.stack([x * 0.2 + 60, y * 0.25 + 70, x * 0.1 + y * 0.1 + 80], axis=-1)
    image = room.astype(np.uint8)
    cv2.rectangle(image, (40, 300), (200, 470), (40, 60, 90), -1)
    cv2.rectangle(image, (480, 100), (600, 260), (150, 140, 120), -1)
    return image


def head(face_px: int) -> Image:
    """The astronaut's head and shoulders, scaled so the face is ``face_px`` high."""
    crop = np.ascontiguousarray(data.astronaut()[HEAD_CROP][:, :, ::-1])
    side = max(4, round(face_px / FACE_SHARE))
    return cv2.resize(crop, (side, side), interpolation=cv2.INTER_AREA)


def cat(height_px: int) -> Image:
    """Chelsea the cat, a classic source of false faces."""
    image = np.ascontiguousarray(data.chelsea()[:, :, ::-1])
    scale = height_px / image.shape[0]
    return cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)


def paste(image: Image, patch: Image, x: int, y: int) -> None:
    """Put ``patch`` on ``image`` with its top-left at (x, y), clipped to the frame."""
    h, w = patch.shape[:2]
    x0, y0 = max(0, x), max(0, y)
    x1, y1 = min(image.shape[1], x + w), min(image.shape[0], y + h)
    if x1 > x0 and y1 > y0:
        image[y0:y1, x0:x1] = patch[y0 - y : y1 - y, x0 - x : x1 - x]


def noisy(image: Image, rng: np.random.Generator, sigma: float = 2.0) -> Image:
    """Sensor noise on a copy (a cheap integer approximation of Gaussian noise)."""
    spread = max(1, round(sigma * 1.7))
    noise = rng.integers(-spread, spread + 1, image.shape, dtype=np.int16)
    noise += rng.integers(-spread, spread + 1, image.shape, dtype=np.int16)
    noise //= 2
    noise += image
    return np.clip(noise, 0, 255).astype(np.uint8)


@dataclass(frozen=True)
class Visit:
    """A visitor who walks in from the right, stands, and walks out again."""

    enter_s: float
    """First frame with any of the visitor in view."""
    stand_s: float
    """First frame with the visitor standing in place, face fully in view."""
    leave_s: float
    """Last frame standing; the visitor walks out after it."""
    gone_s: float
    """First frame with none of the visitor in view."""
    face_px: int = 140


def visit_scene(visit: Visit, total_s: float, *, seed: int = 0) -> Iterator[Image]:
    """Frames of a room with one visit; the visitor sways a little while standing."""
    rng = np.random.default_rng(seed)
    room = background()
    patch = head(visit.face_px)
    stand_x = (WIDTH - patch.shape[1]) // 2
    y = HEIGHT - patch.shape[0]
    for i in range(round(total_s * FPS)):
        t = i / FPS
        if t < visit.enter_s or t >= visit.gone_s:
            x = None
        elif t < visit.stand_s:
            share = (t - visit.enter_s) / (visit.stand_s - visit.enter_s)
            x = round(WIDTH - share * (WIDTH - stand_x))
        elif t <= visit.leave_s:
            x = stand_x + round(3 * np.sin(t * 2.0))
        else:
            share = (t - visit.leave_s) / (visit.gone_s - visit.leave_s)
            x = round(stand_x - share * (stand_x + patch.shape[1]))
        image = room.copy()
        if x is not None:
            paste(image, patch, x, y)
        yield noisy(image, rng)


def passer_by_scene(
    total_s: float, *, face_px: int = 55, seed: int = 1
) -> Iterator[Image]:
    """A person further away (face ``face_px`` high) walking across the room; 55 px is
    about 2 m from a 640x480 kiosk camera, 25 px about 4 m."""
    rng = np.random.default_rng(seed)
    room = background()
    patch = head(face_px)
    for i in range(round(total_s * FPS)):
        image = room.copy()
        x = round(-patch.shape[1] + (i / (total_s * FPS)) * (WIDTH + patch.shape[1]))
        paste(image, patch, x, 150)
        yield noisy(image, rng)


def background_scene(total_s: float, *, seed: int = 2) -> Iterator[Image]:
    """No person: noise, a light that flickers, and a cat that wanders through."""
    rng = np.random.default_rng(seed)
    room = background()
    animal = cat(200)
    for i in range(round(total_s * FPS)):
        image = room.copy()
        if i % 20 < 3:
            image[:, : WIDTH // 2] = np.clip(image[:, : WIDTH // 2] * 0.7, 0, 255)
        x = round(-animal.shape[1] + (i / (total_s * FPS)) * (WIDTH + animal.shape[1]))
        paste(image, animal, x, HEIGHT - animal.shape[0])
        yield noisy(image, rng)


def still_scene(total_s: float, *, seed: int = 3) -> Iterator[Image]:
    """The empty room with sensor noise only (the benchmark's idle case)."""
    rng = np.random.default_rng(seed)
    room = background()
    for _ in range(round(total_s * FPS)):
        yield noisy(room, rng)


def dark_scene(total_s: float, *, seed: int = 4) -> Iterator[Image]:
    """Lights off: a near-black room with a visitor's dim outline walking in."""
    rng = np.random.default_rng(seed)
    visit = Visit(enter_s=1.0, stand_s=1.5, leave_s=total_s, gone_s=total_s + 1)
    for image in visit_scene(visit, total_s, seed=seed):
        yield noisy((image * 0.04).astype(np.uint8), rng, sigma=1.5)


def write_video(path: Path, frames: Iterable[Image], fps: float = FPS) -> Path:
    """Write BGR frames as MJPG in an AVI; returns ``path``."""
    writer = cv2.VideoWriter(
        str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (WIDTH, HEIGHT)
    )
    assert writer.isOpened(), "OpenCV cannot write MJPG/AVI here"
    try:
        for image in frames:
            writer.write(image)
    finally:
        writer.release()
    return path
