"""Anonymous transcripts: outbox, in-order delivery each once, crashes and the bound."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import stat
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from kiosk_agent.config import TranscriptsConfig
from kiosk_agent.messages import RedactedText, Reply, SpokenReply, Transcript
from kiosk_agent.outbox import Outbox, outbox_folder, read_outbox_stats
from kiosk_agent.providers.transcripts_http import HttpTranscriptPlatform
from kiosk_agent.stages.transcript_sink import TranscriptSink, VisitTranscript
from tests.local_http import Answer, LocalServer, Recorded, local_server

REPO = Path(__file__).resolve().parents[2]


def make_sink(
    folder: Path, url: str, *, max_items: int = 100, sleep=None
) -> TranscriptSink:  # type: ignore[no-untyped-def]
    platform = HttpTranscriptPlatform(url, token="tr-tok", timeout_s=2.0)
    extra = {} if sleep is None else {"sleep": sleep}
    return TranscriptSink(
        Outbox(folder, max_items=max_items), platform, kiosk_id="lobby-1", **extra
    )


def visit(sink: TranscriptSink, n: int) -> VisitTranscript:
    transcript = sink.open_visit(datetime(2026, 12, 3, 16, 50, 42, tzinfo=UTC))
    transcript.add_visitor(RedactedText(text=f"Dobrý den, jdu za <EMPLOYEE_1> ({n})."))
    transcript.add_kiosk(Reply(text="Hned <EMPLOYEE_1> zavolám.", provider="local"))
    return transcript


class Platform:
    """The chatbot platform: stores each idempotency key once, can be down."""

    def __init__(self) -> None:
        self.is_up = True
        self.received: dict[str, bytes] = {}
        self.keys: list[str] = []

    def __call__(self, request: Recorded) -> Answer:
        if not self.is_up:
            return Answer(status=503)
        key = request.headers["Idempotency-Key"]
        self.keys.append(key)
        if key in self.received:
            return Answer(status=409)
        self.received[key] = request.body
        return Answer(status=201)


@pytest.fixture
def platform() -> tuple[Platform, LocalServer]:  # type: ignore[misc]
    with local_server() as server:
        fake = Platform()
        server.respond = fake
        yield fake, server


async def deliver(sink: TranscriptSink) -> bool:
    return await asyncio.wait_for(sink.deliver_pending(), timeout=10)


async def test_a_finished_visit_is_delivered_anonymous_and_to_the_minute(
    tmp_path: Path, platform: tuple[Platform, LocalServer]
) -> None:
    fake, server = platform
    sink = make_sink(tmp_path / "outbox", server.url + "/transcripts")
    transcript = visit(sink, 1)

    await asyncio.wait_for(sink.close_visit(transcript), timeout=5)
    assert await deliver(sink) is True

    (request,) = server.requests
    assert (request.method, request.path) == ("POST", "/transcripts")
    assert request.headers["Idempotency-Key"] == transcript.id
    assert request.headers["Authorization"] == "Bearer tr-tok"
    assert json.loads(request.body) == {
        "id": transcript.id,
        "kiosk": "lobby-1",
        "started": "2026-12-03T16:50Z",
        "turns": [
            {"role": "visitor", "text": "Dobrý den, jdu za <EMPLOYEE_1> (1)."},
            {"role": "kiosk", "text": "Hned <EMPLOYEE_1> zavolám."},
        ],
    }
    assert list((tmp_path / "outbox").iterdir()) == []


def test_only_pseudonymized_types_are_accepted(tmp_path: Path) -> None:
    transcript = VisitTranscript(kiosk_id="k", started=datetime.now(UTC))
    raw = Transcript(text="Jan Novák", language="cs", start_s=0.0, end_s=1.0)
    spoken = SpokenReply(text="Hned panu Novákovi zavolám.")

    with pytest.raises(TypeError):
        transcript.add_visitor(raw)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        transcript.add_kiosk(spoken)  # type: ignore[arg-type]
    assert len(transcript) == 0 and "Novák" not in transcript.payload().decode()


async def test_a_visit_without_turns_leaves_nothing(tmp_path: Path) -> None:
    sink = make_sink(tmp_path / "outbox", "http://127.0.0.1:9")

    await asyncio.wait_for(sink.close_visit(sink.open_visit()), timeout=5)

    assert list((tmp_path / "outbox").iterdir()) == []


async def test_held_while_the_platform_is_down_then_delivered_in_order_each_once(
    tmp_path: Path, platform: tuple[Platform, LocalServer]
) -> None:
    fake, server = platform
    folder = tmp_path / "outbox"
    sink = make_sink(folder, server.url)
    fake.is_up = False
    ids = []
    for n in range(3):
        transcript = visit(sink, n)
        ids.append(transcript.id)
        await asyncio.wait_for(sink.close_visit(transcript), timeout=5)

    held = await deliver(sink)
    files = sorted(folder.iterdir())
    modes = {stat.S_IMODE(p.stat().st_mode) for p in files}
    # The daemon restarts, then the platform returns.
    restarted = make_sink(folder, server.url)
    fake.is_up = True
    delivered = await deliver(restarted)

    assert held is False and len(files) == 3 and modes == {0o600}
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert delivered is True
    assert fake.keys == ids  # In order, each once.
    assert [json.loads(fake.received[i])["turns"][0]["text"][-4:] for i in ids] == [
        "(0).",
        "(1).",
        "(2).",
    ]
    assert list(folder.iterdir()) == []


async def test_the_delivery_loop_backs_off_and_delivers_when_the_platform_returns(
    tmp_path: Path, platform: tuple[Platform, LocalServer]
) -> None:
    fake, server = platform
    fake.is_up = False
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        fake.is_up = len(sleeps) >= 3
        await asyncio.sleep(0)

    sink = make_sink(tmp_path / "outbox", server.url, sleep=sleep)
    task = asyncio.create_task(sink.run())
    try:
        transcript = visit(sink, 1)
        await asyncio.wait_for(sink.close_visit(transcript), timeout=5)
        for _ in range(500):
            if fake.received:
                break
            await asyncio.sleep(0.01)
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(task, timeout=5)

    assert list(fake.received) == [transcript.id]
    assert sleeps == [1.0, 2.0, 4.0]


async def test_a_refused_transcript_is_counted_and_does_not_block_the_rest(
    tmp_path: Path, platform: tuple[Platform, LocalServer]
) -> None:
    fake, server = platform
    folder = tmp_path / "outbox"
    sink = make_sink(folder, server.url)
    first, second = visit(sink, 1), visit(sink, 2)
    for transcript in (first, second):
        await asyncio.wait_for(sink.close_visit(transcript), timeout=5)
    server.respond = lambda r: (
        Answer(status=422) if r.headers["Idempotency-Key"] == first.id else fake(r)
    )

    assert await deliver(sink) is True

    assert list(fake.received) == [second.id]
    assert read_outbox_stats(folder).rejected == 1


@pytest.mark.parametrize("status", [401, 429, 500], ids=["auth", "rate", "server"])
async def test_a_transient_refusal_keeps_the_transcript(
    tmp_path: Path, platform: tuple[Platform, LocalServer], status: int
) -> None:
    _, server = platform
    server.respond = lambda r: Answer(status=status)
    folder = tmp_path / "outbox"
    sink = make_sink(folder, server.url)
    await asyncio.wait_for(sink.close_visit(visit(sink, 1)), timeout=5)

    assert await deliver(sink) is False
    assert read_outbox_stats(folder).pending == 1


def test_the_bound_drops_the_oldest_with_a_warning_and_a_counter(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "outbox"
    outbox = Outbox(folder, max_items=3)
    keys = [f"00000000-0000-4000-8000-{n:012d}" for n in range(5)]

    with caplog.at_level(logging.WARNING, logger="kiosk_agent.outbox"):
        for key in keys:
            outbox.put(key, b"{}")
    reopened = Outbox(folder, max_items=3)

    warnings = [r for r in caplog.records if r.msg == "outbox.dropped_oldest"]
    assert len(warnings) == 2
    assert reopened.oldest() == (keys[2], b"{}")
    assert read_outbox_stats(folder) == reopened.stats()
    assert (reopened.stats().pending, reopened.stats().dropped) == (3, 2)


def test_a_half_written_tmp_file_is_ignored_and_removed(tmp_path: Path) -> None:
    folder = tmp_path / "outbox"
    outbox = Outbox(folder, max_items=10)
    key = "00000000-0000-4000-8000-000000000001"
    outbox.put(key, b'{"id": 1}')
    (folder / ".000000000002-x.json.tmp-dead").write_bytes(b'{"id": 2, "tu')

    reopened = Outbox(folder, max_items=10)

    assert len(reopened) == 1 and reopened.oldest() == (key, b'{"id": 1}')
    assert sorted(p.name for p in folder.iterdir()) == [f"000000000001-{key}.json"]


CHILD = """
import sys
from datetime import UTC, datetime
from pathlib import Path
from kiosk_agent.messages import RedactedText, Reply
from kiosk_agent.outbox import Outbox
from kiosk_agent.stages.transcript_sink import VisitTranscript

