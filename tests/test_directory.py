"""The employee directory: files, validation, hot reload, the admin API, the cache."""

from __future__ import annotations

import asyncio
import json
import os
import stat
from pathlib import Path

import pytest

from kiosk_agent.config import parse_config
from kiosk_agent.directory import (
    ApiSource,
    Directory,
    FileSource,
    erase_from_cache,
    keep_fresh,
    load_directory,
    open_directory,
    parse_directory,
    read_cache,
)
from kiosk_agent.errors import ConfigError, DirectoryError
from kiosk_agent.messages import Employee
from kiosk_agent.providers.directory_api import HttpDirectoryApi
from tests.local_http import Answer, Recorded, closed_port_url, local_server

DEV_DIRECTORY = Path("/work/shared/data/anonymizer-dev/directory.json")

JSON_ROWS = """{
 "company": "Test s.r.o.",
 "employees": [
  {"id": "E1", "first_name": "Jan", "last_name": "Novák",
   "phone": "+420 601 112 233", "department": "Finance"},
  {"id": "E2", "first_name": "Eva", "last_name": "",
   "phone": "+420 601 112 240"},
  {"id": "E3", "first_name": "Petr", "last_name": "Král", "phone": "12"},
  {"id": "E4", "first_name": "Ola", "last_name": "Malá", "phone": "601 112 262"}
 ]
}
"""

CSV_ROWS = (
    "\ufeffid;first_name;last_name;phone;email;department;role;gender;badge\n"
    "C1;Jan;Novák;601 112 233;jan@example.cz;Finance;CFO;m;7\n"
    "C2;Eva;Černá;not a number;;HR;;f;8\n"
    "C3;Petr\n"
    "\n"
    "C4;Ola;Malá;+420 601 112 262;;IT;;f;9\n"
)


def employees(*ids: str) -> tuple[Employee, ...]:
    return tuple(
        Employee(id=i, first_name="A", last_name=f"Person{i}", phone="+420601112233")
        for i in ids
    )


def api_body(rows: list[dict[str, str]]) -> bytes:
    return json.dumps({"employees": rows}).encode()


def row(
    employee_id: str, last_name: str, phone: str = "+420601112233"
) -> dict[str, str]:
    return {
        "id": employee_id,
        "first_name": "A",
        "last_name": last_name,
        "phone": phone,
    }


# Files and validation


def test_dev_directory_loads_with_phones_in_e164() -> None:
    loaded = load_directory(DEV_DIRECTORY)

    assert len(loaded) == 30
    assert loaded[0].id == "D01" and loaded[0].full_name == "Jan Novák"
    assert loaded[0].phone == "+420601112233"
    assert all(e.phone.startswith("+") and " " not in e.phone for e in loaded)


def test_json_invalid_rows_are_skipped_and_reported_with_their_lines(
    tmp_path: Path,
) -> None:
    path = tmp_path / "directory.json"
    path.write_text(JSON_ROWS, encoding="utf-8")

    loaded = parse_directory(path)

    assert [e.id for e in loaded.employees] == ["E1", "E4"]
    assert loaded.employees[1].phone == "+420601112262"  # Default region CZ.
    assert [str(p) for p in loaded.problems] == [
        "line 6: no name (last_name is empty)",
        "line 8: phone number cannot be normalized to E.164",
    ]


def test_csv_with_bom_and_semicolons_skips_invalid_rows_with_their_lines(
    tmp_path: Path,
) -> None:
    path = tmp_path / "directory.csv"
    path.write_text(CSV_ROWS, encoding="utf-8")

    loaded = parse_directory(path)

    assert [(e.id, e.phone, e.department) for e in loaded.employees] == [
        ("C1", "+420601112233", "Finance"),
        ("C4", "+420601112262", "IT"),
    ]
    assert [str(p) for p in loaded.problems] == [
        "line 3: phone number cannot be normalized to E.164",
        "line 4: 7 field(s) fewer than the header",
    ]


