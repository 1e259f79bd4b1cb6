"""Technician CLI: ``kiosk-agent <command>``; one entry point, one module per command.

Each command lives in ``kiosk_agent/commands/<name>.py`` and defines ``HELP`` (one
line), ``add_arguments(parser)`` and ``run(args) -> int``; vendor packages are imported
inside ``run``, so building the parser stays cheap. Commands that handle visitors'
speech or images (run, demo, simulate) are put under the write guard first.
Exit codes: 0 ok, 1 failure, 2 usage or configuration.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import Final

from kiosk_agent.errors import ConfigError, KioskError

COMMANDS: Final = (
    "run",
    "demo",
    "simulate",
    "transcribe",
    "listen",
    "presence",
    "anonymize",
    "directory",
    "config",
    "status",
)

logger = logging.getLogger(__name__)


def _load(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(f"kiosk_agent.commands.{name}")
    except ModuleNotFoundError as err:
        if err.name == f"kiosk_agent.commands.{name}":
            return None
        raise


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every available command."""
    parser = argparse.ArgumentParser(
        prog="kiosk-agent", description="Reception-kiosk daemon and technician tools."
    )
    parser.add_argument(
        "--config",
        metavar="PATH",
        help="config TOML (default: $KIOSK_AGENT_CONFIG, else config/kiosk-agent.toml)",
    )
    parser.add_argument("--debug", action="store_true", help="tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        module = _load(name)
        if module is None:
            continue
        command = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(command)
        command.set_defaults(handler=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments, run one command, turn errors into one line and an exit code."""
    argv = sys.argv[1:] if argv is None else list(argv)
    # The write guard goes first, before building the parser imports command modules
    # (and numpy starts threads): Landlock binds only threads started after it.
    from kiosk_agent import guard

    guard.install_for_command(argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args))
    except ConfigError as err:
        _report(err, args.debug)
        return 2
    except KioskError as err:
        _report(err, args.debug)
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as err:  # noqa: BLE001 - the CLI entry point reports any fault once.
        if args.debug:
            raise
        print(
            f"kiosk-agent: internal error ({type(err).__name__}); rerun with --debug",
            file=sys.stderr,
        )
        return 1


def _report(err: KioskError, debug: bool) -> None:
    if debug:
        import traceback

        traceback.print_exception(err, file=sys.stderr)
    print(f"kiosk-agent: {err}", file=sys.stderr)
