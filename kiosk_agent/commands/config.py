"""``kiosk-agent config check``: validate the configuration with the daemon's code."""

from __future__ import annotations

import argparse
import json

from kiosk_agent.config import load_config

HELP = "check the configuration file"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``config``."""
    parser.add_argument("action", choices=("check",), help="what to do")
    parser.add_argument("--json", action="store_true", help="machine-readable output")


def run(args: argparse.Namespace) -> int:
    """Load and validate the config; a bad one raises ConfigError (exit 2)."""
    config = load_config(args.config)
    if args.json:
        print(json.dumps({"ok": True, "config": config.source}))
    else:
        print(f"ok: {config.source}")
    return 0
