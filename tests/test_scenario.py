"""The scenario file: the shipped one loads; a broken one fails with one clear line."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from kiosk_agent.errors import ConfigError
from kiosk_agent.scenario import (
    CALL_OUTCOMES,
    DEFAULT_SCENARIO_PATH,
    PHRASES,
    load_scenario,
    parse_scenario,
)


def shipped() -> dict[str, Any]:
    return tomllib.loads(DEFAULT_SCENARIO_PATH.read_text(encoding="utf-8"))


def test_shipped_scenario_has_every_phrase_in_english_and_czech() -> None:
    scenario = load_scenario()
    assert scenario.languages == ("en", "cs")
    for name in PHRASES:
        for lang in ("en", "cs"):
            assert scenario.say(name, lang)
    for outcome in CALL_OUTCOMES:
        assert scenario.say_call_outcome(outcome, "cs", employee="<EMPLOYEE_1>")
    assert scenario.say("filler", "en") == "One moment, please."
    assert scenario.say("filler", "cs") == "Moment, prosím."
    topics = {faq.topic for faq in scenario.faqs}
    assert topics == {"opening_hours", "wifi", "parking", "toilets"}


def test_system_prompt_tells_the_model_about_tokens_the_tool_and_brevity() -> None:
    prompt = load_scenario().system_prompt
    for required in (
        "<EMPLOYEE_1>",
        "call_employee",
        "exactly",
        "phone numbers",
        "visitor's language",
        "brief",
    ):
        assert required in prompt


def test_employee_placeholder_is_filled_with_the_pseudonym() -> None:
    scenario = load_scenario()
    text = scenario.say("calling", "en", employee="<EMPLOYEE_2>")
    assert "<EMPLOYEE_2>" in text and "{" not in text


@pytest.mark.parametrize(
    ("language", "utterance", "topic"),
    [
        ("en", "When are you open?", "opening_hours"),
        ("en", "What is the Wi-Fi password?", "wifi"),
        ("en", "Where can I park?", "parking"),
        ("en", "Where is the restroom?", "toilets"),
        ("cs", "Jaká je otevírací doba?", "opening_hours"),
        ("cs", "Jaké je heslo na wifi?", "wifi"),
        ("cs", "Kde můžu zaparkovat?", "parking"),
        ("cs", "Kde najdu toaletu?", "toilets"),
    ],
    ids=[
        "en-hours",
        "en-wifi",
        "en-parking",
        "en-toilets",
        "cs-hours",
        "cs-wifi",
        "cs-parking",
        "cs-toilets",
    ],
)
def test_frequent_questions_match_by_keyword(
    language: str, utterance: str, topic: str
) -> None:
    faq = load_scenario().find_faq(utterance, language)
    assert faq is not None and faq.topic == topic


def test_keyword_matches_word_starts_only() -> None:
    assert load_scenario().find_faq("I have a sparkling idea", "en") is None


def broken(**changes: Any) -> dict[str, Any]:
    table = shipped()
    for dotted, value in changes.items():
        node = table
        *parents, leaf = dotted.split("__")
        for key in parents:
            node = node[key] if not key.isdigit() else node[int(key)]
        if value is DELETE:
            del node[leaf]
        else:
            node[leaf] = value
    return table


DELETE = object()


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"colour": "blue"}, "unknown key colour"),
        ({"greeting__de": "Hallo"}, "unknown key greeting.de"),
        ({"greeting__cs": DELETE}, "greeting.cs: missing"),
        ({"filler__en": 3}, "filler.en: expected a string, got 3"),
        ({"goodbye__en": "  "}, "goodbye.en: empty text"),
        ({"calling__en": "Calling {name}"}, "calling.en: unknown placeholder {name}"),
        ({"apology": DELETE}, "apology: missing"),
        ({"call_outcome__busy": DELETE}, "call_outcome.busy: missing"),
        (
            {"call_outcome__ringing": {"en": "x", "cs": "y"}},
            "unknown key call_outcome.ringing",
        ),
        ({"faq__0__cs": DELETE}, "faq[1].cs: missing"),
        ({"faq__1__en__keywords": "wifi"}, "faq[2].en.keywords: expected a list"),
        ({"languages": "en"}, "languages: expected a list of language codes"),
        ({"system_prompt": DELETE}, "system_prompt: missing"),
    ],
    ids=[
        "unknown-key",
        "unknown-language",
        "missing-language",
        "wrong-type",
        "empty",
        "bad-placeholder",
        "missing-phrase",
        "missing-outcome",
        "unknown-outcome",
        "faq-missing-language",
        "faq-keywords-type",
        "languages-type",
        "missing-prompt",
    ],
)
def test_broken_scenario_fails_with_one_line_naming_file_and_key(
    changes: dict[str, Any], expected: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_scenario(broken(**changes), source="site-scenario.toml")
    message = str(caught.value)
    assert "\n" not in message
    assert "site-scenario.toml" in message
    assert expected in message


def test_missing_or_invalid_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_scenario(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("greeting = [", encoding="utf-8")
    with pytest.raises(ConfigError, match="TOML syntax"):
        load_scenario(bad)
