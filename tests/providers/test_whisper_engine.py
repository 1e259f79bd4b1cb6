"""WhisperEngine: the embedded tiny.en decodes from memory, drops noise, names a
missing model."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from kiosk_agent.config import AsrConfig
from kiosk_agent.errors import AsrError
from kiosk_agent.providers.whisper_engine import (
    HALLUCINATIONS,
    WhisperEngine,
    normalize,
)
from tests import media


def floats(samples: np.ndarray) -> np.ndarray:
    return samples.astype(np.float32) / 32768


def test_missing_model_path_names_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-model"

    with pytest.raises(AsrError) as caught:
        WhisperEngine(dataclasses.replace(AsrConfig(), model_path=str(missing)))

    assert caught.value.code == "asr-model-missing"
    assert str(missing) in str(caught.value)


def test_embedded_model_is_english_only_and_warmed_up(
    whisper_engine: WhisperEngine,
) -> None:
    assert not whisper_engine.is_multilingual
    assert whisper_engine.model_name
    assert whisper_engine.warmup_s > 0


def test_speech_is_transcribed_from_memory(whisper_engine: WhisperEngine) -> None:
    segments, language = whisper_engine.transcribe(
        floats(
            np.concatenate([media.silence(0.4), media.speak("Where is the toilet?")])
        )
    )

    assert language == "en"
    assert normalize(" ".join(s.text for s in segments)) == "where is the toilet"
    assert all(0 <= s.start_s <= s.end_s for s in segments)


@pytest.mark.parametrize("kind", ["pink", "brown", "fan", "hum", "white"])
def test_noise_gives_no_segments(whisper_engine: WhisperEngine, kind: str) -> None:
    segments, _ = whisper_engine.transcribe(floats(media.noise(4.0, kind=kind)))

    assert segments == []


def test_silence_gives_no_segments(whisper_engine: WhisperEngine) -> None:
    assert whisper_engine.transcribe(floats(media.silence(3.0)))[0] == []


def test_known_hallucinations_are_normalized_for_matching() -> None:
    assert normalize(" Thank you. ") in HALLUCINATIONS
    assert normalize("Thanks for watching!") in HALLUCINATIONS
    assert normalize("Where is the toilet?") not in HALLUCINATIONS
