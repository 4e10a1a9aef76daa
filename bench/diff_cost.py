"""What a diff costs against the size of the configs (security review H2; method: docs/PERFORMANCE.md).

- ``GET /diff`` (summary and patch, and ``include=summary``) through the real handler against
  in-process moto, from version 1 to a draft of as many edges, at 1 000 to 8 000 edges: every edge
  replaced by another (what the review measured), and every other edge replaced (scattered edits,
  where python-json-patch's pairing of the lists was quadratic).
- The stream consumer's time per record of a draft edit (``PUT`` of a config with every edge
  replaced), the real records of the flows table's stream handed to the real handler one at a time,
  at growing config sizes; beside drafts of the same size without edges.

Times are this process's CPU time (moto runs in it), not wall-clock: the machine's 2 cores are shared,
and another process's work would otherwise count as the diff's.

    python -m bench.diff_cost            # the figures above, into bench/results/ and docs/PERFORMANCE.md
    python -m bench.diff_cost --quick    # small sizes, printed only
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from functools import partial
from typing import Any

from bench import report
from bench.stats import median
from bench.support import TENANT, environment, fake_aws_environment
from decision_flows.domain import pipeline
from decision_flows_local.api.gateway import Api, Caller, HttpResponse
from decision_flows_local.dynamodb.embedded import embedded_tables
from decision_flows_local.fixtures.samples import config_of_size, edge_heavy_config

DIFF_EDGES = (1_000, 2_000, 4_000, 8_000)
# moto 5.2 refuses an UpdateItem whose old and new values together pass 400 KB (DynamoDB sizes the item
# the update leaves), so a draft edit of two configs is measured up to 190 KB each.
CONSUMER_EDGES = (750, 1_500, 3_000, 6_000)
QUICK_DIFF_EDGES, QUICK_CONSUMER_EDGES = (200, 400), (200, 400)
REPEATS = 5
CONSUMER_RECORDS = 6
# The goal: 8 times the edges cost about 8 times as much, not 64 times.
GOAL_RATIO = 12.0


def scattered(edges: int) -> dict[str, Any]:
    """Version 1's config (parity 0) with every other edge replaced by one of the other parity."""
    config = edge_heavy_config(edges, parity=0)
    config["edges"][1::2] = edge_heavy_config(edges, parity=1)["edges"][1::2]
    return config


EDITS: dict[str, Callable[[int], dict[str, Any]]] = {
    "every edge replaced": lambda edges: edge_heavy_config(edges, parity=1),
    "every other edge replaced": scattered,
}


def ok(response: HttpResponse, *statuses: int) -> HttpResponse:
    assert response.status in (statuses or (200,)), (response.status, response.body)
    return response


def flow_at(api: Api, key: str, live: dict[str, Any], draft: dict[str, Any]) -> str:
    """A flow whose version 1 is ``live`` and whose draft is ``draft``. The draft goes through a small
    one, so that no update replaces one large config with another (moto's limit above)."""
    flow_id: str = ok(api.create(key=key, name=key, draftConfig=live), 201).body["id"]
    ok(api.publish(id=flow_id, notes="v1"))
    ok(api.update(id=flow_id, draftConfig=pipeline.DEFAULT_DRAFT_CONFIG))
    ok(api.update(id=flow_id, draftConfig=draft))
    return flow_id


def timed_ms(send: Callable[[], HttpResponse], repeats: int) -> tuple[float, HttpResponse]:
    samples, response = [], None
    for _ in range(repeats):
        started = time.process_time_ns()
        response = ok(send())
        samples.append((time.process_time_ns() - started) / 1e6)
    assert response is not None
    return round(median(samples), 2), response


def measure_diffs(edge_counts: tuple[int, ...], repeats: int) -> list[dict[str, Any]]:
    """``GET /diff`` from version 1 to the draft, each edit at each size, with and without the patch."""
    rows: list[dict[str, Any]] = []
    with embedded_tables():
        api = Api(Caller(TENANT, "editor", "bench@tenant-bench.example"))
        for edit, make in EDITS.items():
            for edges in edge_counts:
                live, draft = edge_heavy_config(edges, parity=0), make(edges)
                flow_id = flow_at(api, f"diff-{len(rows)}", live, draft)
                whole, response = timed_ms(partial(api.get, "/diff", id=flow_id, **{"from": "1"}), repeats)
                summary_ms, _ = timed_ms(
                    partial(api.get, "/diff", id=flow_id, include="summary", **{"from": "1"}), repeats
                )
                edges_summary = response.body["summary"]["edges"]
                rows.append(
                    {
                        "edit": edit,
                        "edges": edges,
                        "config_bytes": len(pipeline.canonical_json(draft).encode()),
                        "diff_ms": whole,
                        "summary_only_ms": summary_ms,
                        "edges_added": len(edges_summary["added"]),
                        "edges_removed": len(edges_summary["removed"]),
                        "patch_operations": len(response.body["patch"]),
                    }
                )
    return rows