outbox = Outbox(Path(sys.argv[1]), max_items=100000)
while True:
    visit = VisitTranscript(kiosk_id="k", started=datetime.now(UTC))
    visit.add_visitor(RedactedText(text="<PERSON_1> " + "x" * 400000))
    visit.add_kiosk(Reply(text="ok", provider="local"))
    outbox.put(visit.id, visit.payload())
"""


async def test_a_writer_killed_mid_write_leaves_a_loadable_outbox(
    tmp_path: Path, platform: tuple[Platform, LocalServer]
) -> None:
    fake, server = platform
    folder = tmp_path / "outbox"
    with subprocess.Popen(
        [sys.executable, "-c", CHILD, str(folder)],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    ) as child:
        try:
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and child.poll() is None:
                if folder.is_dir() and sum(1 for p in folder.glob("0*.json")) >= 8:
                    break
                time.sleep(0.005)
            # Aim the kill at a moment when a write is under way.
            while time.monotonic() < deadline and not any(folder.glob(".*.tmp-*")):
                pass
        finally:
            os.kill(child.pid, signal.SIGKILL)
            _, errors = child.communicate(timeout=10)
    assert child.returncode == -signal.SIGKILL, errors.decode()

    outbox = Outbox(folder, max_items=100000)
    stored = len(outbox)
    sink = TranscriptSink(
        outbox,
        HttpTranscriptPlatform(server.url, token=None, timeout_s=5.0),
        kiosk_id="k",
    )
    delivered = await deliver(sink)

    assert stored >= 8 and delivered is True
    assert len(fake.received) == stored == len(set(fake.keys))
    for key, body in fake.received.items():
        payload = json.loads(body)  # Complete: a half file would not parse.
        assert payload["id"] == key and len(payload["turns"][0]["text"]) == 400011
    assert list(folder.iterdir()) == []


def test_the_outbox_lives_in_the_state_directory_under_systemd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = TranscriptsConfig(outbox_dir=str(tmp_path / "fallback"))
    monkeypatch.delenv("STATE_DIRECTORY", raising=False)
    assert outbox_folder(config) == tmp_path / "fallback"

    monkeypatch.setenv("STATE_DIRECTORY", f"{tmp_path / 'state'}:/other")
    assert outbox_folder(config) == tmp_path / "state" / "outbox"


def test_the_kiosk_is_named_by_config_else_by_host_name() -> None:
    import socket

    from kiosk_agent.stages.transcript_sink import kiosk_id_for

    assert kiosk_id_for(TranscriptsConfig(kiosk_id="lobby-2")) == "lobby-2"
    assert kiosk_id_for(TranscriptsConfig()) == socket.gethostname()
