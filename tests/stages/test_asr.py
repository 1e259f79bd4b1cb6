"""AsrStage: speculative reuse and discard with a fake engine; the whole audio path with
the real webrtcvad + Silero gate and tiny.en on espeak speech."""

from __future__ import annotations

import asyncio
import dataclasses
import re
import threading
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pytest

from kiosk_agent.config import AsrConfig, VadConfig
from kiosk_agent.messages import Segment, Transcript, Utterance
from kiosk_agent.providers.audio_device import ArraySource
from kiosk_agent.providers.vad_engine import SpeechGate
from kiosk_agent.providers.whisper_engine import WhisperEngine
from kiosk_agent.stages.asr import AsrStage, transcribe_stream
from kiosk_agent.stages.capture import CaptureStage
from kiosk_agent.stages.vad import VadSegmenter
from tests import media

TIMEOUT_S = 2.0


class FakeEngine:
    """Answers "samples N" for an utterance of N samples; can be held in a call."""

    def __init__(self, *, text: str | None = None) -> None:
        self.calls: list[int] = []
        self.release = threading.Event()
        self.release.set()
        self.started = threading.Event()
        self.text = text

    def transcribe(
        self, audio: npt.NDArray[np.float32]
    ) -> tuple[Sequence[Segment], str]:
        self.calls.append(len(audio))
        self.started.set()
        assert self.release.wait(TIMEOUT_S)
        text = f"samples {len(audio)}" if self.text is None else self.text
        segments = (
            [Segment(start_s=0.0, end_s=len(audio) / 16000, text=text)] if text else []
        )
        return segments, "en"


def utterance(n: int, *, rev: int = 0, final: bool = True, uid: int = 1) -> Utterance:
    return Utterance(
        samples=np.ones(n, dtype=np.int16),
        start_s=1.0,
        end_s=1.0 + n / 16000,
        utterance_id=uid,
        revision=rev,
        is_final=final,
    )


async def on(stage: AsrStage, u: Utterance) -> Transcript | None:
    async with asyncio.timeout(TIMEOUT_S):
        return await stage.on_utterance(u)


async def test_final_reuses_speculative_result_when_nothing_followed() -> None:
    engine = FakeEngine()
    stage = AsrStage(engine, AsrConfig())

    assert await on(stage, utterance(1600, final=False)) is None
    result = await on(stage, utterance(3200, final=True))

    assert result is not None and result.text == "samples 1600"
    assert result.end_s == 1.0 + 3200 / 16000  # The final utterance's end.
    assert engine.calls == [1600]
    assert (stage.stats.reused, stage.stats.discarded) == (1, 0)
    stage.close()


async def test_speculative_result_is_discarded_when_speech_resumes() -> None:
    engine = FakeEngine()
    engine.release.clear()
    stage = AsrStage(engine, AsrConfig())

    await on(stage, utterance(1600, rev=0, final=False))
    assert await asyncio.to_thread(engine.started.wait, TIMEOUT_S)
    await on(stage, utterance(4800, rev=1, final=False))
    engine.release.set()
    result = await on(stage, utterance(6400, rev=1, final=True))

    assert result is not None and result.text == "samples 4800"
    assert engine.calls == [1600, 4800]
    assert (stage.stats.reused, stage.stats.discarded) == (1, 1)
    stage.close()


async def test_final_with_new_revision_is_decoded_afresh() -> None:
    engine = FakeEngine()
    stage = AsrStage(engine, AsrConfig())

    await on(stage, utterance(1600, rev=0, final=False))
    result = await on(stage, utterance(8000, rev=1, final=True))

    assert result is not None and result.text == "samples 8000"
    assert stage.stats.reused == 0
    stage.close()


async def test_speculation_off_decodes_only_final_utterances() -> None:
    engine = FakeEngine()
    stage = AsrStage(engine, dataclasses.replace(AsrConfig(), speculative=False))

    await on(stage, utterance(1600, final=False))
    result = await on(stage, utterance(3200, final=True))

    assert result is not None and result.text == "samples 3200"
    assert engine.calls == [3200]
    stage.close()


async def test_transcript_carries_utterance_times_and_id() -> None:
    stage = AsrStage(FakeEngine(), AsrConfig())

    result = await on(stage, utterance(16000, uid=7))

    assert result is not None
    assert (result.utterance_id, result.start_s, result.end_s) == (7, 1.0, 2.0)
    assert result.segments[0].start_s == 1.0
    stage.close()


async def test_no_text_gives_no_transcript() -> None:
    stage = AsrStage(FakeEngine(text=""), AsrConfig())

    assert await on(stage, utterance(1600)) is None
    stage.close()


async def test_utterance_samples_are_wiped_after_decoding() -> None:
    stage = AsrStage(FakeEngine(), AsrConfig())
    tentative, final = utterance(1600, final=False), utterance(3200)

    await on(stage, tentative)
    await on(stage, final)

    assert not tentative.samples.any() and not final.samples.any()
    stage.close()


