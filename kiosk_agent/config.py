"""Frozen settings dataclasses, loaded from one TOML file and validated once.

Every section is a dataclass whose fields carry their defaults and, in ``metadata``,
their bounds (``min``, ``max``) or allowed values (``choices``). ``load_config`` walks
the TOML against these classes, so an unknown key, a wrong type or an out-of-range value
fails with one line that names the file and the key. Secrets never live here: see
``read_secret``.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from kiosk_agent.errors import ConfigError

DEFAULT_CONFIG_PATH: Final = (
    Path(__file__).resolve().parent.parent / "config" / ("kiosk-agent.toml")
)
CONFIG_ENV: Final = "KIOSK_AGENT_CONFIG"


def _range(lo: float | None = None, hi: float | None = None) -> dict[str, Any]:
    return {"min": lo, "max": hi}


@dataclass(frozen=True, slots=True, kw_only=True)
class AudioConfig:
    """Microphone capture."""

    device: str = ""
    """Input device: an index ("2") or part of its name ("USB"); "" = the default."""
    sample_rate_hz: int = field(default=16000, metadata={"choices": (16000,)})
    frame_ms: int = field(default=30, metadata={"choices": (10, 20, 30)})
    """Length of one AudioFrame; webrtcvad accepts 10, 20 or 30 ms."""
    buffer_s: float = field(default=5.0, metadata=_range(0.5, 60.0))
    """Bound of the in-memory frame queue; the oldest frame is dropped past it."""
    reopen_max_backoff_s: float = field(default=10.0, metadata=_range(0.1, 300.0))
    """Longest wait between attempts to reopen a device that disappeared."""


@dataclass(frozen=True, slots=True, kw_only=True)
class VadConfig:
    """Voice activity detection: webrtcvad as the cheap gate, Silero deciding."""

    webrtc_aggressiveness: int = field(default=2, metadata=_range(0, 3))
    speech_threshold: float = field(default=0.5, metadata=_range(0.05, 0.95))
    """Silero probability above which a frame is speech."""
    preroll_ms: int = field(default=400, metadata=_range(300, 2000))
    """Audio kept before the detected start so the first phoneme is not cut."""
    trailing_silence_ms: int = field(default=400, metadata=_range(300, 5000))
    """Silence that ends an utterance."""
    min_speech_ms: int = field(default=200, metadata=_range(30, 5000))
    """Shorter bursts of speech (a cough, a click) are not an utterance."""
    max_utterance_s: float = field(default=15.0, metadata=_range(1.0, 30.0))
    """An utterance is cut here; Whisper sees at most 30 s."""
    tentative_after_ms: int = field(default=120, metadata=_range(30, 1000))
    """Silence after which a tentative utterance goes to ASR for speculative decoding;
    kept below ``trailing_silence_ms``."""


@dataclass(frozen=True, slots=True, kw_only=True)
class AsrConfig:
    """On-device speech recognition with faster-whisper."""

    model_path: str = ""
    """A CTranslate2 Whisper model folder; empty for the embedded tiny.en."""
    compute_type: str = field(
        default="int8", metadata={"choices": ("int8", "int8_float32", "float32")}
    )
    languages: tuple[str, ...] = ("en",)
    """Languages to expect; the first is forced for an English-only model."""
    cpu_threads: int = field(default=2, metadata=_range(1, 16))
    beam_size: int = field(default=1, metadata=_range(1, 10))
    speculative: bool = True
    """Decode once trailing silence begins; reuse the result if nothing follows."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CameraConfig:
    """Camera capture through OpenCV."""

    device: str = "0"
    """A camera index ("0"), a /dev/video path, or a video file played at fps."""
    width: int = field(default=640, metadata=_range(160, 3840))
    height: int = field(default=480, metadata=_range(120, 2160))
    fps: float = field(default=10.0, metadata=_range(1.0, 60.0))
    reopen_max_backoff_s: float = field(default=10.0, metadata=_range(0.1, 300.0))


