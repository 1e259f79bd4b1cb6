"""Daemon supervision: capped-backoff restarts, exit non-zero after repeated faults."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from kiosk_agent.config import parse_config
from kiosk_agent.daemon import build_providers, mute_frame
from kiosk_agent.errors import ConfigError, KioskError
from kiosk_agent.messages import AudioFrame
from kiosk_agent.scenario import load_scenario
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
    providers = build_providers(config, load_scenario(), lambda token: False)
    assert [p.name for p in providers] == ["local"]
    with pytest.raises(ConfigError, match="no usable provider"):
        build_providers(
            parse_config({"llm": {"order": ["openai"]}}),
            load_scenario(),
            lambda token: False,
        )
