"""Local HTTP servers on 127.0.0.1 that speak the OpenAI and Gemini streaming protocols.

For tests that drive the real ``openai`` and ``google-genai`` SDKs through the real
providers. Each server runs in a background thread (so both async and blocking
clients can use it), answers every request from a script of behaviours, and records
every request it received.

API::

    from tests.llm_servers import (
        FakeOpenAiServer, FakeGeminiServer, Reply, Status, Drop, Hang, unused_port)

    with FakeOpenAiServer() as openai_server, FakeGeminiServer() as gemini_server:
        openai_server.script(Status(500), Reply("Hello."))   # 1st request, then 2nd...
        gemini_server.script(Reply("Hi.", calls=[("call_employee",
                                                   {"employee": "<EMPLOYEE_1>"})]))
        openai_server.base_url    # "http://127.0.0.1:PORT/v1" -> [llm.openai] base_url
        gemini_server.base_url    # "http://127.0.0.1:PORT" -> [llm.gemini] base_url
        openai_server.requests    # [RecordedRequest(method, path, headers, body, raw)]
        openai_server.raw_text()  # every request body and URL, for PII checks

Behaviours (the last one of a script repeats for further requests):
- ``Reply(text, calls=(), pieces=3, delay_s=0.0, first_delay_s=0.0)``: a normal
  streamed answer; ``text`` is split into ``pieces`` deltas sent ``delay_s`` apart
  after ``first_delay_s``; then the tool calls and the finish reason.
- ``Respond(fn)``: ``fn(body) -> Behaviour`` decides from the request's JSON body (e.g.
  answer a tool result with a follow-up).
- ``Status(code)``: an HTTP error with the provider's JSON error body (500, 429, 401).
- ``Drop(text, pieces=2)``: streams part of ``text``, then closes the connection in the
  middle of the chunked body (no finish reason, no terminating chunk).
- ``Hang()``: reads the request and never answers (until the server closes).
Default script: ``Reply("Hello.")``. ``unused_port()`` gives a port where nothing
listens (connection refused), for a provider that is down.
"""

from __future__ import annotations

import atexit
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Reply:
    """A normal streamed answer."""

    text: str = "Hello."
    calls: Sequence[tuple[str, dict[str, str]]] = ()
    pieces: int = 3
    delay_s: float = 0.0
    first_delay_s: float = 0.0


@dataclass(frozen=True)
class Respond:
    """A behaviour chosen from the request body."""

    fn: Callable[[dict[str, Any]], Any]


@dataclass(frozen=True)
class Status:
    """An HTTP error answer."""

    code: int


@dataclass(frozen=True)
class Drop:
    """Part of a streamed answer, then the connection is cut."""

    text: str = "This answer breaks off in the"
    pieces: int = 2


@dataclass(frozen=True)
class Hang:
    """Never answer."""


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the server received it."""

    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    raw: bytes = field(repr=False)


_HELD_PORTS: list[socket.socket] = []
"""Sockets bound to the ports ``unused_port`` gave out, closed when the tests end."""


def unused_port() -> int:
    """A TCP port on 127.0.0.1 where nothing listens: connecting is refused.

    The port stays bound (never listening) until the test process ends, so a server of
    another test or of a concurrent pytest session cannot take it in the meantime.
    """
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    if not _HELD_PORTS:
        atexit.register(_release_ports)
    _HELD_PORTS.append(sock)
    return int(sock.getsockname()[1])


def _release_ports() -> None:
    for sock in _HELD_PORTS:
        sock.close()
    _HELD_PORTS.clear()


def split(text: str, pieces: int) -> list[str]:
    """``text`` cut into ``pieces`` deltas of about equal length (none empty)."""
    if not text:
        return []
    size = max(1, -(-len(text) // max(1, pieces)))
    return [text[i : i + size] for i in range(0, len(text), size)]


class _FakeServer:
    """The shared part: thread, script, recording, chunked SSE writing."""

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self._script: list[Any] = [Reply()]
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.02},
            daemon=True,
        )

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    def script(self, *behaviours: Any) -> None:
        """Answer the next requests with these behaviours; the last one repeats."""
        with self._lock:
            self._script = list(behaviours) or [Reply()]

    def raw_text(self) -> str:
        """Every recorded request line and body, decoded, for absence-of-PII checks."""
        with self._lock:
            return "\n".join(
                f"{r.method} {r.path}\n{r.raw.decode('utf-8', 'replace')}"
                for r in self.requests
            )

    def bodies(self) -> list[dict[str, Any]]:
        """The JSON bodies of the recorded requests, oldest first."""
        with self._lock:
            return [r.body for r in self.requests]

    def __enter__(self) -> _FakeServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release hanging handlers, stop serving and close the socket."""
        self._stop.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    # -- per provider ----------------------------------------------------------

    def stream_events(self, behaviour: Reply) -> Iterator[tuple[float, dict[str, Any]]]:
        raise NotImplementedError

    def partial_events(self, behaviour: Drop) -> Iterator[dict[str, Any]]:
        raise NotImplementedError

    def error_body(self, code: int) -> dict[str, Any]:
        raise NotImplementedError

    def trailer(self) -> bytes:
        return b""

    # -- serving -----------------------------------------------------------------

    def _next_behaviour(self, body: dict[str, Any]) -> Any:
        with self._lock:
            behaviour = (
                self._script.pop(0) if len(self._script) > 1 else self._script[0]
            )
        while isinstance(behaviour, Respond):
            behaviour = behaviour.fn(body)
        return behaviour

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                # Send each SSE event at once, as a real streaming server does.
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # Quiet: the test asserts on server.requests instead.

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw or b"{}")
                except json.JSONDecodeError:
                    body = {}
                with server._lock:
                    server.requests.append(
                        RecordedRequest(
                            method="POST",
                            path=self.path,
                            headers={k.lower(): v for k, v in self.headers.items()},
                            body=body,
                            raw=raw,
                        )
                    )
                server._serve(self, server._next_behaviour(body))

        return Handler

    def _serve(self, handler: BaseHTTPRequestHandler, behaviour: Any) -> None:
        if isinstance(behaviour, Hang):
            self._stop.wait(60)
            handler.close_connection = True
            return
        if isinstance(behaviour, Status):
            payload = json.dumps(self.error_body(behaviour.code)).encode()
            handler.send_response(behaviour.code)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(payload)))
            handler.end_headers()
            handler.wfile.write(payload)
            return
        handler.send_response(200)
        handler.send_header("Content-Type", "text/event-stream")
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        if isinstance(behaviour, Drop):
            for event in self.partial_events(behaviour):
                _write_chunk(handler, _sse(event))
            handler.wfile.flush()
            # Cut the connection inside the chunked body: no terminating chunk.
            handler.close_connection = True
            handler.connection.shutdown(socket.SHUT_RDWR)
            return
        for delay_s, event in self.stream_events(behaviour):
            if delay_s and self._stop.wait(delay_s):
                return
            _write_chunk(handler, _sse(event))
        if self.trailer():
            _write_chunk(handler, self.trailer())
        handler.wfile.write(b"0\r\n\r\n")
        handler.wfile.flush()


