"""``kiosk-agent transcribe FILE.wav``: print each utterance of a WAV file, timed."""

from __future__ import annotations

import argparse
import asyncio
import json

from kiosk_agent.audio_path import load_engine, transcribe_source
from kiosk_agent.config import load_config
from kiosk_agent.messages import Transcript
from kiosk_agent.providers.audio_device import WavFileSource

HELP = "transcribe a WAV file on the device (nothing is stored)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``transcribe``."""
    parser.add_argument(
        "file", metavar="FILE.wav", help="PCM WAV, any rate, mono or stereo"
    )
    parser.add_argument(
        "--json", action="store_true", help="JSON lines: start_s, end_s, text"
    )
    parser.add_argument(
        "--realtime", action="store_true", help="feed the audio at the speed of speech"
    )


def run(args: argparse.Namespace) -> int:
    """Read the file and print one line per utterance; an error is one line (exit 1)."""
    config = load_config(args.config)
    source = WavFileSource(
        args.file, realtime=args.realtime, frame_ms=config.audio.frame_ms
    )
    try:
        engine = load_engine(config)
    except BaseException:
        source.close()
        raise

    async def main() -> None:
        async for transcript in transcribe_source(
            source, config, engine, lossless=not args.realtime
        ):
            print(format_transcript(transcript, as_json=args.json), flush=True)

    asyncio.run(main())
    return 0


def format_transcript(transcript: Transcript, *, as_json: bool) -> str:
    """One output line: ``start end  text`` or a JSON object."""
    if as_json:
        return json.dumps(
            {
                "start_s": round(transcript.start_s, 2),
                "end_s": round(transcript.end_s, 2),
                "text": transcript.text,
            },
            ensure_ascii=False,
        )
    return f"{transcript.start_s:7.2f} {transcript.end_s:7.2f}  {transcript.text}"
