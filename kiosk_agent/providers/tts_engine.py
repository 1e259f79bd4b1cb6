"""Voice output: espeak-ng synthesis in memory, PyAudio playback, an in-memory sink.

The engine drives libespeak-ng through pyttsx3's bundled ctypes wrapper (``_espeak``) in
synchronous mode with our own synthesis callback, so samples arrive block by block
(first block in well under a millisecond) and never touch the disk. pyttsx3's own
``say()`` is not used: its espeak driver writes a temporary WAV file and runs ``aplay``
on it, which would put the avatar's words, names included, on disk. Its
``save_to_file`` would accept an ``io.BytesIO``, but it waits for the whole utterance,
prints to stdout and keeps the audio in an immutable ``bytes`` that cannot be wiped.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, Final

import numpy as np

from kiosk_agent.config import TtsConfig
from kiosk_agent.errors import TtsError
from kiosk_agent.messages import Samples, wipe
from kiosk_agent.providers.audio_device import _pa_errno, _quiet_stderr

logger = logging.getLogger(__name__)

BLOCK_MS: Final = 60
"""Length of the sample blocks espeak hands to the callback."""

_ESPEAK_LOCK: Final = threading.Lock()
"""libespeak-ng holds one global synthesizer per process."""

_espeak_state: dict[str, Any] = {}


def _espeak() -> Any:
    """pyttsx3's ctypes wrapper, initialized once in synchronous (callback) mode."""
    if "module" not in _espeak_state:
        try:
            from pyttsx3.drivers import _espeak as module
        except (ImportError, OSError, RuntimeError) as err:
            raise TtsError("tts-engine-missing", "libespeak-ng not found") from err
        rate = module.Initialize(module.AUDIO_OUTPUT_SYNCHRONOUS, BLOCK_MS)
        if rate <= 0:
            raise TtsError("tts-engine-failed", "espeak-ng did not initialize")
        _espeak_state["module"] = module
        _espeak_state["rate_hz"] = int(rate)
    return _espeak_state["module"]


class EspeakEngine:
    """Speech synthesis through libespeak-ng, in memory, one voice per language."""

    def __init__(self, config: TtsConfig) -> None:
        self._config = config
        with _ESPEAK_LOCK:
            _espeak()

    @property
    def sample_rate_hz(self) -> int:
        """Rate of the samples ``synthesize`` emits (22050 Hz for espeak-ng)."""
        return int(_espeak_state["rate_hz"])

    def voice_for(self, language: str) -> str:
        """The configured voice name for a language; English for anything else."""
        return self._config.voice_cs if language == "cs" else self._config.voice_en

    def synthesize(
        self, text: str, language: str, emit: Callable[[Samples], bool]
    ) -> None:
        """Synthesize ``text``, handing each block of samples to ``emit`` as it is made.

        Blocks the calling thread (run it in a worker). Each block is wiped after
        ``emit`` returns, so ``emit`` must copy what it keeps.

        Args:
            text: what to say; never logged.
            language: "en" or "cs"; selects the voice.
            emit: receives each block; returning False stops the synthesis.

        Raises:
            TtsError: the voice is missing or synthesis failed.
        """
        failure: list[BaseException] = []

        def on_block(wav: Any, count: int, _events: Any) -> int:
            if count <= 0 or not wav:
                return 0
            block = np.ctypeslib.as_array(wav, shape=(count,)).astype(np.int16)
            try:
                keep_going = emit(block)
            except BaseException as err:  # noqa: BLE001 - re-raised after Synth returns.
                failure.append(err)
                keep_going = False
            finally:
                wipe(block)
            return 0 if keep_going else 1

        with _ESPEAK_LOCK:
            module = _espeak()
            if module.SetVoiceByName(self.voice_for(language).encode()) != 0:
                raise TtsError("tts-voice-missing", f"tts voice for {language!r}")
            module.SetParameter(module.RATE, self._config.rate_wpm, 0)
            module.SetSynthCallback(on_block)
            try:
                status = module.Synth(
                    text.encode("utf-8"), flags=module.CHARS_UTF8 | module.ENDPAUSE
                )
            finally:
                module.SetSynthCallback(_ignore_block)
        if failure:
            raise failure[0]
        if status not in (0,):
            raise TtsError("tts-synthesis-failed", f"espeak status {status}")

    def synthesize_all(self, text: str, language: str, sample_rate_hz: int) -> Samples:
        """The whole utterance as one array, resampled (used for the demo's visitor)."""
        blocks: list[Samples] = []

        def keep(block: Samples) -> bool:
            blocks.append(block.copy())
            return True

        self.synthesize(text, language, keep)
        samples = np.concatenate(blocks) if blocks else np.zeros(0, np.int16)
        resampled = resample(samples, self.sample_rate_hz, sample_rate_hz)
        for block in blocks:
            wipe(block)
        if resampled is not samples:
            wipe(samples)
        return resampled


