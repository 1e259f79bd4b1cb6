"""``kiosk-agent run``: the daemon (what systemd starts)."""

from __future__ import annotations

import argparse

HELP = "run the kiosk daemon (microphone, camera, conversation)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``run`` takes only the global options."""


def run(args: argparse.Namespace) -> int:
    """Load the config, set up logging, run until a stage gives up or a signal."""
    from kiosk_agent.config import load_config
    from kiosk_agent.logs import setup_logging

    config = load_config(args.config)
    setup_logging("DEBUG" if args.debug else config.log.level)

    # The guard goes first: before numpy or any vendor package starts threads.
    from kiosk_agent import guard

    guard.harden_environment()
    guard.install_guard_for(config)
    from kiosk_agent.daemon import run_daemon

    return run_daemon(config)
