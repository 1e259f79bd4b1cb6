"""The dialog: greets, runs each turn from transcript to voice, calls employees.

One turn: final transcript -> egress (pseudonymize, last check) -> broker stream -> each
sentence re-identified on the kiosk -> TTS. When the first sentence is late, a short
local filler is spoken instead of silence. The reply's ``call_employee`` tool calls go
to ``calls.EmployeeCalls`` (checked against the session's pseudonym table, then asked
about or placed); after a refused call the model is asked once more. At the end of the
visit the pseudonymized history goes to the transcript sink, then the session is wiped.

Logs carry event names and numbers only; ``on_event`` gets what may leave the device
(pseudonymized), ``on_local`` what may only be shown on the kiosk itself (the demo).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Generic, Protocol

from kiosk_agent.calls import EmployeeCalls
from kiosk_agent.calls import EventSink as EventSink  # Re-exported for daemon.py.
from kiosk_agent.config import DialogConfig
from kiosk_agent.errors import AnonymizeError, KioskError
from kiosk_agent.messages import (
    Employee,
    PresenceEvent,
    PresenceKind,
    RedactedText,
    SpokenReply,
    Transcript,
)
from kiosk_agent.scenario import Scenario
from kiosk_agent.session import Session, SessionMachine, SessionState, T, Turn
from kiosk_agent.stages.llm_broker import ChatMessage, TextDelta, TurnEvent, TurnResult
from kiosk_agent.stages.tts import SpeechResult, TtsStage

logger = logging.getLogger(__name__)

_BUSY: Final = frozenset(
    {SessionState.THINKING, SessionState.SPEAKING, SessionState.CALLING}
)

MAX_ROUNDS: Final = 2
"""Broker rounds per turn: the reply, and one follow-up after a refused tool call."""


class ReplySource(Protocol):
    """The LLM broker, as the dialog uses it."""

    def stream(
        self, history: Sequence[ChatMessage], *, turn: int = 0
    ) -> AsyncIterator[TurnEvent]:
        """Text deltas (whole sentences), then one TurnResult."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class DialogPorts(Generic[T]):
    """What the dialog calls outside itself; daemon.py (or simulate/demo) wires it."""

    redact: Callable[[str, str, T], RedactedText]
    """Egress: transcript text, language, table -> redacted text (raises
    AnonymizeError / EgressRefused: then nothing leaves)."""
    reidentify: Callable[[str, T, str], SpokenReply]
    """Pseudonymized text, table, language -> spoken reply."""
    candidates: Callable[[T, str], Sequence[Employee]]
    """The employees an <EMPLOYEE_n> pseudonym of this table stands for; empty if the
    table does not hold it."""
    place_call: Callable[[Employee], Awaitable[str]]
    """Rings an employee; returns an outcome from scenario.CALL_OUTCOMES."""
    store_transcript: Callable[[str, Sequence[ChatMessage]], Awaitable[None]]
    """session_id, pseudonymized history -> the transcript sink."""


def _ignore(_name: str, _fields: dict[str, Any]) -> None:
    return None


@dataclass(slots=True)
class Heard:
    """A final transcript and when the end of its utterance was decided."""

    transcript: Transcript
    end_of_utterance_ns: int = field(default_factory=time.monotonic_ns)


