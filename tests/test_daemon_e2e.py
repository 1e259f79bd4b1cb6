"""``kiosk-agent run`` for real: one visit through the live daemon, then SIGTERM.

There is no sound card or camera here, so the daemon gets stand-ins that go through the
real device code: the microphone is an ALSA ``file`` pcm over ``null`` whose ``infile``
holds the visitor's speech (PyAudio reads it; ``MicrophoneSource`` paces it to real
time), the speaker is an ALSA ``file`` pcm that pipes what it plays to ``cat``, whose
stdout is the daemon's: a file the test opened (so the guard, which forbids the daemon
to open any file outside ``$STATE_DIRECTORY``, stays fully on; ``run`` prints nothing
on stdout, its logs go to stderr), and the camera is a generated
video of the astronaut walking up and away (``[camera] device`` = the file, paced).
OpenAI, telephony and the chatbot platform are local servers on 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests import media, video
from tests.llm_servers import FakeOpenAiServer, Reply
from tests.local_http import Answer, LocalServer, local_server

REPO = Path(__file__).resolve().parents[1]
DIRECTORY = REPO / "kiosk_agent" / "data" / "demo_directory.json"
NUMBER = "+420601000101"
"""Martin Kraus's phone number in the demo directory, as telephony must receive it."""
SECRETS = ("Martin", "Kraus", "martin.kraus", "601000101", "601 000 101", "000 101")
"""The employee's name, e-mail and number as they could leak (short digit runs such as
"601" alone would match random ids and durations)."""

ASOUNDRC = """
pcm.kiosk_mic_file {{
    type file
    slave.pcm "null"
    file "/dev/null"
    infile "{infile}"
    format "raw"
}}
pcm.kioskmic {{
    type plug
    slave {{ pcm "kiosk_mic_file" format S16_LE rate 16000 channels 1 }}
}}
pcm.kiosk_speaker_file {{
    type file
    slave.pcm "null"
    file "|cat"
    format "raw"
}}
pcm.kioskspeaker {{
    type plug
    slave {{ pcm "kiosk_speaker_file" format S16_LE rate 22050 channels 1 }}
}}
"""
SPEAKER_HZ = 22050

VISIT = video.Visit(enter_s=0.5, stand_s=1.0, leave_s=13.0, gone_s=13.5)
VIDEO_S = 16.0


