"""A stand-in for the service's GET /live/state on 127.0.0.1, over real HTTP (http.server): the
contract's answers, ETags and 304s, the refusals a runtime caller can meet, and scripted failures.
It counts what it is asked, so that tests can hold the client to its number of requests.

The lead's end-to-end test can give the same tests a real server's base URL instead (``base_url``)."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

API_KEY, TENANT = "sk_test_runtime", "tenant-a"
STATE_PATH = "/api/v1/decision-flows/live/state"


def state_answer(
    key: str, version: int, challenger: int | None = None, percent: float = 30, **overrides: list[str]
) -> dict[str, Any]:
    """A /live/state answer for ``key``: version ``version`` as champion, ``challenger`` at ``percent``."""
    answer: dict[str, Any] = {
        "flowId": f"df_{key}",
        "key": key,
        "champion": {"version": version, "publishedAt": "2026-12-01T10:00:00.000Z", "config": {"v": version}},
        "challenger": None,
    }
    if challenger is not None:
        answer["challenger"] = {
            "version": challenger,
            "publishedAt": "2026-12-02T10:00:00.000Z",
            "config": {"v": challenger},
            "percent": percent,
            "include": overrides.get("include", []),
            "exclude": overrides.get("exclude", []),
        }
    return answer


@dataclass
class Canned:
    """One scripted reply, answered instead of the normal one."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


@dataclass
class Request:
    key: str
    headers: dict[str, str]


class FakeLiveService:
    def __init__(self, api_key: str = API_KEY, tenant: str = TENANT) -> None:
        self.api_key, self.tenant = api_key, tenant
        self.states: dict[str, dict[str, Any]] = {}
        self.script: list[Canned] = []
        self.requests: list[Request] = []
        # Cleared: every request waits until it is set again (a slow service, or one that times out).
        self.open = threading.Event()
        self.open.set()
        self.arrived = threading.Event()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def publish(self, answer: dict[str, Any]) -> None:
        self.states[answer["key"]] = answer

    def etag(self, key: str) -> str:
        """The ETag of ``key``'s state: it changes whenever any of the state changes."""
        return '"' + hashlib.sha256(json.dumps(self.states[key], sort_keys=True).encode()).hexdigest()[:16] + '"'

    def requests_for(self, key: str) -> list[Request]:
        with self._lock:
            return [request for request in self.requests if request.key == key]

    @contextmanager
    def running(self) -> Iterator[FakeLiveService]:
        thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self.open.set()
            self.stop()

    def stop(self) -> None:
        """Stop listening: from now on a connection is refused."""
        self._server.shutdown()
        self._server.server_close()

    def answer(self, key: str, headers: dict[str, str]) -> Canned:
        with self._lock:
            self.requests.append(Request(key, headers))
            scripted = self.script.pop(0) if self.script else None
        self.arrived.set()
        self.open.wait(timeout=10)
        if scripted is not None:
            return scripted
        if headers.get("authorization") != f"Bearer {self.api_key}":
            return problem(401, "UNAUTHORIZED")
        if headers.get("x-tenant-id") != self.tenant:
            return problem(403, "FORBIDDEN")
        state = self.states.get(key)
        if state is None:
            return problem(404, "LIVE_FLOW_NOT_FOUND")
        etag = self.etag(key)
        if headers.get("if-none-match") == etag:
            return Canned(304, {"ETag": etag})
        return Canned(200, {"ETag": etag, "Content-Type": "application/json"}, json.dumps(state).encode())

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                url = urlsplit(self.path)
                if url.path != STATE_PATH:
                    reply = problem(404, "ROUTE_NOT_FOUND")
                else:
                    key = parse_qs(url.query).get("key", [""])[0]
                    reply = service.answer(key, {name.lower(): value for name, value in self.headers.items()})
                try:
                    self.send_response(reply.status)
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(reply.body)))
                    self.end_headers()
                    self.wfile.write(reply.body)
                except OSError:  # the client gave up (its timeout): nothing to answer
                    pass

            def log_message(self, format: str, *args: Any) -> None:
                """Silent: the tests read the request log instead."""

        return Handler


def problem(status: int, code: str) -> Canned:
    body = {"type": "about:blank", "title": HTTPStatus(status).phrase, "status": status, "detail": code, "code": code}
    return Canned(status, {"Content-Type": "application/problem+json"}, json.dumps(body).encode())


class FakeClock:
    """The client's monotonic clock, moved by the test: ages and backoffs without sleeping."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