def test_region_applies_to_numbers_without_country_code(tmp_path: Path) -> None:
    path = tmp_path / "d.json"
    path.write_text(json.dumps({"employees": [row("G1", "Black", "020 7946 0018")]}))

    assert parse_directory(path, region="GB").employees[0].phone == "+442079460018"
    assert parse_directory(path, region="CZ").problems[0].line == 1


@pytest.mark.parametrize(
    ("name", "content", "code", "words"),
    [
        (
            "d.csv",
            "id,first_name,last_name,phone\nW1,Jan,Nov\xe1k,601112233\n".encode(
                "cp1250"
            ),
            "directory-encoding",
            ["line 2", "not UTF-8", "0xE1"],
        ),
        (
            "d.json",
            json.dumps(
                {"employees": [row("X", "A"), row("Y", "B"), row("X", "C")]}
            ).encode(),
            "directory-duplicate-id",
            ["duplicate id 'X' on lines"],
        ),
        (
            "d.csv",
            b"id,first_name,phone\nM1,Jan,601112233\n",
            "directory-columns",
            ["line 1", "last_name"],
        ),
        (
            "d.json",
            b'{"employees": [\n{"id": "B1",\n]}',
            "directory-invalid",
            ["line 3"],
        ),
        ("d.json", b'{"staff": []}', "directory-invalid", ["employees"]),
    ],
    ids=["wrong-encoding", "duplicate-ids", "missing-column", "broken-json", "no-list"],
)
def test_bad_file_is_one_clear_error_and_the_running_directory_stays(
    tmp_path: Path, name: str, content: bytes, code: str, words: list[str]
) -> None:
    path = tmp_path / name
    if name.endswith(".csv"):
        path.write_text("id,first_name,last_name,phone\nOK1,A,Good,601112233\n")
    else:
        path.write_text(json.dumps({"employees": [row("OK1", "Good")]}))
    directory = Directory()
    source = FileSource(directory, path, region="CZ")
    source.reload()
    version = directory.version

    path.write_bytes(content)
    with pytest.raises(DirectoryError) as caught:
        parse_directory(path)
    changed = source.refresh()

    message = str(caught.value)
    assert caught.value.code == code and "\n" not in message and str(path) in message
    for word in words:
        assert word in message
    assert changed is False
    assert [e.id for e in directory.employees] == ["OK1"]
    assert directory.version == version


