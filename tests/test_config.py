"""Configuration: typed, validated once, one clear line per mistake, secrets apart."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from kiosk_agent.cli import main
from kiosk_agent.config import DEFAULT_CONFIG_PATH, Config, load_config, read_secret
from kiosk_agent.errors import ConfigError

REPO = Path(__file__).resolve().parents[1]


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "kiosk.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_documented_default_file_equals_built_in_defaults() -> None:
    loaded = load_config(DEFAULT_CONFIG_PATH)
    assert loaded == Config(source=str(DEFAULT_CONFIG_PATH))


def test_empty_file_is_a_complete_configuration(tmp_path: Path) -> None:
    config = load_config(_write(tmp_path, ""))
    assert config.vad.trailing_silence_ms == 400
    assert config.llm.order == ("openai", "gemini", "local")


def test_values_are_typed_and_relative_paths_follow_the_file(tmp_path: Path) -> None:
    config = load_config(
        _write(
            tmp_path,
            "[vad]\ntrailing_silence_ms = 600\n[camera]\nfps = 5\n"
            '[directory]\npath = "staff.json"\n[llm]\norder = ["gemini", "local"]\n',
        )
    )
    assert config.vad.trailing_silence_ms == 600
    assert config.camera.fps == 5.0 and isinstance(config.camera.fps, float)
    assert config.llm.order == ("gemini", "local")
    assert config.resolve_path(config.directory.path) == tmp_path / "staff.json"


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("[vad]\ntrailing_silence_ms = 100\n", "vad.trailing_silence_ms"),
        ("[vad]\ntrailing_silence_ms = '400'\n", "vad.trailing_silence_ms"),
        ("[presence]\nenabled = 1\n", "presence.enabled"),
        ("[audio]\nframe_ms = 25\n", "audio.frame_ms"),
        ("[llm]\norder = ['openai', 'claude']\n", "llm.order"),
        ("[llm.openai]\ntotal_timeout_s = 0\n", "llm.openai.total_timeout_s"),
        ("[vad]\nsilence = 3\n", "vad.silence"),
        ("[colour]\nred = 1\n", "colour"),
        ("vad = 3\n", "vad"),
    ],
    ids=[
        "out-of-range",
        "wrong-type",
        "bool-as-int",
        "choice",
        "list-item",
        "nested-range",
        "unknown-key",
        "unknown-section",
        "section-not-table",
    ],
)
def test_bad_value_names_file_and_key(tmp_path: Path, text: str, named: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert str(path) in message and named in message
    assert "\n" not in message


def test_missing_file_and_bad_syntax_are_one_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "nope.toml")
    with pytest.raises(ConfigError, match="TOML syntax"):
        load_config(_write(tmp_path, "[vad\n"))


def test_cli_reports_bad_config_in_one_line_with_exit_2(tmp_path: Path) -> None:
    path = _write(tmp_path, "[vad]\npreroll_ms = 10\n")
    done = subprocess.run(
        [sys.executable, "-m", "kiosk_agent", "--config", str(path), "config", "check"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
    )
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0
    assert "vad.preroll_ms" in done.stderr and str(path) in done.stderr


def test_environment_variable_selects_the_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, "[log]\nlevel = 'DEBUG'\n")
    monkeypatch.setenv("KIOSK_AGENT_CONFIG", str(path))
    assert main(["config", "check"]) == 0
    assert str(path) in capsys.readouterr().out


def test_secret_comes_from_credentials_before_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "openai-api-key").write_text("sk-from-credential\n", encoding="utf-8")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(tmp_path))
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env")
    assert read_secret("openai-api-key", "OPENAI_API_KEY") == "sk-from-credential"
    assert read_secret("gemini-api-key", "GEMINI_API_KEY") is None
    monkeypatch.setenv("GEMINI_API_KEY", " g-key ")
    assert read_secret("gemini-api-key", "GEMINI_API_KEY") == "g-key"


def test_a_secret_in_the_toml_is_an_unknown_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="llm.openai.api_key") as caught:
        load_config(_write(tmp_path, "[llm.openai]\napi_key = 'sk-oops'\n"))
    assert "sk-oops" not in str(caught.value)
