"""Telephony: the service learns the E.164 number only; outcomes, retries, deadlines."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
import uuid

import pytest

from kiosk_agent.config import TelephonyConfig
from kiosk_agent.directory import Directory
from kiosk_agent.errors import TelephonyError
from kiosk_agent.messages import Employee
from kiosk_agent.providers.telephony_http import HttpTelephony
from kiosk_agent.stages.telephony import CallOutcome, TelephonyStage
from tests.local_http import Answer, LocalServer, closed_port_url, local_server

EMPLOYEE = Employee(
    id="D01",
    first_name="Jan",
    last_name="Novák",
    full_name="Jan Novák",
    gender="m",
    department="Finance",
    role="Chief Financial Officer",
    phone="+420601112233",
    email="jan.novak@vltavin.cz",
    aliases=("Honza",),
)
VISITOR_CANARY = "Zdeňka Canaryová"
FAST = TelephonyConfig(
    url="",
    timeout_s=1.0,
    retries=1,
    ring_timeout_s=1.0,
    retry_backoff_s=0.0,
    max_wait_s=5.0,
)


def stage_for(
    url: str,
    config: TelephonyConfig = FAST,
    token: str | None = "tel-tok",
    sleeps: list[float] | None = None,
) -> TelephonyStage:
    async def sleep(seconds: float) -> None:
        if sleeps is not None:
            sleeps.append(seconds)

    provider = HttpTelephony(url, token=token, timeout_s=config.timeout_s)
    return TelephonyStage(provider, Directory([EMPLOYEE]), config=config, sleep=sleep)


def answering(status: str):  # type: ignore[no-untyped-def]
    return lambda request: Answer(body=json.dumps({"status": status}).encode())


async def call(stage: TelephonyStage, employee: Employee = EMPLOYEE) -> CallOutcome:
    return await asyncio.wait_for(stage.place_call(employee), timeout=10)


async def test_the_request_carries_the_number_and_nothing_else_about_anyone() -> None:
    with local_server() as server:
        server.respond = answering("answered")
        outcome = await call(stage_for(server.url + "/"))

    (request,) = server.requests
    assert outcome is CallOutcome.ANSWERED
    assert (request.method, request.path) == ("POST", "/calls")
    assert json.loads(request.body) == {"to": "+420601112233", "ring_timeout_s": 1.0}
    assert request.headers["Authorization"] == "Bearer tel-tok"
    # The idempotency key is random (a UUID4 derived from nothing); its hex digits could
    # spell a short id such as "d01" by chance, so it is checked apart.
    headers = dict(request.headers)
    key = headers.pop("Idempotency-Key")
    assert uuid.UUID(key).version == 4
    everything = (request.path + json.dumps(headers) + request.body.decode()).lower()
    about_people = [
        EMPLOYEE.id,
        EMPLOYEE.first_name,
        EMPLOYEE.last_name,
        "novak",
        "novák",
        EMPLOYEE.department,
        EMPLOYEE.role,
        EMPLOYEE.email,
        "honza",
        VISITOR_CANARY,
    ]
    for value in about_people:
        assert value.lower() not in everything
    allowed_headers = {
        "host",
        "user-agent",
        "accept-encoding",
        "accept",
        "connection",
        "content-length",
        "content-type",
        "authorization",
        "idempotency-key",
    }
    assert {name.lower() for name in request.headers} <= allowed_headers


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        ("answered", CallOutcome.ANSWERED),
        ("busy", CallOutcome.BUSY),
        ("no_answer", CallOutcome.NO_ANSWER),
        ("failed", CallOutcome.FAILED),
    ],
    ids=["answered", "busy", "no-answer", "failed"],
)
async def test_each_service_status_becomes_its_outcome(
    status: str, outcome: CallOutcome
) -> None:
    with local_server() as server:
        server.respond = answering(status)
        assert await call(stage_for(server.url)) is outcome
    assert len(server.requests) == 1  # Busy or no answer is not retried.


async def test_a_slow_service_times_out_without_ringing_twice() -> None:
    with local_server() as server:
        server.respond = lambda request: Answer(delay_s=10.0)
        config = dataclasses.replace(FAST, timeout_s=0.2)
        started = time.monotonic()
        outcome = await call(stage_for(server.url, config=config))
        elapsed_s = time.monotonic() - started

    assert outcome is CallOutcome.TIMED_OUT
    assert elapsed_s < config.ring_timeout_s + config.timeout_s + 0.5
    assert len(server.requests) == 1


async def test_overall_deadline_bounds_the_wait_however_the_provider_behaves() -> None:
    class Hanging:
        calls = 0

        async def dial(
            self, number: str, *, ring_timeout_s: float, call_id: str
        ) -> CallOutcome:
            Hanging.calls += 1
            await asyncio.sleep(3600)
            return CallOutcome.ANSWERED

    config = dataclasses.replace(FAST, ring_timeout_s=300.0, max_wait_s=1.0)
    stage = TelephonyStage(Hanging(), Directory([EMPLOYEE]), config=config)
    started = time.monotonic()

    outcome = await call(stage)

    assert outcome is CallOutcome.TIMED_OUT
    assert time.monotonic() - started < 1.5 and Hanging.calls == 1


async def test_a_server_error_is_retried_once_with_the_same_call_id() -> None:
    sleeps: list[float] = []
    with local_server() as server:
        answers = iter([Answer(status=503), Answer(body=b'{"status": "answered"}')])
        server.respond = lambda request: next(answers)
        outcome = await call(stage_for(server.url, sleeps=sleeps))

    first, second = server.requests
    assert outcome is CallOutcome.ANSWERED
    assert first.headers["Idempotency-Key"] == second.headers["Idempotency-Key"]
    assert sleeps == [0.0]


async def test_retries_are_bounded_then_the_call_failed() -> None:
    sleeps: list[float] = []
    config = dataclasses.replace(FAST, retries=2, retry_backoff_s=0.5)
    with local_server() as server:
        server.respond = lambda request: Answer(status=502)
        outcome = await call(stage_for(server.url, config=config, sleeps=sleeps))

    assert outcome is CallOutcome.FAILED
    assert len(server.requests) == 3
    assert sleeps == [0.5, 1.0]


async def test_an_unreachable_service_fails_after_the_retries() -> None:
    sleeps: list[float] = []
    outcome = await call(stage_for(closed_port_url(), sleeps=sleeps))

    assert outcome is CallOutcome.FAILED
    assert len(sleeps) == FAST.retries


@pytest.mark.parametrize("status", [400, 401, 404], ids=["400", "401", "404"])
async def test_a_refusal_is_not_retried(status: int) -> None:
    with local_server() as server:
        server.respond = lambda request: Answer(status=status)
        outcome = await call(stage_for(server.url))

    assert outcome is CallOutcome.FAILED
    assert len(server.requests) == 1


async def test_a_garbled_answer_is_a_failed_call() -> None:
    with local_server() as server:
        server.respond = lambda request: Answer(body=b'{"status": "maybe"}')
        assert await call(stage_for(server.url)) is CallOutcome.FAILED


async def test_an_employee_without_a_number_is_failed_without_contacting_anyone(
    server_for_nothing: LocalServer,
) -> None:
    gone = dataclasses.replace(EMPLOYEE, id="D99")
    stage = stage_for(server_for_nothing.url)

    assert await call(stage, gone) is CallOutcome.FAILED
    assert server_for_nothing.requests == []


async def test_the_number_comes_from_the_directory_at_call_time() -> None:
    directory = Directory([EMPLOYEE])
    with local_server() as server:
        server.respond = answering("answered")
        provider = HttpTelephony(server.url, token=None, timeout_s=1.0)
        stage = TelephonyStage(provider, directory, config=FAST)
        directory.replace([dataclasses.replace(EMPLOYEE, phone="+420601999000")])
        await call(stage)
        directory.remove(EMPLOYEE.id)
        erased = await call(stage)

    assert json.loads(server.requests[0].body)["to"] == "+420601999000"
    assert "Authorization" not in server.requests[0].headers
    assert erased is CallOutcome.FAILED and len(server.requests) == 1


async def test_the_adapter_refuses_anything_but_an_e164_number() -> None:
    provider = HttpTelephony(closed_port_url(), token=None, timeout_s=1.0)

    with pytest.raises(TelephonyError) as caught:
        await provider.dial("Jan Novák", ring_timeout_s=1.0, call_id="x")

    assert caught.value.code == "telephony-bad-number"


@pytest.fixture
def server_for_nothing():  # type: ignore[no-untyped-def]
    with local_server() as server:
        yield server
