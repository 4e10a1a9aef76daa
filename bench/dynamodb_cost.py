"""DynamoDB cost per route against a flow's history length and config size (method: docs/PERFORMANCE.md):
every route through the real handlers to in-process moto with the template's tables, metered by
bench/dynamo_meter.py, each measured request undone so that every figure is taken at its cell's history.

    python -m bench.dynamodb_cost            # 1, 100, 1 000, 10 000 versions x 2 and 100 KB
    python -m bench.dynamodb_cost --quick    # 1, 100, 300 versions x 2 KB, printed only
"""

from __future__ import annotations

import sys
import time
from functools import partial
from importlib.metadata import version
from typing import Any

from bench import report
from bench.dynamo_meter import Call, Meter
from bench.support import TENANT, environment, fake_aws_environment
from decision_flows.settings import settings
from decision_flows_local.api.gateway import Api, Caller
from decision_flows_local.dynamodb.embedded import embedded_table, embedded_tables
from decision_flows_local.fixtures.histories import seed_change_entries, seed_history
from decision_flows_local.fixtures.samples import config_of_size

HISTORY_LENGTHS = (1, 100, 1_000, 10_000)
CONFIG_BYTES = (2 * 1024, 100 * 1024)
QUICK = (1, 100, 300)
REPEATS = 3
# The goal: these cost the same at the longest history as at BASE versions.
GOAL_RATIO, BASE = 1.05, 100
FIGURES = ("round_trips", "bytes", "read_units", "write_units")
GOAL_ROUTES = (
    "GET flow",
    "GET version (v1)",
    "GET version (latest)",
    "POST publish",
    "POST rollback",
    "GET feed (page of 25)",
)
LIST_FLOWS = 5  # a list page holds them all; each has the cell's history


def config(size: int, label: str) -> dict[str, Any]:
    sized = config_of_size(size)
    sized["nodes"][0]["config"]["catalog"] = label
    return sized


def write_into_moto(table_name: str, wire_items: list[dict[str, Any]]) -> None:
    """Items put straight into moto's table, sharing one config string (through the client, 10 000
    snapshots of 100 KB would take 1 GB), and with its stream set aside (no records of the seeding)."""
    table = embedded_table(table_name)
    stream, table.stream_shard = table.stream_shard, None
    for item in wire_items:
        table.put_item(item)
    table.stream_shard = stream


def flow_with_history(client: Any, api: Api, key: str, history: int, size: int) -> str:
    """A flow whose versions 1..history-1 are seeded and whose version ``history`` is published through
    the API from its draft; with the change-history entries the stream consumer would have left."""
    created = api.create(key=key, name=key, draftConfig=config(size, "live"))
    assert created.status == 201, created.body
    flow_id: str = created.body["id"]
    if history > 1:
        seed_history(client, TENANT, flow_id, history - 1, config=config(size, "old"), write_items=write_into_moto)
    published = api.publish(id=flow_id, notes="the live release")
    assert (published.status, published.body["latestVersion"]) == (200, history), published.body
    seed_change_entries(
        settings().changes_table, TENANT, flow_id, history, published.body["createdAt"], write_into_moto
    )
    return flow_id


def new_instance(send: Any) -> Any:
    """``send`` as a fresh function instance meets it: no version configs or answers in memory."""

    def fresh() -> Any:
        from decision_flows import runtime_wiring

        runtime_wiring.runtime_reads.cache_clear()
        runtime_wiring.response_bodies.cache_clear()
        return send()

    return fresh


def figures(calls: list[Call]) -> dict[str, Any]:
    estimated = all(call.read_units is not None for call in calls)
    return {
        "operations": [call.operation for call in calls],
        "round_trips": len(calls),
        "bytes": sum(call.bytes for call in calls),
        "read_units": sum(call.read_units or 0 for call in calls) if estimated else None,
        "write_units": sum(call.write_units or 0 for call in calls) if estimated else None,
    }


