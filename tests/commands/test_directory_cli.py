"""``kiosk-agent directory``: list, show, add, edit, remove, import and sync."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from kiosk_agent.cli import main
from kiosk_agent.directory import parse_directory, read_cache, write_cache
from kiosk_agent.messages import Employee
from tests.local_http import Answer, local_server

DIRECTORY = {
    "company": "Test s.r.o.",
    "employees": [
        {
            "id": "D01",
            "first_name": "Jan",
            "last_name": "Novák",
            "phone": "+420 601 112 233",
            "department": "Finance",
            "badge": 7,
        },
        {
            "id": "D02",
            "first_name": "Jana",
            "last_name": "Nováková",
            "phone": "+420 601 112 240",
            "department": "HR",
        },
    ],
}


@pytest.fixture
def file_kiosk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A config with a JSON file source; returns the directory file."""
    path = tmp_path / "directory.json"
    path.write_text(
        json.dumps(DIRECTORY, ensure_ascii=False, indent=2), encoding="utf-8"
    )
    path.chmod(0o640)
    config = tmp_path / "kiosk.toml"
    config.write_text(f'[directory]\npath = "{path.name}"\n', encoding="utf-8")
    monkeypatch.setenv("KIOSK_AGENT_CONFIG", str(config))
    monkeypatch.setenv("STATE_DIRECTORY", str(tmp_path / "state"))
    return path


def run(*args: str) -> int:
    return main(["directory", *args])


