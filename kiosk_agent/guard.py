"""The no-write guard: quiet native libraries and refuse writes outside an allow-list.

Three steps, each one function, called in this order at process start, before any vendor
package (or numpy) is imported:

1. ``harden_environment`` sets the variables that stop native libraries from writing
   on their own (onnxruntime telemetry and device id, Python bytecode, OpenCV OpenCL
   caches, Hugging Face downloads).
2. ``install_audit_hook`` refuses Python-level writes (``open`` for writing, rename,
   mkdir, remove, ...) outside the allow-list and logs ``guard.write_refused``.
3. ``apply_landlock`` asks the kernel to refuse every write, create, remove and
   truncate outside the allow-list, for this thread and everything it starts later, so
   native writes (``cv2.imwrite``, a C ``fopen``) are refused too. Reads stay allowed.

``install_guard`` runs steps 2 and 3; ``install_guard_for`` builds the allow-list from
the config. This module imports only the standard library and light kiosk_agent modules
(no numpy), so it can run before anything starts a thread.
"""

from __future__ import annotations

import argparse
import ctypes
import errno
import logging
import os
import platform
import sys
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from kiosk_agent.config import Config, load_config
from kiosk_agent.errors import KioskError, PrivacyError
from kiosk_agent.logs import setup_logging

logger = logging.getLogger(__name__)

QUIET_ENVIRONMENT: Final[dict[str, str]] = {
    # onnxruntime from PyPI otherwise keeps a device id and an SQLite database under
    # ~/.cache/Microsoft/DeveloperTools/.onnxruntime and may phone home.
    "ORT_DISABLE_TELEMETRY": "1",
    "PYTHONDONTWRITEBYTECODE": "1",
    # faster-whisper resolves model names through the hub: never download or ping it.
    "HF_HUB_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "DO_NOT_TRACK": "1",
    # OpenCV compiles OpenCL kernels into ~/.cache/opencv and tunes ocl4dnn kernels into
    # a config file there; the kiosk needs no OpenCL, so switch it off altogether.
    "OPENCV_OPENCL_RUNTIME": "disabled",
    "OPENCV_OPENCL_CACHE_ENABLE": "0",
    "OPENCV_OPENCL_CACHE_WRITE": "0",
    "OPENCV_OCL4DNN_CONFIG_PATH": "",
    "OPENCV_TRACE": "0",
    "OPENCV_DNN_NETWORK_DUMP": "0",
    # CTranslate2 keeps its caches in memory; its bundled MKL writes a file only in
    # verbose mode.
    "CT2_VERBOSE": "0",
    "MKL_VERBOSE": "0",
}
"""Variables set by ``harden_environment``; they override whatever was inherited."""

DROPPED_ENVIRONMENT: Final = ("MKL_VERBOSE_OUTPUT_FILE", "OPENCV_TRACE_LOCATION")
"""Inherited variables that name a file to write; removed by ``harden_environment``."""

DEVICE_PATHS: Final = ("/dev/null", "/dev/snd", "/dev/dri")
"""Device nodes the kiosk opens read-write (sound, GPU); added to every allow-list."""

WRITE_FLAGS: Final = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND

# Audit events that change the filesystem, with the argument positions holding targets.
_PATH_EVENTS: Final[dict[str, tuple[int, ...]]] = {
    "os.rename": (0, 1),
    "os.remove": (0,),
    "os.rmdir": (0,),
    "os.mkdir": (0,),
    "os.link": (1,),
    "os.symlink": (1,),
    "os.truncate": (0,),
    "os.chmod": (0,),
    "os.chown": (0,),
    "os.utime": (0,),
    "shutil.copyfile": (1,),
    "shutil.copymode": (1,),
    "shutil.copystat": (1,),
    "shutil.copytree": (1,),
    "shutil.rmtree": (0,),
    "shutil.make_archive": (0,),
    "shutil.unpack_archive": (1,),
    "tempfile.mkstemp": (0,),
    "tempfile.mkdtemp": (0,),
    "sqlite3.connect": (0,),
}

