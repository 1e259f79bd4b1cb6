"""Shared fixtures; heavy models are loaded once per test session."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import Iterator

import pytest
from hypothesis import settings

from kiosk_agent.config import AsrConfig
from kiosk_agent.providers.whisper_engine import WhisperEngine

# espeak-ng opens a PulseAudio client even when it synthesizes into memory, and libpulse
# leaves /tmp/pulse-* and ~/.config/pulse behind while it looks for a server; naming a
# socket that does not exist skips the search, so tests leave nothing on disk.
os.environ.setdefault("PULSE_SERVER", "unix:/nonexistent/pulse/native")

# Hypothesis caches constants under ./.hypothesis; keep its storage in a temporary
# folder that goes away with the run.
_HYPOTHESIS_HOME = tempfile.mkdtemp(prefix="kiosk-agent-hypothesis-")
atexit.register(shutil.rmtree, _HYPOTHESIS_HOME, ignore_errors=True)
os.environ["HYPOTHESIS_STORAGE_DIRECTORY"] = _HYPOTHESIS_HOME

# Property tests keep no example database on disk, and draw the same examples on every
# run so that CI judges the code, not the luck of the draw. Set
# HYPOTHESIS_PROFILE=explore to search with fresh random examples while developing.
settings.register_profile("ci", database=None, derandomize=True, deadline=None)
settings.register_profile("explore", database=None, deadline=None, max_examples=500)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="session")
def whisper_engine() -> Iterator[WhisperEngine]:
    """The embedded tiny.en model (int8, greedy), loaded and warmed up once."""
    yield WhisperEngine(AsrConfig())
