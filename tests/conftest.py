"""Shared fixtures; heavy models are loaded once per test session."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from kiosk_agent.config import AsrConfig
from kiosk_agent.providers.whisper_engine import WhisperEngine

# espeak-ng opens a PulseAudio client even when it synthesizes into memory, and libpulse
# leaves /tmp/pulse-* and ~/.config/pulse behind while it looks for a server; naming a
# socket that does not exist skips the search, so tests leave nothing on disk.
os.environ.setdefault("PULSE_SERVER", "unix:/nonexistent/pulse/native")


@pytest.fixture(scope="session")
def whisper_engine() -> Iterator[WhisperEngine]:
    """The embedded tiny.en model (int8, greedy), loaded and warmed up once."""
    yield WhisperEngine(AsrConfig())