class Dialog(Generic[T]):
    """Runs sessions: presence events and transcripts in, voice out."""

    def __init__(
        self,
        machine: SessionMachine[T],
        broker: ReplySource,
        tts: TtsStage,
        scenario: Scenario,
        ports: DialogPorts[T],
        config: DialogConfig,
        *,
        on_event: EventSink = _ignore,
        on_local: EventSink = _ignore,
    ) -> None:
        self.machine = machine
        self._broker = broker
        self._tts = tts
        self._scenario = scenario
        self._ports = ports
        self._filler_s = config.filler_after_ms / 1000
        self._on_event = on_event
        self._on_local = on_local
        self._calls = EmployeeCalls(
            machine,
            scenario,
            candidates=ports.candidates,
            place_call=ports.place_call,
            say=self._say,
            on_event=on_event,
        )

    # -- visit ----------------------------------------------------------------------

    async def visitor_arrived(self, *, greet: bool = True) -> None:
        """Open a session and greet (a visitor already here is not greeted again).

        Args:
            greet: False when speech opened the session (no camera): just answer.
        """
        if self.machine.session is not None:
            self.machine.touch()
            return
        session = self.machine.visitor_arrived()
        self._on_event("arrival", {"session_id": session.session_id})
        if greet:
            await self._say(self._scenario.say("greeting", session.language), session)
        self.machine.move(SessionState.LISTENING)

    async def visitor_left(self, reason: str = "left") -> None:
        """Say goodbye, hand the pseudonymized history to the sink, wipe the session."""
        session = self.machine.visitor_left()
        if session is None:
            return
        self._tts.cancel()
        if reason != "shutdown" and (reason == "left" or session.turns):
            await self._say(self._scenario.say("goodbye", session.language), session)
        try:
            if session.history:
                await self._ports.store_transcript(session.session_id, session.history)
        except KioskError as err:
            logger.error(
                "dialog.transcript_failed",
                extra={
                    "fields": {"session_id": session.session_id, "error_code": err.code}
                },
            )
        finally:
            self._on_event("departure", {"reason": reason, "turns": len(session.turns)})
            self.machine.close(reason)

    async def check_timeout(self) -> None:
        """End the visit when the session timed out."""
        if self.machine.is_timed_out():
            await self.visitor_left("timeout")

    # -- turn -----------------------------------------------------------------------

    async def on_transcript(self, heard: Heard) -> Turn | None:
        """Run one turn for a final transcript; returns it (None for empty speech)."""
        transcript = heard.transcript
        if not transcript.text.strip():
            return None
        if self.machine.session is None:
            await self.visitor_arrived(greet=False)
        session = self.machine.session
        assert session is not None
        self.machine.touch()
        session.language = transcript.language
        turn = session.new_turn(heard.end_of_utterance_ns)
        turn.mark("transcript")
        self.machine.move(SessionState.THINKING)
        self._on_local("heard", {"turn": turn.index, "text": transcript.text})
        try:
            await self._run_turn(session, turn, transcript)
        finally:
            self.machine.touch()
            if self.machine.state in _BUSY:
                self.machine.move(SessionState.LISTENING)
            self._log_turn(session, turn)
        return turn

    async def run(
        self, inbox: asyncio.Queue[PresenceEvent | Heard], *, poll_s: float = 1.0
    ) -> None:
        """The dialog stage: presence events and transcripts until cancelled.

        Turns run one after the other in a child task, so a visitor leaving cancels
        the reply being spoken. The session timeout is checked while the inbox is idle.
        When the stage is stopped mid-visit, the visit's transcript is still stored.
        """
        turn_task: asyncio.Task[Turn | None] | None = None
        try:
            while True:
                try:
                    async with asyncio.timeout(poll_s):
                        item = await inbox.get()
                except TimeoutError:
                    if turn_task is None or turn_task.done():
                        await self.check_timeout()
                    continue
                if isinstance(item, Heard):
                    if turn_task is not None:
                        await asyncio.gather(turn_task, return_exceptions=True)
                    turn_task = asyncio.create_task(self._safe_turn(item), name="turn")
                elif item.kind is PresenceKind.LEFT:
                    await _cancel(turn_task)
                    await self.visitor_left()
                else:
                    await self.visitor_arrived()
        finally:
            await _cancel(turn_task)
            if self.machine.session is not None:
                await self.visitor_left("shutdown")

    async def _safe_turn(self, heard: Heard) -> Turn | None:
        """One turn; a failed turn is reported and the visit goes on."""
        try:
            return await self.on_transcript(heard)
        except Exception as err:  # noqa: BLE001 - a turn is the unit of failure.
            code = err.code if isinstance(err, KioskError) else "dialog-turn-fault"
            logger.error(
                "dialog.turn_failed",
                extra={
                    "fields": {"error_code": code, "error_type": type(err).__name__}
                },
            )
            return None

    async def _run_turn(
        self, session: Session[T], turn: Turn, heard: Transcript
    ) -> None:
        try:
            redacted = self._ports.redact(heard.text, heard.language, session.table)
        except AnonymizeError as err:
            # Fail closed: nothing leaves, the visitor hears the local apology.
            logger.error(
                "dialog.redact_failed",
                extra={"fields": {"turn": turn.index, "error_code": err.code}},
            )
            await self._say(self._scenario.say("apology", session.language), session)
            return
        turn.mark("redacted")
        turn.pseudonym_count = redacted.pseudonym_count
        session.history.append(ChatMessage.user(redacted))
        self._on_event(
            "utterance",
            {
                "turn": turn.index,
                "text": redacted.text,
                "language": redacted.language,
                "pseudonym_count": redacted.pseudonym_count,
            },
        )
        for _round in range(MAX_ROUNDS):
            result = await self._reply(session, turn)
            if not await self._calls.act_on(session, turn, result):
                break

    async def _reply(self, session: Session[T], turn: Turn) -> TurnResult:
        """Stream one broker reply into TTS, with a filler when it is late."""
        queue: asyncio.Queue[str | None] = asyncio.Queue()
        results: list[TurnResult] = []
        reader = asyncio.create_task(self._read(session, turn, queue, results))
        first = asyncio.ensure_future(queue.get())
        try:
            done, _ = await asyncio.wait({first}, timeout=self._filler_s)
            if not done:
                filler = self._scenario.say("filler", session.language)
                self._on_event("filler", {"turn": turn.index})
                speech = await self._say(filler, session)
                if speech.first_audio_ns is not None:
                    turn.mark("filler_audio", speech.first_audio_ns)
            sentences = self._spoken(session, await first, queue)
            speech = await self._tts.speak_stream(sentences, session.language)
            if speech.first_audio_ns is not None:
                turn.mark("first_audio", speech.first_audio_ns)
            await reader
        finally:
            first.cancel()
            reader.cancel()
        result = results[-1]
        turn.provider = result.report.provider
        session.history.append(ChatMessage.from_reply(result.reply))
        self._on_event(
            "provider",
            {
                "turn": turn.index,
                "provider": result.report.provider,
                "attempts": [
                    {
                        "provider": a.provider,
                        "outcome": a.outcome.value,
                        "error_code": a.error_code,
                    }
                    for a in result.report.attempts
                ],
            },
        )
        self._on_event("reply", {"turn": turn.index, "text": result.reply.text})
        return result

    async def _read(
        self,
        session: Session[T],
        turn: Turn,
        queue: asyncio.Queue[str | None],
        results: list[TurnResult],
    ) -> None:
        try:
            async for event in self._broker.stream(session.history, turn=turn.index):
                if isinstance(event, TextDelta):
                    turn.mark("first_token")
                    queue.put_nowait(event.text)
                else:
                    results.append(event)
        finally:
            queue.put_nowait(None)

    async def _spoken(
        self, session: Session[T], first: str | None, queue: asyncio.Queue[str | None]
    ) -> AsyncIterator[str]:
        """Sentences re-identified on the kiosk, as the broker hands them out."""
        sentence = first
        while sentence is not None:
            self.machine.move(SessionState.SPEAKING)
            spoken = self._ports.reidentify(sentence, session.table, session.language)
            if spoken.text.strip():
                self._on_local("spoken", {"text": spoken.text.strip()})
                yield spoken.text.strip()
            sentence = await queue.get()

    # -- helpers ----------------------------------------------------------------------

    async def _say(self, pseudonymized: str, session: Session[T]) -> SpeechResult:
        """Speak a local line; pseudonyms in it are re-identified first."""
        spoken = self._ports.reidentify(pseudonymized, session.table, session.language)
        self._on_local("spoken", {"text": spoken.text})
        return await self._tts.speak(spoken.text, session.language)

    def _log_turn(self, session: Session[T], turn: Turn) -> None:
        fields: dict[str, Any] = {
            "session_id": session.session_id,
            "turn": turn.index,
            "provider": turn.provider,
            "pseudonym_count": turn.pseudonym_count,
        }
        if "first_audio" in turn.latency_ms:
            fields["duration_ms"] = round(turn.latency_ms["first_audio"])
        logger.info("dialog.turn_done", extra={"fields": fields})
        self._on_event(
            "latency",
            {
                "turn": turn.index,
                **{f"{k}_ms": round(v, 1) for k, v in turn.latency_ms.items()},
            },
        )


async def _cancel(task: asyncio.Task[Any] | None) -> None:
    if task is not None and not task.done():
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
