"""The overhead benchmark in a few samples: its comparisons are fair (same DynamoDB calls, same
answers, a floor that uses none of the service's code) and it refuses routes where they are not.
No timing is asserted: the speed goal is the benchmark's output, not a test."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from bench import overhead
from bench.dynamodb_probe import signature
from bench.inprocess_store import Seeded

BASELINE_SOURCE = Path(overhead.__file__).with_name("baseline_handlers.py")
# What the floor may not use: the service's own code and the libraries it is built on.
FORBIDDEN_IMPORTS = ("decision_flows", "aws_lambda_powertools", "pydantic")


@pytest.fixture(scope="module")
def run() -> overhead.Run:
    return overhead.measure(samples=3, warmup=1)


def test_every_route_is_measured_and_reported(run: overhead.Run) -> None:
    names = [result.route.name for result in run.results]
    assert names == [route.name for route in overhead.routes(Seeded("df_x", "k", 1))]
    assert all(result.reported for result in run.results), {r.route.name: r.problems for r in run.results}


def test_the_baseline_makes_the_real_handlers_dynamodb_calls_on_every_route(run: overhead.Run) -> None:
    for result in run.results:
        (real_calls,) = result.real.call_sequences  # the same calls in every sample
        assert result.baseline.call_sequences == {real_calls}, result.route.name
        # the per-request rate-limit update comes first, then the route's own calls
        assert result.real.calls[0] == "UpdateItem(RateLimitTable)"
        assert len(result.real.calls) >= 2


def test_every_sample_got_the_expected_status(run: overhead.Run) -> None:
    for result in run.results:
        for side in (result.real, result.baseline):
            assert side.statuses == [200] * (run.samples + run.warmup), result.route.name
            assert len(side.total_ns) == run.samples


def test_reads_answer_exactly_what_the_real_handler_answers(run: overhead.Run) -> None:
    for result in run.results:
        if not result.route.writes:
            assert result.baseline.bodies == result.real.bodies, result.route.name


def test_the_handlers_log_nothing_at_info_so_neither_does_the_baseline(run: overhead.Run) -> None:
    assert run.log_lines == 0


def test_a_baseline_that_skips_a_call_or_answers_otherwise_is_not_reported() -> None:
    # Given a real side that read consistently and a floor that read without ConsistentRead
    key = {"PK": {"S": "T#t#F#f"}, "SK": {"S": "FLOW"}}
    real, floor = overhead.Side(), overhead.Side()
    real.call_sequences = {(signature("GetItem", {"TableName": "FlowsTable", "Key": key, "ConsistentRead": True}),)}
    floor.call_sequences = {(signature("GetItem", {"TableName": "FlowsTable", "Key": key}),)}
    real.statuses = floor.statuses = [200]
    real.bodies, floor.bodies = [{"id": "f"}], [{"id": 1}]

    # Then both differences are reasons not to report the route
    problems = overhead.differences(real, floor)
    assert [problem.split(":")[0] for problem in problems] == ["DynamoDB calls differ", "the answers differ in shape"]


def test_the_floor_uses_none_of_the_services_code() -> None:
    tree = ast.parse(BASELINE_SOURCE.read_text())
    imported = [alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names]
    imported += [node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
    assert not [name for name in imported if name.startswith(FORBIDDEN_IMPORTS)]
