"""Durable small files: atomic writes readable by the owner alone, and the state folder.

A write goes to a temporary file in the same folder, is flushed to the disk with fsync,
then renamed over the target, and the folder itself is fsynced so the rename survives a
power cut. A reader therefore sees the old file or the new one, never half of one; a
temporary file left by a crash carries ``TMP_MARK`` in its name and is removed by
``remove_stale_tmp`` at the next start.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path
from typing import Final

TMP_MARK: Final = ".tmp-"
"""Part of the name of every temporary file; such files are never read."""

PRIVATE_FILE: Final = 0o600
PRIVATE_FOLDER: Final = 0o700


def systemd_state_directory() -> Path | None:
    """The first folder of systemd's $STATE_DIRECTORY (StateDirectory=), or None."""
    first = os.environ.get("STATE_DIRECTORY", "").split(":")[0].strip()
    return Path(first) if first else None


def state_directory(fallback: str | Path) -> Path:
    """The service's state folder: systemd's $STATE_DIRECTORY, else ``fallback``."""
    return systemd_state_directory() or Path(fallback)


def ensure_private_folder(folder: Path) -> None:
    """Create the folder (and parents) if needed; a new folder is owner-only (0700)."""
    if not folder.is_dir():
        folder.mkdir(mode=PRIVATE_FOLDER, parents=True, exist_ok=True)
        os.chmod(folder, PRIVATE_FOLDER)


def write_atomic(path: Path, data: bytes, *, mode: int = PRIVATE_FILE) -> None:
    """Replace ``path`` with ``data`` in one step that survives a crash or a power cut.

    When the caller is root (a technician with sudo), the new file keeps the old file's
    owner and group (or takes the folder's), so the service user can still read it.

    Raises:
        OSError: the folder is not writable or the disk is full; ``path`` is unchanged.
    """
    folder = path.parent
    tmp = folder / f".{path.name}{TMP_MARK}{secrets.token_hex(4)}"
    # As root, keep the file's owner (or take the folder's): the service must read it.
    owner = _owner_of(path) or _owner_of(folder)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        # The mode given to open() is reduced by the umask; set it exactly.
        os.fchmod(fd, mode)
        if owner is not None and os.geteuid() == 0:
            os.fchown(fd, *owner)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    os.close(fd)
    try:
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    fsync_folder(folder)


def remove_durable(path: Path) -> bool:
    """Delete a file and fsync its folder; False when it was already gone."""
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    fsync_folder(path.parent)
    return True


def fsync_folder(folder: Path) -> None:
    """Flush a folder's entries (creations, renames, deletions) to the disk."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def remove_stale_tmp(folder: Path) -> int:
    """Delete temporary files a crash left behind in ``folder``; returns how many."""
    removed = 0
    for entry in folder.iterdir():
        if TMP_MARK in entry.name and entry.is_file():
            with contextlib.suppress(FileNotFoundError):
                entry.unlink()
                removed += 1
    if removed:
        fsync_folder(folder)
    return removed


def _owner_of(path: Path) -> tuple[int, int] | None:
    try:
        info = path.stat()
    except FileNotFoundError:
        return None
    return info.st_uid, info.st_gid
