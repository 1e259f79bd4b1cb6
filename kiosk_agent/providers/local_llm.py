"""The offline responder: what a lobby needs when the cloud is gone.

It reads the same pseudonymized history the cloud providers get and answers from the
scenario, by rules, with no network:

- the visitor names an employee (``<EMPLOYEE_1>``): the scenario's "calling" phrase and
  a ``call_employee`` tool call, or the "ambiguous" question when the pseudonymizer
  could not tell which employee was meant (``is_ambiguous(pseudonym)``);
- a frequent question (keywords from the scenario, per language): its answer;
- a goodbye or a greeting: the scenario's goodbye or greeting;
- a tool result (the dialog reporting a call) or anything else: "please wait, someone
  will come".

It replies in the language of the visitor's last message.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import AsyncIterator, Callable
from typing import Final

from kiosk_agent.messages import ToolCall
from kiosk_agent.scenario import Scenario
from kiosk_agent.stages.llm_broker import CALL_EMPLOYEE, LlmRequest, Role, StreamItem

NAME: Final = "local"

_EMPLOYEE_PSEUDONYM: Final = re.compile(r"<EMPLOYEE_\d+>")
_GREETINGS: Final = {
    "en": ("hello", "hi", "hey", "good morning", "good afternoon", "good evening"),
    "cs": ("dobrý den", "dobry den", "ahoj", "zdravím", "dobré ráno", "dobrý večer"),
}
_GOODBYES: Final = {
    "en": ("goodbye", "good bye", "bye", "see you"),
    "cs": ("na shledanou", "nashledanou", "sbohem", "nashle", "měj se", "mějte se"),
}


def _never_ambiguous(pseudonym: str) -> bool:
    return False


class LocalLlm:
    """Rule-based replies from the scenario; never fails, needs no network."""

    def __init__(
        self,
        scenario: Scenario,
        *,
        is_ambiguous: Callable[[str], bool] = _never_ambiguous,
    ) -> None:
        """Build the responder.

        Args:
            scenario: phrases and frequent questions.
            is_ambiguous: True for an employee pseudonym whose mention matched more
                than one employee (asked back instead of called). The dialog passes
                a lookup into the session's pseudonym table; default: never.
        """
        self._scenario = scenario
        self._is_ambiguous = is_ambiguous
        self._call_ids = itertools.count(1)

    @property
    def name(self) -> str:
        """The provider's name in ``[llm] order``."""
        return NAME

    @property
    def is_offline(self) -> bool:
        """Needs no network: tried even when the turn's budget is used up."""
        return True

    async def stream(self, request: LlmRequest) -> AsyncIterator[StreamItem]:
        """The rule-based reply to the last message, then any tool call."""
        text, call = self.respond(request)
        yield text
        if call is not None:
            yield call

    def respond(self, request: LlmRequest) -> tuple[str, ToolCall | None]:
        """The reply text and an optional ``call_employee`` call for a request."""
        language = request.language
        say = self._scenario.say
        last = request.history[-1] if request.history else None
        if last is None or last.role is not Role.USER:
            return say("please_wait", language), None
        text = last.content

        pseudonym = _first_employee(text)
        if pseudonym is not None:
            if self._is_ambiguous(pseudonym):
                return say("ambiguous", language, employee=pseudonym), None
            call = ToolCall(
                name=CALL_EMPLOYEE.name,
                arguments={"employee": pseudonym},
                call_id=f"local_call_{next(self._call_ids)}",
            )
            return say("calling", language, employee=pseudonym), call

        faq = self._scenario.find_faq(text, language)
        if faq is not None:
            return faq.answers[language] if language in faq.answers else next(
                iter(faq.answers.values())
            ), None
        if _says_any(text, _GOODBYES.get(language, ()) + _GOODBYES["en"]):
            return say("goodbye", language), None
        if _says_any(text, _GREETINGS.get(language, ()) + _GREETINGS["en"]):
            return say("greeting", language), None
        return say("please_wait", language), None

    async def aclose(self) -> None:
        """Nothing to release."""


def _first_employee(text: str) -> str | None:
    match = _EMPLOYEE_PSEUDONYM.search(text)
    return match.group(0) if match else None


def _says_any(text: str, phrases: tuple[str, ...]) -> bool:
    lowered = text.lower()
    return any(re.search(rf"(?<!\w){re.escape(p)}(?!\w)", lowered) for p in phrases)