# Landlock: syscall numbers (the same on every architecture since the table was unified)
# and access rights from <linux/landlock.h>.
_SYSCALLS: Final[dict[str, tuple[int, int, int]]] = {
    "x86_64": (444, 445, 446),
    "aarch64": (444, 445, 446),
}
_CREATE_RULESET_VERSION: Final = 1
_RULE_PATH_BENEATH: Final = 1
_PR_SET_NO_NEW_PRIVS: Final = 38
_FS_WRITE_FILE: Final = 1 << 1
_FS_REMOVE_DIR: Final = 1 << 4
_FS_REMOVE_FILE: Final = 1 << 5
# MAKE_CHAR, MAKE_DIR, MAKE_REG, MAKE_SOCK, MAKE_FIFO, MAKE_BLOCK and MAKE_SYM.
_FS_MAKE_ALL: Final = 0b1111111 << 6
_FS_REFER: Final = 1 << 13  # ABI 2
_FS_TRUNCATE: Final = 1 << 14  # ABI 3
_FILE_RIGHTS: Final = _FS_WRITE_FILE | _FS_TRUNCATE


class WriteRefused(PrivacyError, PermissionError):
    """A write outside the allow-list was refused; an OSError so libraries cope."""

    def __init__(self, category: str) -> None:
        PrivacyError.__init__(
            self, "privacy-write-refused", f"write refused ({category})"
        )
        self.errno = errno.EACCES


@dataclass(frozen=True, slots=True, kw_only=True)
class GuardStatus:
    """What ``install_guard`` managed to put in place."""

    hook: bool
    """The audit hook is installed."""
    landlock: str
    """One of full, partial (other threads already ran), off (not asked) or
    unavailable (the kernel refused; see ``reason``)."""
    abi: int = 0
    """Landlock ABI version the kernel offers, 0 if none."""
    reason: str = ""
    """Why Landlock is unavailable: a short code such as ``landlock-enosys``."""
    allowed: tuple[str, ...] = ()
    """Resolved allow-list."""


def harden_environment() -> None:
    """Set the variables that keep native libraries from writing on their own.

    Must run before the library is imported: most of them read the environment once.
    """
    for name in DROPPED_ENVIRONMENT:
        os.environ.pop(name, None)
    os.environ.update(QUIET_ENVIRONMENT)
    # libpulse (opened by espeak-ng at initialisation and by ALSA's pulse plugin)
    # creates ~/.config/pulse and /tmp/pulse-* runtime folders when it has to look for
    # a server; naming the server's socket skips that search. A site's setting wins.
    runtime = os.environ.get("XDG_RUNTIME_DIR") or f"/run/user/{os.getuid()}"
    os.environ.setdefault("PULSE_SERVER", f"unix:{runtime}/pulse/native")
    sys.dont_write_bytecode = True


_installed: GuardStatus | None = None


def install_guard(
    allow_dirs: Iterable[str | os.PathLike[str]], *, landlock: bool = True
) -> GuardStatus:
    """Refuse writes outside ``allow_dirs`` (plus ``DEVICE_PATHS``) from now on.

    Creates missing allow-list directories (0700) first. Call at process start, before
    numpy or any vendor package is imported: Landlock binds only this thread and what
    it starts. A second call returns the first status: a guard is never widened.
    """
    global _installed
    if _installed is not None:
        return _installed
    allowed = _resolve_allow_list(allow_dirs)
    install_audit_hook(allowed)
    if landlock:
        _installed = _install_landlock(allowed)
    else:
        _installed = GuardStatus(hook=True, landlock="off", allowed=allowed)
    return _installed


def _install_landlock(allowed: tuple[str, ...]) -> GuardStatus:
    threads = thread_count()
    if threads > 1:
        logger.warning("guard.threads_present", extra={"fields": {"count": threads}})
    abi, reason = landlock_abi()
    if abi > 0:
        try:
            apply_landlock(allowed, abi)
        except OSError as err:
            reason = f"landlock-{errno.errorcode.get(err.errno or 0, 'error').lower()}"
    if reason:
        # TODO(#4): the deployment's systemd sandbox (README) is then the only
        # barrier against native writes; `status` should show this.
        logger.warning(
            "guard.landlock_unavailable", extra={"fields": {"reason": reason}}
        )
        return GuardStatus(
            hook=True, landlock="unavailable", abi=abi, reason=reason, allowed=allowed
        )
    state = "full" if threads == 1 else "partial"
    logger.info("guard.installed", extra={"fields": {"state": state, "version": abi}})
    return GuardStatus(hook=True, landlock=state, abi=abi, allowed=allowed)