@pytest.fixture(scope="module")
def visit_media(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The visitor's speech (raw S16_LE) and the camera's video, made once."""
    folder = tmp_path_factory.mktemp("visit")
    # Silence while the kiosk greets, the request, then silence: the ALSA file pcm
    # repeats its last buffer after the end of the file, which must be silence too.
    speech = np.concatenate(
        [
            media.silence(5.0),
            media.speak("Hello, I am here to see Martin Kraus."),
            media.silence(4.0),
        ]
    )
    infile = folder / "mic.raw"
    infile.write_bytes(speech.astype("<i2").tobytes())
    clip = video.write_video(folder / "visit.avi", video.visit_scene(VISIT, VIDEO_S))
    return infile, clip


class Daemon:
    """``python -m kiosk_agent run`` in a child process with its own HOME and state."""

    def __init__(self, tmp_path: Path, config: str, env: dict[str, str]) -> None:
        self.home = tmp_path / "home"
        self.state = tmp_path / "state"
        self.home.mkdir()
        self.speaker = tmp_path / "speaker.raw"
        self.stderr_path = tmp_path / "stderr.log"
        self.config = tmp_path / "kiosk.toml"
        self.config.write_text(config, encoding="utf-8")
        self._speaker_fd = os.open(self.speaker, os.O_WRONLY | os.O_CREAT, 0o600)
        self._env = env
        # Where the daemon's sd_notify messages go, as systemd would receive them.
        self.notify_path = tmp_path / "notify.sock"
        self._notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._notify.bind(str(self.notify_path))
        self._notify.setblocking(False)
        self.notified: list[str] = []
        self.process: subprocess.Popen[bytes] | None = None

    def write_asoundrc(self, infile: Path) -> None:
        text = ASOUNDRC.format(infile=infile)
        (self.home / ".asoundrc").write_text(text, encoding="utf-8")

    def start(self) -> None:
        inherited = {
            k: v
            for k, v in os.environ.items()
            if k
            not in (
                "CI",
                "OPENAI_API_KEY",
                "GEMINI_API_KEY",
                "CREDENTIALS_DIRECTORY",
                "NOTIFY_SOCKET",
                "WATCHDOG_USEC",
                "ALSA_CONFIG_PATH",
            )
        }
        env = {
            **inherited,
            "HOME": str(self.home),
            "STATE_DIRECTORY": str(self.state),
            "PULSE_SERVER": "unix:/nonexistent",
            "PYTHONPATH": str(REPO),
            "NOTIFY_SOCKET": str(self.notify_path),
            "WATCHDOG_USEC": "1000000",
            **self._env,
        }
        with open(self.stderr_path, "wb") as stderr:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "kiosk_agent", "--config", str(self.config)]
                + ["run"],
                cwd=REPO,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=self._speaker_fd,
                stderr=stderr,
            )

    def wait_for(self, condition: Callable[[], bool], timeout_s: float) -> bool:
        """Poll ``condition`` until true, the daemon exits, or the time is up."""
        assert self.process is not None
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            self.read_notifications()
            if condition():
                return True
            if self.process.poll() is not None:
                return condition()
            time.sleep(0.1)
        return False

    def terminate(self, timeout_s: float = 15.0) -> int:
        """SIGTERM, then the exit status (killed and failed if it hangs)."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)
            pytest.fail("the daemon did not stop within 15 s of SIGTERM")

    def read_notifications(self) -> None:
        while True:
            try:
                self.notified.append(self._notify.recv(4096).decode())
            except BlockingIOError:
                return

    def close(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(5)
        self.read_notifications()
        self._notify.close()
        os.close(self._speaker_fd)

    def stderr(self) -> str:
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")

    def log_records(self) -> list[dict[str, Any]]:
        records = []
        for line in self.stderr().splitlines():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                continue
        return records


@pytest.fixture
def servers() -> Iterator[tuple[FakeOpenAiServer, LocalServer, LocalServer]]:
    with (
        FakeOpenAiServer() as openai_server,
        local_server() as telephony,
        local_server() as platform,
    ):
        telephony.respond = lambda request: Answer(
            body=b'{"status": "answered"}',
            headers={"Content-Type": "application/json"},
        )
        platform.respond = lambda request: Answer(status=201)
        yield openai_server, telephony, platform


def config_text(
    tmp_path: Path,
    camera: Path | str,
    urls: tuple[str, str, str],
    *,
    presence: bool = True,
    audio_device: str = "kioskmic",
) -> str:
    openai_url, telephony_url, platform_url = urls
    return (
        f'[audio]\ndevice = "{audio_device}"\nreopen_max_backoff_s = 1.0\n'
        f'[camera]\ndevice = "{camera}"\n'
        f"[presence]\nenabled = {str(presence).lower()}\nleave_after_s = 1.0\n"
        "[dialog]\nsession_timeout_s = 30.0\n"
        '[tts]\noutput_device = "kioskspeaker"\n'
        f'[directory]\npath = "{DIRECTORY}"\n'
        '[llm]\norder = ["openai", "local"]\n'
        f'[llm.openai]\nbase_url = "{openai_url}"\n'
        f'[telephony]\nurl = "{telephony_url}/calls"\n'
        f'[transcripts]\nurl = "{platform_url}/transcripts"\nkiosk_id = "lobby"\n'
        '[log]\nlevel = "DEBUG"\n'
    )


def snapshot(folder: Path, skip: tuple[Path, ...]) -> dict[str, tuple[int, int]]:
    """Every path under ``folder`` with size and mtime, except those under ``skip``."""
    seen = {}
    for path in folder.rglob("*"):
        if any(path == s or s in path.parents for s in skip):
            continue
        stat = path.lstat()
        seen[str(path)] = (stat.st_size, stat.st_mtime_ns)
    return seen


def test_daemon_serves_a_visit_and_stops_cleanly_on_sigterm(
    tmp_path: Path,
    visit_media: tuple[Path, Path],
    servers: tuple[FakeOpenAiServer, LocalServer, LocalServer],
) -> None:
    openai_server, telephony, platform = servers
    openai_server.script(
        Reply(
            "Certainly, one moment.",
            calls=[("call_employee", {"employee": "<EMPLOYEE_1>"})],
        )
    )
    infile, clip = visit_media
    daemon = Daemon(
        tmp_path,
        config_text(
            tmp_path, clip, (openai_server.base_url, telephony.url, platform.url)
        ),
        {"OPENAI_API_KEY": "sk-test"},
    )
    try:
        daemon.write_asoundrc(infile)
        test_owned = (
            daemon.state,
            daemon.speaker,
            daemon.stderr_path,
            daemon.notify_path,
        )
        before = snapshot(tmp_path, test_owned)
        daemon.start()

        served = daemon.wait_for(
            lambda: bool(telephony.requests) and bool(platform.requests), 60.0
        )
        code = daemon.terminate()
    finally:
        daemon.close()
    log = daemon.stderr()
    assert served, log[-3000:]
    assert code == 0, log[-3000:]

    # systemd heard: ready, alive, stopping.
    assert daemon.notified[0] == "READY=1", daemon.notified
    assert "WATCHDOG=1" in daemon.notified and daemon.notified[-1] == "STOPPING=1"

    # Telephony got the number and nothing else.
    assert len(telephony.requests) == 1
    call = json.loads(telephony.requests[0].body)
    assert call["to"] == NUMBER and set(call) == {"to", "ring_timeout_s"}
    headers = json.dumps(telephony.requests[0].headers) + telephony.requests[0].path
    assert not any(secret in headers for secret in SECRETS)

    # The cloud and the platform saw pseudonyms only.
    sent = openai_server.raw_text()
    assert "<EMPLOYEE_1>" in sent
    stored = b"".join(r.body for r in platform.requests).decode()
    assert "<EMPLOYEE_1>" in stored
    for secret in SECRETS:
        assert secret not in sent and secret not in stored

    # The speaker played the greeting (~3 s) and the replies, calling line, outcome and
    # goodbye (~8 s more): real audio, not silence.
    played = np.frombuffer(daemon.speaker.read_bytes(), dtype="<i2")
    assert len(played) > 7 * SPEAKER_HZ, len(played) / SPEAKER_HZ
    assert np.sqrt(np.mean(played.astype(np.float64) ** 2)) > 300

    # Logs: the daemon ran guarded, stopped on request, and named nobody.
    records = daemon.log_records()
    events = [r["event"] for r in records]
    installed = next(r for r in records if r["event"] == "guard.installed")
    assert installed["state"] in ("full", "partial"), installed
    assert "daemon.stopping" in events and "guard.write_refused" not in events
    for event in ("presence.visitor_arrived", "dialog.call_done", "session.closed"):
        assert event in events, events
    closed = next(r for r in records if r["event"] == "session.closed")
    assert closed["reason"] == "left"
    assert "daemon.stage_failed" not in events, log[-3000:]
    for secret in SECRETS:
        assert secret not in log

    # Nothing changed outside $STATE_DIRECTORY (HOME included); the outbox is there
    # with no half-written item, and its one transcript was delivered.
    assert snapshot(tmp_path, test_owned) == before
    outbox = daemon.state / "outbox"
    assert outbox.is_dir()
    assert not [p for p in outbox.rglob("*") if ".tmp-" in p.name]


def test_daemon_without_its_microphone_keeps_running_and_reports(
    tmp_path: Path,
    visit_media: tuple[Path, Path],
    servers: tuple[FakeOpenAiServer, LocalServer, LocalServer],
) -> None:
    openai_server, telephony, platform = servers
    infile, _ = visit_media
    daemon = Daemon(
        tmp_path,
        config_text(
            tmp_path,
            "0",
            (openai_server.base_url, telephony.url, platform.url),
            presence=False,
            audio_device="unplugged-usb-mic",
        ),
        {"OPENAI_API_KEY": "sk-test"},
    )
    try:
        daemon.write_asoundrc(infile)
        daemon.start()

        def reports() -> int:
            return daemon.stderr().count("audio.device_missing")

        reported = daemon.wait_for(lambda: reports() >= 4, 40.0)
        alive = daemon.process is not None and daemon.process.poll() is None
        code = daemon.terminate()
    finally:
        daemon.close()
    log = daemon.stderr()
    assert reported and alive, log[-3000:]
    assert code == 0, log[-3000:]
    assert "stage_gave_up" not in log
    missing = [r for r in daemon.log_records() if r["event"] == "audio.device_missing"]
    assert {r.get("error_code") for r in missing} == {"audio-device-missing"}
