"""Shared fixtures; heavy models are loaded once per test session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kiosk_agent.config import AsrConfig
from kiosk_agent.providers.whisper_engine import WhisperEngine


@pytest.fixture(scope="session")
def whisper_engine() -> Iterator[WhisperEngine]:
    """The embedded tiny.en model (int8, greedy), loaded and warmed up once."""
    yield WhisperEngine(AsrConfig())
