"""The ``call_employee`` tool calls of a reply: checked, asked about, or placed.

A call is checked against the session's pseudonym table. A pseudonym the session does
not hold is refused and the model is told so (the dialog then asks it once more). One
that stands for several employees makes the kiosk ask the visitor which one: the names
are read out on the kiosk only, the model learns just the count. Otherwise the kiosk
says the calling line (unless the model already did), telephony gets the employee (the
stage sends the number only), and the outcome line follows.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Generic

from kiosk_agent.errors import KioskError
from kiosk_agent.messages import Employee, ToolCall
from kiosk_agent.scenario import Scenario
from kiosk_agent.session import Session, SessionMachine, SessionState, T, Turn
from kiosk_agent.stages.llm_broker import ChatMessage, TurnResult

logger = logging.getLogger(__name__)

EventSink = Callable[[str, dict[str, Any]], None]
"""Receives (event name, fields)."""


class EmployeeCalls(Generic[T]):
    """Acts on the ``call_employee`` tool calls of the dialog's replies."""

    def __init__(
        self,
        machine: SessionMachine[T],
        scenario: Scenario,
        *,
        candidates: Callable[[T, str], Sequence[Employee]],
        place_call: Callable[[Employee], Awaitable[str]],
        say: Callable[[str, Session[T]], Awaitable[object]],
        on_event: EventSink,
    ) -> None:
        """Build the call handling of one dialog.

        Args:
            machine: the dialog's session machine (moved to CALLING while ringing).
            scenario: the calling, ambiguity and outcome lines.
            candidates: the employees a pseudonym of a table stands for.
            place_call: rings an employee; returns an outcome of
                ``scenario.CALL_OUTCOMES``.
            say: speaks a pseudonymized line on the kiosk (re-identified first).
            on_event: receives pseudonymized events (simulate).
        """
        self._machine = machine
        self._scenario = scenario
        self._candidates = candidates
        self._place_call = place_call
        self._say = say
        self._on_event = on_event

    async def act_on(self, session: Session[T], turn: Turn, result: TurnResult) -> bool:
        """Act on the reply's tool calls; True when the model must be asked again."""
        needs_follow_up = False
        for call in result.reply.tool_calls:
            pseudonym = (
                call.arguments.get("employee", "")
                if call.name == "call_employee"
                else ""
            )
            employees = self._candidates(session.table, pseudonym) if pseudonym else ()
            self._on_event(
                "call_requested", {"turn": turn.index, "employee": pseudonym}
            )
            if not employees:
                self._refuse(session, turn, call, pseudonym)
                needs_follow_up = True
            elif len(employees) > 1:
                await self._ask_which(session, turn, call, pseudonym, employees)
            else:
                # The model usually announced the call itself; else the kiosk does.
                announce = pseudonym not in result.reply.text
                await self._call(session, turn, call, pseudonym, employees[0], announce)
        return needs_follow_up

    def _refuse(
        self, session: Session[T], turn: Turn, call: ToolCall, pseudonym: str
    ) -> None:
        logger.warning(
            "dialog.call_refused",
            extra={"fields": {"turn": turn.index, "reason": "unknown-pseudonym"}},
        )
        session.history.append(
            ChatMessage.tool_result(
                call,
                "refused: this conversation has no such employee token; "
                "call_employee takes only an <EMPLOYEE_n> token from the "
                "visitor's words",
            )
        )
        self._on_event("call_refused", {"turn": turn.index, "employee": pseudonym})

    async def _ask_which(
        self,
        session: Session[T],
        turn: Turn,
        call: ToolCall,
        pseudonym: str,
        employees: Sequence[Employee],
    ) -> None:
        language = session.language
        question = self._scenario.say("ambiguous", language, employee=pseudonym)
        # The names are read out on the kiosk only; the model learns just the count.
        joiner = " nebo " if language == "cs" else " or "
        names = joiner.join(_describe(e) for e in employees)
        await self._say(f"{question} {names}?", session)
        session.history.append(
            ChatMessage.tool_result(
                call,
                f"not called: {len(employees)} employees match {pseudonym}; "
                "the kiosk asked the visitor which one",
            )
        )
        self._on_event(
            "call_ambiguous",
            {"turn": turn.index, "employee": pseudonym, "count": len(employees)},
        )

    async def _call(
        self,
        session: Session[T],
        turn: Turn,
        call: ToolCall,
        pseudonym: str,
        employee: Employee,
        announce: bool,
    ) -> None:
        language = session.language
        turn.call_pseudonym = pseudonym
        if announce:
            line = self._scenario.say("calling", language, employee=pseudonym)
            await self._say(line, session)
        self._machine.move(SessionState.CALLING)
        outcome = await self._ring(turn, pseudonym, employee)
        self._on_event(
            "call_outcome",
            {"turn": turn.index, "employee": pseudonym, "outcome": outcome},
        )
        session.history.append(
            ChatMessage.tool_result(call, f"call outcome: {outcome}")
        )
        line = self._scenario.say_call_outcome(outcome, language, employee=pseudonym)
        await self._say(line, session)

    async def _ring(self, turn: Turn, pseudonym: str, employee: Employee) -> str:
        """Place the call; a telephony error counts as the outcome "failed"."""
        started = time.monotonic_ns()
        try:
            outcome = await self._place_call(employee)
        except KioskError as err:
            logger.error(
                "dialog.call_failed",
                extra={"fields": {"turn": turn.index, "error_code": err.code}},
            )
            outcome = "failed"
        logger.info(
            "dialog.call_done",
            extra={
                "fields": {
                    "turn": turn.index,
                    "pseudonym": pseudonym,
                    "outcome": outcome,
                    "duration_ms": round((time.monotonic_ns() - started) / 1e6),
                }
            },
        )
        return outcome


def _describe(employee: Employee) -> str:
    name = employee.full_name or f"{employee.first_name} {employee.last_name}".strip()
    return f"{name}, {employee.department}" if employee.department else name
