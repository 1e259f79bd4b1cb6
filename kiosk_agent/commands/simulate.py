"""``kiosk-agent simulate``: one visit from files through the whole pipeline.

The audio file plays the visitor (VAD, on-device ASR, pseudonymizer), the configured
LLM endpoints answer, re-identification and TTS run into an in-memory sink, and the
anonymous transcript goes to the outbox and, when ``[transcripts] url`` is set, one
delivery to the chatbot platform is tried, as on the kiosk. Calls are dry runs unless
``--place-calls``. Output shows only what may leave the device: the redacted
text as sent, the pseudonymized reply, providers, calls by pseudonym, latencies.

Nothing but the outbox is written: the write guard is installed first (see guard.py),
before numpy or any model is imported.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

HELP = "replay one visit from a WAV (and video) file through the full pipeline"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``simulate``."""
    parser.add_argument(
        "--audio",
        required=True,
        metavar="WAV",
        help="the visitor's speech, 16-bit PCM WAV",
    )
    parser.add_argument(
        "--video",
        metavar="FILE",
        help="camera video; without it the visitor is there throughout",
    )
    parser.add_argument("--json", action="store_true", help="one JSON event per line")
    parser.add_argument(
        "--place-calls",
        action="store_true",
        help="really ring employees through [telephony] url",
    )


def run(args: argparse.Namespace) -> int:
    """Install the guard, then replay the visit."""
    from kiosk_agent import guard
    from kiosk_agent.config import load_config
    from kiosk_agent.logs import setup_logging

    config = load_config(args.config)
    setup_logging("DEBUG" if args.debug else "ERROR")
    guard.harden_environment()
    guard.install_guard_for(config)

    import asyncio

    return asyncio.run(_simulate(args, config))


async def _simulate(args: argparse.Namespace, config: Any) -> int:
    from kiosk_agent.audio_path import build_segmenter, load_engine
    from kiosk_agent.daemon import DryRunTelephony, build_kiosk
    from kiosk_agent.directory import open_directory
    from kiosk_agent.outbox import Outbox, outbox_folder
    from kiosk_agent.providers.audio_device import read_wav
    from kiosk_agent.providers.tts_engine import MemorySink
    from kiosk_agent.replay import Replay
    from kiosk_agent.stages.transcript_sink import TranscriptSink

    samples = read_wav(Path(args.audio))
    presence = _presence_from_video(args.video, config) if args.video else None
    directory, _source = open_directory(config)
    printer = _Printer(as_json=args.json)
    sink = MemorySink()
    outbox = Outbox(
        outbox_folder(config.transcripts), max_items=config.transcripts.outbox_max
    )
    transcripts = TranscriptSink(
        outbox, _platform(config), kiosk_id=config.transcripts.kiosk_id or "simulate"
    )
    kiosk = build_kiosk(
        config,
        directory=directory,
        output=sink,
        telephony=_telephony(args, config) or DryRunTelephony(),
        transcripts=transcripts,
        on_event=printer.event,
    )
    try:
        replay = Replay(kiosk, sink, load_engine(config), build_segmenter(config))
        stats = await replay.run([samples], presence)
    finally:
        await kiosk.aclose()
        sink.wipe()
    if config.transcripts.url:
        # One delivery attempt, as the daemon makes after a visit; what the platform
        # does not take waits in the outbox for the daemon.
        is_delivered = await transcripts.deliver_pending()
        printer.event("transcript_delivery", {"is_delivered": is_delivered})
    printer.event(
        "summary",
        {
            "turns": stats.turns,
            "audio_s": round(stats.audio_s, 2),
            "muted_frames": stats.muted_frames,
            "outbox_pending": len(outbox),
        },
    )
    return 0


def _telephony(args: argparse.Namespace, config: Any) -> Any:
    if not args.place_calls:
        return None
    from kiosk_agent.config import read_secret
    from kiosk_agent.errors import ConfigError
    from kiosk_agent.providers.telephony_http import HttpTelephony

    if not config.telephony.url:
        raise ConfigError("config-invalid", "--place-calls needs [telephony] url")
    return HttpTelephony(
        config.telephony.url,
        token=read_secret("telephony-token", "KIOSK_TELEPHONY_TOKEN"),
        timeout_s=config.telephony.timeout_s,
    )


def _presence_from_video(path: str, config: Any) -> list[Any]:
    """Presence events of a video file, computed up front (stream time)."""
    from kiosk_agent.messages import PresenceEvent, PresenceKind
    from kiosk_agent.providers.camera import VideoFileSource
    from kiosk_agent.providers.face_detector import HaarFaceDetector
    from kiosk_agent.stages.presence import PresenceStage

    source = VideoFileSource(path)
    stage = PresenceStage(config.presence, HaarFaceDetector())
    events: list[PresenceEvent] = []
    last_s = 0.0
    try:
        while (frame := source.read()) is not None:
            last_s = frame.t_s
            event = stage.check(frame)
            if event is not None:
                events.append(event)
    finally:
        source.close()
        stage.close()
    if events and events[-1].kind is PresenceKind.ARRIVED:
        events.append(PresenceEvent(kind=PresenceKind.LEFT, t_s=last_s, confidence=1.0))
    return events


def _platform(config: Any) -> Any:
    """The chatbot platform of ``[transcripts] url``, else one that takes nothing."""
    if not config.transcripts.url:
        return _NoPlatform()
    from kiosk_agent.config import read_secret
    from kiosk_agent.providers.transcripts_http import HttpTranscriptPlatform

    return HttpTranscriptPlatform(
        config.transcripts.url,
        token=read_secret("transcripts-token", "KIOSK_TRANSCRIPTS_TOKEN"),
        timeout_s=config.transcripts.timeout_s,
    )


class _NoPlatform:
    """Without ``[transcripts] url`` simulate only stores transcripts in the outbox."""

    async def deliver(self, key: str, payload: bytes) -> None:
        return None


class _Printer:
    """Prints the privacy-safe events: JSON lines or short readable lines."""

    def __init__(self, *, as_json: bool) -> None:
        self._json = as_json

    def event(self, name: str, fields: dict[str, Any]) -> None:
        if self._json:
            print(json.dumps({"event": name, **fields}, ensure_ascii=False), flush=True)
            return
        if name == "utterance":
            line = f"visitor (sent, redacted): {fields['text']}"
        elif name == "reply":
            line = f"kiosk (pseudonymized):    {fields['text']}"
        elif name == "latency":
            line = "latency: " + ", ".join(
                f"{k.removesuffix('_ms')} {v:.0f} ms"
                for k, v in fields.items()
                if k != "turn"
            )
        else:
            shown = ", ".join(f"{k}={v}" for k, v in fields.items() if k != "attempts")
            line = f"{name}: {shown}"
        print(line, file=sys.stdout, flush=True)
