"""``kiosk-agent listen``: a live transcript from the microphone, for technicians."""

from __future__ import annotations

import argparse
import asyncio
import sys

from kiosk_agent.audio_path import load_engine, transcribe_source
from kiosk_agent.commands.transcribe import format_transcript
from kiosk_agent.config import load_config
from kiosk_agent.providers.audio_device import MicrophoneSource

HELP = "show a live transcript from the microphone (Ctrl-C ends; nothing is stored)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``listen``."""
    parser.add_argument(
        "--json", action="store_true", help="JSON lines: start_s, end_s, text"
    )


def run(args: argparse.Namespace) -> int:
    """Open the microphone from ``[audio]`` and print each utterance until Ctrl-C."""
    config = load_config(args.config)
    # Load the model before opening the microphone: frames arriving during the load
    # would overflow the device buffer.
    engine = load_engine(config)
    source = MicrophoneSource(config.audio)
    if not args.json:
        print("listening; Ctrl-C ends", file=sys.stderr, flush=True)

    async def main() -> None:
        async for transcript in transcribe_source(
            source, config, engine, lossless=False
        ):
            print(format_transcript(transcript, as_json=args.json), flush=True)

    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
    finally:
        source.close()
    return 0