def _ignore_block(_wav: Any, _count: int, _events: Any) -> int:
    return 0


def resample(samples: Samples, from_hz: int, to_hz: int) -> Samples:
    """Int16 samples at another rate (the capture path's band-limited FFT resampler)."""
    if from_hz == to_hz or len(samples) == 0:
        return samples
    from kiosk_agent.providers.audio_device import resample as resample_floats
    from kiosk_agent.providers.audio_device import to_int16

    audio = samples.astype(np.float64) / 32768
    try:
        out = resample_floats(audio, from_hz, to_hz)
    finally:
        wipe(audio)
    try:
        return to_int16(out)
    finally:
        wipe(out)


class MemorySink:
    """An audio output that keeps samples in memory: tests, simulate and the demo."""

    def __init__(self) -> None:
        self._blocks: list[Samples] = []
        self._rate_hz = 0
        self._aborted = threading.Event()
        self.audio_ms = 0.0
        """Total audio received, milliseconds."""
        self.first_audio_ns: int | None = None
        """monotonic_ns of the first block since the last ``wipe``."""

    def play(self, samples: Samples, sample_rate_hz: int) -> None:
        """Keep a copy of the block; returns at once (faster than real time)."""
        if self._aborted.is_set():
            return
        if self.first_audio_ns is None:
            self.first_audio_ns = time.monotonic_ns()
        self._rate_hz = sample_rate_hz
        self._blocks.append(samples.copy())
        self.audio_ms += 1000.0 * len(samples) / sample_rate_hz

    def abort(self) -> None:
        """Drop what arrives until ``resume``."""
        self._aborted.set()

    def resume(self) -> None:
        """Accept blocks again."""
        self._aborted.clear()

    def samples(self) -> tuple[Samples, int]:
        """A copy of everything played so far and its sample rate."""
        if not self._blocks:
            return np.zeros(0, np.int16), self._rate_hz
        return np.concatenate(self._blocks), self._rate_hz

    def wipe(self) -> None:
        """Zero and forget every block."""
        for block in self._blocks:
            wipe(block)
        self._blocks.clear()
        self.audio_ms = 0.0
        self.first_audio_ns = None