def test_list_shows_ids_names_and_departments(
    file_kiosk: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run("list") == 0
    text = capsys.readouterr().out
    assert "D01" in text and "Jan Novák" in text and "Finance" in text

    assert run("list", "--json") == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed["employees"][1] == {
        "id": "D02",
        "name": "Jana Nováková",
        "department": "HR",
    }


def test_show_prints_one_employee_with_the_normalized_number(
    file_kiosk: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run("show", "D02", "--json") == 0
    assert json.loads(capsys.readouterr().out)["phone"] == "+420601112240"

    assert run("show", "NOPE") == 1
    assert "no employee with id 'NOPE'" in capsys.readouterr().err


def test_add_writes_the_file_in_its_format_and_keeps_the_rest(
    file_kiosk: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = run(
        "add",
        "--id",
        "D03",
        "--first-name",
        "Pavel",
        "--last-name",
        "Král",
        "--phone",
        "601 112 251",
        "--department",
        "IT",
        "--aliases",
        "Pája|Pavlík",
    )

    data = json.loads(file_kiosk.read_text(encoding="utf-8"))
    assert code == 0
    assert data["company"] == "Test s.r.o." and data["employees"][0]["badge"] == 7
    assert data["employees"][2]["phone"] == "+420601112251"
    assert data["employees"][2]["aliases"] == ["Pája", "Pavlík"]
    assert stat.S_IMODE(file_kiosk.stat().st_mode) == 0o640
    assert [p.name for p in file_kiosk.parent.iterdir() if ".tmp-" in p.name] == []


def test_add_with_a_bad_number_or_a_taken_id_changes_nothing(
    file_kiosk: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = file_kiosk.read_bytes()

    bad_phone = run("add", "--id", "D09", "--last-name", "X", "--phone", "12")
    taken = run("add", "--id", "D01", "--last-name", "X", "--phone", "601112299")

    err = capsys.readouterr().err
    assert (bad_phone, taken) == (1, 1)
    assert "cannot be normalized to E.164" in err and "already taken" in err
    assert file_kiosk.read_bytes() == before


def test_edit_changes_only_the_given_fields(file_kiosk: Path) -> None:
    assert (
        run("edit", "D01", "--department", "Board", "--phone", "+420 601 999 000") == 0
    )

    employee = parse_directory(file_kiosk).employees[0]
    assert (employee.department, employee.phone, employee.last_name) == (
        "Board",
        "+420601999000",
        "Novák",
    )


def test_remove_erases_from_the_file_and_the_cache(
    file_kiosk: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cache = file_kiosk.parent / "state" / "directory-cache.json"
    write_cache(
        cache,
        [
            Employee(
                id="D01", first_name="Jan", last_name="Novák", phone="+420601112233"
            )
        ],
    )

    assert run("remove", "D01") == 0
    assert run("remove", "D01") == 1

    assert 'Novák"' not in file_kiosk.read_text(encoding="utf-8")
    assert [e.id for e in parse_directory(file_kiosk).employees] == ["D02"]
    assert (read_cache(cache) or ((Employee(id="?", first_name="", last_name=""),),))[
        0
    ] == ()


def test_import_csv_merges_by_id_and_reports_skipped_rows(
    file_kiosk: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    incoming = file_kiosk.parent / "new.csv"
    incoming.write_text(
        "id,first_name,last_name,phone,department\n"
        "D02,Jana,Nováková,601112240,People\n"
        "D05,Pavla,Horová,601112274,Marketing\n"
        "D06,,,601112285,Facilities\n",
        encoding="utf-8",
    )

    assert run("import", str(incoming)) == 0

    captured = capsys.readouterr()
    assert "2 (1 added, 1 updated)" in captured.out
    assert "line 4: no name" in captured.err
    loaded = parse_directory(file_kiosk)
    assert [(e.id, e.department) for e in loaded.employees] == [
        ("D01", "Finance"),
        ("D02", "People"),
        ("D05", "Marketing"),
    ]


def test_csv_file_keeps_its_delimiter_and_unknown_columns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "staff.csv"
    path.write_text(
        "id;first_name;last_name;phone;badge\nC1;Jan;Novák;601112233;17\n"
        "C2;Eva;Malá;601112240;18\n",
        encoding="utf-8",
    )
    config = tmp_path / "kiosk.toml"
    config.write_text(f'[directory]\npath = "{path}"\n', encoding="utf-8")
    monkeypatch.setenv("KIOSK_AGENT_CONFIG", str(config))
    monkeypatch.setenv("STATE_DIRECTORY", str(tmp_path / "state"))

    assert run("edit", "C2", "--last-name", "Malá-Nová") == 0
    assert (
        run("add", "--id", "C3", "--last-name", "Veselý", "--phone", "601112251") == 0
    )
    assert (
        run(
            "add",
            "--id",
            "C4",
            "--last-name",
            "X",
            "--phone",
            "601112252",
            "--email",
            "x@example.cz",
        )
        == 1
    )

    assert path.read_text(encoding="utf-8") == (
        "id;first_name;last_name;phone;badge\nC1;Jan;Novák;601112233;17\n"
        "C2;Eva;Malá-Nová;+420601112240;18\nC3;;Veselý;+420601112251;\n"
    )


def test_with_an_admin_api_edits_are_refused_and_sync_and_remove_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "state"
    monkeypatch.setenv("STATE_DIRECTORY", str(state))
    monkeypatch.setenv("KIOSK_DIRECTORY_TOKEN", "tok")
    body = json.dumps(DIRECTORY).encode()
    with local_server() as server:
        server.respond = lambda request: (
            Answer(status=304)
            if request.headers.get("If-None-Match") == '"e1"'
            else Answer(body=body, headers={"ETag": '"e1"'})
        )
        config = tmp_path / "kiosk.toml"
        config.write_text(
            f'[directory]\nurl = "{server.url}/directory"\n', encoding="utf-8"
        )
        monkeypatch.setenv("KIOSK_AGENT_CONFIG", str(config))

        refused = run("add", "--id", "X", "--last-name", "Y", "--phone", "601112233")
        refused_err = capsys.readouterr().err
        synced = run("sync", "--json")
        report = json.loads(capsys.readouterr().out)
        again = run("sync")
        again_out = capsys.readouterr().out
        removed = run("remove", "D01")

    cache = state / "directory-cache.json"
    assert refused == 1 and "admin API" in refused_err and "owns" in refused_err
    assert synced == 0 and report["added"] == 2 and report["employees"] == 2
    assert again == 0 and "not modified" in again_out
    assert removed == 0
    assert [e.id for e in (read_cache(cache) or ((),))[0]] == ["D02"]
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600
    assert server.requests[0].headers["Authorization"] == "Bearer tok"
