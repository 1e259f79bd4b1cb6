"""Session and Turn bookkeeping and the visit's state machine; owns the pseudonym table.

One session is one visit: from ``visitor_arrived`` until ``visitor_left`` or
``DialogConfig.session_timeout_s`` without speech. The session id is random, never
derived from the person. The pseudonym table and the pseudonymized history live only
here, in memory, and are wiped when the session closes.
"""

from __future__ import annotations

import enum
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final, Generic, Protocol, TypeVar

from kiosk_agent.stages.llm_broker import ChatMessage

logger = logging.getLogger(__name__)


class SessionState(enum.Enum):
    """Where the visit stands."""

    IDLE = "idle"
    GREETING = "greeting"
    LISTENING = "listening"
    THINKING = "thinking"
    SPEAKING = "speaking"
    CALLING = "calling"
    GOODBYE = "goodbye"


_S = SessionState
TRANSITIONS: Final[dict[SessionState, frozenset[SessionState]]] = {
    _S.IDLE: frozenset({_S.GREETING}),
    _S.GREETING: frozenset({_S.LISTENING, _S.GOODBYE}),
    _S.LISTENING: frozenset({_S.THINKING, _S.GOODBYE}),
    _S.THINKING: frozenset({_S.SPEAKING, _S.CALLING, _S.LISTENING, _S.GOODBYE}),
    _S.SPEAKING: frozenset({_S.LISTENING, _S.CALLING, _S.THINKING, _S.GOODBYE}),
    _S.CALLING: frozenset({_S.SPEAKING, _S.LISTENING, _S.GOODBYE}),
    _S.GOODBYE: frozenset({_S.IDLE}),
}
"""Allowed moves; anything may also close to IDLE (``close``)."""


class Wipeable(Protocol):
    """Something holding personal data that can forget it in place."""

    def wipe(self) -> None:
        """Overwrite and forget every entry."""
        ...


T = TypeVar("T", bound=Wipeable)


@dataclass(slots=True)
class Turn:
    """One utterance plus the kiosk's reply; numbers only, never text."""

    index: int
    end_of_utterance_ns: int
    """monotonic_ns of the end-of-utterance decision; the latencies count from here."""
    latency_ms: dict[str, float] = field(default_factory=dict)
    """Milestone -> ms after the end of utterance (transcript, redacted, first_token,
    first_audio)."""
    provider: str = ""
    pseudonym_count: int = 0
    call_pseudonym: str = ""
    """The employee pseudonym the model asked to call, if any."""

    def mark(self, milestone: str, now_ns: int | None = None) -> None:
        """Record a milestone once, as ms after the end of utterance."""
        if milestone not in self.latency_ms:
            now = time.monotonic_ns() if now_ns is None else now_ns
            self.latency_ms[milestone] = (now - self.end_of_utterance_ns) / 1e6


@dataclass(slots=True)
class Session(Generic[T]):
    """One visit: random id, pseudonym table, pseudonymized history, turns."""

    table: T
    opened_ns: int
    session_id: str = field(default_factory=lambda: secrets.token_hex(8))
    language: str = "en"
    history: list[ChatMessage] = field(default_factory=list)
    """Pseudonymized chat history, sent to the broker each turn."""
    turns: list[Turn] = field(default_factory=list)
    last_activity_ns: int = 0

    def new_turn(self, end_of_utterance_ns: int) -> Turn:
        """Open the next turn."""
        turn = Turn(index=len(self.turns) + 1, end_of_utterance_ns=end_of_utterance_ns)
        self.turns.append(turn)
        return turn

    def wipe(self) -> None:
        """Forget the table and the history."""
        self.table.wipe()
        self.history.clear()


class SessionMachine(Generic[T]):
    """The state machine of visits; one session at a time, clock injected."""

    def __init__(
        self,
        table_factory: Callable[[], T],
        *,
        timeout_s: float,
        clock: Callable[[], int] = time.monotonic_ns,
    ) -> None:
        self._table_factory = table_factory
        self._timeout_ns = int(timeout_s * 1e9)
        self._clock = clock
        self.state = SessionState.IDLE
        self.session: Session[T] | None = None

    def visitor_arrived(self) -> Session[T]:
        """Open a session (IDLE -> GREETING); a session already open just stays."""
        now = self._clock()
        if self.session is not None:
            self.session.last_activity_ns = now
            return self.session
        self.session = Session(table=self._table_factory(), opened_ns=now)
        self.session.last_activity_ns = now
        self.move(SessionState.GREETING)
        logger.info("session.opened", extra={"fields": self._fields()})
        return self.session

    def move(self, state: SessionState) -> None:
        """Change state along an allowed transition.

        Raises:
            ValueError: the move is not allowed from the current state.
        """
        if state == self.state:
            return
        if state not in TRANSITIONS[self.state]:
            moving = f"{self.state.value} -> {state.value}"
            raise ValueError(f"session: {moving} not allowed")
        self.state = state
        logger.debug("session.state", extra={"fields": self._fields()})

    def touch(self) -> None:
        """Note visitor activity (speech heard, avatar finished) for the timeout."""
        if self.session is not None:
            self.session.last_activity_ns = self._clock()

    def is_timed_out(self) -> bool:
        """True when an open session saw no activity for the timeout."""
        if self.session is None:
            return False
        return self._clock() - self.session.last_activity_ns >= self._timeout_ns

    def visitor_left(self) -> Session[T] | None:
        """The visitor left or timed out: move to GOODBYE (the caller then closes)."""
        if self.session is None:
            return None
        self.move(SessionState.GOODBYE)
        return self.session

    def close(self, reason: str = "left") -> None:
        """Wipe the session and go back to IDLE."""
        session, self.session = self.session, None
        self.state = SessionState.IDLE
        if session is None:
            return
        duration_ms = (self._clock() - session.opened_ns) / 1e6
        logger.info(
            "session.closed",
            extra={
                "fields": {
                    "session_id": session.session_id,
                    "count": len(session.turns),
                    "duration_ms": round(duration_ms),
                    "reason": reason,
                }
            },
        )
        session.wipe()
        session.turns.clear()

    def _fields(self) -> dict[str, object]:
        session_id = self.session.session_id if self.session else ""
        return {"session_id": session_id, "state": self.state.value}
