"""``kiosk-agent status``: what a technician needs to know at a glance."""

from __future__ import annotations

import argparse
import glob
import json
from pathlib import Path
from typing import Any, Final

HELP = "show configuration, model, directory, outbox and device status"

LIMITATIONS: Final = (
    "no echo cancellation or barge-in: the microphone is muted while the avatar speaks",
    "the embedded speech model (tiny.en) understands English only",
    "the voice is espeak-ng: intelligible, robotic",
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``status``."""
    parser.add_argument("--json", action="store_true", help="machine-readable output")


def run(args: argparse.Namespace) -> int:
    """Collect and print the status; exit 1 when something blocks the kiosk."""
    from kiosk_agent.config import load_config

    config = load_config(args.config)
    report: dict[str, Any] = {"config": config.source, "config_ok": True}
    report["model"] = _model(config)
    report["directory"] = _directory(config)
    report["outbox"] = _outbox(config)
    report["camera"] = sorted(glob.glob("/dev/video*"))
    report["microphones"] = _microphones()
    report["limitations"] = list(LIMITATIONS)
    is_ok = report["model"]["present"] and "error" not in report["directory"]
    if args.json:
        print(json.dumps({"ok": is_ok, **report}, ensure_ascii=False))
    else:
        for key, value in report.items():
            if key == "limitations":
                print("known limitations:")
                for item in value:
                    print(f"  - {item}")
            else:
                print(f"{key}: {value}")
    return 0 if is_ok else 1


def _model(config: Any) -> dict[str, Any]:
    if config.asr.model_path:
        path = config.resolve_path(config.asr.model_path)
    else:
        try:
            from kiosk_agent.providers.whisper_engine import default_model_path

            path = default_model_path()
        except ImportError:
            return {"path": "", "present": False}
    return {"path": str(path), "present": (Path(path) / "model.bin").is_file()}


def _directory(config: Any) -> dict[str, Any]:
    from kiosk_agent.errors import KioskError

    if not config.directory.path:
        return {"source": config.directory.url or "", "employees": None}
    try:
        from kiosk_agent.directory import load_directory

        employees = load_directory(
            config.resolve_path(config.directory.path),
            region=config.directory.default_region,
        )
    except KioskError as err:
        return {"source": config.directory.path, "error": str(err)}
    return {"source": config.directory.path, "employees": len(employees)}


def _outbox(config: Any) -> dict[str, Any]:
    from kiosk_agent.outbox import outbox_folder, read_outbox_stats

    folder = outbox_folder(config.transcripts)
    try:
        stats = read_outbox_stats(folder)
    except OSError as err:
        return {"folder": str(folder), "error": err.strerror}
    return {
        "folder": str(folder),
        "pending": stats.pending,
        "dropped": stats.dropped,
        "rejected": stats.rejected,
    }


def _microphones() -> int | str:
    import os

    if not os.path.exists("/dev/snd"):
        return 0
    return len(
        [n for n in os.listdir("/dev/snd") if n.startswith("pcm") and n.endswith("c")]
    )
