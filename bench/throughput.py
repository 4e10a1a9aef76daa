"""Throughput of `make serve`'s local server with concurrent clients, against its embedded store.

The real server runs as a subprocess (tests/support/local_server.py starts it as the tests do, with
the seeded API keys) with RATE_LIMIT_PER_MINUTE=0, so the rate limit cannot cap the figures. Some
flows with versions are seeded over HTTP. Then closed-loop clients (threads, one keep-alive
connection each, a new request as soon as the last one answered) run a mix for a fixed time at each
concurrency: the read mix (GET one flow, GET list, GET a page of versions, GET one version) on one
server, the write mix (PUT a changed draft, POST publish) on a fresh server per concurrency, since
every write grows the store and later cells would otherwise pay for earlier ones. Reported per cell:
requests/s, p50 and p99 latency, unexpected answers (anything but 2xx; a 409 is counted apart as a
conflict, which one lock around every request should make impossible), and CPU use of server and
clients, which share the machine. Writes bench/results/throughput.json and .md.

    python -m bench.throughput [--seconds 10] [--quick]
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import os
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from bench.report import markdown_table, write
from bench.stats import ms, percentile
from tests.support.configs import v2_config
from tests.support.local_server import ADMIN_KEY, Server, running_server

BASE = "/api/v1/decision-flows"
CONCURRENCY = (1, 4, 16)
SEEDED_FLOWS = 8
SEEDED_VERSIONS = 3
SERVER_ENV = {"RATE_LIMIT_PER_MINUTE": "0"}  # 0 turns the rate limit off
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


def measure(
    seconds: float,
    concurrency: tuple[int, ...] = CONCURRENCY,
    flows: int = SEEDED_FLOWS,
    versions: int = SEEDED_VERSIONS,
) -> list[Cell]:
    """Every cell: the read mix on one server, the write mix on a fresh server per concurrency."""
    cells = []
    with _server() as server:
        seeded = seed(server, flows, versions)
        cells += [run_cell(server, seeded, "read", clients, seconds) for clients in concurrency]
    for clients in concurrency:
        with _server() as server:
            cells.append(run_cell(server, seed(server, flows, versions), "write", clients, seconds))
    return cells


@contextmanager
def _server() -> Iterator[Server]:
    with running_server(**SERVER_ENV) as server:
        yield server


def seed(server: Server, flows: int, versions: int) -> list[str]:
    """``flows`` flows, each with ``versions`` published versions of a changed draft; their ids."""
    ids = []
    for index in range(flows):
        status, flow = server.call("POST", BASE, body={"key": f"flow-{index}", "name": f"Flow {index}"})
        _expect(status, flow, expected=201)
        for version in range(1, versions + 1):
            config = v2_config(f"flow-{index}-v{version}", extra_nodes=4)
            _expect(*server.call("PUT", BASE, body={"id": flow["id"], "draftConfig": config}), expected=200)
            _expect(*server.call("POST", f"{BASE}/publish", body={"id": flow["id"]}), expected=200)
        ids.append(flow["id"])
    return ids


def _expect(status: int, body: Any, expected: int) -> None:
    if status != expected:
        raise RuntimeError(f"seeding got {status} (wanted {expected}): {body}")


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


# Reporting


def markdown(cells: list[Cell], seconds: float, run_seconds: float) -> str:
    header = [
        "mix",
        "clients",
        "requests/s",
        "1st → 2nd half",
        "p50 ms",
        "p99 ms",
        "requests",
        "unexpected",
        "409",
        "server CPU",
        "clients CPU",
        "load avg",
    ]
    rows = []
    for cell in cells:
        figures = cell.to_json()
        first, second = figures["requests_per_second_by_half"]
        rows.append(
            [
                "read: GET flow, list, versions, version" if cell.mix == "read" else "write: PUT draft, POST publish",
                cell.concurrency,
                f"{figures['requests_per_second']:.1f}",
                f"{first:.1f} → {second:.1f}",
                f"{figures['p50_ms']:.1f}",
                f"{figures['p99_ms']:.1f}",
                figures["requests"],
                figures["unexpected"],
                figures["conflicts_409"],
                _cpu_cell(figures["server_cpu_percent"]),
                _cpu_cell(figures["client_cpu_percent"]),
                f"{figures['load_average_1min_after']:.1f}",
            ]
        )
    caption = (
        f"**Local server throughput** (`python -m bench.throughput`, {run_seconds:.0f} s): `make serve`'s server "
        f"(embedded moto, one lock around every request, stream consumer in-process) with closed-loop clients, "
        f"one keep-alive connection each, {seconds:g} s per row; {SEEDED_FLOWS} flows of {SEEDED_VERSIONS} "
        f"versions seeded, client i on flow i mod {SEEDED_FLOWS}; the write mix on a fresh server per row. "
        f"RATE_LIMIT_PER_MINUTE=0 (rate limit off). The machine has {os.cpu_count()} cores, shared by the server "
        f"and the client threads (CPU: % of one core); load avg is the 1-minute load after the row, about 1.1 "
        f"from this benchmark alone, more when other work shared the machine."
    )
    return caption + "\n\n" + markdown_table(header, rows)


def _cpu_cell(percent: float | None) -> str:
    return "n/a" if percent is None else f"{percent:.0f}%"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.throughput", description="Local server throughput.")
    parser.add_argument("--seconds", type=float, default=10.0, help="duration of each cell (default 10)")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 1 s per cell")
    args = parser.parse_args(argv)
    seconds = 1.0 if args.quick else args.seconds
    started = time.perf_counter()
    cells = measure(seconds)
    run_seconds = time.perf_counter() - started
    payload = {
        "seconds_per_cell": seconds,
        "run_seconds": round(run_seconds, 1),
        "cpu_count": os.cpu_count(),
        "server_env": SERVER_ENV,
        "seeded": {"flows": SEEDED_FLOWS, "versions_each": SEEDED_VERSIONS},
        "cells": [cell.to_json() for cell in cells],
    }
    write("throughput", payload, markdown(cells, seconds, run_seconds))
    return 0 if all(cell.unexpected == 0 and cell.requests > 0 for cell in cells) else 1


if __name__ == "__main__":
    sys.exit(main())
