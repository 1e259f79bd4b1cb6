"""``kiosk-agent transcribe``: one line or JSON line per utterance; bad files fail."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from kiosk_agent.cli import main
from kiosk_agent.providers.audio_device import resample, to_int16
from tests import media


@pytest.fixture(scope="module")
def two_phrases_bytes() -> bytes:
    """Two phrases as a stereo 22.05 kHz WAV image, so the command must mix down and
    resample."""
    audio = np.concatenate(
        [
            media.silence(0.5),
            media.speak("Where is the toilet?"),
            media.silence(1.0),
            media.speak("Where can I park my car?"),
            media.silence(0.8),
        ]
    )
    upsampled = to_int16(resample(audio.astype(np.float64) / 32768, 16000, 22050))
    return media.to_wav_bytes(np.repeat(upsampled, 2), rate_hz=22050, channels=2)


@pytest.fixture
def two_phrases_wav(two_phrases_bytes: bytes, tmp_path: Path) -> Path:
    path = tmp_path / "visitor.wav"
    path.write_bytes(two_phrases_bytes)
    return path


def test_transcribe_prints_json_line_per_utterance(
    two_phrases_wav: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["transcribe", "--json", str(two_phrases_wav)]) == 0

    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [sorted(line) for line in lines] == [["end_s", "start_s", "text"]] * 2
    assert "toilet" in lines[0]["text"].lower()
    assert "car" in lines[1]["text"].lower()
    assert 0.0 <= lines[0]["start_s"] < 0.5 < lines[0]["end_s"] < lines[1]["start_s"]


def test_transcribe_prints_start_end_and_text(
    two_phrases_wav: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["transcribe", str(two_phrases_wav)]) == 0

    first = capsys.readouterr().out.splitlines()[0].split(maxsplit=2)
    assert float(first[0]) < float(first[1])
    assert "toilet" in first[2].lower()


@pytest.mark.parametrize(
    ("content", "expected"),
    [(None, "audio-file-missing"), (b"RIFF....not a wave", "audio-file-invalid")],
    ids=["missing", "not-a-wav"],
)
def test_bad_file_exits_1_with_one_line(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    content: bytes | None,
    expected: str,
) -> None:
    path = tmp_path / "input.wav"
    if content is not None:
        path.write_bytes(content)

    assert main(["transcribe", str(path)]) == 1

    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert expected in captured.err and str(path) in captured.err
