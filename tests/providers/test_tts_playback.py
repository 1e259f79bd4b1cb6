"""The avatar's voice through real PyAudio: espeak-ng samples reach an ALSA ``file``
output device declared in a temporary HOME (no sound card needed), cancel stops the
writes, and a missing or broken speaker gives one clear line.

PortAudio reads the ALSA configuration when it starts, so each case runs in a child
process with HOME pointing at a folder holding the ``.asoundrc``. The ``file`` plugin
copies every frame written to the pcm into ``file`` and hands it on to the ``null``
pcm. Written to a regular file, the device is not paced (a minute of audio plays in a
tenth of a second); written to a FIFO, it blocks like a speaker whenever the test's
reader falls behind, which is what makes the cancel test deterministic.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
RATE_HZ = 22050
SENTENCE = "Good morning. Pan Novák will be with you in a moment."
LONG_TEXT = (
    "Good morning and welcome. Please take a seat, your host will be with you in a "
    "moment. "
) * 3

ASOUNDRC = """
pcm.kiosk_out_file {{
    type file
    slave.pcm "null"
    file "{path}"
    format "raw"
}}
pcm.kioskout {{
    type plug
    slave {{
        pcm "kiosk_out_file"
        format S16_LE
        rate 22050
        channels 1
    }}
}}
"""

CHILD_PRELUDE = """
import asyncio, os, sys, threading, time
import numpy as np
from kiosk_agent.config import TtsConfig
from kiosk_agent.errors import TtsError
from kiosk_agent.providers.tts_engine import EspeakEngine, MemorySink, PyAudioOutput
from kiosk_agent.stages.tts import TtsStage
engine = EspeakEngine(TtsConfig())
def speak(output, text):
    stage = TtsStage(engine, output)
    return stage, asyncio.run(asyncio.wait_for(stage.speak(text, "en"), 30))
def reference(text):
    sink = MemorySink()
    speak(sink, text)
    return sink.samples()[0]
"""

# Speak into the speaker through a tee that keeps a copy of every block handed to
# it, then the same text once more into memory alone. Both go to stdout.
CHILD_SPEAK = (
    CHILD_PRELUDE
    + """
class Tee:
    def __init__(self, output):
        self.output, self.copy = output, MemorySink()
    def play(self, samples, sample_rate_hz):
        self.copy.play(samples, sample_rate_hz)
        self.output.play(samples, sample_rate_hz)
    def abort(self):
        self.output.abort()
    def resume(self):
        self.output.resume()
output = PyAudioOutput(sys.argv[1])
tee = Tee(output)
_, result = speak(tee, sys.argv[2])
output.close()
handed = tee.copy.samples()[0]
again = reference(sys.argv[2])
print(result.sentences, round(result.audio_ms), result.is_cancelled, file=sys.stderr)
sys.stdout.buffer.write(np.concatenate([handed, again]).astype("<i2").tobytes())
sys.stdout.buffer.write(np.array([len(handed)], "<i4").tobytes())
"""
)

# A reader thread drains the FIFO at about five times real time and cancels the
# stage once it has heard one second; it keeps reading until the device is closed.
CHILD_CANCEL = (
    CHILD_PRELUDE
    + """
fifo, text = sys.argv[1], sys.argv[2]
counts = {"read": 0, "at_cancel": 0}
holder = {}
def drain():
    fd = os.open(fifo, os.O_RDONLY)
    while chunk := os.read(fd, 4410):
        counts["read"] += len(chunk)
        if not counts["at_cancel"] and counts["read"] >= 2 * 22050:
            counts["at_cancel"] = counts["read"]
            holder["stage"].cancel()
        time.sleep(0.01)
    os.close(fd)
reader = threading.Thread(target=drain, daemon=True)
reader.start()
output = PyAudioOutput("kioskout")
holder["stage"] = TtsStage(engine, output)
started = time.monotonic()
result = asyncio.run(asyncio.wait_for(holder["stage"].speak(text, "en"), 30))
spoke_s = time.monotonic() - started
output.close()
reader.join(10)
full = len(reference(text)) * 2
print(result.is_cancelled, counts["at_cancel"], counts["read"], full, round(spoke_s, 2))
"""
)

# The reader takes 10000 bytes and hangs up: the speaker is gone mid-sentence. The
# next sentence must reopen the device and arrive whole.
CHILD_UNPLUG = (
    CHILD_PRELUDE
    + """