class FakeOpenAiServer(_FakeServer):
    """``POST /v1/chat/completions`` with ``stream: true``, as OpenAI streams it."""

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def __enter__(self) -> FakeOpenAiServer:
        super().__enter__()
        return self

    def _chunk(
        self, delta: dict[str, Any], finish: str | None = None
    ) -> dict[str, Any]:
        return {
            "id": "chatcmpl-local",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": "fake-model",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }

    def stream_events(self, behaviour: Reply) -> Iterator[tuple[float, dict[str, Any]]]:
        delay = behaviour.first_delay_s
        yield delay, self._chunk({"role": "assistant", "content": ""})
        for piece in split(behaviour.text, behaviour.pieces):
            yield delay, self._chunk({"content": piece})
            delay = behaviour.delay_s
        for index, (name, args) in enumerate(behaviour.calls):
            arguments = json.dumps(args)
            half = len(arguments) // 2
            yield (
                0.0,
                self._chunk(
                    {
                        "tool_calls": [
                            {
                                "index": index,
                                "id": f"call_{index + 1}",
                                "type": "function",
                                "function": {
                                    "name": name,
                                    "arguments": arguments[:half],
                                },
                            }
                        ]
                    }
                ),
            )
            yield (
                0.0,
                self._chunk(
                    {
                        "tool_calls": [
                            {
                                "index": index,
                                "function": {"arguments": arguments[half:]},
                            }
                        ]
                    }
                ),
            )
        finish = "tool_calls" if behaviour.calls else "stop"
        yield 0.0, self._chunk({}, finish)

    def partial_events(self, behaviour: Drop) -> Iterator[dict[str, Any]]:
        for piece in split(behaviour.text, behaviour.pieces)[:-1] or [behaviour.text]:
            yield self._chunk({"content": piece})

    def trailer(self) -> bytes:
        return b"data: [DONE]\n\n"

    def error_body(self, code: int) -> dict[str, Any]:
        kinds = {429: "rate_limit_exceeded", 401: "invalid_api_key"}
        return {
            "error": {
                "message": f"fake error {code}",
                "type": "server_error",
                "param": None,
                "code": kinds.get(code),
            }
        }


class FakeGeminiServer(_FakeServer):
    """``POST /v1beta/models/{model}:streamGenerateContent?alt=sse``, as Gemini does."""

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> FakeGeminiServer:
        super().__enter__()
        return self

    def _response(
        self, parts: list[dict[str, Any]], finish: str | None = None
    ) -> dict[str, Any]:
        candidate: dict[str, Any] = {
            "content": {"role": "model", "parts": parts},
            "index": 0,
        }
        if finish:
            candidate["finishReason"] = finish
        return {"candidates": [candidate], "modelVersion": "fake-model"}

    def stream_events(self, behaviour: Reply) -> Iterator[tuple[float, dict[str, Any]]]:
        pieces = split(behaviour.text, behaviour.pieces)
        delay = behaviour.first_delay_s
        for piece in pieces[:-1]:
            yield delay, self._response([{"text": piece}])
            delay = behaviour.delay_s
        last: list[dict[str, Any]] = [{"text": pieces[-1]}] if pieces else []
        for index, (name, args) in enumerate(behaviour.calls):
            last.append(
                {"functionCall": {"name": name, "args": args, "id": f"fc_{index + 1}"}}
            )
        yield delay, self._response(last, "STOP")

    def partial_events(self, behaviour: Drop) -> Iterator[dict[str, Any]]:
        for piece in split(behaviour.text, behaviour.pieces)[:-1] or [behaviour.text]:
            yield self._response([{"text": piece}])

    def error_body(self, code: int) -> dict[str, Any]:
        status = {
            429: "RESOURCE_EXHAUSTED",
            401: "UNAUTHENTICATED",
            400: "INVALID_ARGUMENT",
        }.get(code, "INTERNAL")
        return {
            "error": {"code": code, "message": f"fake error {code}", "status": status}
        }


def _sse(event: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(event).encode() + b"\n\n"


def _write_chunk(handler: BaseHTTPRequestHandler, data: bytes) -> None:
    handler.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
    handler.wfile.flush()
