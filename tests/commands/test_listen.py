"""``kiosk-agent listen``: a technician hears what the kiosk transcribes, live.

The microphone is an ALSA ``file`` pcm in a temporary HOME (PortAudio reads it like a
sound card); the microphone source paces it to real time, as a live device would be.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from tests import media
from tests.providers.test_audio_device import ASOUNDRC, REPO, child_env


def test_listen_prints_each_utterance_live_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    visit = np.concatenate(
        [
            media.silence(0.6),
            media.speak("Where is the toilet, please?"),
            media.silence(30.0),
        ]
    )
    infile = tmp_path / "mic.raw"
    infile.write_bytes(visit.astype("<i2").tobytes())
    (tmp_path / ".asoundrc").write_text(ASOUNDRC.format(infile=infile))
    config = tmp_path / "kiosk.toml"
    config.write_text('[audio]\ndevice = "kioskmic"\n', encoding="utf-8")
    env = child_env(tmp_path) | {"PULSE_SERVER": "unix:/nonexistent"}

    child = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "kiosk_agent",
            "--config",
            str(config),
            "listen",
            "--json",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=REPO,
    )
    try:
        assert child.stdout is not None
        started = time.monotonic()
        line = child.stdout.readline()  # Blocks until the first utterance is done.
        heard_after_s = time.monotonic() - started
        child.send_signal(signal.SIGINT)
        _, stderr = child.communicate(timeout=30)
    finally:
        child.kill()
        child.wait()

    assert child.returncode == 0, stderr[-2000:]
    utterance = json.loads(line)
    assert "toilet" in utterance["text"].lower()
    # The utterance keeps its pre-roll: it starts up to 400 ms before the speech.
    assert 0.1 <= utterance["start_s"] < 0.6 < utterance["end_s"] < 4.5
    # Paced like a live microphone: not before the speech could have been spoken.
    assert heard_after_s >= utterance["end_s"] - 1.0