def allow_list_for(config: Config) -> list[str]:
    """The folders the kiosk writes: the outbox and, with an admin API, its cache.

    Under systemd the whole $STATE_DIRECTORY (where both then live) is allowed.
    """
    state = os.environ.get("STATE_DIRECTORY", "").split(":")[0].strip()
    if state:
        return [state]
    dirs = [config.transcripts.outbox_dir]
    if config.directory.url:
        dirs.append(str(config.resolve_path(config.directory.cache_dir)))
    return dirs


def install_guard_for(config: Config) -> GuardStatus | None:
    """Install the guard on ``allow_list_for(config)`` as ``[privacy]`` asks.

    Returns None when ``privacy.guard`` is off.
    """
    if not config.privacy.guard:
        return None
    return install_guard(allow_list_for(config), landlock=config.privacy.landlock)


GUARDED_COMMANDS: Final = frozenset({"run", "demo", "simulate"})
"""CLI commands that handle visitors' speech and images, and so run guarded."""


def install_for_command(argv: Sequence[str]) -> GuardStatus | None:
    """For a guarded CLI command, harden and guard before any command module loads.

    ``cli.main`` calls this first: building the parser imports every command module,
    and some of them import numpy, which starts a thread. Returns None for other
    commands, when the guard is off, or when the config cannot be read (the command
    then reports that itself).
    """
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--config")
    parser.add_argument("command", nargs="?")
    known, _ = parser.parse_known_args(list(argv))
    if known.command not in GUARDED_COMMANDS:
        return None
    harden_environment()
    try:
        config = load_config(known.config)
    except KioskError:
        return None
    # The daemon logs lifecycle events; demo and simulate print their own output.
    setup_logging(config.log.level if known.command == "run" else "ERROR")
    if known.command == "demo":
        # The demo keeps its transcript in memory: nothing at all may be written.
        if not config.privacy.guard:
            return None
        return install_guard([], landlock=config.privacy.landlock)
    return install_guard_for(config)


def thread_count() -> int:
    """Threads of this process as the kernel sees them (native ones included)."""
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return threading.active_count()


def _resolve_allow_list(
    allow_dirs: Iterable[str | os.PathLike[str]],
) -> tuple[str, ...]:
    resolved = []
    for entry in allow_dirs:
        path = os.path.realpath(os.fspath(entry))
        # Nothing can create it once the guard is on; owner-only, as storage.py does.
        os.makedirs(path, mode=0o700, exist_ok=True)
        resolved.append(path)
    resolved += [os.path.realpath(p) for p in DEVICE_PATHS if os.path.exists(p)]
    return tuple(dict.fromkeys(resolved))


# --- Step 2: the Python audit hook -------------------------------------------------


def install_audit_hook(allowed: Sequence[str]) -> None:
    """Add an audit hook that refuses Python-level writes outside ``allowed``.

    Audit hooks cannot be removed, so a process installs this once.
    """
    checker = _WriteChecker(tuple(allowed))
    sys.addaudithook(checker)


class _WriteChecker:
    """The audit hook: decides whether an event writes outside the allow-list."""

    def __init__(self, allowed: tuple[str, ...]) -> None:
        self._allowed = allowed
        self._busy = threading.local()

    def __call__(self, event: str, args: tuple[Any, ...]) -> None:
        if event == "open":
            if not _opens_for_writing(args):
                return
            targets: tuple[Any, ...] = (args[0],)
        elif event in _PATH_EVENTS:
            targets = tuple(args[i] for i in _PATH_EVENTS[event] if i < len(args))
        else:
            return
        # The checks below call os functions that raise audit events of their own.
        if getattr(self._busy, "active", False):
            return
        self._busy.active = True
        try:
            self._check(event, targets)
        finally:
            self._busy.active = False

    def _check(self, event: str, targets: tuple[Any, ...]) -> None:
        for target in targets:
            if isinstance(target, int) or target in (None, "", ":memory:"):
                continue  # A descriptor (checked when opened) or an in-memory database.
            path = os.path.realpath(os.fsdecode(target))
            if not is_allowed(path, self._allowed):
                category = path_category(path)
                logger.warning(
                    "guard.write_refused",
                    extra={
                        "fields": {
                            "error_code": "privacy-write-refused",
                            "reason": f"{event}:{category}",
                        }
                    },
                )
                raise WriteRefused(category)


