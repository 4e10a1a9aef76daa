"""A stand-alone moto server in its own process: the DynamoDB endpoint a test points
``DYNAMODB_ENDPOINT_URL`` at. It is moto with DynamoDB's refusals (decision_flows_local.dynamodb.strict_moto_server),
untouched by the embedded store's transaction journal, so what works against it works because the
local tooling follows the DynamoDB APIs, not moto's in-process details."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.request import Request, urlopen

from tests.support.local_server import free_port


@dataclass
class MotoServer:
    url: str
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
        self.process.wait(timeout=30)


@contextmanager
def moto_server() -> Iterator[MotoServer]:
    """Start ``moto_server`` on a free loopback port; stop it afterwards (unless the test did)."""
    port = free_port()
    process = subprocess.Popen(  # noqa: S603 (our own interpreter, fixed arguments)
        [sys.executable, "-m", "decision_flows_local.dynamodb.strict_moto_server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,  # werkzeug logs every request: nobody reads it, so it must not fill a pipe
        stderr=subprocess.DEVNULL,
    )
    server = MotoServer(f"http://127.0.0.1:{port}", process)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError("moto_server did not start") from None
                time.sleep(0.1)
        yield server
    finally:
        server.stop()


def reset(url: str) -> None:
    """Forget every table: moto's own reset call."""
    urlopen(Request(f"{url}/moto-api/reset", method="POST"), timeout=10).close()  # noqa: S310 (loopback)
