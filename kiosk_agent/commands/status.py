"""``kiosk-agent status``: what a technician needs to know at a glance.

Everything here only looks: the write guard is probed (the kernel's Landlock ABI), not
installed; the camera node is opened, asked what it is and closed at once; the audio
devices are counted through PortAudio without opening a stream. Nothing from the
directory is shown but counts, so the output can be pasted into a support ticket.
"""

from __future__ import annotations

import argparse
import errno
import fcntl
import glob
import json
import os
import stat
import struct
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

from kiosk_agent.config import Config

HELP = "show configuration, model, directory, guard, outbox and device status"

LIMITATIONS: Final = (
    "no echo cancellation or barge-in: the microphone is muted while the avatar speaks",
    "the embedded speech model (tiny.en) understands English only",
    "the voice is espeak-ng: intelligible, robotic",
)

_VIDIOC_QUERYCAP: Final = 0x80685600
"""ioctl number of VIDIOC_QUERYCAP: _IOR('V', 0, struct v4l2_capability), 104 bytes."""
_CAPABILITY_BYTES: Final = 104
_CAP_VIDEO_CAPTURE: Final = 0x00000001
_CAP_VIDEO_CAPTURE_MPLANE: Final = 0x00001000
_CAP_DEVICE_CAPS: Final = 0x80000000
_LABEL_WIDTH: Final = 16


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``status``."""
    parser.add_argument("--json", action="store_true", help="machine-readable output")


def run(args: argparse.Namespace) -> int:
    """Collect and print the status; exit 1 when something blocks the kiosk."""
    from kiosk_agent.config import load_config

    config = load_config(args.config)
    report = collect(config)
    is_ok = report["model"]["present"] and "error" not in report["directory"]
    if args.json:
        print(json.dumps({"ok": is_ok, **report}, ensure_ascii=False))
    else:
        print("\n".join(format_report(report, is_ok)))
    return 0 if is_ok else 1


def collect(config: Config) -> dict[str, Any]:
    """Every check, as plain JSON-ready values (counts and codes, never names)."""
    inputs, outputs = _audio_devices()
    return {
        "config": config.source,
        "config_ok": True,
        "model": _model(config),
        "directory": _directory(config),
        "outbox": _outbox(config),
        "write_guard": _write_guard(),
        "camera": sorted(glob.glob("/dev/video*")),
        "camera_device": {
            "device": config.camera.device,
            "state": camera_state(config.camera.device),
        },
        "microphones": inputs,
        "speakers": outputs,
        "limitations": list(LIMITATIONS),
    }


def _verdict(report: dict[str, Any], is_ok: bool) -> str:
    """``ok``, ``degraded: ...`` (the kiosk runs without a device) or ``not ready``."""
    if not is_ok:
        return "not ready (see above)"
    missing = [
        name
        for name, count in (
            ("microphone", report["microphones"]),
            ("speaker", report["speakers"]),
        )
        if count == 0
    ]
    lacks = [f"no {name}" for name in missing]
    camera_state = report["camera_device"]["state"]
    if camera_state not in ("ok", "video file"):
        lacks.append(f"camera {camera_state}")
    return "degraded: " + ", ".join(lacks) if lacks else "ok"


def format_report(report: dict[str, Any], is_ok: bool) -> list[str]:
    """The human output: one aligned ``key: value`` line per item."""
    model, directory, outbox = report["model"], report["directory"], report["outbox"]
    guard, camera = report["write_guard"], report["camera_device"]
    rows = [
        ("config", f"{report['config']} (ok)"),
        ("speech model", f"{_found(model['present'])}: {model['path'] or '-'}"),
        ("directory", directory["source"] or "not configured"),
        ("directory size", _directory_size(directory)),
        ("outbox", _outbox_line(outbox)),
        ("write guard", _guard_line(guard)),
        ("camera", f"device {camera['device']}: {camera['state']}"),
        ("camera nodes", ", ".join(report["camera"]) or "none"),
        ("microphones", _count(report["microphones"])),
        ("speakers", _count(report["speakers"])),
        ("status", _verdict(report, is_ok)),
    ]
    lines = [f"{label + ':':<{_LABEL_WIDTH}} {value}" for label, value in rows]
    lines.append("known limitations:")
    lines.extend(f"  - {item}" for item in report["limitations"])
    return lines


def _found(is_present: bool) -> str:
    return "present" if is_present else "missing"


def _count(value: int | None) -> str:
    return "unknown (PortAudio unavailable)" if value is None else str(value)


def _directory_size(directory: dict[str, Any]) -> str:
    if "error" in directory:
        return f"error {directory['error']} (kiosk-agent directory list shows why)"
    if directory["employees"] is None:
        return "-"
    return (
        f"{directory['employees']} employees, {directory['rows_skipped']} rows "
        f"skipped, {directory['name_forms']} name forms for the anonymizer"
    )


def _outbox_line(outbox: dict[str, Any]) -> str:
    if "error" in outbox:
        return f"{outbox['folder']}: {outbox['error']}"
    return (
        f"{outbox['pending']} pending, {outbox['dropped']} dropped, "
        f"{outbox['rejected']} rejected ({outbox['folder']})"
    )


def _guard_line(guard: dict[str, Any]) -> str:
    commands = ", ".join(guard["commands"])
    if guard["landlock"]:
        return f"available, Landlock ABI {guard['landlock_abi']} (used by {commands})"
    return f"Landlock unavailable ({guard['reason']}): {commands} use the audit hook"


def _model(config: Config) -> dict[str, Any]:
    if config.asr.model_path:
        path = config.resolve_path(config.asr.model_path)
    else:
        try:
            from kiosk_agent.providers.whisper_engine import default_model_path

            path = default_model_path()
        except ImportError:
            return {"path": "", "present": False}
    return {"path": str(path), "present": (Path(path) / "model.bin").is_file()}


def _directory(config: Config) -> dict[str, Any]:
    """The directory's size as counts; an error shows only its code (no row data)."""
    from kiosk_agent.directory import cache_path, parse_directory, read_cache
    from kiosk_agent.errors import KioskError

    settings = config.directory
    if settings.url:
        parts = urlsplit(settings.url)
        source = f"admin API {parts.scheme}://{parts.hostname or ''} (cached copy)"
    else:
        source = settings.path
    if not source:
        return {"source": "", "employees": None}
    try:
        if settings.url:
            cached = read_cache(cache_path(config), region=settings.default_region)
            employees = cached[0] if cached else ()
            skipped = 0
        else:
            loaded = parse_directory(
                config.resolve_path(settings.path), region=settings.default_region
            )
            employees, skipped = loaded.employees, len(loaded.problems)
    except KioskError as err:
        return {"source": source, "error": err.code}
    from kiosk_agent.pii.name_index import DirectoryIndex

    index = DirectoryIndex(employees, config.anonymizer.fuzzy_max_distance)
    return {
        "source": source,
        "employees": len(employees),
        "rows_skipped": skipped,
        "name_forms": len(index.folded),
    }


