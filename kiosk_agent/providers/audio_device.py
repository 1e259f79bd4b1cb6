"""Audio sources: the microphone through PyAudio, a WAV file, and in-memory samples.

Each source yields 16 kHz mono int16 ``AudioFrame``s of ``frame_ms`` and holds audio
only in bounded memory buffers, which ``close()`` wipes. Nothing is written anywhere.
PyAudio is imported only inside ``MicrophoneSource``.
"""

from __future__ import annotations

import contextlib
import enum
import logging
import os
import threading
import time
import wave
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from kiosk_agent.config import AudioConfig
from kiosk_agent.errors import CaptureError
from kiosk_agent.messages import AudioFrame, Samples, wipe

logger = logging.getLogger(__name__)

RATE_HZ: Final = 16000
MAX_FILE_S: Final = 1800.0
"""Longest WAV file read into memory (30 min, about 58 MB at 16 kHz)."""
NO_DEVICE_ERRNO: Final = -9996
"""PortAudio's paInvalidDevice: "No Default Input Device Available"."""


def frame_samples(frame_ms: int, rate_hz: int = RATE_HZ) -> int:
    """Samples in one frame of ``frame_ms``."""
    return rate_hz * frame_ms // 1000


class ArraySource:
    """Frames from samples already in memory (synthesized speech, a decoded file).

    The samples are copied, so the caller keeps its own buffer; the copy is wiped on
    ``close()``. The last partial frame is padded with zeros.

    Args:
        samples: 16 kHz mono int16 samples.
        frame_ms: frame length (10, 20 or 30 ms for webrtcvad).
        realtime: pace frames at the speed of speech instead of as fast as possible.
        sleep: injected for tests of pacing.
    """

    def __init__(
        self,
        samples: Samples,
        *,
        frame_ms: int = 30,
        realtime: bool = False,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._samples: Samples = np.array(samples, dtype=np.int16, copy=True)
        self._frame = frame_samples(frame_ms)
        self._pos = 0
        self._realtime = realtime
        self._sleep = sleep
        self._started = time.monotonic()
        self._lock = threading.Lock()

    @property
    def duration_s(self) -> float:
        """Length of the audio in seconds."""
        return len(self._samples) / RATE_HZ

    def read(self) -> AudioFrame | None:
        """The next frame, or None at the end (or after ``close()``)."""
        with self._lock:
            if self._pos >= len(self._samples):
                return None
            start = self._pos
            chunk = self._samples[start : start + self._frame]
            samples = np.zeros(self._frame, dtype=np.int16)
            samples[: len(chunk)] = chunk
            self._pos += self._frame
        start_s = start / RATE_HZ
        if self._realtime:
            # Deliver each frame when it would have finished arriving from a microphone.
            due = self._started + start_s + self._frame / RATE_HZ
            delay = due - time.monotonic()
            if delay > 0:
                self._sleep(delay)
        return AudioFrame(samples=samples, start_s=start_s)

    def close(self) -> None:
        """Wipe the held samples; later reads return None."""
        with self._lock:
            wipe(self._samples)
            self._pos = len(self._samples)


class WavFileSource(ArraySource):
    """Frames from a PCM WAV file, mixed down to mono and resampled to 16 kHz.

    The whole file is decoded into memory (at most ``MAX_FILE_S``).

    Raises:
        CaptureError: the file is missing, unreadable, not a PCM WAV or too long; the
            message is one line naming the file.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        realtime: bool = False,
        frame_ms: int = 30,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        samples = read_wav(Path(path))
        try:
            super().__init__(samples, frame_ms=frame_ms, realtime=realtime, sleep=sleep)
        finally:
            wipe(samples)


def read_wav(path: Path) -> Samples:
    """Decode a PCM WAV file to 16 kHz mono int16 in memory.

    Raises:
        CaptureError: missing, unreadable, not a PCM WAV, empty or too long.
    """
    try:
        with wave.open(str(path), "rb") as wav:
            channels = wav.getnchannels()
            width = wav.getsampwidth()
            rate_hz = wav.getframerate()
            count = wav.getnframes()
            if count > MAX_FILE_S * rate_hz:
                raise CaptureError(
                    "audio-file-too-long",
                    f"{path}: longer than {MAX_FILE_S:.0f} s",
                )
            raw = bytearray(wav.readframes(count))
    except FileNotFoundError:
        raise CaptureError("audio-file-missing", f"{path}: file not found") from None
    except IsADirectoryError:
        raise CaptureError("audio-file-invalid", f"{path}: is a directory") from None
    except PermissionError:
        raise CaptureError(
            "audio-file-unreadable", f"{path}: permission denied"
        ) from None
    except (wave.Error, EOFError) as err:
        raise CaptureError(
            "audio-file-invalid", f"{path}: not a PCM WAV file ({err or 'truncated'})"
        ) from None
    try:
        mono = _to_mono_float(raw, width=width, channels=channels)
    finally:
        wipe(raw)
    if len(mono) == 0:
        raise CaptureError("audio-file-invalid", f"{path}: no audio in the file")
    try:
        resampled = resample(mono, rate_hz, RATE_HZ)
    finally:
        wipe(mono)
    try:
        return to_int16(resampled)
    finally:
        wipe(resampled)


def _to_mono_float(
    raw: bytearray, *, width: int, channels: int
) -> npt.NDArray[np.float64]:
    """Interleaved PCM bytes of 8, 16, 24 or 32 bits to mono floats in [-1, 1)."""
    if width == 1:
        values = (np.frombuffer(raw, dtype=np.uint8).astype(np.float64) - 128) / 128
    elif width == 2:
        values = np.frombuffer(raw, dtype="<i2").astype(np.float64) / 32768
    elif width == 3:
        triples = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3).astype(np.int32)
        ints = triples[:, 0] | (triples[:, 1] << 8) | (triples[:, 2] << 16)
        ints = np.where(ints >= 1 << 23, ints - (1 << 24), ints)
        values = ints.astype(np.float64) / (1 << 23)
        wipe(triples)
    else:
        values = np.frombuffer(raw, dtype="<i4").astype(np.float64) / (1 << 31)
    usable = len(values) - len(values) % channels
    mono: npt.NDArray[np.float64] = values[:usable].reshape(-1, channels).mean(axis=1)
    wipe(values)
    return mono


def resample(
    audio: npt.NDArray[np.float64], from_hz: int, to_hz: int
) -> npt.NDArray[np.float64]:
    """Band-limited resampling by FFT (whole buffer at once); a copy either way."""
    if from_hz == to_hz:
        return audio.copy()
    out_len = max(1, round(len(audio) * to_hz / from_hz))
    spectrum = np.fft.rfft(audio)
    keep = min(len(spectrum), out_len // 2 + 1)
    result: npt.NDArray[np.float64] = np.fft.irfft(spectrum[:keep], out_len)
    result *= out_len / len(audio)
    wipe(spectrum)
    return result


def to_int16(audio: npt.NDArray[np.float64]) -> Samples:
    """Floats in [-1, 1) to int16 with clipping."""
    return np.clip(np.round(audio * 32768), -32768, 32767).astype(np.int16)


class DeviceState(enum.Enum):
    """Where a microphone is in its life."""

    OPEN = "open"
    RECONNECTING = "reconnecting"
    CLOSED = "closed"


class MicrophoneSource:
    """16 kHz mono int16 frames from an input device through PyAudio (PortAudio).

    Reads block (``exception_on_overflow=False``, so an input overflow never raises);
    overflows are inferred from the stream clock falling behind the wall clock and
    counted in ``overflows``. A device that is not clocked is paced to real time. When
    the device disappears, it is reopened with capped exponential backoff; ``state``
    says ``reconnecting`` meanwhile and logs report it.

    Args:
        config: the ``[audio]`` section; ``device`` is an index or part of a name.
        wait: how to wait between reopen attempts; ``close()`` interrupts it.

    Raises:
        CaptureError: no input device at all (``audio-no-input-device``) or none
            matching ``audio.device`` (``audio-device-missing``), on the first open.
    """

    def __init__(
        self,
        config: AudioConfig,
        *,
        wait: Callable[[threading.Event, float], bool] | None = None,
    ) -> None:
        self._config = config
        self._frame = frame_samples(config.frame_ms, config.sample_rate_hz)
        self._closing = threading.Event()
        self._io_lock = threading.Lock()
        """Held around a stream read, so ``close()`` never frees a stream in use."""
        self._wait = wait or (lambda event, timeout: event.wait(timeout))
        self._pa: Any = None
        self._stream: Any = None
        self.state = DeviceState.CLOSED
        self.overflows = 0
        """Times the stream lost audio because nobody read it in time."""
        self.reopens = 0
        """Times the device was reopened after it disappeared."""
        self._read_samples = 0
        self._lost_samples = 0
        self._opened_at = 0.0
        self._slack_s = 0.0
        self._base_samples = 0
        self._open()

    def read(self) -> AudioFrame | None:
        """The next frame; blocks (also while reconnecting); None after ``close()``."""
        while not self._closing.is_set():
            if self._stream is None and not self._reopen():
                break
            with self._io_lock:
                if self._closing.is_set() or self._stream is None:
                    continue
                try:
                    data = self._stream.read(self._frame, exception_on_overflow=False)
                except OSError as err:
                    if not self._closing.is_set():
                        self._lose_device(err)
                    continue
            samples = np.frombuffer(data, dtype="<i2").astype(np.int16)
            self._count_overflow()
            start_s = (self._read_samples + self._lost_samples) / RATE_HZ
            self._read_samples += len(samples)
            self._pace()
            return AudioFrame(samples=samples, start_s=start_s)
        # close() may have left the stream to us, if a read was still blocked then.
        with self._io_lock:
            self._release()
        return None

    def close(self) -> None:
        """Stop reading and release the device; safe from any thread, idempotent.

        A read blocked in another thread returns within a frame; if it has not after
        a second (a hung device), that thread releases the stream when it returns.
        """
        self._closing.set()
        if self._io_lock.acquire(timeout=1.0):
            try:
                self._release()
            finally:
                self._io_lock.release()
        self.state = DeviceState.CLOSED

    def _open(self) -> None:
        pa, stream = self._open_stream()
        self._pa, self._stream = pa, stream
        self._opened_at = time.monotonic()
        self._slack_s = float(stream.get_input_latency()) + 0.25
        self._base_samples = self._read_samples + self._lost_samples
        self.state = DeviceState.OPEN
        logger.info("audio.device_opened", extra={"fields": {"state": "open"}})

    def _open_stream(self) -> tuple[Any, Any]:
        """A PyAudio instance and its opened input stream.

        Raises:
            CaptureError: no device, no matching device, or PortAudio refused to open.
        """
        import pyaudio  # Vendor import: only where the microphone is opened.

        with _quiet_stderr():
            pa = pyaudio.PyAudio()
        try:
            index = _find_device(pa, self._config.device)
            with _quiet_stderr():
                stream = pa.open(
                    format=pyaudio.paInt16,
                    channels=1,
                    rate=self._config.sample_rate_hz,
                    input=True,
                    input_device_index=index,
                    frames_per_buffer=self._frame,
                )
        except OSError as err:
            pa.terminate()
            raise CaptureError(
                "audio-open-failed",
                f"audio.device: cannot open input ({_pa_errno(err)})",
                transient=True,
            ) from None
        except BaseException:
            pa.terminate()
            raise
        return pa, stream

    def _count_overflow(self) -> None:
        """Count an overflow when the wall clock ran ahead of the samples read."""
        # TODO(#2): PyAudio hides paInputOverflowed when exception_on_overflow=False, so
        # overflows are inferred from the clock; callback mode would report them.
        elapsed_s = time.monotonic() - self._opened_at
        stream_s = (self._read_samples + self._lost_samples - self._base_samples) / (
            RATE_HZ
        )
        behind_s = elapsed_s - stream_s - self._slack_s
        if behind_s > self._config.frame_ms / 1000:
            self.overflows += 1
            # Move the stream clock over the gap so frame times stay true.
            self._lost_samples += round(behind_s * RATE_HZ)
            logger.warning(
                "audio.overflow",
                extra={
                    "fields": {
                        "count": self.overflows,
                        "audio_ms": round(behind_s * 1000),
                    }
                },
            )

    def _pace(self) -> None:
        """Hold a frame until its last sample would have been spoken.

        A sound card is clocked, so this never waits; a device that is not (an ALSA
        ``file`` pcm over ``null``, as in tests and demos) would otherwise deliver
        minutes of audio in a second, and the kiosk would hear them all at once.
        """
        stream_s = (self._read_samples + self._lost_samples - self._base_samples) / (
            RATE_HZ
        )
        ahead_s = stream_s - (time.monotonic() - self._opened_at)
        if ahead_s > self._config.frame_ms / 2000:
            self._closing.wait(ahead_s)

    def _lose_device(self, err: OSError) -> None:
        logger.warning(
            "audio.device_lost",
            extra={"fields": {"error_code": _pa_errno(err), "state": "reconnecting"}},
        )
        self._release()
        self.state = DeviceState.RECONNECTING

    def _reopen(self) -> bool:
        """Reopen with capped exponential backoff; False once ``close()`` was called."""
        backoff_s = 0.1
        attempt = 0
        while not self._closing.is_set():
            attempt += 1
            if self._wait(self._closing, backoff_s):
                break
            try:
                self._open()
            except CaptureError as err:
                logger.warning(
                    "audio.reopen_failed",
                    extra={
                        "fields": {
                            "attempt": attempt,
                            "error_code": err.code,
                            "backoff_s": backoff_s,
                        }
                    },
                )
                backoff_s = min(backoff_s * 2, self._config.reopen_max_backoff_s)
                continue
            if self._closing.is_set():
                self._release()
                break
            self.reopens += 1
            logger.warning(
                "audio.device_reopened", extra={"fields": {"attempt": attempt}}
            )
            return True
        return False

    def _release(self) -> None:
        stream, pa = self._stream, self._pa
        self._stream = self._pa = None
        with contextlib.suppress(Exception):
            if stream is not None:
                stream.stop_stream()
                stream.close()
        with contextlib.suppress(Exception):
            if pa is not None:
                pa.terminate()


def _find_device(pa: Any, device: str) -> int:
    """The PortAudio index for ``audio.device``: an index, part of a name, or default.

    Raises:
        CaptureError: no input device at all, or none that matches.
    """
    inputs = [
        (i, str(info.get("name", "")))
        for i in range(pa.get_device_count())
        if int((info := pa.get_device_info_by_index(i)).get("maxInputChannels", 0)) > 0
    ]
    if not inputs:
        raise CaptureError(
            "audio-no-input-device",
            "no audio input device found (PortAudio lists none; "
            f"error {NO_DEVICE_ERRNO}); connect a microphone or set audio.device",
        )
    if not device:
        try:
            return int(pa.get_default_input_device_info()["index"])
        except OSError:
            return inputs[0][0]  # ALSA without a "default" pcm: the first input.
    if device.isdigit():
        if int(device) in {i for i, _ in inputs}:
            return int(device)
    else:
        for index, name in inputs:
            if device.lower() in name.lower():
                return index
    names = ", ".join(f"{i}: {name}" for i, name in inputs)
    raise CaptureError(
        "audio-device-missing",
        f"audio.device: no input device matches {device!r} (inputs: {names})",
        transient=True,
    )


def _pa_errno(err: OSError) -> str:
    """PortAudio's error number as a code, e.g. ``pa-9996``."""
    code = err.errno
    if not isinstance(code, int) and len(err.args) > 1:
        code = err.args[1]
    return f"pa{code}" if isinstance(code, int) else "pa-unknown"


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """Silence ALSA's and JACK's C-level chatter while PortAudio scans devices.

    They print dozens of lines to fd 2 when no sound card or server is present, which
    would bury the one clear line a technician should see. The redirect is brief, but
    it is process-wide, so a log line from another thread could be lost meanwhile.
    """
    # FIXME(#2): use snd_lib_error_set_handler instead; a stderr line written by another
    # thread during the few ms of device scanning is lost.
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, 2)
        finally:
            os.close(devnull)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def count_devices() -> tuple[int, int]:
    """How many input and output devices PortAudio lists (``status``); opens none."""
    import pyaudio  # Vendor import: only where devices are counted.

    with _quiet_stderr():
        pa = pyaudio.PyAudio()
    try:
        infos = [pa.get_device_info_by_index(i) for i in range(pa.get_device_count())]
    finally:
        pa.terminate()
    inputs = sum(1 for info in infos if int(info.get("maxInputChannels", 0)) > 0)
    outputs = sum(1 for info in infos if int(info.get("maxOutputChannels", 0)) > 0)
    return inputs, outputs
