"""Stage supervision: restart with capped exponential backoff, systemd notifications.

A failing stage is restarted by ``supervise`` after a backoff that doubles up to
``MAX_BACKOFF_S``; after ``MAX_FAILURES`` failures in a row it gives up, ``run_stages``
returns 1 and the daemon exits non-zero so systemd restarts it. ``notify`` speaks the
sd_notify protocol (READY=1, WATCHDOG=1, STOPPING=1) when systemd supervises us.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Awaitable, Callable
from typing import Final

from kiosk_agent.errors import KioskError

logger = logging.getLogger(__name__)

MAX_FAILURES: Final = 5
"""Failures in a row after which a stage gives up and the daemon exits non-zero."""
FIRST_BACKOFF_S: Final = 0.5
MAX_BACKOFF_S: Final = 30.0
HEALTHY_AFTER_S: Final = 60.0
"""A stage that ran this long before failing starts its backoff afresh."""


class StageFailed(Exception):
    """A stage failed ``MAX_FAILURES`` times in a row."""

    def __init__(self, stage: str) -> None:
        super().__init__(stage)
        self.stage = stage


async def supervise(
    name: str,
    body: Callable[[], Awaitable[None]],
    *,
    max_failures: int = MAX_FAILURES,
    first_backoff_s: float = FIRST_BACKOFF_S,
    max_backoff_s: float = MAX_BACKOFF_S,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """Run a stage; restart it with capped exponential backoff when it fails.

    A stage that returns normally is done. ``CancelledError`` passes through.

    Raises:
        StageFailed: ``max_failures`` failures in a row.
    """
    failures = 0
    while True:
        started = clock()
        try:
            await body()
            return
        except asyncio.CancelledError:
            raise
        except Exception as err:  # noqa: BLE001 - a stage loop reports any fault once.
            if clock() - started >= HEALTHY_AFTER_S:
                failures = 0
            failures += 1
            code = err.code if isinstance(err, KioskError) else "stage-crashed"
            logger.error(
                "daemon.stage_failed",
                extra={
                    "fields": {
                        "stage": name,
                        "attempt": failures,
                        "error_code": code,
                        "error_type": type(err).__name__,
                    }
                },
            )
            if failures >= max_failures:
                logger.critical(
                    "daemon.stage_gave_up", extra={"fields": {"stage": name}}
                )
                raise StageFailed(name) from err
            backoff_s = min(max_backoff_s, first_backoff_s * 2 ** (failures - 1))
            logger.warning(
                "daemon.stage_restart",
                extra={"fields": {"stage": name, "backoff_s": backoff_s}},
            )
            await sleep(backoff_s)


def notify(state: str) -> None:
    """sd_notify when systemd supervises us (NOTIFY_SOCKET set); otherwise nothing."""
    if not os.environ.get("NOTIFY_SOCKET"):
        return
    try:
        from systemd import daemon  # type: ignore[attr-defined]
    except ImportError:
        return
    daemon.notify(state)


async def watchdog(interval_s: float) -> None:
    """Send WATCHDOG=1 at half the interval systemd asked for."""
    while True:
        notify("WATCHDOG=1")
        await asyncio.sleep(interval_s)


def watchdog_interval_s() -> float | None:
    """Half of $WATCHDOG_USEC, or None when no watchdog is set."""
    usec = os.environ.get("WATCHDOG_USEC", "")
    return int(usec) / 2e6 if usec.isdigit() and int(usec) > 0 else None


class _StopRequested(Exception):
    """Raised inside the TaskGroup to cancel every stage on a stop request."""


async def _until(stop: asyncio.Event) -> None:
    await stop.wait()
    raise _StopRequested


async def run_stages(
    stages: dict[str, Callable[[], Awaitable[None]]],
    *,
    first_backoff_s: float = FIRST_BACKOFF_S,
    stop: asyncio.Event | None = None,
) -> int:
    """Run supervised stages in one TaskGroup; the exit code.

    Setting ``stop`` (SIGTERM) cancels every stage and gives 0; a stage that gives up
    cancels the others and gives 1.
    """
    failed: list[str] = []
    try:
        async with asyncio.TaskGroup() as group:
            for name, body in stages.items():
                group.create_task(
                    supervise(name, body, first_backoff_s=first_backoff_s), name=name
                )
            if stop is not None:
                group.create_task(_until(stop), name="stop")
            notify("READY=1")
            logger.info("daemon.ready", extra={"fields": {"count": len(stages)}})
    except* _StopRequested:
        logger.info("daemon.stopping", extra={"fields": {"count": len(stages)}})
    except* StageFailed as group_error:
        failed = [getattr(e, "stage", "") for e in group_error.exceptions]
    finally:
        notify("STOPPING=1")
    if failed:
        logger.critical("daemon.exit", extra={"fields": {"stage": failed[0]}})
        return 1
    return 0
