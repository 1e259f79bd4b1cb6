"""``kiosk-agent presence``: print presence events from a video file or a camera.

A technician checks the camera with ``--camera 0`` (Ctrl-C ends it); tests and demos
drive the same daemon loop with ``--video FILE``. Frames stay in memory and are wiped
after use, as in the daemon; only events are printed.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import sys

from kiosk_agent.config import Config, load_config
from kiosk_agent.messages import PresenceEvent

HELP = "print visitor_arrived / visitor_left events from a video file or a camera"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``presence``."""
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--video", metavar="FILE", help="a video file to analyse")
    source.add_argument(
        "--camera", metavar="N", help="a camera index or /dev/video path (Ctrl-C ends)"
    )
    parser.add_argument("--json", action="store_true", help="one JSON object per event")
    parser.add_argument(
        "--realtime",
        action="store_true",
        help="pace the video like a camera instead of reading it as fast as possible",
    )


def run(args: argparse.Namespace) -> int:
    """Run the presence loop until the video ends or Ctrl-C; print each event."""
    config = load_config(args.config)
    try:
        asyncio.run(_watch(args, config))
    except KeyboardInterrupt:
        print("presence: stopped", file=sys.stderr)
    return 0


async def _watch(args: argparse.Namespace, config: Config) -> None:
    # Vendor-backed providers are imported here, when the command runs.
    from kiosk_agent.providers.camera import CameraSource, VideoFileSource
    from kiosk_agent.providers.face_detector import HaarFaceDetector
    from kiosk_agent.stages.presence import PresenceStage, run_presence

    source: CameraSource | VideoFileSource
    if args.video is not None:
        source = VideoFileSource(args.video, realtime=args.realtime)
    else:
        camera = dataclasses.replace(config.camera, device=str(args.camera))
        source = CameraSource(camera)
        source.open()
    stage = PresenceStage(config.presence, HaarFaceDetector())
    events: asyncio.Queue[PresenceEvent] = asyncio.Queue(maxsize=16)
    shown = [source.state]

    def show_state() -> None:
        # Runs on the worker after a read without a frame: tell the technician once
        # per change (the camera was unplugged, or came back).
        if source.state is not shown[0]:
            shown[0] = source.state
            print(f"presence: source {source.state.value}", file=sys.stderr, flush=True)

    on_idle = show_state if args.camera is not None else None
    runner = asyncio.create_task(
        run_presence(source, stage, events, on_idle=on_idle), name="presence"
    )
    printer = asyncio.create_task(_print_events(events, as_json=args.json))
    try:
        await runner
        await events.join()
    finally:
        printer.cancel()
        runner.cancel()


async def _print_events(events: asyncio.Queue[PresenceEvent], *, as_json: bool) -> None:
    while True:
        event = await events.get()
        if as_json:
            line = json.dumps(
                {
                    "event": event.kind.value,
                    "t_s": round(event.t_s, 3),
                    "confidence": round(event.confidence, 3),
                }
            )
        else:
            line = (
                f"{event.t_s:8.2f} s  {event.kind.value:<16} "
                f"confidence {event.confidence:.2f}"
            )
        print(line, flush=True)
        events.task_done()
