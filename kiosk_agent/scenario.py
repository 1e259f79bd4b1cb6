"""The customer's scenario: persona, phrases per language and frequent questions.

The scenario is a TOML file a non-programmer edits (``config/scenario.toml``). It is
validated like the main config: an unknown key, a wrong type, an empty text or a
missing language fails with one ``ConfigError`` line naming the file and the key.
Phrases may hold ``{employee}``, replaced by the employee's pseudonym (which
re-identification turns into the name on the kiosk); no other placeholder is allowed.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from kiosk_agent.config import read_toml
from kiosk_agent.errors import ConfigError

DEFAULT_SCENARIO_PATH: Final = (
    Path(__file__).resolve().parent.parent / "config" / "scenario.toml"
)

PHRASES: Final = (
    "greeting",
    "filler",
    "calling",
    "goodbye",
    "apology",
    "ambiguous",
    "please_wait",
)
"""Phrase tables every scenario has, each with one text per language."""

CALL_OUTCOMES: Final = ("answered", "busy", "no_answer", "failed", "timed_out")
"""Telephony outcomes the scenario has a phrase for (``[call_outcome.<name>]``)."""

_PLACEHOLDERS: Final = frozenset({"employee"})


@dataclass(frozen=True, slots=True, kw_only=True)
class Phrase:
    """One thing the kiosk says, in every language of the scenario."""

    texts: Mapping[str, str]
    """Language code -> text, e.g. ``{"en": "One moment, please."}``."""

    def text(self, language: str, *, employee: str = "") -> str:
        """The text in ``language`` (else the first language), ``{employee}`` filled."""
        template = self.texts.get(language) or next(iter(self.texts.values()))
        return template.replace("{employee}", employee)


@dataclass(frozen=True, slots=True, kw_only=True)
class Faq:
    """A frequent question: keywords that recognize it and the answer, per language."""

    topic: str
    keywords: Mapping[str, tuple[str, ...]]
    """Language -> lower-case keywords or phrases; any one of them matches."""
    answers: Mapping[str, str]

    def matches(self, text: str, language: str) -> bool:
        """True when a word of the text starts with one of the language's keywords.

        Matching word starts lets a Czech stem ("toalet") match its forms ("toaletu").
        """
        lowered = text.lower()
        return any(
            re.search(r"(?<!\w)" + re.escape(k), lowered)
            for k in self.keywords.get(language, ())
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Scenario:
    """The validated scenario file."""

    source: str = "<memory>"
    languages: tuple[str, ...]
    """Languages the kiosk speaks; the first is the default."""
    system_prompt: str = field(repr=False)
    """Persona and rules sent to the cloud LLM as the system prompt."""
    phrases: Mapping[str, Phrase] = field(repr=False)
    """Name from ``PHRASES`` -> phrase."""
    call_outcomes: Mapping[str, Phrase] = field(repr=False)
    """Outcome from ``CALL_OUTCOMES`` -> what the kiosk says then."""
    faqs: tuple[Faq, ...] = field(repr=False)

    def say(self, phrase: str, language: str, *, employee: str = "") -> str:
        """A phrase from ``PHRASES`` in the visitor's language.

        Example: ``scenario.say("calling", "cs", employee="<EMPLOYEE_1>")``.
        """
        return self.phrases[phrase].text(language, employee=employee)

    def say_call_outcome(
        self, outcome: str, language: str, *, employee: str = ""
    ) -> str:
        """What to say when a call ended with ``outcome`` (see ``CALL_OUTCOMES``)."""
        return self.call_outcomes[outcome].text(language, employee=employee)

    def per_language(self, phrase: str) -> dict[str, str]:
        """A phrase's texts by language (e.g. the apology for ``LlmBroker``)."""
        return dict(self.phrases[phrase].texts)

    def find_faq(self, text: str, language: str) -> Faq | None:
        """The first frequent question whose keywords occur in ``text``, if any."""
        return next((f for f in self.faqs if f.matches(text, language)), None)


def load_scenario(path: str | Path | None = None) -> Scenario:
    """Read and validate a scenario file (default: ``config/scenario.toml``).

    Raises:
        ConfigError: the file is missing or unreadable, or a key is unknown, of the
            wrong type, empty or missing a language. One line naming file and key.
    """
    file = Path(path) if path else DEFAULT_SCENARIO_PATH
    return parse_scenario(read_toml(file, kind="scenario"), source=str(file))


