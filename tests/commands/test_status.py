"""``kiosk-agent status``: aligned lines, JSON fields, counts only, installs nothing."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk_agent.cli import main
from kiosk_agent.commands.status import camera_state
from kiosk_agent.config import load_config
from kiosk_agent.directory import cache_path, write_cache
from kiosk_agent.guard import landlock_abi
from kiosk_agent.messages import Employee

REPO = Path(__file__).resolve().parents[2]
CLI = "import sys; from kiosk_agent.cli import main; sys.exit(main(sys.argv[1:]))"

# Canary personal data: none of it may appear in the output.
EMPLOYEES = [
    {
        "id": "S1",
        "first_name": "Bohumila",
        "last_name": "Zelenková",
        "gender": "f",
        "phone": "+420 777 123 456",
        "email": "bohumila.zelenkova@example.cz",
    },
    {
        "id": "S2",
        "first_name": "Radomír",
        "last_name": "Kratochvíl",
        "gender": "m",
        "phone": "+420 777 654 321",
    },
    {"id": "S3", "first_name": "Ewan", "last_name": "Pilkington", "phone": "602000111"},
    {"id": "S4", "first_name": "Nobody", "last_name": "Phoneless", "phone": "12"},
]
CANARIES = (
    "Bohumila",
    "Zelenkov",
    "Radom",
    "Kratochv",
    "Pilkington",
    "Phoneless",
    # Runs of the numbers, not "777" alone: the output prints the test's folder,
    # whose pytest-N part may hold any short digit run.
    "777 123",
    "777123",
    "777 654",
    "777654",
    "602000111",
    "example.cz",
)

# Two ALSA pcms through the builtin ``file`` plugin: PortAudio lists each as an input
# and an output, with no sound card.
ASOUNDRC = """
pcm.kiosk_file {{
    type file
    slave.pcm "null"
    file "{out}"
    infile "{infile}"
    format "raw"
}}
pcm.kioskdev {{
    type plug
    slave.pcm "kiosk_file"
}}
"""


def write_config(tmp_path: Path, directory: object, *, camera: str = "0") -> Path:
    path = tmp_path / "directory.json"
    path.write_text(json.dumps({"employees": directory}), encoding="utf-8")
    config = tmp_path / "kiosk-agent.toml"
    config.write_text(
        f'[camera]\ndevice = "{camera}"\n'
        f'[directory]\npath = "{path}"\n'
        f'[transcripts]\noutbox_dir = "{tmp_path / "outbox"}"\n',
        encoding="utf-8",
    )
    return config


def run_status(
    tmp_path: Path, config: Path, *options: str
) -> subprocess.CompletedProcess[str]:
    """``kiosk-agent status`` in a child whose HOME declares the ALSA devices."""
    infile = tmp_path / "in.raw"
    infile.write_bytes(bytes(3200))
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    (home / ".asoundrc").write_text(
        ASOUNDRC.format(out=tmp_path / "out.raw", infile=infile)
    )
    env = {k: v for k, v in os.environ.items() if k != "ALSA_CONFIG_PATH"}
    env.update(HOME=str(home), PYTHONPATH=str(REPO), PULSE_SERVER="unix:/nonexistent")
    env.pop("STATE_DIRECTORY", None)
    return subprocess.run(
        [
            sys.executable,
            "-c",
            CLI,
            "--config",
            str(config),
            "status",
            *options,
        ],
        env=env,
        capture_output=True,
        timeout=60,
        cwd=REPO,
        text=True,
    )


@pytest.fixture(autouse=True)
def no_pulse_leftovers(monkeypatch: pytest.MonkeyPatch) -> None:
    # Without a reachable server libpulse would leave a /tmp/pulse-* folder behind.
    monkeypatch.setenv("PULSE_SERVER", "unix:/nonexistent")
    monkeypatch.delenv("STATE_DIRECTORY", raising=False)


def test_human_output_is_aligned_key_value_lines(tmp_path: Path) -> None:
    done = run_status(tmp_path, write_config(tmp_path, EMPLOYEES))

    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.splitlines()
    head = lines[: lines.index("known limitations:")]
    for line in head:
        assert re.fullmatch(r"[a-z ]+: +\S.*", line), line
        assert line[16] == " " and line[17] != " ", line  # One value column.
        assert not re.search(r"[{}\[\]]|': ", line), line  # No dict or list reprs.
    values = {line.split(":", 1)[0]: line[17:] for line in head}
    assert values["microphones"] == "2" and values["speakers"] == "2"
    assert values["directory size"].startswith("3 employees, 1 rows skipped, ")
    assert values["camera"] == "device 0: missing" or "ok" in values["camera"]
    if values["camera"] == "device 0: missing":
        assert values["status"] == "degraded: camera missing"
    else:
        assert values["status"] == "ok"
    abi, reason = landlock_abi()
    expected = f"Landlock ABI {abi}" if abi else f"Landlock unavailable ({reason})"
    assert expected in values["write guard"]


def test_json_keeps_its_fields_and_adds_guard_camera_and_device_counts(
    tmp_path: Path,
) -> None:
    done = run_status(tmp_path, write_config(tmp_path, EMPLOYEES), "--json")

    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout)
    assert {"ok", "config", "config_ok", "model", "directory", "outbox"} <= set(report)
    assert {"camera", "microphones", "limitations"} <= set(report)
    assert report["ok"] is True
    assert report["directory"]["employees"] == 3
    assert report["directory"]["rows_skipped"] == 1
    assert report["directory"]["name_forms"] > 6  # Czech names decline.
    assert report["write_guard"]["landlock_abi"] == landlock_abi()[0]
    assert report["write_guard"]["landlock"] is (landlock_abi()[0] > 0)
    assert report["camera_device"]["device"] == "0"
    assert (report["microphones"], report["speakers"]) == (2, 2)
    assert report["outbox"]["pending"] == 0


def test_output_holds_no_names_or_numbers_from_the_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, EMPLOYEES)

    codes = [main(["--config", str(config), "status", *o]) for o in ([], ["--json"])]

    out = capsys.readouterr()
    assert codes == [0, 0]
    # Both reports did count the directory, so its rows were read.
    assert "3 employees" in out.out and '"employees": 3' in out.out
    for canary in CANARIES:
        assert canary not in out.out + out.err


def test_broken_directory_shows_its_code_only_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The loader's message quotes the duplicated id; status shows only the code.
    duplicate = [EMPLOYEES[0], {**EMPLOYEES[1], "id": "S1"}]
    config = write_config(tmp_path, duplicate)

    code = main(["--config", str(config), "status"])

    out = capsys.readouterr().out
    assert code == 1
    assert "error directory-duplicate-id" in out
    assert "'S1'" not in out and "Zelenkov" not in out
    assert "status:          not ready" in out


def test_admin_api_directory_is_counted_from_its_cache(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "kiosk-agent.toml"
    config.write_text(
        '[directory]\nurl = "https://user:secret@admin.example/api/employees"\n'
        f'cache_dir = "{tmp_path / "state"}"\n'
        f'[transcripts]\noutbox_dir = "{tmp_path / "outbox"}"\n',
        encoding="utf-8",
    )
    people = [
        Employee(
            id="S1", first_name="Bohumila", last_name="Zelenková", phone="+420777000111"
        ),
        Employee(
            id="S2", first_name="Ewan", last_name="Pilkington", phone="+420777000111"
        ),
    ]
    write_cache(cache_path(load_config(str(config))), people)

    code = main(["--config", str(config), "status", "--json"])

    report = json.loads(capsys.readouterr().out)
    assert code == 0
    assert report["directory"]["employees"] == 2
    assert (
        report["directory"]["source"] == "admin API https://admin.example (cached copy)"
    )


def test_status_leaves_the_write_guard_uninstalled(tmp_path: Path) -> None:
    # Run in a child: a guard installed by mistake would confine this test process.
    script = (
        "import sys; from kiosk_agent.cli import main; "
        "main(['--config', sys.argv[1], 'status']); "
        "open(sys.argv[2], 'w').write('written')"
    )
    target = tmp_path / "elsewhere" / "file.txt"
    target.parent.mkdir()

    done = subprocess.run(
        [
            sys.executable,
            "-c",
            script,
            str(write_config(tmp_path, EMPLOYEES)),
            str(target),
        ],
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        timeout=60,
        cwd=REPO,
        text=True,
    )

    assert done.returncode == 0, done.stderr[-2000:]
    assert target.read_text() == "written"


@pytest.mark.parametrize(
    ("device", "state"),
    [
        ("/dev/null", "not a camera"),
        ("{tmp}/clip.mp4", "video file"),
        ("{tmp}/no-such-camera", "missing"),
        ("{tmp}", "not a camera"),
    ],
    ids=["char-device-not-v4l2", "video-file", "missing", "folder"],
)
def test_camera_state_is_probed_without_holding_the_device(
    tmp_path: Path, device: str, state: str
) -> None:
    (tmp_path / "clip.mp4").write_bytes(b"not really a video")

    assert camera_state(device.format(tmp=tmp_path)) == state


def test_camera_index_names_its_video_node() -> None:
    missing = next(i for i in range(64) if not Path(f"/dev/video{i}").exists())

    assert camera_state(str(missing)) == "missing"
