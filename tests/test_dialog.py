"""The dialog with fakes behind every Protocol: turns, filler, tool calls, muting."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

import numpy as np
import pytest

from kiosk_agent.config import DialogConfig
from kiosk_agent.dialog import Dialog, DialogPorts, Heard
from kiosk_agent.errors import AnonymizeError
from kiosk_agent.messages import (
    Employee,
    PresenceEvent,
    PresenceKind,
    RedactedText,
    Reply,
    Span,
    SpokenReply,
    ToolCall,
    Transcript,
)
from kiosk_agent.scenario import load_scenario
from kiosk_agent.session import SessionMachine, SessionState
from kiosk_agent.stages.llm_broker import (
    ChatMessage,
    Role,
    TextDelta,
    TurnEvent,
    TurnReport,
    TurnResult,
)
from kiosk_agent.stages.tts import MUTE_TAIL_MS, SentenceSplitter, TtsStage

JANA = Employee(id="e1", first_name="Jana", last_name="Nováková", phone="+420601112233")
JAN = Employee(
    id="e2",
    first_name="Jan",
    last_name="Novák",
    department="Sales",
    phone="+420601000001",
)
PETR = Employee(
    id="e3",
    first_name="Petr",
    last_name="Novák",
    department="IT",
    phone="+420601000002",
)
TIMEOUT_S = 2.0


class FakeTable:
    """Pseudonym -> (surface form, employees)."""

    def __init__(self) -> None:
        self.entries: dict[str, tuple[str, tuple[Employee, ...]]] = {}

    def wipe(self) -> None:
        self.entries.clear()


def redact(text: str, language: str, table: FakeTable) -> RedactedText:
    spans = []
    for surface, employees in (("Jana Nováková", (JANA,)), ("Novák", (JAN, PETR))):
        if surface in text:
            pseudonym = f"<EMPLOYEE_{len(table.entries) + 1}>"
            table.entries[pseudonym] = (surface, employees)
            start = text.index(surface)
            text = text.replace(surface, pseudonym)
            spans.append(
                Span(
                    start=start,
                    end=start + len(surface),
                    label="PERSON_EMPLOYEE",
                    pseudonym=pseudonym,
                )
            )
    return RedactedText(text=text, language=language, spans=tuple(spans))


def reidentify(text: str, table: FakeTable, language: str) -> SpokenReply:
    for token, (surface, _) in table.entries.items():
        text = text.replace(token, surface)
    return SpokenReply(text=text, language=language)


class FakeBroker:
    """Scripted rounds: each a list of text deltas / tool calls, with a first delay."""

    def __init__(
        self, rounds: list[list[str | ToolCall]], *, delay_s: float = 0.0
    ) -> None:
        self.rounds = rounds
        self.delay_s = delay_s
        self.histories: list[list[ChatMessage]] = []

    async def stream(
        self, history: Sequence[ChatMessage], *, turn: int = 0
    ) -> AsyncIterator[TurnEvent]:
        self.histories.append(list(history))
        items = self.rounds[len(self.histories) - 1]
        await asyncio.sleep(self.delay_s)
        text = ""
        for item in items:
            if isinstance(item, str):
                text += item
                yield TextDelta(text=item)
        calls = tuple(i for i in items if isinstance(i, ToolCall))
        yield TurnResult(
            reply=Reply(text=text, provider="fake", tool_calls=calls),
            report=TurnReport(
                provider="fake", attempts=(), first_text_ms=0, duration_ms=0
            ),
        )


class FakeEngine:
    """Emits 100 ms of samples per sentence and records what it was asked to say."""

    sample_rate_hz = 16000

    def __init__(self) -> None:
        self.said: list[str] = []
        self.on_block: Callable[[], None] = lambda: None

    def synthesize(self, text: str, language: str, emit: Callable[[Any], bool]) -> None:
        self.said.append(text)
        self.on_block()
        emit(np.ones(1600, np.int16))


class Output:
    def __init__(self) -> None:
        self.audio_ms = 0.0

    def play(self, samples: Any, sample_rate_hz: int) -> None:
        self.audio_ms += 1000 * len(samples) / sample_rate_hz

    def abort(self) -> None:
        pass

    def resume(self) -> None:
        pass


class Rig:
    def __init__(
        self,
        broker: FakeBroker,
        *,
        filler_after_ms: int = 1000,
        candidates: Callable[[FakeTable, str], Sequence[Employee]] | None = None,
        redactor: Callable[[str, str, FakeTable], RedactedText] = redact,
        tts_clock: Callable[[], int] = time.monotonic_ns,
    ) -> None:
        self.engine = FakeEngine()
        self.tts = TtsStage(self.engine, Output(), clock=tts_clock)
        self.broker = broker
        self.calls: list[Employee] = []
        self.stored: list[tuple[str, list[ChatMessage]]] = []
        self.events: list[tuple[str, dict[str, Any]]] = []

        async def place_call(employee: Employee) -> str:
            self.calls.append(employee)
            return "answered"

        async def store(session_id: str, history: Sequence[ChatMessage]) -> None:
            self.stored.append((session_id, list(history)))

        def lookup(table: FakeTable, token: str) -> Sequence[Employee]:
            return table.entries.get(token, ("", ()))[1]

        self.machine = SessionMachine(FakeTable, timeout_s=90.0)
        ports = DialogPorts(
            redact=redactor,
            reidentify=reidentify,
            candidates=candidates or lookup,
            place_call=place_call,
            store_transcript=store,
        )
        self.dialog = Dialog(
            self.machine,
            broker,
            self.tts,
            load_scenario(),
            ports,
            DialogConfig(filler_after_ms=filler_after_ms),
            on_event=lambda n, f: self.events.append((n, f)),
        )

    async def turn(self, text: str, language: str = "en") -> Any:
        heard = Heard(
            transcript=Transcript(text=text, language=language, start_s=0.0, end_s=1.0)
        )
        async with asyncio.timeout(TIMEOUT_S):
            return await self.dialog.on_transcript(heard)


def sent_texts(broker: FakeBroker) -> list[str]:
    return [m.content for h in broker.histories for m in h]


async def test_turn_sends_redacted_text_and_speaks_reidentified_reply() -> None:
    rig = Rig(FakeBroker([["Of course. ", "<EMPLOYEE_1> will be told."]]))
    async with asyncio.timeout(TIMEOUT_S):
        await rig.dialog.visitor_arrived()
    turn = await rig.turn("I am here to see Jana Nováková.")
    assert rig.broker.histories[0][-1].content == "I am here to see <EMPLOYEE_1>."
    assert not any("Jana" in text for text in sent_texts(rig.broker))
    assert rig.engine.said[:2] == ["Hello and welcome.", "Whom have you come to see?"]
    assert rig.engine.said[2:] == ["Of course.", "Jana Nováková will be told."]
    assert {"transcript", "redacted", "first_token", "first_audio"} <= set(
        turn.latency_ms
    )
    assert turn.provider == "fake" and turn.pseudonym_count == 1
    assert rig.machine.state is SessionState.LISTENING
    utterance = next(f for n, f in rig.events if n == "utterance")
    assert utterance["text"] == "I am here to see <EMPLOYEE_1>."


async def test_late_first_token_speaks_filler_first() -> None:
    rig = Rig(FakeBroker([["Here you are."]], delay_s=0.3), filler_after_ms=100)
    turn = await rig.turn("Where are the toilets?")
    assert rig.engine.said == ["One moment, please.", "Here you are."]
    assert turn.latency_ms["filler_audio"] < turn.latency_ms["first_audio"]
    assert ("filler", {"turn": 1}) in rig.events


async def test_prompt_first_token_speaks_no_filler() -> None:
    # The filler deadline is wall-clock time: a whole second, so that a loaded machine
    # pausing this process cannot make an immediate reply look late.
    rig = Rig(FakeBroker([["Here you are."]]), filler_after_ms=1000)
    await rig.turn("Where are the toilets?")
    assert rig.engine.said == ["Here you are."]


async def test_call_with_foreign_token_is_refused_and_model_told() -> None:
    call = ToolCall(
        name="call_employee", arguments={"employee": "<EMPLOYEE_7>"}, call_id="c1"
    )
    rig = Rig(FakeBroker([[call], ["Whom should I call?"]]))
    await rig.turn("I am here to see Jana Nováková.")
    assert rig.calls == []
    follow_up = rig.broker.histories[1]
    assert follow_up[-1].role is Role.TOOL
    assert follow_up[-1].content.startswith("refused")
    assert follow_up[-1].call == call
    assert rig.engine.said == ["Whom should I call?"]
    assert ("call_refused", {"turn": 1, "employee": "<EMPLOYEE_7>"}) in rig.events


async def test_ambiguous_token_asks_which_one_with_names_spoken_locally() -> None:
    call = ToolCall(name="call_employee", arguments={"employee": "<EMPLOYEE_1>"})
    rig = Rig(FakeBroker([["Let me check. ", call]]))
    await rig.turn("I want to see Novák.")
    assert rig.calls == []
    question = rig.engine.said[-1]
    assert "Jan Novák, Sales" in question and "Petr Novák, IT" in question
    assert "Novák" in question.split(".")[0]
    assert len(rig.broker.histories) == 1
    session = rig.machine.session
    assert session is not None
    told = session.history[-1]
    assert told.role is Role.TOOL and "2 employees" in told.content
    assert "Petr" not in told.content and "Sales" not in told.content


async def test_valid_call_places_call_and_says_outcome_with_name() -> None:
    call = ToolCall(name="call_employee", arguments={"employee": "<EMPLOYEE_1>"})
    rig = Rig(FakeBroker([[call]]))
    turn = await rig.turn("I am here to see Jana Nováková.")
    assert rig.calls == [JANA]
    assert rig.engine.said == [
        "I am calling Jana Nováková for you now.",
        "Jana Nováková knows you are here and will come to reception shortly.",
    ]
    assert turn.call_pseudonym == "<EMPLOYEE_1>"
    assert (
        "call_outcome",
        {"turn": 1, "employee": "<EMPLOYEE_1>", "outcome": "answered"},
    ) in rig.events


async def test_failed_redaction_sends_nothing_and_apologizes() -> None:
    def broken(text: str, language: str, table: FakeTable) -> RedactedText:
        raise AnonymizeError("anonymize-failed")

    rig = Rig(FakeBroker([["never"]]), redactor=broken)
    await rig.turn("My number is 601 112 233.")
    assert rig.broker.histories == []
    assert rig.engine.said[0].startswith("I am sorry")


async def test_visit_end_stores_pseudonymized_history_then_wipes() -> None:
    rig = Rig(FakeBroker([["Hello <EMPLOYEE_1>."]]))
    await rig.turn("I am Jana Nováková.")
    session = rig.machine.session
    assert session is not None
    table = session.table
    async with asyncio.timeout(TIMEOUT_S):
        await rig.dialog.visitor_left()
    ((session_id, history),) = rig.stored
    assert session_id == session.session_id
    assert [m.content for m in history] == ["I am <EMPLOYEE_1>.", "Hello <EMPLOYEE_1>."]
    assert table.entries == {} and session.history == []
    assert rig.machine.state is SessionState.IDLE
    assert rig.engine.said[-1] == "Goodbye, have a nice day."


async def test_microphone_is_muted_during_playback_and_tail() -> None:
    now_ns = [time.monotonic_ns()]  # The mute tail runs on a fake clock.
    rig = Rig(
        FakeBroker([["One sentence. ", "Two sentences."]]), tts_clock=lambda: now_ns[0]
    )
    seen: list[bool] = []
    rig.engine.on_block = lambda: seen.append(rig.tts.is_muted())
    assert not rig.tts.is_muted()
    await rig.turn("Hello.")
    assert seen == [True, True]
    assert rig.tts.is_muted()  # Right after the last sample...
    now_ns[0] += MUTE_TAIL_MS * 1_000_000 - 1
    assert rig.tts.is_muted()  # ...and through the tail,
    now_ns[0] += 1
    assert not rig.tts.is_muted()  # but no longer.


async def test_run_loop_cancels_reply_when_visitor_leaves() -> None:
    rig = Rig(FakeBroker([["Late."]], delay_s=5.0), filler_after_ms=5000)
    inbox: asyncio.Queue[PresenceEvent | Heard] = asyncio.Queue()
    task = asyncio.create_task(rig.dialog.run(inbox, poll_s=0.05))
    inbox.put_nowait(PresenceEvent(kind=PresenceKind.ARRIVED, t_s=0.0, confidence=1.0))
    inbox.put_nowait(
        Heard(transcript=Transcript(text="Hi.", language="en", start_s=0, end_s=1))
    )
    inbox.put_nowait(PresenceEvent(kind=PresenceKind.LEFT, t_s=2.0, confidence=1.0))
    async with asyncio.timeout(TIMEOUT_S):
        while not any(n == "departure" for n, _ in rig.events):
            await asyncio.sleep(0.01)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert "Late." not in rig.engine.said
    assert rig.machine.state is SessionState.IDLE


@pytest.mark.parametrize(
    ("deltas", "sentences"),
    [
        (["Hello", " there. How", " are you?"], ["Hello there.", "How are you?"]),
        (["No end"], ["No end"]),
        (["One.\nTwo!", " Three"], ["One.", "Two!", "Three"]),
    ],
    ids=["split-across-deltas", "unterminated", "newline-and-bang"],
)
def test_sentence_splitter_hands_out_whole_sentences(
    deltas: list[str], sentences: list[str]
) -> None:
    splitter = SentenceSplitter()
    out = [s for d in deltas for s in splitter.feed(d)] + splitter.flush()
    assert out == sentences


async def test_stopping_the_stage_mid_visit_still_stores_the_transcript() -> None:
    rig = Rig(FakeBroker([["Hello <EMPLOYEE_1>."]]))
    inbox: asyncio.Queue[PresenceEvent | Heard] = asyncio.Queue()
    task = asyncio.create_task(rig.dialog.run(inbox, poll_s=0.05))
    inbox.put_nowait(PresenceEvent(kind=PresenceKind.ARRIVED, t_s=0.0, confidence=1.0))
    inbox.put_nowait(
        Heard(
            transcript=Transcript(
                text="I am Jana Nováková.", language="en", start_s=0, end_s=1
            )
        )
    )
    async with asyncio.timeout(TIMEOUT_S):
        while rig.machine.session is None or not rig.machine.session.history:
            await asyncio.sleep(0.01)
        while rig.machine.state is not SessionState.LISTENING:
            await asyncio.sleep(0.01)
        said_before = len(rig.engine.said)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    ((_, history),) = rig.stored
    assert [m.content for m in history] == ["I am <EMPLOYEE_1>.", "Hello <EMPLOYEE_1>."]
    assert len(rig.engine.said) == said_before  # No goodbye into a stopping speaker.
    assert rig.machine.state is SessionState.IDLE


async def test_a_turn_that_crashes_is_reported_and_the_visit_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(text: str, language: str, table: FakeTable) -> RedactedText:
        raise ValueError("a bug, not a KioskError")

    rig = Rig(FakeBroker([["Never sent."]]), redactor=broken)
    heard = Heard(transcript=Transcript(text="Hi.", language="en", start_s=0, end_s=1))
    async with asyncio.timeout(TIMEOUT_S):
        assert await rig.dialog._safe_turn(heard) is None
    assert rig.broker.histories == []
    record = next(r for r in caplog.records if r.msg == "dialog.turn_failed")
    assert record.fields == {  # type: ignore[attr-defined]
        "error_code": "dialog-turn-fault",
        "error_type": "ValueError",
    }
    assert rig.machine.state is SessionState.LISTENING
