"""Does a publish on `make serve` cost the same however full the embedded store is?

Goal (issue 13): publish latency after 10 000 stored items within 1.5x of the latency after 100.
moto alone copies every table a transaction touches, so a session's writes slowed down as the store
filled; the embedded store's journaled transactions (decision_flows_local.moto_transactions) should
make the cost independent of the store's size.

`make serve`'s own pieces run in this process: the embedded store, the WSGI app behind werkzeug's
server, the stream consumer (delivered after each request, untimed, so that it never holds the
lock while a publish is timed). Flows are created and published over HTTP until the store holds
each target number of items (counted in moto, across every table); then a probe flow is edited
(untimed) and published (timed), SAMPLES times.

    python -m bench.embedded_store [--quick]
"""

from __future__ import annotations

import argparse
import http.client
import json
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from bench import report, stats
from bench.support import BASE, TENANT, environment, fake_aws_environment
from decision_flows_local import template
from decision_flows_local.samples import v2_config

KEY = "sk_test_bench_embedded_store"
GOAL_RATIO = 1.5


class Client:
    """One keep-alive connection to the local server, as tenant TENANT's admin."""

    def __init__(self, port: int) -> None:
        self._connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {KEY}", "X-Tenant-Id": TENANT, "Content-Type": "application/json"}
        self._connection.request(method, BASE + path, json.dumps(body) if body else None, headers)
        response = self._connection.getresponse()
        payload = response.read()
        if response.status >= 300:
            raise RuntimeError(f"{method} {path}: {response.status} {payload[:200]!r}")
        answer: dict[str, Any] = json.loads(payload)
        return answer


@contextmanager
def local_server() -> Iterator[tuple[Client, Any]]:
    """make serve's pieces on a free port; yields a client and the stream poller."""
    from werkzeug.serving import make_server

    from decision_flows_local.seeding import seed_api_keys
    from decision_flows_local.server import local_api
    from decision_flows_local.store import LocalStore

    store = LocalStore(None)
    store.start()
    seed_api_keys(f"{KEY}={TENANT}:admin", embedded=True, base_url="")
    app, poller = local_api(store)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Client(server.server_port), poller
    finally:
        server.shutdown()
        store.stop()


def stored_items() -> int:
    from decision_flows_local.store import embedded_table

    return sum(len(embedded_table(name)) for name in template.table_names().values())


def fill(client: Client, poller: Any, target: int, made: int) -> int:
    """Create and publish flows until the store holds ``target`` items; return how many flows exist."""
    while stored_items() < target:
        flow = client.call("POST", "", {"key": f"filler-{made}", "name": "Filler", "draftConfig": v2_config(str(made))})
        client.call("POST", "/publish", {"id": flow["id"]})
        poller.deliver()
        made += 1
    return made


def time_publishes(client: Client, poller: Any, flow_id: str, samples: int) -> list[float]:
    timings: list[float] = []
    for sample in range(samples):
        client.call("PUT", "", {"id": flow_id, "draftConfig": v2_config(f"probe-{sample}")})
        poller.deliver()
        started = time.perf_counter_ns()
        client.call("POST", "/publish", {"id": flow_id})
        timings.append(time.perf_counter_ns() - started)
        poller.deliver()
    return timings


def main(argv: list[str] | None = None) -> int:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small targets and few samples; writes no results")
    args = parser.parse_args(argv)
    targets, samples = ((100, 400), 10) if args.quick else ((100, 1_000, 10_000), 60)
    rows: list[dict[str, Any]] = []
    started = time.monotonic()
    with environment({**fake_aws_environment(), "RATE_LIMIT_PER_MINUTE": "0"}), local_server() as (client, poller):
        probe = client.call("POST", "", {"key": "probe", "name": "Probe", "draftConfig": v2_config("probe")})
        made = 0
        for target in targets:
            made = fill(client, poller, target, made)
            items = stored_items()
            timings = time_publishes(client, poller, probe["id"], samples)
            rows.append(
                {
                    "target": target,
                    "items": items,
                    "flows": made + 1,
                    "p50_ms": stats.ms(stats.median(timings)),
                    "p90_ms": stats.ms(stats.percentile(timings, 0.9)),
                }
            )
    ratio = rows[-1]["p50_ms"] / rows[0]["p50_ms"]
    verdict = "met" if ratio <= GOAL_RATIO else "not met"
    table = report.markdown_table(
        ["items stored", "flows", "publish p50 ms", "publish p90 ms"],
        [[row["items"], row["flows"], row["p50_ms"], row["p90_ms"]] for row in rows],
    )
    markdown = (
        f"**Embedded store** (`python -m bench.embedded_store`, {time.monotonic() - started:.0f} s): publish over HTTP"
        f" on `make serve`'s pieces in one process, {samples} samples per row (nearest-rank p90).\n\n{table}\n\n"
        f"Largest ÷ smallest p50: {ratio:.2f} (goal ≤ {GOAL_RATIO}: {verdict})."
    )
    if args.quick:
        print(markdown)
    else:
        report.write("embedded_store", {"samples": samples, "rows": rows, "ratio": ratio}, markdown)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
