"""``kiosk-agent demo``: the scripted visit runs offline on the defaults, quickly."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _demo(*extra: str) -> subprocess.CompletedProcess[str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in (
            "OPENAI_API_KEY",
            "GEMINI_API_KEY",
            "CREDENTIALS_DIRECTORY",
            "KIOSK_AGENT_CONFIG",
        )
    }
    return subprocess.run(
        [sys.executable, "-m", "kiosk_agent", "demo", *extra],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
        env=env,
    )


def test_demo_without_keys_holds_the_visit_with_local_responder() -> None:
    done = _demo()
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "[camera]  a face appears" in out
    assert "kiosk:    Hello and welcome." in out
    assert re.search(r"visitor: .*park", out, re.IGNORECASE)
    assert "Visitor parking is in the courtyard" in out
    assert "(redacted): Thank you. I am here to see <EMPLOYEE_1>." in out
    assert "kiosk:    I am calling Martin Kraus for you now." in out
    assert "call <EMPLOYEE_1>: answered" in out
    assert out.count("answered by: local") == 2
    assert len(re.findall(r"latency turn \d .*first_audio \d+", out)) == 2
    assert "the visitor left" in out and "done: 2 turns" in out
    assert done.stderr == ""


def test_demo_speaks_lines_given_on_the_command_line() -> None:
    done = _demo("--say", "Where are the toilets?")
    assert done.returncode == 0, done.stderr
    assert "The toilets are down the corridor on your left." in done.stdout
    assert "done: 1 turns" in done.stdout
