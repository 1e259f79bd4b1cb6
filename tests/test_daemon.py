"""Daemon supervision: capped-backoff restarts, exit non-zero after repeated faults."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import numpy as np
import pytest

from kiosk_agent.config import AudioConfig, parse_config
from kiosk_agent.daemon import (
    ForgivingSpeaker,
    build_providers,
    converse,
    mute_frame,
    open_microphone,
)
from kiosk_agent.errors import CaptureError, ConfigError, KioskError, TtsError
from kiosk_agent.messages import AudioFrame
from kiosk_agent.scenario import load_scenario
from kiosk_agent.session import SessionMachine, SessionState
from kiosk_agent.supervisor import StageFailed, run_stages, supervise


async def test_failing_stage_is_restarted_with_doubling_capped_backoff() -> None:
    waits: list[float] = []
    runs = 0

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    async def flaky() -> None:
        nonlocal runs
        runs += 1
        if runs < 5:
            raise KioskError("capture-device-lost", transient=True)

    async with asyncio.timeout(1):
        await supervise(
            "audio",
            flaky,
            max_failures=10,
            first_backoff_s=0.5,
            max_backoff_s=2.0,
            sleep=sleep,
        )
    assert runs == 5
    assert waits == [0.5, 1.0, 2.0, 2.0]


async def test_stage_gives_up_after_repeated_failures() -> None:
    async def sleep(seconds: float) -> None:
        return None

    async def broken() -> None:
        raise RuntimeError("boom")

    with pytest.raises(StageFailed) as failed:
        async with asyncio.timeout(1):
            await supervise("dialog", broken, max_failures=3, sleep=sleep)
    assert failed.value.stage == "dialog"


async def test_daemon_exits_non_zero_when_a_stage_gives_up() -> None:
    calm = asyncio.Event()

    async def broken() -> None:
        raise RuntimeError("boom")

    async def steady() -> None:
        await calm.wait()

    async with asyncio.timeout(2):
        code = await run_stages(
            {"broken": broken, "steady": steady}, first_backoff_s=0.001
        )
    assert code == 1


async def test_daemon_exits_zero_when_stages_end() -> None:
    async def done() -> None:
        return None

    async with asyncio.timeout(1):
        assert await run_stages({"one": done, "two": done}) == 0


def test_muted_frame_reaches_vad_as_silence_of_same_length() -> None:
    frame = AudioFrame(samples=np.full(480, 900, np.int16), start_s=1.0)
    assert mute_frame(frame, False).samples.any()
    muted = mute_frame(frame, True)
    assert len(muted.samples) == 480 and not muted.samples.any()
    assert muted.start_s == 1.0


def test_cloud_providers_without_key_are_left_out(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("OPENAI_API_KEY", "GEMINI_API_KEY", "CREDENTIALS_DIRECTORY"):
        monkeypatch.delenv(name, raising=False)
    config = parse_config({})
    providers = build_providers(config, load_scenario(), lambda pseudonym: False)
    assert [p.name for p in providers] == ["local"]
    with pytest.raises(ConfigError, match="no usable provider"):
        build_providers(
            parse_config({"llm": {"order": ["openai"]}}),
            load_scenario(),
            lambda pseudonym: False,
        )


async def test_stop_request_cancels_every_stage_and_exits_zero() -> None:
    stop = asyncio.Event()
    cancelled: list[str] = []

    async def forever(name: str) -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.append(name)
            raise

    async def request_stop() -> None:
        await asyncio.sleep(0)
        stop.set()

    async with asyncio.timeout(1):
        code = await run_stages(
            {
                "audio": lambda: forever("audio"),
                "dialog": lambda: forever("dialog"),
                "signal": request_stop,
            },
            stop=stop,
        )
    assert code == 0
    assert sorted(cancelled) == ["audio", "dialog"]


async def test_missing_microphone_is_looked_for_again_with_capped_backoff(
    caplog: pytest.LogCaptureFixture,
) -> None:
    waits: list[float] = []
    attempts = 0
    source = object()

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    def open_source(config: AudioConfig) -> Any:
        nonlocal attempts
        attempts += 1
        if attempts < 5:
            raise CaptureError("audio-device-missing", "no mic", transient=True)
        return source

    caplog.set_level(logging.DEBUG)
    async with asyncio.timeout(1):
        opened = await open_microphone(
            AudioConfig(reopen_max_backoff_s=2.0), open_source, sleep=sleep
        )
    assert opened is source
    assert waits == [0.5, 1.0, 2.0, 2.0]
    reports = [r for r in caplog.records if r.msg == "audio.device_missing"]
    assert [r.levelno for r in reports] == [logging.WARNING] + [logging.DEBUG] * 3


class BrokenOutput:
    def __init__(self) -> None:
        self.plays = 0
        self.broken = True

    def play(self, samples: Any, sample_rate_hz: int) -> None:
        self.plays += 1
        if self.broken:
            raise TtsError("tts-output-failed", "speaker write failed", transient=True)

    def abort(self) -> None:
        pass

    def resume(self) -> None:
        pass


def test_failing_speaker_is_skipped_during_backoff_and_tried_again() -> None:
    now = [0.0]
    output = BrokenOutput()
    speaker = ForgivingSpeaker(output, clock=lambda: now[0])
    block = np.zeros(480, np.int16)

    speaker.play(block, 16000)  # fails: 1 s backoff
    speaker.play(block, 16000)  # dropped unplayed
    now[0] = 1.0
    speaker.play(block, 16000)  # fails again: 2 s backoff
    now[0] = 2.5
    speaker.play(block, 16000)  # still backing off
    assert output.plays == 2 and speaker.failures == 2

    output.broken = False
    now[0] = 3.0
    speaker.play(block, 16000)
    speaker.play(block, 16000)
    assert output.plays == 4 and speaker.failures == 0


async def test_failed_dialog_ends_the_visit_so_the_restart_starts_afresh() -> None:
    class Table:
        def wipe(self) -> None:
            pass

    machine: SessionMachine[Table] = SessionMachine(Table, timeout_s=60.0)

    class GreetingFails:
        async def run(self, inbox: Any) -> None:
            machine.visitor_arrived()
            raise TtsError("tts-output-failed", "speaker write failed")

    with pytest.raises(TtsError):
        async with asyncio.timeout(1):
            await converse(GreetingFails(), machine, asyncio.Queue())  # type: ignore[arg-type]
    assert machine.session is None and machine.state is SessionState.IDLE
    machine.visitor_arrived()
    assert machine.state is SessionState.GREETING
