"""VadSegmenter: utterance boundaries, pre-roll, splitting and speculative revisions.

Unit tests drive the state machine with a scripted gate (booleans per 30 ms frame, no
real audio); integration tests run the real webrtcvad + Silero gate on espeak speech.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from kiosk_agent.config import VadConfig
from kiosk_agent.messages import AudioFrame, Utterance
from kiosk_agent.stages.vad import VadSegmenter
from tests import media

FRAME_MS = 30
FRAME = 480


class ScriptedGate:
    """A gate that answers from a list of booleans, one per frame."""

    def __init__(self, script: list[bool]) -> None:
        self.script = script
        self.calls = 0
        self.resets = 0

    def is_speech(self, frame: AudioFrame) -> bool:
        answer = self.script[self.calls]
        self.calls += 1
        return answer

    def reset(self) -> None:
        self.resets += 1


def frames_for(script: list[bool]) -> list[AudioFrame]:
    """One frame per boolean; sample values encode the frame index for checks."""
    return [
        AudioFrame(samples=np.full(FRAME, i % 30000, dtype=np.int16), start_s=i * 0.03)
        for i in range(len(script))
    ]


def run(
    config: VadConfig, script: list[bool], *, flush: bool = True
) -> list[Utterance]:
    segmenter = VadSegmenter(config, ScriptedGate(script))
    out: list[Utterance] = []
    for frame in frames_for(script):
        out += segmenter.push(frame)
    if flush:
        out += segmenter.flush()
    return out


def ms(duration_ms: int, value: bool) -> list[bool]:
    return [value] * (duration_ms // FRAME_MS)


CONFIG = VadConfig(
    preroll_ms=300, trailing_silence_ms=420, min_speech_ms=150, tentative_after_ms=120
)


def finals(utterances: list[Utterance]) -> list[Utterance]:
    return [u for u in utterances if u.is_final]


def test_silence_gives_no_utterance() -> None:
    assert run(CONFIG, ms(3000, False)) == []


def test_silence_after_speech_ends_utterance_with_preroll() -> None:
    script = ms(900, False) + ms(600, True) + ms(420, False) + ms(600, False)

    out = finals(run(CONFIG, script, flush=False))

    assert len(out) == 1
    utterance = out[0]
    # Speech starts at 0.9 s; 300 ms of pre-roll go before it.
    assert utterance.start_s == pytest.approx(0.6)
    assert utterance.end_s == pytest.approx(0.9 + 0.6 + 0.42)
    assert len(utterance.samples) == round((0.3 + 0.6 + 0.42) * 16000)
    # The first sample is from frame 20, the first pre-roll frame.
    assert utterance.samples[0] == 20


def test_preroll_is_shorter_at_stream_start() -> None:
    out = finals(run(CONFIG, ms(90, False) + ms(600, True) + ms(600, False)))

    assert out[0].start_s == 0.0


def test_trailing_silence_shorter_than_configured_does_not_split() -> None:
    script = ms(300, True) + ms(390, False) + ms(300, True) + ms(600, False)

    out = finals(run(CONFIG, script))

    assert len(out) == 1
    assert out[0].end_s - out[0].start_s == pytest.approx(0.3 + 0.39 + 0.3 + 0.42)


def test_short_burst_is_not_an_utterance() -> None:
    script = ms(600, False) + ms(120, True) + ms(900, False)

    assert run(CONFIG, script) == []


def test_overlong_utterance_is_split_at_max_length() -> None:
    config = dataclasses.replace(CONFIG, max_utterance_s=2.0)
    script = ms(600, False) + ms(5100, True) + ms(600, False)

    out = finals(run(config, script))

    assert len(out) == 3
    assert [u.utterance_id for u in out] == [1, 2, 3]
    assert all(u.end_s - u.start_s <= 2.0 + 1e-9 for u in out)
    # Pieces are contiguous: nothing is lost between them.
    assert out[1].start_s == pytest.approx(out[0].end_s)
    assert out[2].start_s == pytest.approx(out[1].end_s)


def test_flush_ends_utterance_at_end_of_stream() -> None:
    out = run(CONFIG, ms(300, False) + ms(600, True))

    assert [u.is_final for u in out] == [True]
    assert out[0].end_s == pytest.approx(0.9)


def test_reset_drops_utterance_in_progress_and_resets_gate() -> None:
    script = ms(300, False) + ms(600, True)
    gate = ScriptedGate(script)
    segmenter = VadSegmenter(CONFIG, gate)
    for frame in frames_for(script):
        segmenter.push(frame)

    segmenter.reset()

    assert segmenter.flush() == []
    assert gate.resets == 2


def test_tentative_comes_when_trailing_silence_begins() -> None:
    script = ms(300, False) + ms(600, True) + ms(600, False)
    segmenter = VadSegmenter(CONFIG, ScriptedGate(script))
    emitted_at: list[tuple[int, Utterance]] = []
    for index, frame in enumerate(frames_for(script)):
        emitted_at += [(index, u) for u in segmenter.push(frame)]

    (i_tent, tentative), (i_final, final) = emitted_at
    assert not tentative.is_final and final.is_final
    # Tentative after 120 ms of silence (frame 30 is the first silent one).
    assert i_tent == 30 + 4 - 1
    assert i_final == 30 + 14 - 1
    assert (tentative.utterance_id, tentative.revision) == (final.utterance_id, 0)
    assert final.revision == 0
    # The tentative holds the speech so far; the final one adds only silence.
    assert tentative.start_s == final.start_s
    assert tentative.end_s < final.end_s


def test_speech_resuming_after_tentative_raises_revision() -> None:
    script = (
        ms(300, False) + ms(600, True) + ms(180, False) + ms(300, True) + ms(600, False)
    )

    out = run(CONFIG, script)

    assert [(u.is_final, u.revision) for u in out] == [
        (False, 0),
        (False, 1),
        (True, 1),
    ]
    assert len({u.utterance_id for u in out}) == 1


def test_next_utterance_gets_new_id() -> None:
    script = (ms(600, True) + ms(600, False)) * 2

    out = finals(run(CONFIG, script))

    assert [u.utterance_id for u in out] == [1, 2]


def test_segmenter_copies_frames_so_caller_may_wipe_them() -> None:
    script = ms(300, False) + ms(600, True) + ms(600, False)
    segmenter = VadSegmenter(CONFIG, ScriptedGate(script))
    out: list[Utterance] = []
    for frame in frames_for(script):
        out += segmenter.push(frame)
        frame.samples.fill(0)

    assert finals(out)[0].samples[0] == 0  # Frame 0 is the first pre-roll frame.
    assert finals(out)[0].samples[-1] == 10 + 20 + 14 - 1  # The last silent frame.


# Integration: the real gate on espeak speech.


def frames_of(samples: np.ndarray) -> list[AudioFrame]:
    padded = np.concatenate([samples, np.zeros(-len(samples) % FRAME, np.int16)])
    return [
        AudioFrame(samples=padded[i : i + FRAME].copy(), start_s=i / 16000)
        for i in range(0, len(padded), FRAME)
    ]


def segment_real(samples: np.ndarray) -> list[Utterance]:
    from kiosk_agent.providers.vad_engine import SpeechGate

    config = VadConfig()
    segmenter = VadSegmenter(config, SpeechGate(config))
    out: list[Utterance] = []
    for frame in frames_of(samples):
        out += segmenter.push(frame)
    return finals(out + segmenter.flush())


def test_real_gate_finds_each_phrase_with_preroll_before_speech() -> None:
    first = media.speak("Where is the toilet?")
    second = media.speak("I am here for the interview at ten.")
    audio = np.concatenate(
        [media.silence(1.0), first, media.silence(1.0), second, media.silence(1.0)]
    )

    out = segment_real(audio)

    assert len(out) == 2
    onset_s = 1.0 + np.argmax(np.abs(first) > 300) / 16000
    assert out[0].start_s <= onset_s - 0.3 + 0.03
    assert out[0].end_s >= 1.0 + len(first) / 16000 - 0.1


@pytest.mark.parametrize("kind", ["pink", "brown", "fan", "hum"])
def test_real_gate_stays_quiet_in_stationary_noise(kind: str) -> None:
    assert segment_real(media.noise(30.0, kind=kind, dbfs=-30.0)) == []


def test_real_gate_finds_speech_over_noise_10_db_below() -> None:
    speech = np.concatenate([media.silence(0.5), media.speak("Where is the toilet?")])
    speech = np.concatenate([speech, media.silence(1.5)])
    level = 20 * np.log10(np.sqrt(np.mean(speech.astype(float) ** 2)) / 32768)
    noise = media.noise(len(speech) / 16000, kind="pink", dbfs=level - 10)

    out = segment_real(
        np.clip(speech.astype(np.int32) + noise, -32768, 32767).astype(np.int16)
    )

    assert len(out) == 1
