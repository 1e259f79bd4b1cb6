"""``kiosk-agent config check``: validate the configuration with the daemon's code."""

from __future__ import annotations

import argparse
import json

from kiosk_agent.config import load_config
from kiosk_agent.scenario import load_scenario

HELP = "check the configuration file"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``config``."""
    parser.add_argument("action", choices=("check",), help="what to do")
    parser.add_argument("--json", action="store_true", help="machine-readable output")


def run(args: argparse.Namespace) -> int:
    """Validate the config and its scenario; a bad one raises ConfigError (exit 2)."""
    config = load_config(args.config)
    scenario = config.dialog.scenario
    path = config.resolve_path(scenario) if scenario else None
    load_scenario(path)
    shown = str(path) if path else "bundled scenario"
    if args.json:
        print(json.dumps({"ok": True, "config": config.source, "scenario": shown}))
    else:
        print(f"ok: {config.source}, {shown}")
    return 0
