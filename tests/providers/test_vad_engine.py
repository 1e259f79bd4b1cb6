"""VAD engines: webrtcvad alone is fooled by stationary noise, Silero decides."""

from __future__ import annotations

import numpy as np
import pytest

from kiosk_agent.config import VadConfig
from kiosk_agent.messages import AudioFrame
from kiosk_agent.providers.vad_engine import SileroModel, SpeechGate, WebrtcGate
from tests import media


def frames(samples: np.ndarray) -> list[AudioFrame]:
    return [
        AudioFrame(samples=samples[i : i + 480], start_s=i / 16000)
        for i in range(0, len(samples) - 479, 480)
    ]


@pytest.mark.parametrize("kind", ["fan", "hum"])
def test_webrtcvad_alone_stays_on_in_noise_but_the_gate_does_not(kind: str) -> None:
    noise = frames(media.noise(10.0, kind=kind, dbfs=-30.0))
    webrtc, gate = WebrtcGate(2), SpeechGate(VadConfig())

    webrtc_share = np.mean([webrtc.is_speech(f) for f in noise])
    gate_share = np.mean([gate.is_speech(f) for f in noise])

    assert webrtc_share > 0.9
    assert gate_share == 0.0


def test_gate_is_on_for_speech_and_off_in_the_silence_before_it() -> None:
    speech = np.concatenate([media.silence(0.3), media.speak("Where is the toilet?")])
    gate = SpeechGate(VadConfig())

    decisions = [gate.is_speech(f) for f in frames(speech)]

    assert 0.3 < np.mean(decisions) < 0.95
    assert not any(decisions[:8])  # The leading silence.


def test_silero_gives_one_probability_per_512_samples_in_any_framing() -> None:
    model = SileroModel()
    speech = media.speak("Hello")

    whole = model.push(speech)
    model.reset()
    pieces = [
        p for i in range(0, len(speech), 480) for p in model.push(speech[i : i + 480])
    ]

    assert len(whole) == len(speech) // 512
    assert np.allclose(whole, pieces, atol=1e-5)
    assert max(whole) > 0.8