def measure_cell(history: int, size: int, repeats: int) -> dict[str, Any]:
    """Every route, ``repeats`` times, on a fresh store whose flows have ``history`` versions."""
    cell: dict[str, Any] = {"routes": {}}
    shared = {settings().rate_limit_table, settings().idempotency_table}
    with embedded_tables() as client:
        meter, api = Meter(client), Api(Caller(TENANT, "admin", "bench@tenant-bench.example"))

        def run(name: str, send: Any, at: int = history) -> None:
            runs = []
            for _ in range(repeats):
                response, calls = meter.record(send)
                meter.undo()  # so that every repetition meets the same store
                assert 200 <= response.status < 300 or response.status == 304, (name, response.status, response.body)
                runs.append([call for call in calls if not call.tables & shared])
                cell.setdefault("rate_limit", figures([call for call in calls if call.tables & shared]))
            items = next((len(response.body[k]) for k in ("data", "versions") if k in (response.body or {})), None)
            stable = all(run == runs[0] for run in runs)
            cell["routes"][name] = figures(runs[0]) | {"measured_at": at, "items": items, "stable": stable}

        subject, *_ = [flow_with_history(client, api, f"flow-{i}", history, size) for i in range(LIST_FLOWS)]
        run("GET flow", partial(api.get, id=subject))
        run("GET version (v1)", partial(api.get, "/versions", id=subject, version="1"))
        run("GET version (latest)", partial(api.get, "/versions", id=subject, version=str(history)))
        run("GET versions (page of 100)", partial(api.get, "/versions", id=subject))
        run("GET list (page of 5)", partial(api.get, limit=str(LIST_FLOWS)))
        run("GET history (page of 25)", partial(api.history, subject))
        run("GET feed (page of 25)", partial(api.get, "/history"))  # every flow's entries: 5 x the history
        run("GET live (miss, new instance)", new_instance(partial(api.live, "flow-0")))  # nothing stream-fed
        etag = api.live("flow-0").headers["etag"]  # the pointer is there now, and the version in memory
        run("GET live (new instance)", new_instance(partial(api.live, "flow-0")))
        run("GET live (warm instance)", partial(api.live, "flow-0"))
        run(
            "GET live (304)",
            partial(api.request, "GET", "/live", query={"key": "flow-0"}, headers={"If-None-Match": etag}),
        )
        run("PUT draft", partial(api.update, id=subject, draftConfig=config(size, "next")))
        run("POST publish", partial(api.publish, id=subject, notes="bench"))
        # A rollback needs a published version other than the live one: at 1 version it is measured at 2.
        target = subject if history > 1 else flow_with_history(client, api, "rollback", 2, size)
        rollback = partial(api.rollback, id=target, version=1, notes="bench")
        run("POST rollback", rollback, at=max(history, 2))
    return cell


def ratio(top: dict[str, Any], base: dict[str, Any]) -> tuple[float, str] | None:
    """The largest quotient of a route's figures at two lengths, and its name; None if a page was filling."""
    if top["items"] != base["items"]:
        return None
    quotients = {name: top[name] / base[name] for name in FIGURES if base[name]}
    worst = max(quotients, key=lambda name: quotients[name])
    return round(quotients[worst], 3), worst


def measure(lengths: tuple[int, ...], sizes: tuple[int, ...], repeats: int, progress: bool = False) -> dict[str, Any]:
    """The grid and its verdicts. Needs a fake AWS environment (bench.support's, or tests/conftest.py's)."""
    assert BASE in lengths[1:-1], f"the goal compares {BASE} versions with more"
    started, cells = time.perf_counter(), {}
    for size in sizes:
        for n in lengths:
            cells[n, size] = measure_cell(n, size, repeats)
            if progress:
                print(f"{n} versions x {size // 1024} KB: {time.perf_counter() - started:.0f} s")
    rows = []
    for size in sizes:
        for route in cells[lengths[-1], size]["routes"]:
            at = {n: cells[n, size]["routes"][route] for n in lengths}
            verdict = ratio(at[lengths[-1]], at[BASE])
            row = {"route": route, "config_bytes": size, "at": at, "goal": route in GOAL_ROUTES}
            rows.append(row | {"against_base": verdict, "pass": verdict is not None and verdict[0] <= GOAL_RATIO})
    return {
        "store": f"moto {version('moto')} in-process, botocore {version('botocore')}",
        "grid": {"history_lengths": list(lengths), "config_bytes": list(sizes), "repeats": repeats},
        "seconds": round(time.perf_counter() - started, 1),
        "rate_limit": cells[lengths[0], sizes[0]]["rate_limit"],
        "unstable": [f"{r['route']} at {n}" for r in rows for n, f in r["at"].items() if not f["stable"]],
        "rows": rows,
    }


def number(value: int) -> str:
    return f"{value:,}".replace(",", "\u2009")


def units(cost: dict[str, Any]) -> str:
    read, write = cost["read_units"], cost["write_units"]
    if read is None or write is None:
        return "—"
    return " + ".join([f"{read:g} R"] * bool(read or not write) + [f"{write:g} W"] * bool(write))


def ratio_text(found: tuple[float, str] | None, judged: bool = False) -> str:
    if found is None:
        return "— (page fills)"
    verdict = " pass" if found[0] <= GOAL_RATIO else f" **fail** ({found[1].replace('_', ' ')})"
    return f"{found[0]:.3f}" + (verdict if judged else "")


