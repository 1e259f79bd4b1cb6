"""``kiosk-agent demo``: a scripted visit made in memory, through the real pipeline.

A face (the astronaut image shipped in kiosk_agent/data) appears before a synthetic
room and the real presence detector notices it; the visitor's questions are spoken by
the kiosk's own TTS engine at 16 kHz and go through the real VAD, speech recognition,
pseudonymizer, the configured LLM providers (the offline local responder when no API
key is set), re-identification and TTS into an in-memory sink. Employees come from a
small fictional directory in kiosk_agent/data; calls are dry runs. Nothing is written.

The demo runs on the technician's terminal, so it shows what the visitor said and what
the kiosk answered; what would leave the device is shown as the redacted text sent.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Final

HELP = "a scripted visit through the real pipeline, offline, in memory"

DATA: Final = Path(__file__).resolve().parent.parent / "data"
VISITOR_LINES: Final = (
    "Good morning. Where can I park my car?",
    "Thank you. I am here to see Martin Kraus.",
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``demo``."""
    parser.add_argument(
        "--say",
        action="append",
        metavar="TEXT",
        help="what the visitor says (repeat for several turns)",
    )


def run(args: argparse.Namespace) -> int:
    """Install the write guard (nothing may be written), then play the visit."""
    from kiosk_agent import guard
    from kiosk_agent.config import load_config
    from kiosk_agent.logs import setup_logging

    config = load_config(args.config)
    setup_logging("DEBUG" if args.debug else "ERROR")
    if config.privacy.guard:
        guard.harden_environment()
        guard.install_guard([], landlock=config.privacy.landlock)

    import asyncio

    return asyncio.run(play_demo(config, tuple(args.say or VISITOR_LINES)))


async def play_demo(config: Any, lines: tuple[str, ...], out: Any = None) -> int:
    """Play the scripted visit and print it; returns the exit code."""
    import time

    from kiosk_agent.audio_path import build_segmenter, load_engine
    from kiosk_agent.daemon import DryRunTelephony, build_kiosk
    from kiosk_agent.directory import Directory, load_directory
    from kiosk_agent.messages import PresenceKind
    from kiosk_agent.providers.tts_engine import EspeakEngine, MemorySink
    from kiosk_agent.replay import Replay
    from kiosk_agent.stages.transcript_sink import TranscriptSink

    out = out or sys.stdout
    started = time.monotonic()
    show = _Show(out)
    show.line("kiosk-agent demo: a scripted visit, offline, nothing written to disk")
    directory = Directory(load_directory(DATA / "demo_directory.json"))
    store = _MemoryStore()
    sink = MemorySink()
    kiosk = build_kiosk(
        config,
        directory=directory,
        output=sink,
        telephony=DryRunTelephony(),
        transcripts=TranscriptSink(store, _NoPlatform(), kiosk_id="demo"),
        on_event=show.event,
        on_local=show.local,
    )
    engine = load_engine(config)
    show.line(f"  speech model loaded in {time.monotonic() - started:.1f} s")

    voice = EspeakEngine(config.tts)
    rate_hz = config.audio.sample_rate_hz
    pieces = [_silence(1.0, rate_hz)] + [
        _join(voice.synthesize_all(text, "en", rate_hz), _silence(1.0, rate_hz))
        for text in lines
    ]
    presence = _presence(config)
    if not any(e.kind is PresenceKind.ARRIVED for e in presence):
        show.line("  the face detector did not see the face; the visit starts anyway")
        presence = []
    try:
        replay = Replay(kiosk, sink, engine, build_segmenter(config))
        stats = await replay.run(pieces, presence or None)
    finally:
        await kiosk.aclose()
        sink.wipe()
    show.line(
        f"transcript kept for the chatbot platform: {store.turns} pseudonymized "
        f"turns (in memory here)"
    )
    show.line(f"done: {stats.turns} turns in {time.monotonic() - started:.1f} s")
    return 0


def _presence(config: Any) -> list[Any]:
    """Presence events from generated frames: an empty room, the face, empty again."""
    import numpy as np

    from kiosk_agent.messages import PresenceEvent, VideoFrame
    from kiosk_agent.providers.camera import read_image
    from kiosk_agent.providers.face_detector import HaarFaceDetector
    from kiosk_agent.stages.presence import PresenceStage

    face = read_image(DATA / "demo_face.jpg", width_px=240, height_px=240)
    if face is None:
        return []
    y, x = np.mgrid[0:480, 0:640]
    room = np.stack([x * 0.2 + 60, y * 0.25 + 70, x * 0.1 + y * 0.1 + 80], axis=-1)
    room = room.astype(np.uint8)
    stage = PresenceStage(config.presence, HaarFaceDetector())
    events: list[PresenceEvent] = []
    # The face is there from 0.2 s; it leaves "later", after the conversation.
    times = [i / 10 for i in range(10)] + [1e6 + i / 2 for i in range(40)]
    for t_s in times:
        image = room.copy()
        if 0.2 <= t_s < 1e6:
            image[140:380, 200:440] = face
        event = stage.check(VideoFrame(image=image, t_s=t_s))
        if event is not None:
            events.append(event)
    stage.close()
    return events


def _silence(duration_s: float, rate_hz: int) -> Any:
    import numpy as np

    return np.zeros(int(duration_s * rate_hz), np.int16)


def _join(*parts: Any) -> Any:
    import numpy as np

    return np.concatenate(parts)


class _MemoryStore:
    """A TranscriptStore in memory: the demo writes nothing."""

    def __init__(self) -> None:
        self.turns = 0

    def put(self, key: str, payload: bytes) -> None:
        import json

        self.turns += len(json.loads(payload)["turns"])

    def oldest(self) -> tuple[str, bytes] | None:
        return None

    def remove(self, key: str) -> None:
        return None

    def reject(self, key: str) -> None:
        return None


class _NoPlatform:
    async def deliver(self, key: str, payload: bytes) -> None:
        return None


class _Show:
    """Prints the conversation readably."""

    def __init__(self, out: Any) -> None:
        self._out = out

    def line(self, text: str) -> None:
        print(text, file=self._out, flush=True)

    def local(self, name: str, fields: dict[str, Any]) -> None:
        if name == "heard":
            self.line(f"visitor:  {fields['text']}")
        elif name == "spoken":
            self.line(f"kiosk:    {fields['text']}")

    def event(self, name: str, fields: dict[str, Any]) -> None:
        if name == "arrival":
            self.line("[camera]  a face appears: visitor_arrived, session opened")
        elif name == "departure":
            self.line("[camera]  the visitor left: visitor_left, session wiped")
        elif name == "utterance":
            self.line(f"  what the cloud would get (redacted): {fields['text']}")
        elif name == "provider":
            skipped = ", ".join(
                f"{a['provider']}: {a['error_code'] or a['outcome']}"
                for a in fields["attempts"]
                if a["provider"] != fields["provider"]
            )
            self.line(
                f"  answered by: {fields['provider']}"
                + (f" ({skipped})" if skipped else "")
            )
        elif name == "filler":
            self.line("  (first token late: local filler spoken)")
        elif name == "call_outcome":
            self.line(
                f"  call {fields['employee']}: {fields['outcome']} "
                "(dry run, no phone rang; telephony would get the number only)"
            )
        elif name == "latency":
            parts = [
                f"{k.removesuffix('_ms')} {v:.0f}"
                for k, v in fields.items()
                if k != "turn"
            ]
            self.line(
                f"  latency turn {fields['turn']} (ms after end of utterance): "
                + ", ".join(parts)
            )