def parse_scenario(table: Mapping[str, Any], *, source: str = "<memory>") -> Scenario:
    """Validate an already parsed scenario table."""
    check = _Checker(source)
    check.keys(
        table, "", {"languages", "system_prompt", "call_outcome", "faq", *PHRASES}
    )
    languages = check.languages(table.get("languages"), "languages")
    system_prompt = check.text(
        table.get("system_prompt"), "system_prompt", placeholders=False
    )
    phrases = {name: check.phrase(table.get(name), name, languages) for name in PHRASES}
    outcomes_table = check.table(table.get("call_outcome"), "call_outcome")
    check.keys(outcomes_table, "call_outcome.", set(CALL_OUTCOMES))
    call_outcomes = {
        name: check.phrase(outcomes_table.get(name), f"call_outcome.{name}", languages)
        for name in CALL_OUTCOMES
    }
    faqs = check.faqs(table.get("faq", []), languages)
    return Scenario(
        source=source,
        languages=languages,
        system_prompt=system_prompt,
        phrases=phrases,
        call_outcomes=call_outcomes,
        faqs=faqs,
    )


class _Checker:
    """Validation helpers that fail with one line naming the file and the key."""

    def __init__(self, source: str) -> None:
        self._source = source

    def fail(self, key: str, problem: str) -> ConfigError:
        return ConfigError("scenario-invalid", f"{self._source}: {key}: {problem}")

    def keys(self, table: Mapping[str, Any], prefix: str, known: set[str]) -> None:
        for key in table:
            if key not in known:
                raise ConfigError(
                    "scenario-unknown-key",
                    f"{self._source}: unknown key {prefix}{key} "
                    f"(known here: {', '.join(sorted(known))})",
                )

    def table(self, value: Any, key: str) -> Mapping[str, Any]:
        if value is None:
            raise self.fail(key, "missing")
        if not isinstance(value, dict):
            raise self.fail(key, f"expected a table, got {value!r}")
        return value

    def text(self, value: Any, key: str, *, placeholders: bool = True) -> str:
        if value is None:
            raise self.fail(key, "missing")
        if not isinstance(value, str):
            raise self.fail(key, f"expected a string, got {value!r}")
        if not value.strip():
            raise self.fail(key, "empty text")
        if placeholders:
            try:
                names = {n for _, n, _, _ in string.Formatter().parse(value) if n}
            except ValueError:
                raise self.fail(key, "unbalanced { or }") from None
            unknown = names - _PLACEHOLDERS
            if unknown:
                raise self.fail(
                    key,
                    f"unknown placeholder {{{sorted(unknown)[0]}}} "
                    "(only {employee} is allowed)",
                )
        return value.strip()

    def languages(self, value: Any, key: str) -> tuple[str, ...]:
        if value is None:
            raise self.fail(key, "missing")
        if (
            not isinstance(value, list)
            or not value
            or not all(isinstance(v, str) and v for v in value)
        ):
            raise self.fail(key, f"expected a list of language codes, got {value!r}")
        return tuple(value)

    def phrase(self, value: Any, key: str, languages: tuple[str, ...]) -> Phrase:
        table = self.table(value, key)
        self.keys(table, f"{key}.", set(languages))
        return Phrase(
            texts={
                lang: self.text(table.get(lang), f"{key}.{lang}") for lang in languages
            }
        )

    def faqs(self, value: Any, languages: tuple[str, ...]) -> tuple[Faq, ...]:
        if not isinstance(value, list):
            raise self.fail("faq", "expected [[faq]] entries")
        faqs = []
        for index, entry in enumerate(value, start=1):
            key = f"faq[{index}]"
            entry = self.table(entry, key)
            self.keys(entry, f"{key}.", {"topic", *languages})
            topic = self.text(entry.get("topic"), f"{key}.topic", placeholders=False)
            keywords: dict[str, tuple[str, ...]] = {}
            answers: dict[str, str] = {}
            for lang in languages:
                part = self.table(entry.get(lang), f"{key}.{lang}")
                self.keys(part, f"{key}.{lang}.", {"keywords", "answer"})
                keywords[lang] = self.keywords(
                    part.get("keywords"), f"{key}.{lang}.keywords"
                )
                answers[lang] = self.text(part.get("answer"), f"{key}.{lang}.answer")
            faqs.append(Faq(topic=topic, keywords=keywords, answers=answers))
        return tuple(faqs)

    def keywords(self, value: Any, key: str) -> tuple[str, ...]:
        if value is None:
            raise self.fail(key, "missing")
        if (
            not isinstance(value, list)
            or not value
            or not all(isinstance(v, str) and v.strip() for v in value)
        ):
            raise self.fail(key, f"expected a list of words, got {value!r}")
        return tuple(v.strip().lower() for v in value)