def _outbox(config: Config) -> dict[str, Any]:
    from kiosk_agent.outbox import outbox_folder, read_outbox_stats

    folder = outbox_folder(config.transcripts)
    try:
        stats = read_outbox_stats(folder)
    except OSError as err:
        return {"folder": str(folder), "error": err.strerror}
    return {
        "folder": str(folder),
        "pending": stats.pending,
        "dropped": stats.dropped,
        "rejected": stats.rejected,
    }


def _write_guard() -> dict[str, Any]:
    """Whether the kernel offers Landlock: a read-only probe, nothing is installed."""
    from kiosk_agent.guard import GUARDED_COMMANDS, landlock_abi

    abi, reason = landlock_abi()
    return {
        "landlock": abi > 0,
        "landlock_abi": abi,
        "reason": reason,
        "commands": sorted(GUARDED_COMMANDS),
    }


def camera_state(device: str) -> str:
    """Whether ``[camera] device`` can be opened: opened, asked, closed at once.

    Returns:
        "ok", "video file", "missing", "permission denied", "busy", "not a camera",
        "not a capture device" or "error <ERRNO>".
    """
    text = device.strip()
    path = f"/dev/video{text}" if text.isdigit() else text
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return "missing"
    except OSError as err:
        return _errno_state(err)
    if stat.S_ISREG(mode):
        return "video file"
    if not stat.S_ISCHR(mode):
        return "not a camera"
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as err:
        return _errno_state(err)
    try:
        capability = fcntl.ioctl(fd, _VIDIOC_QUERYCAP, bytes(_CAPABILITY_BYTES))
    except OSError as err:
        return "not a camera" if err.errno == errno.ENOTTY else _errno_state(err)
    finally:
        os.close(fd)
    caps, device_caps = struct.unpack_from("<II", capability, 84)
    if caps & _CAP_DEVICE_CAPS:
        caps = device_caps
    if caps & (_CAP_VIDEO_CAPTURE | _CAP_VIDEO_CAPTURE_MPLANE):
        return "ok"
    return "not a capture device"


def _errno_state(err: OSError) -> str:
    if err.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    if err.errno == errno.EBUSY:
        return "busy"
    if err.errno in (errno.ENOENT, errno.ENODEV, errno.ENXIO):
        return "missing"
    return f"error {errno.errorcode.get(err.errno or 0, 'unknown')}"


def _audio_devices() -> tuple[int | None, int | None]:
    """How many input and output devices PortAudio lists; None without PyAudio."""
    try:
        from kiosk_agent.providers.audio_device import count_devices

        return count_devices()
    except ImportError:
        return None, None