def measure_consumer(edge_counts: tuple[int, ...], records: int) -> list[dict[str, Any]]:
    """The stream consumer's time per draft-edit record: ``records`` PUTs alternating two drafts of
    ``edges`` edges with none in common, each record handed to the real handler on its own; and the
    same for two drafts of the same size without edges."""
    from decision_flows.dal.client import dynamodb_client
    from decision_flows_local.dynamodb.streams import StreamPoller

    rows: list[dict[str, Any]] = []
    with embedded_tables():
        api = Api(Caller(TENANT, "editor", "bench@tenant-bench.example"))
        poller = StreamPoller.for_template(dynamodb_client())
        for edges in edge_counts:
            pair = (edge_heavy_config(edges, parity=0), edge_heavy_config(edges, parity=1))
            size = len(pipeline.canonical_json(pair[0]).encode())
            padded = (padded_config(size, "x"), padded_config(size, "y"))
            row: dict[str, Any] = {"edges": edges, "config_bytes": size}
            for label, (first, second) in (("edges", pair), ("no_edges", padded)):
                flow_id: str = ok(api.create(key=f"consumer-{edges}-{label}", name="c", draftConfig=first), 201).body[
                    "id"
                ]
                poller.read()  # the create's record, not measured
                samples = []
                for i in range(records):
                    ok(api.update(id=flow_id, draftConfig=second if i % 2 == 0 else first))
                    (record,) = poller.read()
                    started = time.process_time_ns()
                    assert poller.deliver([record]) == [], "the consumer gave the record up"
                    samples.append((time.process_time_ns() - started) / 1e6)
                row[f"{label}_ms"] = round(median(samples), 2)
            entry = ok(api.history(flow_id, limit="1")).body["data"][0]
            assert entry["action"] == "updated", entry
            assert "configChanges" in entry, entry
            rows.append(row)
    return rows


def padded_config(size: int, fill: str) -> dict[str, Any]:
    config = config_of_size(size)
    padding = config["nodes"][0]["config"]["padding"]
    config["nodes"][0]["config"]["padding"] = fill * len(padding)
    return config


def growth(rows: list[dict[str, Any]], figure: str) -> dict[int, float]:
    """Each row's ``figure`` as a multiple of the smallest row's."""
    base = rows[0][figure]
    return {row["edges"]: round(row[figure] / base, 1) for row in rows}


def diff_markdown(rows: list[dict[str, Any]]) -> str:
    header = ["edit", "edges", "config KB", "GET /diff CPU ms", "÷ smallest", "summary only", "÷ smallest", "patch ops"]
    table = []
    for edit in EDITS:
        mine = [row for row in rows if row["edit"] == edit]
        whole, summary = growth(mine, "diff_ms"), growth(mine, "summary_only_ms")
        for row in mine:
            kb = round(row["config_bytes"] / 1024)
            table.append(
                [
                    edit,
                    row["edges"],
                    kb,
                    row["diff_ms"],
                    whole[row["edges"]],
                    row["summary_only_ms"],
                    summary[row["edges"]],
                    row["patch_operations"],
                ]
            )
    sizes = sorted({row["edges"] for row in rows})
    top = max(
        max(growth([r for r in rows if r["edit"] == edit], name).values())
        for edit in EDITS
        for name in ("diff_ms", "summary_only_ms")
    )
    verdict = "met" if top <= GOAL_RATIO else "**not met**"
    times = sizes[-1] // sizes[0]
    return (
        f"**Diff cost** (`GET /diff` from version 1 to the draft through the real handler, in-process moto: the "
        f"process's CPU time, moto included, median of {REPEATS}; summary only: `include=summary`; ÷ smallest: "
        f"against {sizes[0]} edges; 200 nodes; the patch's operations counted)\n\n"
        + report.markdown_table(header, table)
        + f"\n\n**Goal**: {times} times the edges cost about {times} times as much (ratio ≤ {GOAL_RATIO:g}), "
        f"not {times**2} times: {verdict} (largest ratio: {top})."
    )


def consumer_markdown(rows: list[dict[str, Any]]) -> str:
    header = ["edges", "config KB", "CPU ms per record", "÷ smallest", "size ÷ smallest", "no edges", "÷ smallest"]
    edged, plain = growth(rows, "edges_ms"), growth(rows, "no_edges_ms")
    table = [
        [
            row["edges"],
            round(row["config_bytes"] / 1024),
            row["edges_ms"],
            edged[row["edges"]],
            round(row["config_bytes"] / rows[0]["config_bytes"], 1),
            row["no_edges_ms"],
            plain[row["edges"]],
        ]
        for row in rows
    ]
    return (
        f"**Stream consumer per draft edit** (a `PUT` replacing every edge, its record from the flows table's "
        f"stream handed alone to the real handler, which writes the history entry with its `configChanges` and "
        f"the overwritten draft; the process's CPU time, moto included, median of {CONSUMER_RECORDS} records; "
        "no edges: drafts of the same size without edges)\n\n" + report.markdown_table(header, table)
    )


def main(argv: list[str]) -> int:
    quick = argv == ["--quick"]
    diff_edges, consumer_edges = (QUICK_DIFF_EDGES, QUICK_CONSUMER_EDGES) if quick else (DIFF_EDGES, CONSUMER_EDGES)
    started = time.perf_counter()
    with environment(fake_aws_environment() | {"POWERTOOLS_METRICS_DISABLED": "true", "RATE_LIMIT_PER_MINUTE": "0"}):
        results: dict[str, Any] = {
            "diff": measure_diffs(diff_edges, REPEATS),
            "consumer": measure_consumer(consumer_edges, CONSUMER_RECORDS),
        }
    results["seconds"] = round(time.perf_counter() - started, 1)
    report.finish(
        "diff_cost", results, diff_markdown(results["diff"]) + "\n\n" + consumer_markdown(results["consumer"]), quick
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