# Integration: frames -> webrtcvad + Silero -> tiny.en, on espeak speech.

PHRASES = [
    ("Hello, I have a meeting with Peter Novak.", ["hello", "meeting", "peter"]),
    ("Where is the toilet?", ["where", "toilet"]),
    ("I am here for the interview at ten.", ["here", "ten"]),
    (
        "Good morning, I would like to see the reception manager.",
        ["morning", "reception"],
    ),
    ("I have a package for the accounting department.", ["package", "accounting"]),
    ("Is there a place where I can wait?", ["place", "wait"]),
    ("My name is Tom Baker and I am a visitor.", ["name", "visitor"]),
    ("Could you tell me where the meeting room is?", ["meeting", "room"]),
    ("I am looking for the human resources office.", ["human", "resources", "office"]),
    ("Hello, can I get a visitor badge?", ["hello", "visitor", "badge"]),
    ("Where can I park my car?", ["park", "car"]),
]
NUMBERS = {"10": "ten", "2": "two", "3": "three"}


def words(text: str) -> list[str]:
    tokens = re.sub(r"[^\w\s']", " ", text.lower()).split()
    return [NUMBERS.get(token, token) for token in tokens]


def wer(reference: str, hypothesis: str) -> float:
    ref, hyp = words(reference), words(hypothesis)
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        prev, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (r != h))
    return row[-1] / len(ref)


async def transcribe(
    engine: WhisperEngine,
    samples: np.ndarray,
    *,
    vad: VadConfig | None = None,
    stage: AsrStage | None = None,
) -> list[Transcript]:
    config = vad or VadConfig()
    asr = stage or AsrStage(engine, AsrConfig())
    capture = CaptureStage(ArraySource(samples), max_frames=64, lossless=True)
    segmenter = VadSegmenter(config, SpeechGate(config))
    try:
        async with asyncio.timeout(30):
            return [
                t async for t in transcribe_stream(capture.frames(), segmenter, asr)
            ]
    finally:
        if stage is None:
            asr.close()


def padded(samples: np.ndarray) -> np.ndarray:
    return np.concatenate([media.silence(0.5), samples, media.silence(1.0)])


async def test_kiosk_phrases_are_transcribed_within_wer_bound(
    whisper_engine: WhisperEngine,
) -> None:
    errors, missing = [], []
    for phrase, keys in PHRASES:
        out = await transcribe(whisper_engine, padded(media.speak(phrase)))
        heard = " ".join(t.text for t in out)
        errors.append(wer(phrase, heard))
        missing += [(phrase, k) for k in keys if k not in words(heard)]

    # tiny.en on espeak-ng is imperfect (names, "interview"); a broken path scores ~1.
    assert float(np.mean(errors)) < 0.2, errors
    assert max(errors) < 0.5, errors
    assert len(missing) <= 2, missing


async def test_preroll_keeps_the_first_word(whisper_engine: WhisperEngine) -> None:
    out = await transcribe(
        whisper_engine, padded(media.speak("Hello, where is the toilet?"))
    )

    assert len(out) == 1
    assert words(out[0].text)[0] == "hello"


async def test_pause_between_phrases_gives_two_transcripts(
    whisper_engine: WhisperEngine,
) -> None:
    audio = np.concatenate(
        [
            media.speak("Where is the toilet?"),
            media.silence(1.0),
            media.speak("Where can I park my car?"),
        ]
    )
    stage = AsrStage(whisper_engine, AsrConfig())

    out = await transcribe(whisper_engine, padded(audio), stage=stage)

    assert ["toilet" in words(out[0].text), "car" in words(out[1].text)] == [True, True]
    assert out[0].end_s < out[1].start_s
    # Both finals were answered by their speculative decoding.
    assert stage.stats.reused == 2
    stage.close()


async def test_overlong_speech_is_split_into_several_transcripts(
    whisper_engine: WhisperEngine,
) -> None:
    speech = media.speak(
        "I am here for the interview at ten and I have a package for the accounting "
        "department and I am looking for the human resources office"
    )
    vad = dataclasses.replace(VadConfig(), max_utterance_s=3.0)

    out = await transcribe(whisper_engine, padded(speech), vad=vad)

    assert len(out) >= len(speech) / 16000 // 3
    assert all(t.end_s - t.start_s <= 3.0 + 1e-6 for t in out)
    assert "accounting" in words(" ".join(t.text for t in out))


@pytest.mark.parametrize("kind", ["pink", "brown", "fan", "hum"])
async def test_noise_gives_no_transcript(
    whisper_engine: WhisperEngine, kind: str
) -> None:
    assert await transcribe(whisper_engine, media.noise(30.0, kind=kind)) == []


async def test_silence_gives_no_transcript(whisper_engine: WhisperEngine) -> None:
    assert await transcribe(whisper_engine, media.silence(10.0)) == []
