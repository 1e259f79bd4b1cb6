"""``kiosk-agent simulate``: a visit from a WAV file through the real pipeline."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.llm_servers import FakeOpenAiServer, Reply
from tests.media import silence, speak, to_wav_bytes

REPO = Path(__file__).resolve().parents[2]
DIRECTORY = REPO / "kiosk_agent" / "data" / "demo_directory.json"
SECRETS = ("Kraus", "601000101", "601 000 101", "000 101")
"""Martin Kraus's surname and phone number (+420 601 000 101) as they could leak; not
"601" alone, which latencies and times in the JSON events may hold by chance."""


@pytest.fixture(scope="module")
def visit_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    audio = np.concatenate(
        [
            silence(4.0),
            speak("Hello, I am here to see Martin Kraus."),
            silence(8.0),
        ]
    )
    path = tmp_path_factory.mktemp("media") / "visit.wav"
    path.write_bytes(to_wav_bytes(audio))
    return path


def _config(tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "kiosk.toml"
    path.write_text(
        f'[directory]\npath = "{DIRECTORY}"\n'
        f'[transcripts]\noutbox_dir = "{tmp_path / "outbox"}"\n{extra}',
        encoding="utf-8",
    )
    return path


def _simulate(
    config: Path, wav: Path, env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in ("OPENAI_API_KEY", "GEMINI_API_KEY", "CREDENTIALS_DIRECTORY")
    }
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "kiosk_agent",
            "--config",
            str(config),
            "simulate",
            "--audio",
            str(wav),
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
        env={**clean, **env},
    )


def _events(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def test_simulate_with_openai_endpoint_sends_only_pseudonyms_and_calls(
    tmp_path: Path, visit_wav: Path
) -> None:
    with FakeOpenAiServer() as server:
        server.script(
            Reply(
                "Certainly, one moment.",
                calls=[("call_employee", {"employee": "<EMPLOYEE_1>"})],
            )
        )
        config = _config(
            tmp_path,
            f'[llm]\norder = ["openai", "local"]\n'
            f'[llm.openai]\nbase_url = "{server.base_url}"\n',
        )
        done = _simulate(config, visit_wav, {"OPENAI_API_KEY": "sk-test"})
        sent = server.raw_text()
    assert done.returncode == 0, done.stderr
    events = _events(done.stdout)
    names = [e["event"] for e in events]
    assert names[0] == "arrival" and "departure" in names
    utterance = next(e for e in events if e["event"] == "utterance")
    assert "<EMPLOYEE_1>" in utterance["text"]
    assert next(e for e in events if e["event"] == "provider")["provider"] == "openai"
    assert {"event": "call_requested", "turn": 1, "employee": "<EMPLOYEE_1>"} in events
    outcome = next(e for e in events if e["event"] == "call_outcome")
    assert outcome["outcome"] == "answered"
    latency = next(e for e in events if e["event"] == "latency")
    assert latency["first_audio_ms"] >= latency["transcript_ms"] > 0
    for text in (done.stdout, done.stderr, sent):
        assert [secret for secret in SECRETS if secret in text] == []
    assert "<EMPLOYEE_1>" in sent
    stored = list((tmp_path / "outbox").glob("*.json"))
    assert len(stored) == 1
    assert "Kraus" not in stored[0].read_text(encoding="utf-8")


def test_simulate_without_api_key_answers_with_local_responder(
    tmp_path: Path, visit_wav: Path
) -> None:
    done = _simulate(_config(tmp_path), visit_wav, {})
    assert done.returncode == 0, done.stderr
    events = _events(done.stdout)
    provider = next(e for e in events if e["event"] == "provider")
    assert provider["provider"] == "local"
    assert any(e["event"] == "call_outcome" for e in events)
    assert "Kraus" not in done.stdout


def test_simulate_missing_audio_fails_with_one_line(tmp_path: Path) -> None:
    done = _simulate(_config(tmp_path), tmp_path / "nope.wav", {})
    assert done.returncode == 1
    last_line = done.stderr.strip().splitlines()[-1]
    assert last_line.startswith("kiosk-agent: audio-file-missing")
    assert "nope.wav" in done.stderr
