"""Wiring of the audio path from config: source -> VAD -> ASR, for CLI and daemon."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

from kiosk_agent.config import Config
from kiosk_agent.messages import Transcript
from kiosk_agent.providers.vad_engine import SpeechGate
from kiosk_agent.providers.whisper_engine import WhisperEngine
from kiosk_agent.stages.asr import AsrStage, transcribe_stream
from kiosk_agent.stages.capture import AudioSource, CaptureStage, queue_frames
from kiosk_agent.stages.vad import VadSegmenter


def load_engine(config: Config) -> WhisperEngine:
    """The Whisper engine, with ``asr.model_path`` taken relative to the config file."""
    asr = config.asr
    if asr.model_path:
        asr = dataclasses.replace(
            asr, model_path=str(config.resolve_path(asr.model_path))
        )
    return WhisperEngine(asr)


def build_segmenter(config: Config) -> VadSegmenter:
    """A VAD segmenter with the webrtcvad + Silero gate."""
    return VadSegmenter(config.vad, SpeechGate(config.vad))


async def transcribe_source(
    source: AudioSource, config: Config, engine: WhisperEngine, *, lossless: bool
) -> AsyncIterator[Transcript]:
    """Transcripts of one source until it ends (or the consumer stops iterating).

    Args:
        lossless: wait for the pipeline instead of dropping frames (files read as fast
            as possible); False for a live microphone.
    """
    capture = CaptureStage(
        source, max_frames=queue_frames(config.audio), lossless=lossless
    )
    asr = AsrStage(engine, config.asr)
    try:
        async for transcript in transcribe_stream(
            capture.frames(), build_segmenter(config), asr
        ):
            yield transcript
    finally:
        capture.stop()
        asr.close()
