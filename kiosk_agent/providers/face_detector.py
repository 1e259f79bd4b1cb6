"""Face detector for presence: OpenCV's bundled Haar cascade on a small grey copy.

Why this engine: opencv-python 4.x (pinned ``<5`` for this reason) ships the cascade
files in ``cv2.data.haarcascades``, so nothing is downloaded and no new package is
needed. Tuned (scale 1.2, 8 neighbours, smallest face searched ~36 px on a downscaled
copy) it costs a few ms a frame at 640x480, finds a frontal face at kiosk distance
and none in a cat; the default parameters cost about 8 times more and do find faces in
a cat. YuNet is not shipped by any PyPI package, and MTCNN on onnxruntime costs ~20 ms
a frame.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

from kiosk_agent.errors import CaptureError
from kiosk_agent.messages import Image, wipe
from kiosk_agent.stages.presence import Face

CASCADE_FILE: Final = "haarcascade_frontalface_default.xml"
SCALE_FACTOR: Final = 1.2
"""Step between the cascade's search sizes; 1.1 (the default) costs about twice as
much."""
MIN_NEIGHBOURS: Final = 8
"""Overlapping hits a face needs. 3 (the default) finds faces in a cat; on the
downscaled copy a cat still scores 6, a frontal face at kiosk distance 15 to 25."""
SEARCH_PX: Final = 36
"""The smallest face wanted is searched at about this size, on a copy downscaled to fit:
the cascade's own window is 24 px, and cost falls with the square of the scale."""
CONFIDENT_NEIGHBOURS: Final = 24
"""Overlapping hits that count as confidence 1.0."""


class HaarFaceDetector:
    """Frontal faces through ``cv2.CascadeClassifier``; wipes its grey copies."""

    def __init__(self, *, cascade_file: str = CASCADE_FILE) -> None:
        """Load the cascade that opencv-python ships.

        Raises:
            CaptureError: ``face-model-missing`` when the cascade file is absent (for
                example under opencv-python 5.x, which dropped the bundled files).
        """
        import cv2

        folder = getattr(getattr(cv2, "data", None), "haarcascades", "")
        path = Path(folder) / cascade_file
        if not folder or not path.is_file():
            raise CaptureError(
                "face-model-missing",
                f"{path}: Haar cascade not found (opencv-python 4.x ships it)",
            )
        self._cascade: Any = cv2.CascadeClassifier(str(path))
        if self._cascade.empty():
            raise CaptureError("face-model-missing", f"{path}: not a Haar cascade")

        # One OpenCV thread: on two cores a parallel detector would take both from
        # speech recognition; presence needs no more than one.
        cv2.setNumThreads(1)
        self._cv2: Any = cv2

    def detect(self, image: Image, *, min_size_px: int) -> Sequence[Face]:
        """Faces at least ``min_size_px`` high in a BGR or grey image."""
        cv2 = self._cv2
        scale = min(1.0, SEARCH_PX / max(1, min_size_px))
        grey: Image | None = None
        small: Image | None = None
        try:
            grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else None
            source = image if grey is None else grey
            if scale < 1.0:
                small = cv2.resize(
                    source, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA
                )
            searched = source if small is None else small
            side = max(1, int(min_size_px * scale))
            boxes, neighbours = self._cascade.detectMultiScale2(
                searched,
                scaleFactor=SCALE_FACTOR,
                minNeighbors=MIN_NEIGHBOURS,
                minSize=(side, side),
            )
        finally:
            # Only the copies made here are wiped; ``image`` belongs to the caller.
            # TODO(#3): the cascade's internal image pyramid is OpenCV's and is only
            # overwritten by the next detection; freeing it needs a cv2 API we lack.
            wipe(small)
            wipe(grey)
        return [
            Face(
                size_px=round(int(box[3]) / scale),
                confidence=min(1.0, int(count) / CONFIDENT_NEIGHBOURS),
            )
            for box, count in zip(boxes, neighbours, strict=True)
        ]
