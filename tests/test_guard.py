"""The no-write guard: audit hook, Landlock and the quiet environment.

An audit hook cannot be removed and Landlock cannot be lifted, so every test that
installs the guard does it in a child process and reads back what happened there.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kiosk_agent import guard
from kiosk_agent.config import parse_config

ROOT = Path(__file__).resolve().parent.parent

PROBE_HEADER = """
import ctypes, json, os, shutil, subprocess, sys, tempfile
from kiosk_agent import guard
from kiosk_agent.logs import setup_logging
setup_logging("INFO")
guard.harden_environment()
outbox, outside = sys.argv[1], sys.argv[2]
def box(name): return os.path.join(outbox, name)
def out(name): return os.path.join(outside, name)
results = {}
def attempt(name, action):
    try:
        value = action()
        results[name] = "ok" if value is None else value
    except OSError as err:
        results[name] = {"type": type(err).__name__, "errno": err.errno,
                         "privacy": isinstance(err, guard.PrivacyError)}
"""


def run_probe(tmp_path: Path, body: str) -> dict[str, Any]:
    """Run ``body`` after PROBE_HEADER in a child; its ``results`` and its log lines."""
    outbox, outside = tmp_path / "outbox", tmp_path / "outside"
    outbox.mkdir()
    outside.mkdir()
    script = PROBE_HEADER + textwrap.dedent(body) + "\nprint(json.dumps(results))\n"
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env.update(PYTHONPATH=str(ROOT), PYTHONDONTWRITEBYTECODE="1")
    result = subprocess.run(
        [sys.executable, "-c", script, str(outbox), str(outside)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    logs = [
        json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")
    ]
    return {
        "results": json.loads(result.stdout.splitlines()[-1]),
        "logs": logs,
        "stderr": result.stderr,
        "outbox": outbox,
        "outside": outside,
    }


def refused(outcome: Any, *, privacy: bool) -> bool:
    """Whether a probe outcome is EACCES, from the hook (privacy) or the kernel."""
    return (
        isinstance(outcome, dict)
        and outcome["errno"] == 13
        and outcome["privacy"] is privacy
    )


LANDLOCK_ABI, LANDLOCK_REASON = guard.landlock_abi()
needs_landlock = pytest.mark.skipif(
    LANDLOCK_ABI == 0, reason=f"this kernel offers no Landlock ({LANDLOCK_REASON})"
)


# --- The audit hook -------------------------------------------------------------------


@pytest.fixture(scope="module")
def module_folder() -> Iterator[Path]:
    """A private temporary folder (concurrent pytest sessions prune each other's)."""
    with tempfile.TemporaryDirectory(prefix="kiosk-guard-") as name:
        yield Path(name)


@pytest.fixture(scope="module")
def hook_probe(module_folder: Path) -> dict[str, Any]:
    """Python-level writes in a child with only the audit hook (no Landlock)."""
    tmp_path = module_folder / "hook"
    tmp_path.mkdir()
    (tmp_path / "readable.txt").write_text("read me")
    return run_probe(
        tmp_path,
        """
        with open(os.path.join(outside, "..", "readable.txt")) as f: pass
        open(out("existing.txt"), "w").close()
        status = guard.install_guard([outbox], landlock=False)
        results["landlock"] = status.landlock
        attempt("open_w", lambda: open(out("jan-novak.wav"), "wb"))
        attempt("open_a", lambda: open(out("log.txt"), "a"))
        attempt("open_plus", lambda: open(out("existing.txt"), "r+"))
        attempt("os_open", lambda: os.open(out("x"), os.O_CREAT | os.O_WRONLY))
        attempt("mkdir", lambda: os.mkdir(out("d")))
        attempt("remove", lambda: os.remove(out("existing.txt")))
        attempt("mkstemp", lambda: tempfile.mkstemp(dir=outside) and None)
        attempt("dotdot", lambda: open(os.path.join(outbox, "..", "outside", "y"), "w"))
        attempt("outbox", lambda: open(box("t.json"), "w").write("{}") and None)
        attempt("rename_out", lambda: os.rename(box("t.json"), out("t.json")))
        attempt("copy_out", lambda: shutil.copyfile(box("t.json"), out("c")) and None)
        attempt("replace_in", lambda: os.replace(box("t.json"), box("u.json")))
        attempt("read", lambda: open(out("existing.txt")).read())
        attempt("devnull", lambda: open(os.devnull, "w").write("x") and None)
        results["outside_files"] = sorted(os.listdir(outside))
    """,
    )


def test_hook_refuses_python_writes_outside_allow_list(
    hook_probe: dict[str, Any],
) -> None:
    """open for w/a/+ and os.open with O_CREAT outside the allow-list raise EACCES."""
    results = hook_probe["results"]
    for name in ("open_w", "open_a", "open_plus", "os_open", "dotdot", "mkstemp"):
        assert refused(results[name], privacy=True), (name, results[name])
    assert results["outside_files"] == ["existing.txt"]


def test_hook_refuses_mkdir_remove_rename_and_copy_outside(
    hook_probe: dict[str, Any],
) -> None:
    """Creating, removing, renaming or copying into a path outside is refused."""
    results = hook_probe["results"]
    for name in ("mkdir", "remove", "rename_out", "copy_out"):
        assert refused(results[name], privacy=True), (name, results[name])


def test_hook_allows_outbox_dev_null_and_reads(hook_probe: dict[str, Any]) -> None:
    """Writes inside the outbox and to /dev/null work; reading anywhere still works."""
    results = hook_probe["results"]
    assert results["outbox"] == "ok" and results["replace_in"] == "ok"
    assert results["devnull"] == "ok" and results["read"] == ""
    assert sorted(os.listdir(hook_probe["outbox"])) == ["u.json"]
    assert results["landlock"] == "off"


def test_hook_reports_refusal_with_code_and_category_only(
    hook_probe: dict[str, Any],
) -> None:
    """Each refusal logs guard.write_refused with a code and a directory category; the
    file name (which could be anything) is never logged."""
    refusals = [e for e in hook_probe["logs"] if e["event"] == "guard.write_refused"]
    assert len(refusals) == 10
    assert {e["error_code"] for e in refusals} == {"privacy-write-refused"}
    assert {"open:tmp", "os.mkdir:tmp", "os.rename:tmp"} <= {
        e["reason"] for e in refusals
    }
    assert "novak" not in hook_probe["stderr"].lower()
    assert str(hook_probe["outside"]) not in hook_probe["stderr"]


# --- Landlock -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def landlock_probe(module_folder: Path) -> dict[str, Any]:
    """Native writes in a child restricted by Landlock alone (no audit hook)."""
    (module_folder / "landlock").mkdir()
    return run_probe(
        module_folder / "landlock",
        """
        import numpy as np
        import cv2
        abi, reason = guard.landlock_abi()
        guard.apply_landlock([outbox, "/dev/null"], abi)
        libc = ctypes.CDLL(None, use_errno=True)
        libc.fopen.restype = ctypes.c_void_p
        def fopen(path):
            handle = libc.fopen(path.encode(), b"w")
            if not handle:
                raise OSError(ctypes.get_errno(), "fopen")
            libc.fputs(b"x", ctypes.c_void_p(handle))
            libc.fclose(ctypes.c_void_p(handle))
        image = np.zeros((8, 8, 3), np.uint8)
        attempt("imwrite_out", lambda: cv2.imwrite(out("face.png"), image))
        attempt("imwrite_in", lambda: cv2.imwrite(box("ok.png"), image))
        attempt("tofile_out", lambda: np.zeros(4).tofile(out("a.bin")))
        attempt("fopen_out", lambda: fopen(out("c.txt")))
        attempt("fopen_in", lambda: fopen(box("c.txt")))
        attempt("mkdir_out", lambda: os.mkdir(out("d")))
        attempt("child_out", lambda: subprocess.run(
            ["sh", "-c", "echo x > " + out("sh.txt")],
            capture_output=True).returncode)
        attempt("devnull", lambda: fopen("/dev/null"))
        attempt("read", lambda: len(open("/etc/hostname").read()) > 0)
        results["outside_files"] = sorted(os.listdir(outside))
        results["outbox_files"] = sorted(os.listdir(outbox))
    """,
    )


@needs_landlock
def test_landlock_blocks_native_writes_outside(landlock_probe: dict[str, Any]) -> None:
    """cv2.imwrite, numpy.tofile, a C fopen and a child shell cannot write outside."""
    results = landlock_probe["results"]
    assert (
        results["imwrite_out"] is False
    )  # OpenCV reports failure by its return value.
    for name in ("tofile_out", "fopen_out", "mkdir_out"):
        assert refused(results[name], privacy=False), (name, results[name])
    assert results["child_out"] != 0
    assert results["outside_files"] == []


@needs_landlock
def test_landlock_allows_writes_inside_allow_list(
    landlock_probe: dict[str, Any],
) -> None:
    """Native writes into the allow-list, to /dev/null and reads anywhere still work."""
    results = landlock_probe["results"]
    assert results["imwrite_in"] is True
    assert results["fopen_in"] == "ok" and results["devnull"] == "ok"
    assert results["read"] is True
    assert results["outbox_files"] == ["c.txt", "ok.png"]


@needs_landlock
def test_install_guard_applies_landlock_fully_before_threads(tmp_path: Path) -> None:
    """At process start the guard is full: the hook refuses, native writes fail too."""
    probe = run_probe(
        tmp_path,
        """
        status = guard.install_guard([outbox])
        results["status"] = [status.landlock, status.abi, status.reason]
        import cv2, numpy as np
        attempt("imwrite_out", lambda: cv2.imwrite(out("f.png"),
                                                   np.zeros((4, 4), np.uint8)))
    """,
    )
    assert probe["results"]["status"] == ["full", LANDLOCK_ABI, ""]
    assert probe["results"]["imwrite_out"] is False
    assert not any(probe["outside"].iterdir())
    assert any(e["event"] == "guard.installed" for e in probe["logs"])


@needs_landlock
def test_install_guard_after_threads_started_is_partial_and_warns(
    tmp_path: Path,
) -> None:
    """numpy starts a thread on import; a guard installed after it says so."""
    probe = run_probe(
        tmp_path,
        """
        import numpy
        results["threads"] = guard.thread_count()
        results["status"] = guard.install_guard([outbox]).landlock
    """,
    )
    assert probe["results"]["threads"] > 1
    assert probe["results"]["status"] == "partial"
    warnings = [e for e in probe["logs"] if e["event"] == "guard.threads_present"]
    assert warnings and warnings[0]["count"] == probe["results"]["threads"]


@needs_landlock
def test_guarded_command_is_guarded_before_command_modules_load(tmp_path: Path) -> None:
    """install_for_command guards `simulate` from argv alone, before numpy's thread;
    a second install returns the first status instead of adding a layer."""
    config = tmp_path / "kiosk.toml"
    config.write_text(f'[transcripts]\noutbox_dir = "{tmp_path / "box"}"\n')
    probe = run_probe(
        tmp_path,
        f"""
        status = guard.install_for_command(
            ["--config", {str(config)!r}, "simulate", "--audio", "x.wav"])
        results["status"] = [status.landlock, list(status.allowed)]
        results["again"] = guard.install_guard([outside]) is status
        results["other"] = guard.install_for_command(["config", "check"])
        attempt("write_box", lambda: open({str(tmp_path / "box" / "t")!r}, "w").close())
        attempt("write_out", lambda: open(out("t"), "w"))
        """,
    )
    results = probe["results"]
    assert results["status"][0] == "full"
    assert str(tmp_path / "box") in results["status"][1]
    assert results["again"] is True and results["other"] is None
    assert results["write_box"] == "ok"
    assert refused(results["write_out"], privacy=True)


def test_unguarded_command_installs_nothing(tmp_path: Path) -> None:
    """Technician commands such as `config check` run without the guard."""
    probe = run_probe(
        tmp_path,
        """
        results["status"] = guard.install_for_command(["config", "check"])
        attempt("write_out", lambda: open(out("t"), "w").close())
        """,
    )
    assert probe["results"] == {"status": None, "write_out": "ok"}


# --- Environment, config and helpers (in this process; nothing installed) -------------


def test_harden_environment_sets_quiet_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """onnxruntime telemetry, Hub access, OpenCL caches and bytecode are turned off."""
    for name in (*guard.QUIET_ENVIRONMENT, *guard.DROPPED_ENVIRONMENT):
        # delenv of an unset variable records nothing to undo: set it first, so the
        # variables harden_environment() adds do not leak into later tests (the
        # privacy tests check that the kiosk sets them itself).
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
    monkeypatch.setenv("MKL_VERBOSE_OUTPUT_FILE", "/tmp/mkl.log")
    monkeypatch.delenv("PULSE_SERVER", raising=False)
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    guard.harden_environment()
    assert os.environ["ORT_DISABLE_TELEMETRY"] == "1"
    assert os.environ["HF_HUB_OFFLINE"] == "1"
    assert os.environ["OPENCV_OPENCL_RUNTIME"] == "disabled"
    assert "MKL_VERBOSE_OUTPUT_FILE" not in os.environ
    assert sys.dont_write_bytecode is True
    assert os.environ["PULSE_SERVER"].endswith("/pulse/native")


def test_install_guard_for_does_nothing_when_guard_is_off() -> None:
    """[privacy] guard = false leaves the process unguarded and says so with None."""
    config = parse_config({"privacy": {"guard": False}})
    assert guard.install_guard_for(config) is None


def test_allow_list_follows_outbox_cache_and_state_directory(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The outbox always; the directory cache only with an admin API; under systemd
    the whole $STATE_DIRECTORY instead."""
    monkeypatch.delenv("STATE_DIRECTORY", raising=False)
    plain = parse_config({"transcripts": {"outbox_dir": "/srv/box"}})
    assert guard.allow_list_for(plain) == ["/srv/box"]
    api = parse_config(
        {"directory": {"url": "http://127.0.0.1:9/d", "cache_dir": "/srv/cache"}}
    )
    assert "/srv/cache" in guard.allow_list_for(api)
    monkeypatch.setenv("STATE_DIRECTORY", "/var/lib/kiosk-agent:/var/lib/other")
    assert guard.allow_list_for(api) == ["/var/lib/kiosk-agent"]


def test_allow_list_is_a_directory_boundary_not_a_prefix() -> None:
    """/tmp/outbox2 is not inside /tmp/outbox; the entry itself and children are."""
    allowed = ("/tmp/outbox", "/dev/null")
    assert guard.is_allowed("/tmp/outbox/a.json", allowed)
    assert guard.is_allowed("/tmp/outbox", allowed)
    assert not guard.is_allowed("/tmp/outbox2/a.json", allowed)
    assert not guard.is_allowed("/dev/null2", allowed)


def test_landlock_abi_names_why_it_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    """On an architecture without known syscall numbers the reason is a code."""
    monkeypatch.setattr(guard.platform, "machine", lambda: "sparc64")
    assert guard.landlock_abi() == (0, "landlock-unknown-arch")


def test_write_rights_grow_with_the_abi() -> None:
    """Truncation is refused only where the kernel can refuse it (ABI 3 and later)."""
    assert guard.write_rights(3) & (1 << 14)
    assert not guard.write_rights(1) & (1 << 14)
    assert guard.write_rights(1) & (1 << 1)  # WRITE_FILE from the first ABI.
