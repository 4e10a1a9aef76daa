"""Throughput of `make serve`'s local server with concurrent clients, against its embedded store.

The real server runs as a subprocess (tests/support/local_server.py starts it as the tests do, with
the seeded API keys) with RATE_LIMIT_PER_MINUTE=0, so the rate limit cannot cap the figures. Some
flows with versions are seeded over HTTP. Then closed-loop clients (bench/throughput_clients.py:
threads, one keep-alive connection each, a new request as soon as the last one answered) run a mix
for a fixed time at each concurrency: the read mix (GET one flow, GET list, GET a page of versions,
GET one version) on one server, the write mix (PUT a changed draft, POST publish) on a fresh server
per concurrency, since every write grows the store and later cells would otherwise pay for earlier
ones. Reported per cell (bench/throughput_report.py): requests/s, p50 and p99 latency, unexpected
answers, 409 conflicts, and CPU use of server and clients, which share the machine. Writes
bench/results/throughput.json and .md; ``--quick`` only prints the Markdown.

    python -m bench.throughput [--seconds 10] [--quick]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from bench import report
from bench.support import BASE
from bench.throughput_clients import Cell, run_cell
from bench.throughput_report import markdown, payload
from tests.support.configs import v2_config
from tests.support.local_server import Server, running_server

CONCURRENCY = (1, 4, 16)
SEEDED_FLOWS = 8
SEEDED_VERSIONS = 3
SERVER_ENV = {"RATE_LIMIT_PER_MINUTE": "0"}  # 0 turns the rate limit off


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.throughput", description="Local server throughput.")
    parser.add_argument("--seconds", type=float, default=10.0, help="duration of each cell (default 10)")
    parser.add_argument(
        "--quick", action="store_true", help="a smoke run (1 s per cell), printed only: bench/results/ is kept"
    )
    args = parser.parse_args(argv)
    seconds = 1.0 if args.quick else args.seconds
    started = time.perf_counter()
    cells = measure(seconds)
    run_seconds = time.perf_counter() - started
    figures = [cell.to_json() for cell in cells]
    seeded = {"flows": SEEDED_FLOWS, "versions_each": SEEDED_VERSIONS}
    results = payload(figures, seconds, run_seconds, seeded=seeded, server_env=SERVER_ENV)
    if args.quick:  # a smoke run leaves the last full run's results in place
        print(markdown(results))
    else:
        report.write("throughput", results, markdown(results))
    return 0 if all(cell.unexpected == 0 and cell.requests > 0 for cell in cells) else 1


if __name__ == "__main__":
    sys.exit(main())
