"""A site config of only the directory and the endpoints runs a whole visit (#6).

Every outward service is a local server on 127.0.0.1 that records what it got: the
OpenAI-compatible LLM, the telephony service and the chatbot platform. Each must have
received its part of the visit and nothing personal beyond it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.llm_servers import FakeGeminiServer, FakeOpenAiServer, Reply
from tests.local_http import Answer, LocalServer, local_server
from tests.media import silence, speak, to_wav_bytes

REPO = Path(__file__).resolve().parents[2]
DIRECTORY = REPO / "kiosk_agent" / "data" / "demo_directory.json"


@pytest.fixture(scope="module")
def employee() -> dict[str, Any]:
    """The demo directory's Martin Kraus, whom the visitor asks for."""
    rows = json.loads(DIRECTORY.read_text(encoding="utf-8"))["employees"]
    return next(row for row in rows if row["last_name"] == "Kraus")


@pytest.fixture(scope="module")
def visit_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    audio = np.concatenate(
        [silence(4.0), speak("Hello, I am here to see Martin Kraus."), silence(8.0)]
    )
    path = tmp_path_factory.mktemp("media") / "visit.wav"
    path.write_bytes(to_wav_bytes(audio))
    return path


@pytest.fixture
def telephony() -> Iterator[LocalServer]:
    with local_server() as server:
        server.respond = lambda request: Answer(body=b'{"status": "answered"}')
        yield server


@pytest.fixture
def platform() -> Iterator[LocalServer]:
    with local_server() as server:
        server.respond = lambda request: Answer(status=201)
        yield server


def test_directory_and_endpoints_alone_run_a_whole_visit(
    tmp_path: Path,
    visit_wav: Path,
    employee: dict[str, Any],
    telephony: LocalServer,
    platform: LocalServer,
) -> None:
    with FakeOpenAiServer() as openai, FakeGeminiServer() as gemini:
        openai.script(
            Reply(
                "I will call them for you.",
                calls=[("call_employee", {"employee": "<EMPLOYEE_1>"})],
            )
        )
        config = tmp_path / "site.toml"
        config.write_text(
            f'[directory]\npath = "{DIRECTORY}"\n'
            f'[llm.openai]\nbase_url = "{openai.base_url}"\n'
            f'[llm.gemini]\nbase_url = "{gemini.base_url}"\n'
            f'[telephony]\nurl = "{telephony.url}"\n'
            f'[transcripts]\nurl = "{platform.url}/transcripts"\n',
            encoding="utf-8",
        )
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("GEMINI_API_KEY", "CREDENTIALS_DIRECTORY")
        }
        env.update(OPENAI_API_KEY="sk-test", STATE_DIRECTORY=str(tmp_path / "state"))
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "kiosk_agent",
                "--config",
                str(config),
                "simulate",
                "--audio",
                str(visit_wav),
                "--json",
                "--place-calls",
            ],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=REPO,
            env=env,
        )
        sent_to_llm = openai.raw_text()
    assert done.returncode == 0, done.stderr
    events = [json.loads(line) for line in done.stdout.splitlines() if line]
    assert {"event": "transcript_delivery", "is_delivered": True} in events
    outcome = next(e for e in events if e["event"] == "call_outcome")
    assert outcome["outcome"] == "answered"

    # The LLM got pseudonyms; the telephony service got the number and nothing else.
    assert "<EMPLOYEE_1>" in sent_to_llm and "Kraus" not in sent_to_llm
    (call,) = telephony.requests
    assert json.loads(call.body) == {
        "to": employee["phone"].replace(" ", ""),
        "ring_timeout_s": 30.0,
    }
    everything_sent = call.path + json.dumps(call.headers) + call.body.decode()
    for private in (
        employee["first_name"],
        employee["last_name"],
        employee["department"],
        employee["email"],
    ):
        assert private not in everything_sent

    # The chatbot platform got the anonymous transcript, and the outbox is empty again.
    (posted,) = platform.requests
    transcript = json.loads(posted.body)
    text = json.dumps(transcript["turns"])
    assert "<EMPLOYEE_1>" in text and "Kraus" not in text
    assert transcript["started"].endswith("Z") and len(transcript["started"]) == 17
    assert posted.headers["Idempotency-Key"] == transcript["id"]
    assert not list((tmp_path / "state").rglob("*.json"))