def test_duplicate_ids_name_both_lines(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text(
        "id,first_name,last_name,phone\nA,Jan,X,601112233\nB,Eva,Y,601112240\n"
        "A,Petr,Z,601112251\n",
        encoding="utf-8",
    )

    with pytest.raises(DirectoryError, match="duplicate id 'A' on lines 2 and 4"):
        parse_directory(path)


# The directory in memory and hot reload


def test_replace_counts_changes_bumps_version_and_calls_listeners() -> None:
    directory = Directory(employees("A", "B"))
    seen: list[int] = []
    directory.add_listener(lambda d: seen.append(d.version))

    changes = directory.replace(employees("B", "C"))
    unchanged = directory.replace(employees("B", "C"))

    assert (changes.added, changes.changed, changes.removed) == (1, 0, 1)
    assert not unchanged.any
    assert seen == [1]
    assert directory.phone_of("C") == "+420601112233" and directory.get("A") is None


def test_file_edit_is_picked_up_without_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "d.json"
    path.write_text(json.dumps({"employees": [row("A", "First")]}), encoding="utf-8")
    directory = Directory()
    source = FileSource(directory, path, region="CZ")
    source.reload()

    assert source.refresh() is False  # Nothing changed on disk.
    path.write_text(
        json.dumps({"employees": [row("A", "Renamed"), row("B", "New")]}),
        encoding="utf-8",
    )
    assert source.refresh() is True

    assert [e.last_name for e in directory.employees] == ["Renamed", "New"]
    assert directory.version == 2


async def test_keep_fresh_applies_an_edit_while_running(tmp_path: Path) -> None:
    path = tmp_path / "d.json"
    path.write_text(json.dumps({"employees": [row("A", "First")]}), encoding="utf-8")
    directory = Directory()
    source = FileSource(directory, path, region="CZ")
    source.reload()
    changed = asyncio.Event()
    loop = asyncio.get_running_loop()
    directory.add_listener(lambda d: loop.call_soon_threadsafe(changed.set))
    task = asyncio.create_task(keep_fresh(source, poll_s=0.02))

    try:
        path.write_text(
            json.dumps({"employees": [row("B", "Second")]}), encoding="utf-8"
        )
        await asyncio.wait_for(changed.wait(), timeout=2)
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(task, timeout=1)

    assert [e.id for e in directory.employees] == ["B"]


def test_remove_erases_from_memory_at_once() -> None:
    directory = Directory(employees("A", "B"))

    assert directory.remove("A") is True
    assert directory.remove("A") is False
    assert directory.get("A") is None and directory.phone_of("A") is None


# The admin API


class AdminApi:
    """A directory that changes, served with ETags and 304 like the customer's API."""

    def __init__(self) -> None:
        self.rows = [row("A", "Alpha"), row("B", "Beta"), row("C", "Gamma")]
        self.etag = '"v1"'

    def __call__(self, request: Recorded) -> Answer:
        if request.headers.get("If-None-Match") == self.etag:
            return Answer(status=304, headers={"ETag": self.etag})
        extra = [dict(r, birthday="1980-01-01") for r in self.rows]  # Not kept.
        return Answer(body=api_body(extra), headers={"ETag": self.etag})


def make_api_source(url: str, cache: Path, directory: Directory) -> ApiSource:
    fetcher = HttpDirectoryApi(url, token="s3cret", timeout_s=2.0)
    return ApiSource(directory, fetcher, cache, region="CZ", sync_interval_s=60.0)


def test_sync_applies_changes_and_deletions_and_uses_conditional_requests(
    tmp_path: Path,
) -> None:
    cache = tmp_path / "state" / "directory-cache.json"
    with local_server() as server:
        api = AdminApi()
        server.respond = api
        source = make_api_source(server.url, cache, Directory())

        first = source.sync()
        unchanged = source.sync()
        api.rows = [row("A", "Alpha-Changed"), row("C", "Gamma"), row("D", "Delta")]
        api.etag = '"v2"'
        second = source.sync()

    assert first.is_modified and first.changes.added == 3
    assert not unchanged.is_modified
    assert (second.changes.added, second.changes.changed, second.changes.removed) == (
        1,
        1,
        1,
    )
    assert [e.id for e in source.directory.employees] == ["A", "C", "D"]
    assert server.requests[0].headers["Authorization"] == "Bearer s3cret"
    assert "If-None-Match" not in server.requests[0].headers
    assert server.requests[1].headers["If-None-Match"] == '"v1"'
    assert server.requests[2].headers["If-None-Match"] == '"v1"'


def test_cache_is_private_atomic_and_holds_only_the_fields_the_kiosk_uses(
    tmp_path: Path,
) -> None:
    cache = tmp_path / "state" / "directory-cache.json"
    with local_server() as server:
        server.respond = AdminApi()
        make_api_source(server.url, cache, Directory()).sync()

    assert stat.S_IMODE(cache.stat().st_mode) == 0o600
    assert stat.S_IMODE(cache.parent.stat().st_mode) == 0o700
    assert [p.name for p in cache.parent.iterdir()] == [cache.name]  # No tmp left.
    text = cache.read_text(encoding="utf-8")
    assert "birthday" not in text and "1980" not in text
    assert json.loads(text)["etag"] == '"v1"'


def test_api_down_keeps_the_last_good_copy_and_a_restart_starts_offline(
    tmp_path: Path,
) -> None:
    cache = tmp_path / "directory-cache.json"
    with local_server() as server:
        server.respond = AdminApi()
        online = make_api_source(server.url, cache, Directory())
        online.sync()
        server.respond = lambda request: Answer(status=503)
        with pytest.raises(DirectoryError) as failed:
            online.sync()
        server.respond = lambda request: Answer(body=b"<html>oops")
        with pytest.raises(DirectoryError):
            online.sync()
    before = cache.read_bytes()

    restarted = make_api_source(closed_port_url(), cache, Directory())
    assert restarted.load_cache() is True
    changed = restarted.refresh()  # The sync fails: connection refused.

    assert failed.value.transient
    assert [e.id for e in online.directory.employees] == ["A", "B", "C"]
    assert changed is False
    assert [e.id for e in restarted.directory.employees] == ["A", "B", "C"]
    assert cache.read_bytes() == before


def test_api_timeout_is_bounded_and_keeps_the_copy(tmp_path: Path) -> None:
    cache = tmp_path / "directory-cache.json"
    with local_server() as server:
        server.respond = AdminApi()
        fetcher = HttpDirectoryApi(server.url, token=None, timeout_s=2.0)
        source = ApiSource(
            Directory(), fetcher, cache, region="CZ", sync_interval_s=60.0
        )
        source.sync()
        # Short only now: the good sync above must not race a 0.2 s limit on a busy
        # machine.
        fetcher.timeout_s = 0.2
        server.respond = lambda request: Answer(delay_s=5.0)
        with pytest.raises(DirectoryError) as caught:
            source.sync()

    assert caught.value.code == "directory-api-timeout"
    assert len(source.directory) == 3


def test_sync_runs_on_its_interval_with_an_injected_clock(tmp_path: Path) -> None:
    now = [0.0]
    with local_server() as server:
        server.respond = AdminApi()
        fetcher = HttpDirectoryApi(server.url, token=None, timeout_s=2.0)
        source = ApiSource(
            Directory(),
            fetcher,
            tmp_path / "c.json",
            region="CZ",
            sync_interval_s=300.0,
            clock=lambda: now[0],
        )
        source.refresh()
        now[0] = 299.0
        source.refresh()
        now[0] = 300.0
        source.refresh()

    assert len(server.requests) == 2


def test_erasure_from_the_cache_reaches_a_running_daemon_at_once(
    tmp_path: Path,
) -> None:
    cache = tmp_path / "directory-cache.json"
    with local_server() as server:
        server.respond = AdminApi()
        daemon = make_api_source(server.url, cache, Directory())
        daemon.refresh()

        assert erase_from_cache(cache, "B") is True
        changed = daemon.refresh()  # Within the sync interval: no request, cache read.

    assert changed is True
    assert daemon.directory.get("B") is None
    assert "Beta" not in cache.read_text(encoding="utf-8")
    assert [e.id for e in (read_cache(cache) or ((),))[0]] == ["A", "C"]
    assert len(server.requests) == 1
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600


# Configuration


def test_a_config_with_only_the_directory_path_and_endpoints_is_complete(
    tmp_path: Path,
) -> None:
    path = tmp_path / "d.json"
    path.write_text(json.dumps({"employees": [row("A", "Alpha")]}), encoding="utf-8")
    config = parse_config(
        {
            "directory": {"path": str(path)},
            "telephony": {"url": "http://127.0.0.1:9/"},
            "transcripts": {"url": "http://127.0.0.1:9/t"},
        }
    )

    directory, source = open_directory(config)

    assert isinstance(source, FileSource)
    assert config.directory.default_region == "CZ"
    assert [e.id for e in directory.employees] == ["A"]


def test_an_unknown_region_is_a_config_error(tmp_path: Path) -> None:
    config = parse_config({"directory": {"path": "x.json", "default_region": "XX"}})

    with pytest.raises(ConfigError, match="directory.default_region"):
        open_directory(config)


def test_api_config_starts_from_the_state_directory_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STATE_DIRECTORY", str(tmp_path))
    (tmp_path / ".directory-cache.json.tmp-dead").write_bytes(b"{half")
    config = parse_config({"directory": {"url": closed_port_url()}})
    from kiosk_agent.directory import write_cache

    write_cache(tmp_path / "directory-cache.json", employees("A"))

    directory, source = open_directory(config)

    assert isinstance(source, ApiSource)
    assert [e.id for e in directory.employees] == ["A"]
    assert sorted(os.listdir(tmp_path)) == ["directory-cache.json"]
