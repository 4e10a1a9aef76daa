"""The throughput benchmark's clients: closed-loop threads, one keep-alive connection each, sending
a mix of requests for a fixed time, and what they saw (a ``Cell``: one mix at one concurrency).

Unexpected answers are anything but 2xx and 409, and requests that got no answer at all; a 409 is
counted apart as a conflict, which the server's one lock around every request should make impossible.
"""

from __future__ import annotations

import http.client
import itertools
import json
import os
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from bench.stats import ms, percentile
from bench.support import BASE
from tests.support.configs import v2_config
from tests.support.local_server import ADMIN_KEY, Server

HEADERS = {"Authorization": f"Bearer {ADMIN_KEY}", "X-Tenant-Id": "tenant-a"}
CONFLICT = 409


@dataclass(frozen=True)
class Request:
    label: str
    method: str
    path: str
    body: Any = None


# A client's n-th request on its flow: the mixes cycle through these.
Mix = Callable[[str, int], Request]


def read_mix(flow_id: str, n: int) -> Request:
    return [
        Request("GET one flow", "GET", f"{BASE}?id={flow_id}"),
        Request("GET list", "GET", BASE),
        Request("GET versions", "GET", f"{BASE}/versions?id={flow_id}&limit=20"),
        Request("GET one version", "GET", f"{BASE}/versions?id={flow_id}&version=1"),
    ][n % 4]


def write_mix(flow_id: str, n: int) -> Request:
    """Edit the draft (a different config each time, so the update writes), then publish it."""
    if n % 2 == 0:
        return Request("PUT draft", "PUT", BASE, {"id": flow_id, "draftConfig": v2_config(f"edit-{n}", extra_nodes=4)})
    return Request("POST publish", "POST", f"{BASE}/publish", {"id": flow_id, "notes": f"release {n}"})


MIXES: dict[str, Mix] = {"read": read_mix, "write": write_mix}


@dataclass
class Tally:
    """What one client saw."""

    latencies_ns: dict[str, list[int]] = field(default_factory=dict)  # by request label
    finished_at: list[float] = field(default_factory=list)  # perf_counter() when each answer arrived
    statuses: Counter[int] = field(default_factory=Counter)
    failures: Counter[str] = field(default_factory=Counter)  # no answer at all (connection errors)


@dataclass
class Cell:
    mix: str
    concurrency: int
    began: float
    seconds: float
    tallies: list[Tally]
    server_cpu_seconds: float | None
    client_cpu_seconds: float
    load_average: float

    @property
    def latencies_ns(self) -> list[int]:
        return [latency for by_label in self.by_label().values() for latency in by_label]

    def by_label(self) -> dict[str, list[int]]:
        merged: dict[str, list[int]] = {}
        for tally in self.tallies:
            for label, latencies in tally.latencies_ns.items():
                merged.setdefault(label, []).extend(latencies)
        return merged

    @property
    def statuses(self) -> Counter[int]:
        return sum((tally.statuses for tally in self.tallies), Counter())

    @property
    def requests(self) -> int:
        return len(self.latencies_ns)

    def halves(self) -> tuple[float, float]:
        """Requests/s in the first and the second half of the cell: a store that grows slows the second."""
        middle = self.began + self.seconds / 2
        finished = [moment for tally in self.tallies for moment in tally.finished_at]
        first = sum(1 for moment in finished if moment < middle)
        return first / (self.seconds / 2), (len(finished) - first) / (self.seconds / 2)

    @property
    def conflicts(self) -> int:
        return self.statuses[CONFLICT]

    @property
    def unexpected(self) -> int:
        """Answers that are neither 2xx nor a 409, and requests that got no answer at all."""
        wrong = sum(count for status, count in self.statuses.items() if not 200 <= status < 300 and status != CONFLICT)
        return wrong + sum(sum(tally.failures.values()) for tally in self.tallies)

    def to_json(self) -> dict[str, Any]:
        latencies = self.latencies_ns
        return {
            "mix": self.mix,
            "concurrency": self.concurrency,
            "seconds": round(self.seconds, 2),
            "requests": self.requests,
            "requests_per_second": round(self.requests / self.seconds, 1),
            "requests_per_second_by_half": [round(rate, 1) for rate in self.halves()],
            "p50_ms": ms(percentile(latencies, 0.5)),
            "p99_ms": ms(percentile(latencies, 0.99)),
            "unexpected": self.unexpected,
            "conflicts_409": self.conflicts,
            "statuses": {str(status): count for status, count in sorted(self.statuses.items())},
            "failures": dict(sum((tally.failures for tally in self.tallies), Counter())),
            "p50_ms_by_request": {label: ms(percentile(values, 0.5)) for label, values in self.by_label().items()},
            "server_cpu_percent": _percent(self.server_cpu_seconds, self.seconds),
            "client_cpu_percent": _percent(self.client_cpu_seconds, self.seconds),
            # Includes the server and the clients themselves (about 1.1): more means others were running.
            "load_average_1min_after": round(self.load_average, 2),
        }