class PyAudioOutput:
    """Speaker playback through PyAudio: blocking writes, interruptible.

    The stream is opened on the first block and kept open between sentences; a failed
    write closes it, so the next block reopens the device (a speaker plugged back in).
    ``close`` may come from another thread (daemon shutdown): it waits for the piece
    being written, never closing the stream under a running write.

    Args:
        device: ``[tts] output_device``: a PortAudio index, part of a device name
            (case-insensitive), or empty for the default output.
    """

    WRITE_MS: Final = 20

    def __init__(self, device: str = "") -> None:
        self._device = device
        self._pa: Any = None
        self._stream: Any = None
        self._rate_hz = 0
        self._aborted = threading.Event()
        self._closing = threading.Event()
        self._io_lock = threading.RLock()

    def play(self, samples: Samples, sample_rate_hz: int) -> None:
        """Write the block to the speaker in small pieces, stopping early on abort.

        Raises:
            TtsError: no output device (``tts-no-output-device``), none that
                matches (``tts-output-missing``), it cannot be opened
                (``tts-output-unavailable``) or a write failed (``tts-output-failed``).
        """
        step = max(1, sample_rate_hz * self.WRITE_MS // 1000)
        with self._io_lock:
            if self._is_stopped():
                return
            stream = self._open(sample_rate_hz)
            # FIXME(#5): a failed write still lets ALSA and PortAudio print 3-4 lines to
            # stderr; quieting fd 2 around every 20 ms write would be process-wide.
            try:
                for start in range(0, len(samples), step):
                    if self._is_stopped():
                        return
                    stream.write(samples[start : start + step].tobytes())
            except OSError as err:
                self._release()
                raise TtsError(
                    "tts-output-failed",
                    f"speaker write failed ({_pa_errno(err)})",
                    transient=True,
                ) from None

    def abort(self) -> None:
        """Stop at the next piece; thread-safe."""
        self._aborted.set()

    def resume(self) -> None:
        """Allow playback again."""
        self._aborted.clear()

    def close(self) -> None:
        """Close the stream and PyAudio once the piece being written is done."""
        self._closing.set()
        try:
            with self._io_lock:
                self._release()
        finally:
            self._closing.clear()

    def _release(self) -> None:
        stream, self._stream = self._stream, None
        pa, self._pa = self._pa, None
        self._rate_hz = 0
        try:
            if stream is not None:
                stream.close()
        finally:
            if pa is not None:
                pa.terminate()

    def _is_stopped(self) -> bool:
        return self._aborted.is_set() or self._closing.is_set()

    def _open(self, sample_rate_hz: int) -> Any:
        if self._stream is not None and self._rate_hz == sample_rate_hz:
            return self._stream
        self._release()
        import pyaudio  # Vendor import: only where the speaker is opened.

        # ALSA and JACK print dozens of lines while PortAudio scans for devices.
        with _quiet_stderr():
            self._pa = pyaudio.PyAudio()
        try:
            index = _output_index(self._pa, self._device)
            # TODO(#5): a raw hw: device without 22050 Hz fails here; open at its
            # defaultSampleRate and resample instead ("default" and plughw convert).
            with _quiet_stderr():
                self._stream = self._pa.open(
                    format=pyaudio.paInt16,
                    channels=1,
                    rate=sample_rate_hz,
                    output=True,
                    output_device_index=index,
                )
        except (OSError, ValueError) as err:
            self._release()
            reason = _pa_errno(err) if isinstance(err, OSError) else "invalid format"
            raise TtsError(
                "tts-output-unavailable",
                f"tts.output_device: cannot open the speaker ({reason})",
                transient=True,
            ) from None
        except BaseException:
            self._release()
            raise
        self._rate_hz = sample_rate_hz
        return self._stream


def _output_index(pa: Any, device: str) -> int | None:
    """The PortAudio index for ``tts.output_device``; None for the default output.

    Raises:
        TtsError: no output device at all, or none that matches.
    """
    outputs = [
        (i, str(info.get("name", "")))
        for i in range(pa.get_device_count())
        if int((info := pa.get_device_info_by_index(i)).get("maxOutputChannels", 0)) > 0
    ]
    if not outputs:
        raise TtsError(
            "tts-no-output-device",
            "no audio output device found (PortAudio lists none); "
            "connect a speaker or set tts.output_device",
        )
    if not device:
        try:
            return int(pa.get_default_output_device_info()["index"])
        except OSError:
            return outputs[0][0]  # ALSA without a "default" pcm: the first output.
    if device.isdigit():
        if int(device) in {i for i, _ in outputs}:
            return int(device)
    else:
        for index, name in outputs:
            if device.lower() in name.lower():
                return index
    names = ", ".join(f"{i}: {name}" for i, name in outputs)
    raise TtsError(
        "tts-output-missing",
        f"tts.output_device: no output device matches {device!r} (outputs: {names})",
        transient=True,
    )