@dataclass(frozen=True, slots=True, kw_only=True)
class PresenceConfig:
    """Presence detection: a motion gate, then a face detector, then hysteresis."""

    enabled: bool = True
    motion_threshold: float = field(default=0.01, metadata=_range(0.0, 1.0))
    """Share of pixels that must change before the face detector runs."""
    min_face_px: int = field(default=80, metadata=_range(20, 1000))
    """Smallest face side counted as someone standing at the kiosk (at 640x480)."""
    arrive_checks: int = field(default=2, metadata=_range(1, 30))
    """Consecutive checks with a face before ``visitor_arrived``."""
    leave_after_s: float = field(default=5.0, metadata=_range(0.5, 600.0))
    """Time without a face before ``visitor_left``."""
    recheck_s: float = field(default=0.5, metadata=_range(0.05, 10.0))
    """While a visitor is present, how often the face detector runs without motion."""


@dataclass(frozen=True, slots=True, kw_only=True)
class AnonymizerConfig:
    """Pseudonymization before anything leaves the device."""

    fuzzy_max_distance: int = field(default=1, metadata=_range(0, 3))
    """Edit distance tolerated when matching names heard by ASR to the directory."""


@dataclass(frozen=True, slots=True, kw_only=True)
class LlmProviderConfig:
    """One cloud LLM provider."""

    base_url: str = ""
    model: str = ""
    connect_timeout_s: float = field(default=2.0, metadata=_range(0.1, 60.0))
    first_token_timeout_s: float = field(default=3.0, metadata=_range(0.1, 120.0))
    total_timeout_s: float = field(default=10.0, metadata=_range(0.5, 300.0))


