"""The visit state machine: arrival, turns, goodbye, timeout, wiping (fake clock)."""

from __future__ import annotations

import pytest

from kiosk_agent.session import SessionMachine, SessionState


class FakeTable:
    def __init__(self) -> None:
        self.entries = {"<EMPLOYEE_1>": "Jana Nováková"}

    def wipe(self) -> None:
        self.entries.clear()


class Clock:
    def __init__(self) -> None:
        self.now_ns = 1_000_000_000

    def __call__(self) -> int:
        return self.now_ns

    def advance(self, seconds: float) -> None:
        self.now_ns += int(seconds * 1e9)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def machine(clock: Clock) -> SessionMachine[FakeTable]:
    return SessionMachine(FakeTable, timeout_s=90.0, clock=clock)


def test_machine_starts_idle_without_session(
    machine: SessionMachine[FakeTable],
) -> None:
    assert machine.state is SessionState.IDLE
    assert machine.session is None
    assert not machine.is_timed_out()


def test_arrival_opens_session_with_random_id_and_greets(
    machine: SessionMachine[FakeTable],
) -> None:
    first = machine.visitor_arrived()
    assert machine.state is SessionState.GREETING
    assert len(first.session_id) == 16
    machine.close()
    second = machine.visitor_arrived()
    assert second.session_id != first.session_id


def test_second_arrival_keeps_the_open_session(
    machine: SessionMachine[FakeTable],
) -> None:
    session = machine.visitor_arrived()
    machine.move(SessionState.LISTENING)
    assert machine.visitor_arrived() is session
    assert machine.state is SessionState.LISTENING


def test_full_visit_walks_every_state_back_to_idle(
    machine: SessionMachine[FakeTable],
) -> None:
    machine.visitor_arrived()
    for state in (
        SessionState.LISTENING,
        SessionState.THINKING,
        SessionState.SPEAKING,
        SessionState.CALLING,
        SessionState.SPEAKING,
        SessionState.LISTENING,
    ):
        machine.move(state)
        assert machine.state is state
    assert machine.visitor_left() is not None
    assert machine.state is SessionState.GOODBYE
    machine.close()
    assert machine.state is SessionState.IDLE
    assert machine.session is None


def test_move_not_allowed_from_state_raises(machine: SessionMachine[FakeTable]) -> None:
    with pytest.raises(ValueError, match="idle -> speaking"):
        machine.move(SessionState.SPEAKING)
    machine.visitor_arrived()
    with pytest.raises(ValueError, match="greeting -> calling"):
        machine.move(SessionState.CALLING)


def test_session_times_out_after_silence_but_not_before(
    machine: SessionMachine[FakeTable], clock: Clock
) -> None:
    machine.visitor_arrived()
    clock.advance(89.9)
    assert not machine.is_timed_out()
    clock.advance(0.1)
    assert machine.is_timed_out()


def test_activity_restarts_the_timeout(
    machine: SessionMachine[FakeTable], clock: Clock
) -> None:
    machine.visitor_arrived()
    clock.advance(60)
    machine.touch()
    clock.advance(60)
    assert not machine.is_timed_out()
    clock.advance(30)
    assert machine.is_timed_out()


def test_close_wipes_table_history_and_turns(
    machine: SessionMachine[FakeTable], clock: Clock
) -> None:
    session = machine.visitor_arrived()
    session.history.append("<EMPLOYEE_1> please")
    turn = session.new_turn(clock())
    clock.advance(0.25)
    turn.mark("first_audio")
    table = session.table
    machine.close("timeout")
    assert table.entries == {}
    assert session.history == []
    assert session.turns == []


def test_turn_marks_latency_once_from_end_of_utterance(clock: Clock) -> None:
    machine = SessionMachine(FakeTable, timeout_s=5.0, clock=clock)
    session = machine.visitor_arrived()
    turn = session.new_turn(clock())
    turn.mark("first_token", clock() + 120_000_000)
    turn.mark("first_token", clock() + 900_000_000)
    assert turn.index == 1
    assert turn.latency_ms == {"first_token": 120.0}


def test_visitor_left_without_session_is_ignored(
    machine: SessionMachine[FakeTable],
) -> None:
    assert machine.visitor_left() is None
    machine.close()
    assert machine.state is SessionState.IDLE