fifo = sys.argv[1]
heard = []
def read(limit):
    fd = os.open(fifo, os.O_RDONLY)
    total = 0
    while (chunk := os.read(fd, 4096)) and (limit is None or total < limit):
        total += len(chunk)
    os.close(fd)
    heard.append(total)
first = threading.Thread(target=read, args=(10000,), daemon=True)
first.start()
output = PyAudioOutput("kioskout")
try:
    speak(output, sys.argv[2])
except TtsError as err:
    print("error", err.code, err.transient)
first.join(10)
second = threading.Thread(target=read, args=(None,), daemon=True)
second.start()
_, result = speak(output, "Hello.")
output.close()
second.join(10)
print("again", heard[1], len(reference("Hello.")) * 2, result.is_cancelled)
"""
)

# What the CLI does with a KioskError: one line on stderr, exit 1.
CHILD_NO_DEVICE = (
    CHILD_PRELUDE
    + """
output = PyAudioOutput(sys.argv[1])
try:
    speak(output, "Hello.")
except TtsError as err:
    print(f"kiosk-agent: {err}", file=sys.stderr)
    sys.exit(1)
"""
)


# The daemon shutting down: close() comes from another thread while a long block is
# being written. The writer stops at its next piece; nothing crashes.
CHILD_CLOSE = """
import os, sys, threading, time
import numpy as np
from kiosk_agent.providers.tts_engine import PyAudioOutput
fifo = sys.argv[1]
output = PyAudioOutput("kioskout")
heard = threading.Event()
counts = {"read": 0}
def drain():
    fd = os.open(fifo, os.O_RDONLY)
    while chunk := os.read(fd, 4410):
        counts["read"] += len(chunk)
        if counts["read"] >= 2 * 22050:
            heard.set()
        time.sleep(0.01)
    os.close(fd)
def close_when_heard():
    heard.wait(20)
    output.close()
