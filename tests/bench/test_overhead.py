"""The overhead benchmark in a few samples: its comparisons are fair (same DynamoDB calls with the
same requests, same answers, a floor that uses none of the service's code), it refuses routes where
they are not, and it reports both verdicts. No timing is asserted: the speed goal is the
benchmark's output, not a test."""

from __future__ import annotations

import ast
import json
import time
from pathlib import Path
from typing import Any

import pytest

from bench import overhead, overhead_report, report
from bench.baseline import handlers as baseline
from bench.baseline import views, wire
from bench.dynamodb_probe import Call
from bench.inprocess_store import Seeded
from bench.overhead_compare import ClockMasks, Observed, differences, exchange
from bench.overhead_routes import Route, routes
from bench.overhead_sampling import RouteResult, Run, Side, measure
from bench.support import BASE

BASELINE_PACKAGE = Path(baseline.__file__).parent
# What the floor may not use: the service's own code and the libraries it is built on.
FORBIDDEN_IMPORTS = ("decision_flows", "aws_lambda_powertools", "pydantic")
READS_EVENTUALLY = "GET one flow, baseline reads without ConsistentRead"
ANSWERS_OTHERWISE = "GET one flow, baseline answers another name"


def read_eventually_consistent(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The baseline's GET one flow, but its GetItem asks for ConsistentRead=False: same answer, other call."""

    def run(tenant: str, principal: str) -> dict[str, Any]:
        flow_key = wire.key(wire.flow_pk(tenant, event["queryStringParameters"]["id"]), "FLOW")
        found = wire.client().get_item(TableName=wire.flows_table(), Key=flow_key, ConsistentRead=False)
        return views.flow_response(wire.plain_item(found["Item"]))

    return baseline.handle(event, "viewer", run)


def answer_another_name(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The baseline's GET one flow, but with another name in its answer: same calls, other answer."""
    response = baseline.get_flow(event, context)
    return {**response, "body": json.dumps({**json.loads(response["body"]), "name": "Renamed"}, ensure_ascii=False)}


def with_mismatched_baselines(flow: Seeded) -> list[Route]:
    return [
        *routes(flow),
        Route(READS_EVENTUALLY, "GET", BASE, read_eventually_consistent, {"id": flow.flow_id}),
        Route(ANSWERS_OTHERWISE, "GET", BASE, answer_another_name, {"id": flow.flow_id}),
    ]


MISMATCHED = {READS_EVENTUALLY, ANSWERS_OTHERWISE}


@pytest.fixture(scope="module")
def run() -> Run:
    return measure(samples=3, warmup=1, chosen=with_mismatched_baselines)


@pytest.fixture(scope="module")
def measured(run: Run) -> list[RouteResult]:
    """The benchmark's own routes, without the mismatched ones this test added."""
    return [result for result in run.results if result.route.name not in MISMATCHED]


def by_name(run: Run, name: str) -> RouteResult:
    (result,) = [result for result in run.results if result.route.name == name]
    return result


def test_every_route_is_sampled_on_both_sides_and_reported(run: Run, measured: list[RouteResult]) -> None:
    assert len(measured) == 9
    for result in measured:
        assert result.reported, (result.route.name, result.problems)
        for side in (result.real, result.baseline):
            assert len(side.total_ns) == run.samples, result.route.name
            assert side.observed.statuses == [200] * (run.samples + run.warmup), result.route.name


def test_both_sides_make_the_same_calls_with_the_same_requests_every_sample(measured: list[RouteResult]) -> None:
    for result in measured:
        (real,) = result.real.observed.exchanges.values()  # one exchange: every sample the same
        (floor,) = result.baseline.observed.exchanges.values()
        assert [call["request"] for call in real["dynamodb"]] == [call["request"] for call in floor["dynamodb"]]
        # the per-request rate-limit update comes first, then the route's own calls
        assert real["dynamodb"][0]["call"] == "UpdateItem(RateLimitTable)"
        assert len(real["dynamodb"]) >= 2, result.route.name


def test_reads_answer_exactly_what_the_real_handler_answers_nothing_masked(measured: list[RouteResult]) -> None:
    reads = [result for result in measured if not result.route.writes]
    assert len(reads) == 6
    for result in reads:
        (real,) = result.real.observed.exchanges.values()
        (floor,) = result.baseline.observed.exchanges.values()
        assert floor["answer"] == real["answer"], result.route.name
        assert "<now>" not in json.dumps(real["answer"]), result.route.name


def test_a_baseline_whose_call_differs_only_in_a_value_is_refused(run: Run) -> None:
    result = by_name(run, READS_EVENTUALLY)
    assert not result.reported
    (problem,) = result.problems
    assert problem == (
        "real and baseline differ: at dynamodb[1] GetItem(FlowsTable).request.ConsistentRead: real true, baseline false"
    )


def test_a_baseline_whose_answer_differs_is_refused(run: Run) -> None:
    result = by_name(run, ANSWERS_OTHERWISE)
    assert result.problems == [
        "real and baseline differ: at answer.body.name: real 'Welcome offers', baseline 'Renamed'"
    ]


def test_the_handlers_log_nothing_at_info_so_neither_does_the_baseline(run: Run) -> None:
    assert run.log_lines == 0


# The comparison, on hand-made samples


def call(request: dict[str, Any], response: dict[str, Any] | None = None) -> Call:
    return Call("UpdateItem", 0, request=json.dumps(request).encode(), response=json.dumps(response or {}).encode())


def write_sample(masks: ClockMasks, updated_at: str, row_version: int, created_at: str) -> dict[str, Any]:
    item = {"updatedAt": {"S": updated_at}, "rowVersion": {"N": str(row_version)}, "createdAt": {"S": created_at}}
    body = json.dumps({"updatedAt": updated_at, "rowVersion": row_version, "createdAt": created_at})
    response = {"statusCode": 200, "headers": {"ETag": f'"{row_version}"'}, "body": body}
    return exchange([call({"TableName": "FlowsTable", "Item": item})], response, masks, generates=True)


def compared(real: dict[str, Any], floor: dict[str, Any]) -> list[str]:
    sides = Observed(), Observed()
    sides[0].add(real)
    sides[1].add(floor)
    return differences(*sides)


def test_a_write_may_differ_only_in_the_timestamps_it_generated() -> None:
    masks = ClockMasks(since=time.time())
    now = wire_timestamp(time.time())
    later = wire_timestamp(time.time() + 0.5)
    seeded, other_seeded = wire_timestamp(time.time() - 3600), wire_timestamp(time.time() - 7200)

    assert compared(write_sample(masks, now, 5, seeded), write_sample(masks, later, 5, seeded)) == []
    # another rowVersion, or a timestamp older than the sampling (not generated by it), is a difference
    assert compared(write_sample(masks, now, 5, seeded), write_sample(masks, now, 6, seeded)) != []
    assert compared(write_sample(masks, now, 5, seeded), write_sample(masks, now, 5, other_seeded)) != []


def test_a_side_whose_samples_differ_from_one_another_is_refused() -> None:
    masks, seeded = ClockMasks(since=time.time()), wire_timestamp(time.time() - 3600)
    real, floor = Observed(), Observed()
    for row_version in (5, 6):  # the real side wrote another rowVersion in its second sample
        real.add(write_sample(masks, seeded, row_version, seeded))
    floor.add(write_sample(masks, seeded, 5, seeded))

    assert [problem.split(":")[0] for problem in differences(real, floor)] == ["the real side varied between samples"]


def wire_timestamp(epoch_seconds: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch_seconds)) + f".{int(epoch_seconds * 1000) % 1000:03d}Z"


# The report


def sampled(total_ms: float, store_ms: float) -> Side:
    side = Side(total_ns=[int(total_ms * 1e6)], store_ns=[int(store_ms * 1e6)], sdk_ns=[0])
    side.observed.statuses = [200]
    return side


def test_a_route_within_the_goal_with_the_store_but_not_without_it_fails_the_second_verdict() -> None:
    # Given a route 1.2 x slower with the store, but 2 x slower without it (4 ms of own time against 2 ms)
    route = routes(Seeded("df_x", "k", 1))[1]
    result = RouteResult(route, real=sampled(12, store_ms=8), baseline=sampled(10, store_ms=8), problems=[])

    figures = overhead_report.route_json(result)
    results = overhead_report.payload(Run(1, 0, False, [result], 1.0, 0, (0, 0, 0), (0, 0, 0)))

    # Then it passes issue 8's verdict, fails the one without the store, and the summary names it
    assert (figures["meets_goal_with_store"], figures["meets_goal_without_store"]) == (True, False)
    assert results["verdict"]["fail_without_store"] == [route.name]
    text = overhead_report.markdown(results)
    assert "| 1.20 | pass | 8.00 |" in text
    assert text.count("**fail**") == 1
    assert f"Without the store (code and SDK only), 1 fail: {route.name} (2.00 x)." in text


def test_the_markdown_renders_from_the_saved_payload(run: Run) -> None:
    saved = json.loads(json.dumps(overhead_report.payload(run)))  # as bench/results/overhead.json holds it

    text = overhead_report.markdown(saved)

    rows = [line for line in text.splitlines() if line.startswith("| GET") or line.startswith("| P")]
    assert len(rows) == len(run.results)
    assert f"Not reported (calls or answers differ): {READS_EVENTUALLY}, {ANSWERS_OTHERWISE}." in text


def test_a_quick_run_prints_its_markdown_and_leaves_the_results_alone(
    run: Run, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(overhead, "measure", lambda *args, **kwargs: run)
    monkeypatch.setattr(report, "RESULTS", tmp_path / "results")

    exit_status = overhead.main(["--quick"])

    assert not (tmp_path / "results").exists()
    assert "**Verdict**" in capsys.readouterr().out
    assert exit_status == 1  # the mismatched routes were not reported


def test_the_floor_uses_none_of_the_services_code() -> None:
    imported = []
    for source in BASELINE_PACKAGE.glob("*.py"):
        tree = ast.parse(source.read_text())
        imported += [alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names]
        imported += [node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
    assert "bench.baseline.wire" in imported  # the package's own modules were read
    assert not [name for name in imported if name.startswith(FORBIDDEN_IMPORTS)]
