"""`make serve`'s server in a real process on a free port, and a small HTTP client for it."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import Message
from typing import Any
from urllib.error import HTTPError
from urllib.request import Request, urlopen

from decision_flows_local import template
from tests.support.dynamodb_calls import LOG_VARIABLE, log_for_subprocess

ADMIN_KEY, VIEWER_KEY = "sk_test_admin_a", "sk_test_view_a"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Reply:
    status: int
    headers: Message
    body: bytes

    @property
    def content_type(self) -> str:
        return self.headers.get_content_type()

    def json(self) -> Any:
        return json.loads(self.body.decode()) if self.body else None


@dataclass
class Server:
    process: subprocess.Popen[str]
    base: str
    banner: list[str]
    # What the server printed after its banner, read as it comes: a pipe nobody reads fills up
    # (64 KB, some 1 500 request log lines) and then blocks the server.
    output: list[str] = field(default_factory=list)
    _reader: threading.Thread | None = None

    def __post_init__(self) -> None:
        stdout = self.process.stdout
        assert stdout is not None
        self._reader = threading.Thread(target=lambda: self.output.extend(stdout), daemon=True)
        self._reader.start()

    def stop(self) -> str:
        """Ctrl-C, as a developer would; everything printed after the banner."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        self.process.wait(timeout=30)
        if self._reader is not None:
            self._reader.join(timeout=30)
        return "".join(self.output)

    def send(
        self,
        method: str,
        path: str,
        key: str | None = ADMIN_KEY,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        """One request; ``key=None`` sends no credentials at all."""
        all_headers = {"Authorization": f"Bearer {key}", "X-Tenant-Id": "tenant-a"} if key else {}
        data = None
        if body is not None:
            data, all_headers["Content-Type"] = json.dumps(body).encode(), "application/json"
        all_headers.update(headers or {})
        request = Request(self.base + path, data=data, method=method, headers=all_headers)  # noqa: S310 (loopback)
        try:
            with urlopen(request, timeout=10) as response:  # noqa: S310
                return Reply(response.status, response.headers, response.read())
        except HTTPError as error:
            return Reply(error.code, error.headers, error.read())

    def call(self, method: str, path: str, key: str = ADMIN_KEY, body: Any = None) -> tuple[int, Any]:
        reply = self.send(method, path, key, body)
        return reply.status, reply.json()


def start(port: int, **env: str) -> subprocess.Popen[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("TABLE_NAME", "DYNAMODB_"))}
    environment.update(
        {"PORT": str(port), "LOCAL_API_KEYS": f"{ADMIN_KEY}=tenant-a:admin,{VIEWER_KEY}=tenant-a:viewer"}
    )
    environment.update(env)
    # The same server as `make serve`, with its functions' DynamoDB calls recorded (dynamodb_calls.py).
    environment[LOG_VARIABLE] = log_for_subprocess()
    return subprocess.Popen(
        [sys.executable, "-m", "tests.support.recorded_server"],
        cwd=template.ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def wait_until_ready(process: subprocess.Popen[str]) -> list[str]:
    assert process.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip())
        if line.startswith("ready in"):
            return lines
    raise AssertionError(f"the server did not become ready: {lines}")


@contextmanager
def running_server(**env: str) -> Iterator[Server]:
    """A server on a free port, stopped with Ctrl-C afterwards unless the test stopped it itself;
    ``env`` adds to or overrides its environment, e.g. ``RATE_LIMIT_PER_MINUTE="0"``."""
    port = free_port()
    process = start(port, **env)
    server = Server(process, f"http://127.0.0.1:{port}", wait_until_ready(process))
    try:
        yield server
    finally:
        server.stop()