reader = threading.Thread(target=drain, daemon=True)
closer = threading.Thread(target=close_when_heard, daemon=True)
reader.start()
closer.start()
tone = (8000 * np.sin(np.arange(60 * 22050) * 0.1)).astype(np.int16)
output.play(tone, 22050)
closer.join(10)
reader.join(10)
print(counts["read"], len(tone) * 2, closer.is_alive(), reader.is_alive())
"""


def child_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("ALSA_CONFIG_PATH",)}
    env["HOME"] = str(home)
    env["PYTHONPATH"] = str(REPO)
    # Without a reachable server libpulse would leave a /tmp/pulse-* folder behind.
    env["PULSE_SERVER"] = "unix:/nonexistent"
    return env


def run_child(home: Path, script: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", script, *args],
        env=child_env(home),
        capture_output=True,
        timeout=60,
        cwd=REPO,
        text=True,
    )


def declare_output(home: Path, path: Path) -> None:
    (home / ".asoundrc").write_text(ASOUNDRC.format(path=path))


def test_spoken_sentence_reaches_the_alsa_output_bit_exactly(tmp_path: Path) -> None:
    out = tmp_path / "out.raw"
    declare_output(tmp_path, out)

    done = subprocess.run(
        [sys.executable, "-c", CHILD_SPEAK, "kioskout", SENTENCE],
        env=child_env(tmp_path),
        capture_output=True,
        timeout=60,
        cwd=REPO,
    )

    assert done.returncode == 0, done.stderr.decode()[-2000:]
    handed_len = int(np.frombuffer(done.stdout[-4:], dtype="<i4")[0])
    both = np.frombuffer(done.stdout[:-4], dtype="<i2")
    handed, in_memory = both[:handed_len], both[handed_len:]
    played = np.fromfile(out, dtype="<i2")
    sentences, audio_ms, is_cancelled = done.stderr.decode().split()[-3:]
    assert (sentences, is_cancelled) == ("2", "False")
    assert 2.0 < len(played) / RATE_HZ < 8.0
    assert int(audio_ms) == round(1000 * len(played) / RATE_HZ)
    assert np.sqrt(np.mean(played.astype(np.float64) ** 2)) > 300
    # The device gets exactly the samples the stage handed to the output.
    assert np.array_equal(played, handed)
    # espeak-ng's length varies by a few ms from run to run (its state carries over
    # between texts), so a second synthesis into memory matches within 2 %.
    assert len(played) == pytest.approx(len(in_memory), rel=0.02)


def test_output_device_can_be_named_by_index(tmp_path: Path) -> None:
    out = tmp_path / "out.raw"
    declare_output(tmp_path, out)

    done = run_child(tmp_path, CHILD_NO_DEVICE, "1")

    assert done.returncode == 0, done.stderr[-2000:]
    assert out.stat().st_size > RATE_HZ  # More than half a second of "Hello."


def test_cancel_stops_writing_to_the_speaker_early(tmp_path: Path) -> None:
    fifo = tmp_path / "out.fifo"
    os.mkfifo(fifo)
    declare_output(tmp_path, fifo)

    done = run_child(tmp_path, CHILD_CANCEL, str(fifo), LONG_TEXT)

    assert done.returncode == 0, done.stderr[-2000:]
    is_cancelled, at_cancel, total, full, _spoke_s = done.stdout.split()
    assert is_cancelled == "True"
    assert int(full) > 10 * 2 * RATE_HZ  # The text is over ten seconds long.
    # After the cancel only what was already in flight arrives: the pipe's buffer
    # (64 KiB), PortAudio's and ALSA's buffers and the piece being written.
    late_bytes = int(total) - int(at_cancel)
    assert late_bytes < 2 * 2 * RATE_HZ, (at_cancel, total, full)
    assert int(total) < int(full) // 3


def test_close_from_another_thread_stops_a_long_write(tmp_path: Path) -> None:
    fifo = tmp_path / "out.fifo"
    os.mkfifo(fifo)
    declare_output(tmp_path, fifo)

    done = run_child(tmp_path, CHILD_CLOSE, str(fifo))

    assert done.returncode == 0, done.stderr[-2000:]
    total, full, is_closer_alive, is_reader_alive = done.stdout.split()
    assert (is_closer_alive, is_reader_alive) == ("False", "False")
    assert int(total) < int(full) // 10


def test_speaker_gone_mid_sentence_fails_once_then_reopens(tmp_path: Path) -> None:
    fifo = tmp_path / "out.fifo"
    os.mkfifo(fifo)
    declare_output(tmp_path, fifo)

    done = run_child(tmp_path, CHILD_UNPLUG, str(fifo), LONG_TEXT)

    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.splitlines()
    assert lines[0] == "error tts-output-failed True"
    again, heard, expected, is_cancelled = lines[1].split()
    assert again == "again" and is_cancelled == "False"
    # The whole "Hello." arrives (espeak-ng's length varies by a few samples).
    assert int(heard) == pytest.approx(int(expected), rel=0.02)


def test_unknown_output_device_lists_the_outputs(tmp_path: Path) -> None:
    declare_output(tmp_path, tmp_path / "out.raw")

    done = run_child(tmp_path, CHILD_NO_DEVICE, "no-such-speaker")

    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "kiosk-agent: tts-output-missing: tts.output_device: no output device "
        "matches 'no-such-speaker' (outputs: 0: kiosk_out_file, 1: kioskout)"
    ]
    assert not (tmp_path / "out.raw").exists()


@pytest.mark.skipif(
    Path("/proc/asound/cards").exists()
    and "no soundcards" not in Path("/proc/asound/cards").read_text(),
    reason="this machine has a sound card",
)
def test_machine_without_output_device_gets_one_clear_line(tmp_path: Path) -> None:
    done = run_child(tmp_path, CHILD_NO_DEVICE, "")

    assert done.returncode == 1
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr[-2000:]
    assert lines[0].startswith(
        "kiosk-agent: tts-no-output-device: no audio output device found"
    )
    assert "tts.output_device" in lines[0]