def _percent(cpu_seconds: float | None, wall_seconds: float) -> float | None:
    return None if cpu_seconds is None else round(100 * cpu_seconds / wall_seconds)


def run_cell(server: Server, flows: list[str], mix: str, clients: int, seconds: float) -> Cell:
    """``clients`` closed-loop clients for ``seconds``; client i works on flow i (modulo the flows)."""
    tallies = [Tally() for _ in range(clients)]
    start = threading.Barrier(clients + 1)
    deadline: list[float] = []
    threads = [
        threading.Thread(target=_client, args=(server, flows[i % len(flows)], MIXES[mix], tallies[i], start, deadline))
        for i in range(clients)
    ]
    for thread in threads:
        thread.start()
    server_cpu, client_cpu = _cpu_seconds(server.process.pid), time.process_time()
    began = time.perf_counter()
    deadline.append(began + seconds)
    start.wait()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    server_used = _cpu_seconds(server.process.pid)
    server_cpu_seconds = None if server_used is None or server_cpu is None else server_used - server_cpu
    client_cpu_seconds = time.process_time() - client_cpu
    return Cell(mix, clients, began, elapsed, tallies, server_cpu_seconds, client_cpu_seconds, os.getloadavg()[0])


def _client(
    server: Server, flow_id: str, mix: Mix, tally: Tally, start: threading.Barrier, deadline: list[float]
) -> None:
    address = urlsplit(server.base)
    connection = http.client.HTTPConnection(address.hostname or "127.0.0.1", address.port, timeout=60)
    start.wait()
    try:
        for n in itertools.count():
            if time.perf_counter() >= deadline[0]:
                return
            request = mix(flow_id, n)
            body = None if request.body is None else json.dumps(request.body).encode()
            headers = HEADERS | ({"Content-Type": "application/json"} if body is not None else {})
            begun = time.perf_counter_ns()
            try:
                connection.request(request.method, request.path, body=body, headers=headers)
                response = connection.getresponse()
                response.read()
            except (OSError, http.client.HTTPException) as error:  # counted, not raised: the cell goes on
                tally.failures[type(error).__name__] += 1
                connection.close()
                continue
            tally.latencies_ns.setdefault(request.label, []).append(time.perf_counter_ns() - begun)
            tally.finished_at.append(time.perf_counter())
            tally.statuses[response.status] += 1
    finally:
        connection.close()


def _cpu_seconds(pid: int) -> float | None:
    """User plus system CPU time of a process, from /proc (None where there is no /proc)."""
    stat = f"/proc/{pid}/stat"
    if not os.path.exists(stat):
        return None
    with open(stat) as file:
        fields = file.read().rsplit(")", 1)[1].split()
    # After the command name: state is field 3, utime and stime are fields 14 and 15.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