@dataclass(frozen=True, slots=True, kw_only=True)
class LlmConfig:
    """The LLM broker: providers in order, with a circuit breaker per provider."""

    order: tuple[str, ...] = field(
        default=("openai", "gemini", "local"),
        metadata={"choices": ("openai", "gemini", "local")},
    )
    turn_budget_s: float = field(default=8.0, metadata=_range(0.5, 120.0))
    breaker_failures: int = field(default=2, metadata=_range(1, 100))
    """Consecutive failures that open a provider's circuit breaker."""
    breaker_cooldown_s: float = field(default=60.0, metadata=_range(1.0, 3600.0))
    max_retries: int = field(default=1, metadata=_range(0, 5))
    """Retries of one provider per turn after a 429 or 5xx, while the budget allows."""
    retry_backoff_s: float = field(default=0.3, metadata=_range(0.0, 10.0))
    """Wait before the first retry; doubled for each further one."""
    openai: LlmProviderConfig = LlmProviderConfig(
        base_url="https://api.openai.com/v1", model="gpt-4o-mini"
    )
    gemini: LlmProviderConfig = LlmProviderConfig(
        base_url="https://generativelanguage.googleapis.com", model="gemini-2.0-flash"
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class DialogConfig:
    """The conversation: scenario, timeouts and fillers."""

    scenario: str = ""
    """Scenario TOML; empty for the bundled config/scenario.toml."""
    session_timeout_s: float = field(default=90.0, metadata=_range(5.0, 3600.0))
    """A visit ends after this long with neither speech nor a face."""
    filler_after_ms: int = field(default=1200, metadata=_range(100, 10000))
    """Speak a short local filler when the first token is this late."""


@dataclass(frozen=True, slots=True, kw_only=True)
class TtsConfig:
    """Voice output through pyttsx3 and espeak-ng, synthesized in memory."""

    rate_wpm: int = field(default=170, metadata=_range(80, 400))
    voice_en: str = "en"
    voice_cs: str = "cs"
    output_device: str = ""
    """Output device: an index or part of its name; empty for the default."""


@dataclass(frozen=True, slots=True, kw_only=True)
class DirectoryConfig:
    """The customer's employee directory."""

    path: str = ""
    """JSON (the anonymizer-dev format) or CSV with a header."""
    url: str = ""
    """The customer's admin API; token from credential directory-token."""
    sync_interval_s: float = field(default=300.0, metadata=_range(5.0, 86400.0))
    timeout_s: float = field(default=5.0, metadata=_range(0.1, 120.0))
    default_region: str = "CZ"
    """Region for phone numbers written without a +country code (ISO 3166: CZ, GB)."""
    poll_s: float = field(default=2.0, metadata=_range(0.2, 3600.0))
    """How often the daemon looks for a changed file or cache."""
    cache_dir: str = "/var/lib/kiosk-agent"
    """Folder of the admin API's last good copy when $STATE_DIRECTORY is unset."""


@dataclass(frozen=True, slots=True, kw_only=True)
class TelephonyConfig:
    """The telephony service that rings an employee; it learns only the number."""

    url: str = ""
    timeout_s: float = field(default=5.0, metadata=_range(0.1, 120.0))
    retries: int = field(default=1, metadata=_range(0, 5))
    ring_timeout_s: float = field(default=30.0, metadata=_range(1.0, 300.0))
    retry_backoff_s: float = field(default=0.5, metadata=_range(0.0, 10.0))
    """Pause before retrying a call the service could not place."""
    max_wait_s: float = field(default=45.0, metadata=_range(1.0, 600.0))
    """Longest the visitor waits for a call outcome, retries included."""


@dataclass(frozen=True, slots=True, kw_only=True)
class TranscriptsConfig:
    """Anonymous transcripts delivered to the chatbot platform through an outbox."""

    url: str = ""
    outbox_dir: str = "/var/lib/kiosk-agent/outbox"
    """Used when $STATE_DIRECTORY is not set."""
    outbox_max: int = field(default=1000, metadata=_range(1, 1_000_000))
    timeout_s: float = field(default=5.0, metadata=_range(0.1, 120.0))
    retry_max_backoff_s: float = field(default=300.0, metadata=_range(1.0, 86400.0))
    kiosk_id: str = ""
    """Names this kiosk in the transcripts; empty for the host name."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PrivacyConfig:
    """The runtime guard against writes outside the allow-list."""

    guard: bool = True
    landlock: bool = True
    """Back the Python audit hook with a Landlock ruleset where the kernel has it."""


@dataclass(frozen=True, slots=True, kw_only=True)
class LogConfig:
    """Logging: journald under systemd, JSON lines on stderr elsewhere."""

    level: str = field(
        default="INFO", metadata={"choices": ("DEBUG", "INFO", "WARNING", "ERROR")}
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Config:
    """All settings of one kiosk."""

    source: str = "<defaults>"
    """The file the settings came from (not a TOML key)."""
    audio: AudioConfig = AudioConfig()
    vad: VadConfig = VadConfig()
    asr: AsrConfig = AsrConfig()
    camera: CameraConfig = CameraConfig()
    presence: PresenceConfig = PresenceConfig()
    anonymizer: AnonymizerConfig = AnonymizerConfig()
    llm: LlmConfig = LlmConfig()
    dialog: DialogConfig = DialogConfig()
    tts: TtsConfig = TtsConfig()
    directory: DirectoryConfig = DirectoryConfig()
    telephony: TelephonyConfig = TelephonyConfig()
    transcripts: TranscriptsConfig = TranscriptsConfig()
    privacy: PrivacyConfig = PrivacyConfig()
    log: LogConfig = LogConfig()

    def resolve_path(self, value: str) -> Path:
        """A path from this config; a relative one is taken from the config's folder."""
        path = Path(value).expanduser()
        if path.is_absolute() or self.source.startswith("<"):
            return path
        return Path(self.source).resolve().parent / path


_NOT_KEYS: Final = frozenset({"source"})


def config_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The config file: ``--config``, else $KIOSK_AGENT_CONFIG, else the default."""
    if explicit:
        return Path(explicit)
    env = os.environ.get(CONFIG_ENV)
    return Path(env) if env else DEFAULT_CONFIG_PATH


def load_config(path: str | os.PathLike[str] | None = None) -> Config:
    """Read and validate one TOML file.

    Raises:
        ConfigError: the file is missing or unreadable, or a key is unknown, of the
            wrong type or out of range. The message is one line naming file and key.
    """
    file = config_path(path)
    return parse_config(read_toml(file, kind="config"), source=str(file))


def read_toml(file: Path, *, kind: str) -> dict[str, Any]:
    """Parse a TOML file; errors are ``<kind>-missing|unreadable|invalid``, one line.

    Raises:
        ConfigError: the file is missing, unreadable, not UTF-8 or not TOML.
    """
    try:
        raw = file.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{kind}-missing", f"{file}: file not found") from None
    except OSError as err:
        raise ConfigError(f"{kind}-unreadable", f"{file}: {err.strerror}") from None
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{kind}-invalid", f"{file}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{kind}-invalid", f"{file}: TOML syntax: {err}") from None


def parse_config(table: dict[str, Any], *, source: str = "<memory>") -> Config:
    """Validate an already parsed TOML table against the dataclasses."""
    config: Config = _build(Config, table, prefix="", source=source)
    return dataclasses.replace(config, source=source)


def _build(cls: type[Any], table: dict[str, Any], *, prefix: str, source: str) -> Any:
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.name not in _NOT_KEYS}
    for key in table:
        if key not in fields:
            known = ", ".join(sorted(fields))
            raise ConfigError(
                "config-unknown-key",
                f"{source}: unknown key {prefix}{key} (known here: {known})",
            )
    values: dict[str, Any] = {}
    for name, value in table.items():
        key = f"{prefix}{name}"
        values[name] = _convert(
            hints[name], fields[name], value, key=key, source=source
        )
    return cls(**values)


def _convert(
    hint: Any, spec: dataclasses.Field[Any], value: Any, *, key: str, source: str
) -> Any:
    def fail(expected: str) -> ConfigError:
        return ConfigError(
            "config-invalid", f"{source}: {key}: expected {expected}, got {value!r}"
        )

    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        if not isinstance(value, dict):
            raise fail("a table")
        return _build(hint, value, prefix=f"{key}.", source=source)
    origin = typing.get_origin(hint)
    if origin is tuple:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise fail("a list of strings")
        choices = spec.metadata.get("choices")
        for item in value:
            if choices and item not in choices:
                raise fail(f"items from {list(choices)}")
        return tuple(value)
    if origin in (typing.Union, types.UnionType):
        raise fail("a supported type")  # No optional keys: every key has a default.
    if hint is bool:
        if not isinstance(value, bool):
            raise fail("true or false")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise fail("an integer")
    elif hint is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise fail("a number")
        value = float(value)
    elif hint is str:
        if not isinstance(value, str):
            raise fail("a string")
    lo, hi = spec.metadata.get("min"), spec.metadata.get("max")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise fail(f"a value from {lo} to {hi}")
    choices = spec.metadata.get("choices")
    if choices and value not in choices:
        raise fail(f"one of {list(choices)}")
    return value


def read_secret(credential: str, env: str) -> str | None:
    """A secret from systemd's credentials folder, else from the environment.

    Args:
        credential: file name under $CREDENTIALS_DIRECTORY, e.g. ``openai-api-key``.
        env: environment variable, e.g. ``OPENAI_API_KEY``.

    Returns:
        The stripped secret, or None when neither is set. Never log it.
    """
    folder = os.environ.get("CREDENTIALS_DIRECTORY")
    if folder:
        path = Path(folder) / credential
        try:
            secret = path.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            secret = ""
        except OSError as err:
            raise ConfigError(
                "secret-unreadable", f"credential {credential}: {err.strerror}"
            ) from None
        if secret:
            return secret
    return os.environ.get(env, "").strip() or None
