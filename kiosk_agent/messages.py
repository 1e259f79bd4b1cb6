"""Typed messages passed between stages; content types hide their content in repr."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

Samples = npt.NDArray[np.int16]
"""Mono 16-bit PCM samples."""

Image = npt.NDArray[np.uint8]
"""One BGR or grey image as OpenCV returns it."""


def wipe(buffer: npt.NDArray[np.generic] | bytearray | None) -> None:
    """Overwrite a media buffer with zeros in place, so no copy of it lingers."""
    if buffer is None:
        return
    if isinstance(buffer, bytearray):
        buffer[:] = bytes(len(buffer))
        return
    if buffer.flags.writeable:
        buffer.fill(0)


@dataclass(frozen=True, slots=True, kw_only=True)
class AudioFrame:
    """A fixed-length block of microphone samples (e.g. 30 ms at 16 kHz mono)."""

    samples: Samples = field(repr=False)
    """The samples; owned by the frame and wiped after use."""
    start_s: float
    """Stream time of the first sample, seconds since the source opened."""
    sample_rate_hz: int = 16000

    @property
    def duration_s(self) -> float:
        """Length of the frame in seconds."""
        return len(self.samples) / self.sample_rate_hz


@dataclass(frozen=True, slots=True, kw_only=True)
class VideoFrame:
    """One camera image; wiped right after presence detection has used it."""

    image: Image = field(repr=False)
    """The pixels; owned by the frame and wiped after use."""
    t_s: float
    """Stream time of the image, seconds since the source opened."""


class PresenceKind(enum.Enum):
    """What presence detection noticed."""

    ARRIVED = "visitor_arrived"
    LEFT = "visitor_left"


@dataclass(frozen=True, slots=True, kw_only=True)
class PresenceEvent:
    """A visitor arrived or left; carries no image data."""

    kind: PresenceKind
    t_s: float
    """Stream time of the decision, seconds."""
    confidence: float
    """0..1, how sure the detector was."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Utterance:
    """Speech from VAD start (with pre-roll) to the trailing silence; what ASR receives.

    VAD emits a tentative utterance (``is_final=False``) as soon as trailing silence
    begins, so ASR can decode speculatively, then the final one with the same
    ``utterance_id``. ``revision`` grows whenever speech resumed after a tentative one,
    so a speculative result is reused only when ids and revisions match.
    """

    samples: Samples = field(repr=False)
    start_s: float
    end_s: float
    utterance_id: int
    revision: int = 0
    is_final: bool = True
    sample_rate_hz: int = 16000

    def __repr__(self) -> str:
        return (
            f"Utterance(id={self.utterance_id}, rev={self.revision}, "
            f"final={self.is_final}, "
            f"audio_ms={round((self.end_s - self.start_s) * 1000)})"
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Segment:
    """A timed piece of ASR output inside an utterance."""

    start_s: float
    end_s: float
    text: str = field(repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class Transcript:
    """ASR text of one utterance; raw, may contain personal data."""

    text: str
    language: str
    start_s: float
    end_s: float
    segments: tuple[Segment, ...] = ()
    utterance_id: int = 0

    def __repr__(self) -> str:
        return f"Transcript(chars={len(self.text)}, lang={self.language!r})"


@dataclass(frozen=True, slots=True, kw_only=True)
class Employee:
    """One directory entry; the data controller is the customer."""

    id: str
    first_name: str
    last_name: str
    full_name: str = ""
    gender: str = ""
    department: str = ""
    role: str = ""
    phone: str = ""
    """E.164 where known, e.g. ``+420601112233``."""
    email: str = ""
    aliases: tuple[str, ...] = ()
    """Nicknames or other spellings the customer adds."""

    def __repr__(self) -> str:
        return f"Employee(id={self.id!r})"


@dataclass(frozen=True, slots=True, kw_only=True)
class Span:
    """One piece of personal data found in a transcript and the pseudonym it became."""

    start: int
    """Offset into the transcript text (code points, inclusive)."""
    end: int
    """Offset into the transcript text (code points, exclusive)."""
    label: str
    """One of PERSON_EMPLOYEE, PERSON_OTHER, PHONE, EMAIL, ADDRESS, DATE_OF_BIRTH,
    ID_NUMBER, LICENCE_PLATE."""
    pseudonym: str
    employee_id: str | None = None

    def __repr__(self) -> str:
        return f"Span(label={self.label!r}, pseudonym={self.pseudonym!r})"


@dataclass(frozen=True, slots=True, kw_only=True)
class RedactedText:
    """Transcript with personal data replaced by pseudonyms; all that leaves."""

    text: str
    language: str = "en"
    spans: tuple[Span, ...] = ()

    @property
    def pseudonym_count(self) -> int:
        """How many spans were replaced."""
        return len(self.spans)

    def __repr__(self) -> str:
        return f"RedactedText(chars={len(self.text)}, pseudonyms={len(self.spans)})"


@dataclass(frozen=True, slots=True, kw_only=True)
class ToolCall:
    """A function call the model asked for, e.g. ``call_employee``."""

    name: str
    arguments: dict[str, str]
    call_id: str = ""

    def __repr__(self) -> str:
        return f"ToolCall(name={self.name!r})"


@dataclass(frozen=True, slots=True, kw_only=True)
class Reply:
    """LLM output for one turn, still pseudonymized."""

    text: str
    provider: str
    tool_calls: tuple[ToolCall, ...] = ()

    def __repr__(self) -> str:
        return f"Reply(chars={len(self.text)}, provider={self.provider!r})"


@dataclass(frozen=True, slots=True, kw_only=True)
class SpokenReply:
    """A reply after re-identification, ready for TTS; never leaves the device."""

    text: str
    language: str = "en"

    def __repr__(self) -> str:
        return f"SpokenReply(chars={len(self.text)}, lang={self.language!r})"
