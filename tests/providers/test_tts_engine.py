"""Real espeak-ng synthesis in memory: audio arrives in blocks, no file is written."""

from __future__ import annotations

import sys
import threading
from typing import Any

import numpy as np
import pytest

from kiosk_agent.config import TtsConfig
from kiosk_agent.errors import TtsError
from kiosk_agent.providers.tts_engine import EspeakEngine, MemorySink, resample

_RECORDING = threading.Event()
_EVENTS: list[tuple[str, str]] = []


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if not _RECORDING.is_set():
        return
    if event == "open":
        mode = args[1] if len(args) > 1 else "r"
        flags = args[2] if len(args) > 2 else 0
        is_write = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
            isinstance(flags, int) and flags & 0o3 != 0
        )
        if is_write:
            _EVENTS.append((event, str(args[0])))
    elif event in ("subprocess.Popen", "os.system", "os.exec", "os.posix_spawn"):
        _EVENTS.append((event, str(args[0])))


sys.addaudithook(_audit)


@pytest.fixture(scope="module")
def engine() -> EspeakEngine:
    return EspeakEngine(TtsConfig())


def _speak(engine: EspeakEngine, text: str, language: str) -> list[np.ndarray]:
    blocks: list[np.ndarray] = []

    def emit(block: np.ndarray) -> bool:
        blocks.append(block.copy())
        return True

    engine.synthesize(text, language, emit)
    return blocks


@pytest.mark.parametrize("language", ["en", "cs"], ids=["english", "czech"])
def test_synthesis_streams_blocks_of_real_speech(
    engine: EspeakEngine, language: str
) -> None:
    blocks = _speak(engine, "Good morning. Pan Novák will be here shortly.", language)
    audio = np.concatenate(blocks)
    assert engine.sample_rate_hz == 22050
    assert len(blocks) > 5
    assert 1.5 < len(audio) / engine.sample_rate_hz < 8.0
    assert np.sqrt(np.mean(audio.astype(np.float64) ** 2)) > 300


def test_synthesis_opens_no_file_for_writing_and_runs_no_player(
    engine: EspeakEngine,
) -> None:
    _EVENTS.clear()
    _RECORDING.set()
    try:
        blocks = _speak(engine, "Jana Nováková, phone 601 112 233.", "cs")
        sink = MemorySink()
        for block in blocks:
            sink.play(block, engine.sample_rate_hz)
    finally:
        _RECORDING.clear()
    assert blocks
    assert _EVENTS == []


def test_returning_false_from_emit_stops_synthesis(engine: EspeakEngine) -> None:
    seen: list[int] = []

    def emit(block: np.ndarray) -> bool:
        seen.append(len(block))
        return False

    engine.synthesize(
        "This is a long sentence that would take several seconds.", "en", emit
    )
    assert len(seen) == 1


def test_blocks_handed_out_are_wiped_after_emit(engine: EspeakEngine) -> None:
    kept: list[np.ndarray] = []
    engine.synthesize("Hello there.", "en", lambda block: kept.append(block) is None)
    assert kept
    assert all(not block.any() for block in kept)


def test_error_raised_in_emit_reaches_the_caller(engine: EspeakEngine) -> None:
    def emit(block: np.ndarray) -> bool:
        raise TtsError("tts-output-failed", "speaker gone")

    with pytest.raises(TtsError, match="tts-output-failed"):
        engine.synthesize("Hello.", "en", emit)


def test_unknown_voice_fails_with_code() -> None:
    engine = EspeakEngine(TtsConfig(voice_en="no-such-voice-xx"))
    with pytest.raises(TtsError, match="tts-voice-missing"):
        engine.synthesize("Hello.", "en", lambda block: True)


def test_synthesize_all_resamples_to_16khz(engine: EspeakEngine) -> None:
    samples = engine.synthesize_all("Hello, I am here to see someone.", "en", 16000)
    native = np.concatenate(_speak(engine, "Hello, I am here to see someone.", "en"))
    assert samples.dtype == np.int16
    assert len(samples) == pytest.approx(len(native) * 16000 / 22050, rel=0.05)


def test_resample_keeps_a_tone_at_its_frequency() -> None:
    t = np.arange(22050) / 22050
    tone = (10000 * np.sin(2 * np.pi * 440 * t)).astype(np.int16)
    out = resample(tone, 22050, 16000)
    spectrum = np.abs(np.fft.rfft(out.astype(np.float64)))
    assert len(out) == 16000
    assert np.argmax(spectrum) == 440


def test_memory_sink_counts_ms_and_wipes() -> None:
    sink = MemorySink()
    block = np.ones(1600, np.int16)
    sink.play(block, 16000)
    sink.play(block, 16000)
    assert sink.audio_ms == pytest.approx(200.0)
    kept, rate = sink.samples()
    assert len(kept) == 3200 and rate == 16000
    sink.abort()
    sink.play(block, 16000)
    assert sink.audio_ms == pytest.approx(200.0)
    sink.wipe()
    assert sink.audio_ms == 0 and len(sink.samples()[0]) == 0
