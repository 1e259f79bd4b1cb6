"""``kiosk-agent presence`` on videos made at test time."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kiosk_agent.cli import main
from tests import video

VISIT = video.Visit(enter_s=1.0, stand_s=1.5, leave_s=3.0, gone_s=3.5)


@pytest.fixture(scope="module")
def visit_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "visit.avi"
    return video.write_video(path, video.visit_scene(VISIT, 10.0))


def test_json_lines_give_arrival_then_departure(
    visit_video: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["presence", "--video", str(visit_video), "--json"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["event"] for line in lines] == ["visitor_arrived", "visitor_left"]
    assert set(lines[0]) == {"event", "t_s", "confidence"}
    assert VISIT.enter_s <= lines[0]["t_s"] <= VISIT.stand_s + 0.5
    assert lines[1]["t_s"] >= VISIT.leave_s + 5.0 - 0.6
    assert 0.0 < lines[0]["confidence"] <= 1.0


def test_human_output_names_the_events(
    visit_video: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["presence", "--video", str(visit_video)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 2
    assert "visitor_arrived" in out[0] and "confidence" in out[0]
    assert "visitor_left" in out[1]


def test_missing_video_is_one_line_naming_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "gone.avi"
    assert main(["presence", "--video", str(missing)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and str(missing) in err[0]


def test_unreadable_video_is_one_line_naming_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "broken.avi"
    bad.write_bytes(b"RIFF" + bytes(2000))
    assert main(["presence", "--video", str(bad)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and str(bad) in err[0] and "not a readable video" in err[0]


def test_missing_camera_is_one_line_naming_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["presence", "--camera", "/nonexistent/video7"]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err == [
        "kiosk-agent: camera-unavailable: camera /nonexistent/video7: cannot be opened"
    ]


def test_video_or_camera_is_required(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["presence", "--json"])
    assert exit_info.value.code == 2


def test_realtime_video_is_paced(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import time

    clip = video.write_video(tmp_path / "still.avi", video.still_scene(1.0))
    started = time.monotonic()
    assert main(["presence", "--video", str(clip), "--realtime", "--json"]) == 0
    assert time.monotonic() - started >= 0.9
    assert capsys.readouterr().out == ""
