"""What a warm runtime read costs against the size of the config (issue 23 point 5): GET /live (200 and
304) and GET /live/state through LiveFunction's real handler against in-process moto, once the instance
has read the versions and built their answers. A 300 KB config should cost about what a 2 KB one costs:
the kept answer is served, the config is neither parsed nor serialised again.

Times are this process's CPU time per request (moto's GetItem of the pointer included, the same at
every size), median of many requests; the 2-core machine is shared, so wall-clock would count others'
work.

    python -m bench.live_reads            # into bench/results/ and docs/PERFORMANCE.md
    python -m bench.live_reads --quick    # fewer requests, printed only
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any

from bench import report
from bench.stats import median
from bench.support import TENANT, environment, fake_aws_environment
from decision_flows.domain import pipeline
from decision_flows_local import template
from decision_flows_local.api.gateway import Api, Caller, HttpResponse, LambdaContext, build_event
from decision_flows_local.dynamodb.embedded import embedded_tables
from decision_flows_local.fixtures.samples import config_of_size, v2_config

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]
CONTEXT = LambdaContext()
SIZES = (2_000, 300_000)
REQUESTS, QUICK_REQUESTS = 400, 20
# The goal: the largest config's warm read within this multiple of the smallest's.
GOAL_RATIO = 1.5
VIEWER = Caller(TENANT, "viewer", "runtime@tenant-bench.example")
# Each read as the event API Gateway hands the function: (path, query, conditional).
READS = {
    "GET /live (200)": ("/live", {"subject": "s-1"}, False),
    "GET /live (304)": ("/live", {"subject": "s-1"}, True),
    "GET /live/state (200)": ("/live/state", {}, False),
}


def event(read: str, key: str, etag: str) -> dict[str, Any]:
    path, query, conditional = READS[read]
    headers = {"If-None-Match": etag} if conditional else {}
    return build_event("GET", Api.BASE + path, caller=VIEWER, query={"key": key, **query}, headers=headers)


def ok(response: HttpResponse, status: int = 200) -> HttpResponse:
    assert response.status == status, (response.status, response.body)
    return response


def rollout_of_size(admin: Api, key: str, size: int) -> None:
    """Flow ``key``: v1 and v2 of ``size`` bytes, v2 the challenger at 50 %. The second config goes through a
    small draft: moto refuses an update whose old and new values together pass 400 KB."""
    first, second = config_of_size(size), config_of_size(size)
    second["nodes"][0]["config"]["padding"] = "y" * len(second["nodes"][0]["config"]["padding"])
    flow_id: str = ok(admin.create(key=key, name=key, draftConfig=first), 201).body["id"]
    ok(admin.publish(id=flow_id))
    ok(admin.update(id=flow_id, draftConfig=v2_config("between")))
    ok(admin.update(id=flow_id, draftConfig=second))
    ok(admin.publish(id=flow_id, rollout={"percent": 50}))


def timed(handler: Handler, request: dict[str, Any], status: int, requests: int) -> float:
    """The handler's CPU time per request (not the test gateway's, which would parse the body)."""
    samples = []
    for _ in range(requests):
        started = time.process_time_ns()
        answer = handler(request, CONTEXT)
        samples.append((time.process_time_ns() - started) / 1e6)
        assert answer["statusCode"] == status, answer
    return round(median(samples), 3)


def measure(sizes: tuple[int, ...], requests: int) -> list[dict[str, Any]]:
    """Each read of each size, warm: the first request of each (not timed) reads and builds what is kept."""
    from decision_flows.dal.client import dynamodb_client
    from decision_flows_local.dynamodb.streams import StreamPoller

    rows: list[dict[str, Any]] = []
    with embedded_tables():
        admin = Api(Caller(TENANT, "admin", "bench@tenant-bench.example"))
        for size in sizes:
            rollout_of_size(admin, f"live-{size}", size)
        StreamPoller.for_template(dynamodb_client()).deliver()
        handler = template.handler("LiveFunction")
        for size in sizes:
            key = f"live-{size}"
            etag = ok(admin.as_(VIEWER).request("GET", "/live", query={"key": key, "subject": "s-1"})).headers["etag"]
            config_bytes = len(pipeline.canonical_json(config_of_size(size)).encode())
            for read in READS:
                request, status = event(read, key, etag), 304 if "304" in read else 200
                warm = handler(request, CONTEXT)  # the instance keeps what this one reads and builds
                rows.append(
                    {
                        "read": read,
                        "config_bytes": config_bytes,
                        "body_bytes": len(warm["body"]),
                        "cpu_ms": timed(handler, request, status, requests),
                    }
                )
    return rows


def markdown(rows: list[dict[str, Any]], requests: int) -> str:
    smallest = {row["read"]: row["cpu_ms"] for row in rows if row["config_bytes"] == rows[0]["config_bytes"]}
    table = [
        [
            row["read"],
            round(row["config_bytes"] / 1024),
            round(row["body_bytes"] / 1024),
            row["cpu_ms"],
            round(row["cpu_ms"] / smallest[row["read"]], 2),
        ]
        for row in rows
    ]
    worst = max(row["cpu_ms"] / smallest[row["read"]] for row in rows)
    verdict = "met" if worst <= GOAL_RATIO else "**not met**"
    return (
        "**Warm runtime reads** (LiveFunction's handler called with API Gateway's event, against in-process moto, "
        "once the instance holds the versions and their answers: this process's CPU time per request, moto's "
        f"GetItem of the pointer included, median of {requests}; a rollout at 50 %, each version of the config's "
        "size)\n\n"
        + report.markdown_table(["read", "config KB", "body KB", "CPU ms", "÷ smallest config"], table)
        + f"\n\n**Goal**: a 300 KB config's warm read costs about what a 2 KB one's does (ratio ≤ {GOAL_RATIO:g}): "
        f"{verdict} (largest ratio: {round(worst, 2)})."
    )


def main(argv: list[str]) -> int:
    quick = argv == ["--quick"]
    requests = QUICK_REQUESTS if quick else REQUESTS
    settings = {
        "POWERTOOLS_METRICS_DISABLED": "true",
        "RATE_LIMIT_PER_MINUTE": "0",
        "RUNTIME_RATE_LIMIT_PER_SECOND": "0",
    }
    with environment(fake_aws_environment() | settings):
        rows = measure(SIZES, requests)
    report.finish("live_reads", {"requests": requests, "rows": rows}, markdown(rows, requests), quick)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