def _opens_for_writing(args: tuple[Any, ...]) -> bool:
    mode = args[1] if len(args) > 1 else None
    flags = args[2] if len(args) > 2 else 0
    if isinstance(mode, str) and any(c in mode for c in "wax+"):
        return True
    return isinstance(flags, int) and bool(flags & WRITE_FLAGS)


def is_allowed(path: str, allowed: Sequence[str]) -> bool:
    """Whether the resolved ``path`` is an allowed entry or lies beneath one."""
    return any(
        path == root or path.startswith(root.rstrip("/") + "/") for root in allowed
    )


def path_category(path: str) -> str:
    """A coarse, non-personal label for where a refused write pointed."""
    home = os.path.expanduser("~")
    for prefix, category in (
        ("/tmp/", "tmp"),
        ("/var/tmp/", "tmp"),
        ("/dev/shm/", "shm"),
        ("/dev/", "dev"),
        (home.rstrip("/") + "/.cache/", "cache"),
        (home.rstrip("/") + "/", "home"),
        ("/var/", "var"),
        ("/etc/", "etc"),
        ("/usr/", "usr"),
    ):
        if path.startswith(prefix):
            return category
    return "other"


# --- Step 3: Landlock ----------------------------------------------------------------


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64)]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def _libc() -> Any:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    return libc


def landlock_abi() -> tuple[int, str]:
    """The kernel's Landlock ABI version, or 0 and a reason code when there is none."""
    numbers = _SYSCALLS.get(platform.machine())
    if numbers is None:
        return 0, "landlock-unknown-arch"
    libc = _libc()
    abi = libc.syscall(
        numbers[0], None, ctypes.c_size_t(0), ctypes.c_uint32(_CREATE_RULESET_VERSION)
    )
    if abi < 0:
        code = errno.errorcode.get(ctypes.get_errno(), "error").lower()
        return (
            0,
            f"landlock-{code}",
        )  # enosys: not built in; eopnotsupp: disabled at boot
    return int(abi), ""


def write_rights(abi: int) -> int:
    """The write, create, remove and truncate rights this ABI knows how to refuse."""
    rights = _FS_WRITE_FILE | _FS_REMOVE_DIR | _FS_REMOVE_FILE | _FS_MAKE_ALL
    if abi >= 2:
        rights |= _FS_REFER
    if abi >= 3:
        rights |= _FS_TRUNCATE
    return rights


def apply_landlock(allowed: Sequence[str], abi: int) -> None:
    """Restrict this thread (and its future threads and children) to ``allowed`` writes.

    Raises:
        OSError: the kernel refused a step; nothing is restricted then.
    """
    create, add_rule, restrict = _SYSCALLS[platform.machine()]
    libc = _libc()
    handled = write_rights(abi)

    attr = _RulesetAttr(handled_access_fs=handled)
    ruleset_fd = _check(
        libc.syscall(create, ctypes.byref(attr), ctypes.sizeof(attr), 0)
    )
    try:
        for path in allowed:
            _add_path_rule(libc, add_rule, ruleset_fd, path, handled)
        # TODO(#4): pass LANDLOCK_RESTRICT_SELF_TSYNC where the ABI has it, so threads
        # started before the guard are bound too.
        # Required to restrict oneself without CAP_SYS_ADMIN; also right for a kiosk.
        _check(libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
        _check(libc.syscall(restrict, ruleset_fd, 0))
    finally:
        os.close(ruleset_fd)


def _add_path_rule(
    libc: Any, add_rule: int, ruleset_fd: int, path: str, handled: int
) -> None:
    fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    try:
        # A rule on a file (/dev/null) may carry file rights only.
        rights = handled if os.path.isdir(path) else handled & _FILE_RIGHTS
        rule = _PathBeneathAttr(allowed_access=rights, parent_fd=fd)
        _check(
            libc.syscall(
                add_rule, ruleset_fd, _RULE_PATH_BENEATH, ctypes.byref(rule), 0
            )
        )
    finally:
        os.close(fd)


def _check(result: int) -> int:
    if result < 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    return int(result)
