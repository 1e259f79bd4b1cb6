"""Audio sources: in-memory samples, WAV files (any rate, stereo), and the microphone
through real PyAudio on an ALSA ``file`` device declared in a temporary HOME."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time
import wave
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from kiosk_agent.config import AudioConfig
from kiosk_agent.errors import CaptureError
from kiosk_agent.messages import AudioFrame
from kiosk_agent.providers.audio_device import (
    ArraySource,
    DeviceState,
    MicrophoneSource,
    WavFileSource,
)
from tests import media

REPO = Path(__file__).resolve().parents[2]


def read_all(source: Any) -> list[AudioFrame]:
    frames = []
    while (frame := source.read()) is not None:
        frames.append(frame)
    return frames


def test_array_source_yields_frames_with_stream_times_and_pads_the_last() -> None:
    samples = np.arange(1000, dtype=np.int16)

    frames = read_all(ArraySource(samples, frame_ms=30))

    assert [f.start_s for f in frames] == [0.0, 0.03, 0.06]
    assert all(len(f.samples) == 480 for f in frames)
    assert np.array_equal(np.concatenate([f.samples for f in frames])[:1000], samples)
    assert not frames[-1].samples[40:].any()


def test_array_source_copies_and_wipes_its_buffer_on_close() -> None:
    samples = np.ones(4800, dtype=np.int16)
    source = ArraySource(samples)
    source.read()

    source.close()

    assert source.read() is None
    assert samples.all()  # The caller's buffer is untouched.


def test_realtime_source_waits_until_each_frame_would_have_arrived() -> None:
    waits: list[float] = []
    source = ArraySource(np.zeros(4800, np.int16), realtime=True, sleep=waits.append)

    frames = read_all(source)

    assert len(frames) == 10
    # The sleep is faked, so each wait is the time to the frame's end from the start.
    assert waits == pytest.approx([0.03 * (i + 1) for i in range(10)], abs=0.02)


def write_wav(
    path: Path, samples: np.ndarray, *, rate_hz: int, channels: int = 1, width: int = 2
) -> None:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(width)
        out.setframerate(rate_hz)
        out.writeframes(samples.tobytes())


def dominant_hz(samples: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(samples.astype(float)))
    return float(np.fft.rfftfreq(len(samples), 1 / 16000)[np.argmax(spectrum)])


def sine(rate_hz: int, seconds: float, hz: float = 440.0) -> np.ndarray:
    t = np.arange(int(rate_hz * seconds)) / rate_hz
    return 0.5 * np.sin(2 * np.pi * hz * t)


def test_stereo_44k_wav_is_mixed_down_and_resampled(tmp_path: Path) -> None:
    left = (sine(44100, 1.0) * 32767).astype(np.int16)
    stereo = np.stack([left, left], axis=1).reshape(-1)
    path = tmp_path / "stereo.wav"
    write_wav(path, stereo, rate_hz=44100, channels=2)

    samples = np.concatenate([f.samples for f in read_all(WavFileSource(path))])

    assert abs(len(samples) - 16000) < 480
    assert dominant_hz(samples[:16000]) == pytest.approx(440, abs=2)
    assert np.abs(samples).max() == pytest.approx(16384, rel=0.05)


def test_24_bit_48k_wav_is_resampled_keeping_its_pitch(tmp_path: Path) -> None:
    ints = (sine(48000, 0.5, hz=1000) * (1 << 23)).astype(np.int32)
    raw = np.frombuffer(ints.astype("<i4").tobytes(), np.uint8).reshape(-1, 4)[:, :3]
    path = tmp_path / "deep.wav"
    write_wav(path, raw.copy(), rate_hz=48000, width=3)

    samples = np.concatenate([f.samples for f in read_all(WavFileSource(path))])

    assert dominant_hz(samples[:8000]) == pytest.approx(1000, abs=2)


def test_16k_mono_wav_is_read_bit_exactly(tmp_path: Path) -> None:
    speech = media.speak("Where is the toilet?")
    path = tmp_path / "speech.wav"
    path.write_bytes(media.to_wav_bytes(speech))

    samples = np.concatenate([f.samples for f in read_all(WavFileSource(path))])

    assert np.array_equal(samples[: len(speech)], speech)


@pytest.mark.parametrize(
    ("content", "code", "words"),
    [
        (None, "audio-file-missing", "file not found"),
        (b"this is not audio at all", "audio-file-invalid", "not a PCM WAV"),
        (
            b"RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x03\x00\x01\x00"
            b"\x80\x3e\x00\x00\x00\xfa\x00\x00\x04\x00\x20\x00data\x00\x00\x00\x00",
            "audio-file-invalid",
            "not a PCM WAV",
        ),
        (media.to_wav_bytes(np.zeros(0, np.int16)), "audio-file-invalid", "no audio"),
    ],
    ids=["missing", "not-a-wav", "float-wav", "empty-wav"],
)
def test_bad_file_gives_one_line_naming_it(
    tmp_path: Path, content: bytes | None, code: str, words: str
) -> None:
    path = tmp_path / "input.wav"
    if content is not None:
        path.write_bytes(content)

    with pytest.raises(CaptureError) as caught:
        WavFileSource(path)

    message = str(caught.value)
    assert caught.value.code == code
    assert str(path) in message and words in message
    assert "\n" not in message


# The microphone, through real PyAudio and PortAudio's ALSA host API.

ASOUNDRC = """
pcm.kiosk_file {{
    type file
    slave.pcm "null"
    file "/dev/null"
    infile "{infile}"
    format "raw"
}}
pcm.kioskmic {{
    type plug
    slave {{
        pcm "kiosk_file"
        format S16_LE
        rate 16000
        channels 1
    }}
}}
"""

CHILD_READ = """
import sys
import numpy as np
from kiosk_agent.config import AudioConfig
from kiosk_agent.providers.audio_device import MicrophoneSource
source = MicrophoneSource(AudioConfig(device=sys.argv[1]))
frames = [source.read() for _ in range(int(sys.argv[2]))]
print(source.state.value, source.overflows, file=sys.stderr)
source.close()
sys.stdout.buffer.write(np.concatenate([f.samples for f in frames]).tobytes())
"""


def child_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("ALSA_CONFIG_PATH",)}
    env["HOME"] = str(home)
    env["PYTHONPATH"] = str(REPO)
    return env


def test_microphone_reads_alsa_file_device_bit_exactly(tmp_path: Path) -> None:
    speech = media.speak("Hello, I have a meeting.")
    frames = len(speech) // 480
    infile = tmp_path / "mic.raw"
    infile.write_bytes(speech.astype("<i2").tobytes())
    (tmp_path / ".asoundrc").write_text(ASOUNDRC.format(infile=infile))

    # PortAudio reads the ALSA configuration at start-up, so HOME is set in a child.
    done = subprocess.run(
        [sys.executable, "-c", CHILD_READ, "kioskmic", str(frames)],
        env=child_env(tmp_path),
        capture_output=True,
        timeout=60,
        cwd=REPO,
    )

    assert done.returncode == 0, done.stderr.decode()[-2000:]
    read = np.frombuffer(done.stdout, dtype="<i2")
    assert np.array_equal(read, speech[: frames * 480])
    assert done.stderr.decode().split()[-2:] == ["open", "0"]


def test_microphone_by_unknown_name_lists_the_inputs(tmp_path: Path) -> None:
    infile = tmp_path / "mic.raw"
    infile.write_bytes(bytes(32000))
    (tmp_path / ".asoundrc").write_text(ASOUNDRC.format(infile=infile))

    done = subprocess.run(
        [sys.executable, "-c", CHILD_READ, "no-such-mic", "1"],
        env=child_env(tmp_path),
        capture_output=True,
        timeout=60,
        cwd=REPO,
    )

    assert done.returncode != 0
    assert b"audio-device-missing" in done.stderr and b"kioskmic" in done.stderr


@pytest.mark.skipif(
    Path("/proc/asound/cards").exists()
    and "no soundcards" not in Path("/proc/asound/cards").read_text(),
    reason="this machine has a sound card",
)
def test_machine_without_input_device_gets_one_clear_line(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from kiosk_agent.cli import main; "
            "sys.exit(main(sys.argv[1:]))",
            "listen",
        ],
        env=child_env(tmp_path),
        capture_output=True,
        timeout=60,
        cwd=REPO,
        text=True,
    )

    assert done.returncode == 1
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr[-2000:]
    assert lines[0].startswith("kiosk-agent: audio-no-input-device: no audio input")


# Reopening a device that disappeared: the PortAudio layer is replaced by a fake
# stream here, because no real device can be unplugged on this machine.


class FakeStream:
    def __init__(self, fail_after: int | None) -> None:
        self.reads = 0
        self.fail_after = fail_after
        self.closed = False

    def read(self, count: int, exception_on_overflow: bool = True) -> bytes:
        assert exception_on_overflow is False
        if self.fail_after is not None and self.reads >= self.fail_after:
            raise OSError(-9999, "Unanticipated host error")
        self.reads += 1
        return np.full(count, self.reads, dtype="<i2").tobytes()

    def get_input_latency(self) -> float:
        return 0.03

    def stop_stream(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True


class FakePa:
    def terminate(self) -> None:
        pass


class FlakyMicrophone(MicrophoneSource):
    """Opens fake streams: the first fails after 3 reads, then 2 opens fail."""

    def __init__(self, config: AudioConfig, **kwargs: Any) -> None:
        self.opens = 0
        self.streams: list[FakeStream] = []
        super().__init__(config, **kwargs)

    def _open_stream(self) -> tuple[Any, Any]:
        self.opens += 1
        if self.opens in (2, 3):
            raise CaptureError("audio-device-missing", "gone", transient=True)
        self.streams.append(FakeStream(3 if self.opens == 1 else None))
        return FakePa(), self.streams[-1]


def test_lost_device_is_reopened_with_capped_backoff(
    caplog: pytest.LogCaptureFixture,
) -> None:
    waits: list[float] = []

    def wait(event: threading.Event, timeout: float) -> bool:
        waits.append(timeout)
        return event.is_set()

    mic = FlakyMicrophone(AudioConfig(reopen_max_backoff_s=0.3), wait=wait)
    caplog.set_level(logging.INFO)

    frames = [mic.read() for _ in range(5)]

    assert all(f is not None for f in frames)
    assert mic.opens == 4 and mic.reopens == 1
    assert waits == [0.1, 0.2, 0.3]
    assert mic.state is DeviceState.OPEN
    assert mic.streams[0].closed
    events = [r.msg for r in caplog.records]
    assert events.count("audio.device_lost") == 1
    assert events.count("audio.reopen_failed") == 2
    assert "audio.device_reopened" in events
    mic.close()
    assert mic.read() is None


def test_unclocked_device_is_paced_to_real_time() -> None:
    # A fake stream answers at once, like an ALSA file pcm over null.
    mic = FlakyMicrophone(AudioConfig())
    started = time.monotonic()
    frames = [mic.read() for _ in range(3)]
    elapsed_s = time.monotonic() - started
    mic.close()

    assert all(f is not None for f in frames)
    assert elapsed_s >= 0.08  # 3 frames of 30 ms, each held until spoken


def test_close_while_reconnecting_ends_the_stream() -> None:
    mic: FlakyMicrophone

    def wait(event: threading.Event, timeout: float) -> bool:
        mic.close()
        return event.is_set()

    mic = FlakyMicrophone(AudioConfig(), wait=wait)
    for _ in range(3):
        assert mic.read() is not None

    assert mic.read() is None
    assert mic.state is DeviceState.CLOSED


class BlockingStream(FakeStream):
    """A stream whose read blocks until released, like a device between periods."""

    def __init__(self) -> None:
        super().__init__(None)
        self.entered = threading.Event()
        self.go = threading.Event()

    def read(self, count: int, exception_on_overflow: bool = True) -> bytes:
        self.entered.set()
        assert self.go.wait(2.0)
        if self.closed:
            raise OSError(-9988, "Stream closed")
        return super().read(count, exception_on_overflow)


class BlockingMicrophone(MicrophoneSource):
    def _open_stream(self) -> tuple[Any, Any]:
        self.stream = BlockingStream()
        return FakePa(), self.stream


def test_close_waits_for_a_blocked_read_and_never_reports_a_lost_device(
    caplog: pytest.LogCaptureFixture,
) -> None:
    mic = BlockingMicrophone(AudioConfig())
    results: list[AudioFrame | None] = []
    reader = threading.Thread(target=lambda: results.extend([mic.read(), mic.read()]))
    reader.start()
    assert mic.stream.entered.wait(2.0)

    closer = threading.Thread(target=mic.close)
    closer.start()
    # Release the read only once close() has begun (it then waits for the read).
    for _ in range(2000):
        if mic._closing.is_set():
            break
        time.sleep(0.001)
    mic.stream.go.set()
    closer.join(2.0)
    reader.join(2.0)

    assert results[0] is not None and results[1] is None
    assert mic.stream.closed
    assert mic.state is DeviceState.CLOSED
    assert "audio.device_lost" not in [r.msg for r in caplog.records]