def markdown(results: dict[str, Any]) -> str:
    lengths = results["grid"]["history_lengths"]
    first, top = lengths[0], lengths[-1]
    columns = [f"bytes at {number(n)}" for n in lengths] + [f"est. units at {number(first)} → {number(top)}"]
    header = ["route", "config", "own calls", *columns, f"{number(top)} ÷ {number(BASE)} (goal ≤ {GOAL_RATIO})"]
    rows = [
        [row["route"], f"{row['config_bytes'] // 1024} KB", " + ".join(row["at"][top]["operations"])]
        + [number(cost["bytes"]) for cost in row["at"].values()]
        + [f"{units(row['at'][first])} → {units(row['at'][top])}", ratio_text(row["against_base"], row["goal"])]
        for row in results["rows"]
    ]
    failed = [f"{r['route']} at {r['config_bytes'] // 1024} KB" for r in results["rows"] if r["goal"] and not r["pass"]]
    shared, unstable = results["rate_limit"], results["unstable"]
    return "\n\n".join(
        [
            f"**DynamoDB cost per request** ({results['store']}; the route's own calls, request + response bytes, and "
            f"the read (R) and write (W) units DynamoDB would charge by its size rules; {results['grid']['repeats']} "
            f"repeats; pages of the latest 100 versions, 25 changes, {LIST_FLOWS} flows; a rollback needs two "
            f"versions, so at 1 it is measured at 2; {results['seconds']} s)",
            report.markdown_table(header, rows),
            f"**Goal**: {', '.join(GOAL_ROUTES)} cost the same at {number(top)} versions as at {number(BASE)} "
            f"(round trips, bytes and estimated units, ratio ≤ {GOAL_RATIO}): "
            + (f"**not met** for {', '.join(failed)}." if failed else "**met** at every config size.")
            + f" Every request also makes the rate-limit {' + '.join(shared['operations'])} ({number(shared['bytes'])} "
            f"bytes, est. {units(shared)}), left out above, and a write with an Idempotency-Key the idempotency "
            "table's calls (not measured here)."
            + (f" **Repeats differed**: {', '.join(unstable)}." if unstable else ""),
        ]
    )


RUNTIME_CONFIG_BYTES = (2 * 1024, 300 * 1024 - 4096)
# DynamoDB's limit per partition, and so per live pointer (a key's pointer is one item).
PARTITION_READ_UNITS = 3000


def measure_runtime_reads() -> dict[str, Any]:
    """GET /live as a new instance, a warm one and a poll that gets 304, with a small and a 300 KB config."""
    found: dict[str, Any] = {}
    for size in RUNTIME_CONFIG_BYTES:
        with embedded_tables() as client:
            api, meter = Api(Caller(TENANT, "admin", "bench@tenant-bench.example")), Meter(client)
            flow_id = api.create(key="hot", name="hot", draftConfig=config_of_size(size)).body["id"]
            assert api.publish(id=flow_id).status == 200
            etag = api.live("hot").headers["etag"]  # the pointer written, the version in memory
            poll = partial(api.request, "GET", "/live", query={"key": "hot"}, headers={"If-None-Match": etag})
            sends = {"new instance": new_instance(partial(api.live, "hot")), "warm instance": partial(api.live, "hot")}
            for name, send in (sends | {"304": poll}).items():
                _, calls = meter.record(send)
                own = [call for call in calls if not call.tables & {settings().rate_limit_table}]
                found.setdefault(name, {})[size] = figures(own)
    return found


def runtime_markdown(found: dict[str, Any]) -> str:
    small, large = RUNTIME_CONFIG_BYTES
    header = ["GET /live", "own calls", "est. R at 2 KB", "est. R at 300 KB", "requests/s one key can take at 300 KB"]
    rows = [
        [
            name,
            " + ".join(at[large]["operations"]),
            f"{at[small]['read_units']:g}",
            f"{at[large]['read_units']:g}",
            number(int(PARTITION_READ_UNITS / at[large]["read_units"])),
        ]
        for name, at in found.items()
    ]
    return (
        "**Runtime reads** (GET /live; read units DynamoDB would charge by its size rules; the ceiling is "
        f"{PARTITION_READ_UNITS} read units per second of the partition that holds a key's pointer, before "
        "adaptive capacity; runtime reads write nothing, not even the rate limit's item: their budget is counted "
        "in memory)\n\n" + report.markdown_table(header, rows)
    )


def main(argv: list[str]) -> int:
    quick = argv == ["--quick"]
    lengths, sizes = (QUICK, CONFIG_BYTES[:1]) if quick else (HISTORY_LENGTHS, CONFIG_BYTES)
    with environment(fake_aws_environment() | {"POWERTOOLS_METRICS_DISABLED": "true"}):  # no metric lines
        results = measure(lengths, sizes, REPEATS, progress=True)
        results["runtime_reads"] = measure_runtime_reads()
    text = markdown(results) + "\n\n" + runtime_markdown(results["runtime_reads"])
    report.finish("dynamodb_cost", results, text, quick)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
