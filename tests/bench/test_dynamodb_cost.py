"""The DynamoDB cost benchmark on a small grid: each route makes the calls docs/ARCHITECTURE.md lists,
and what it reports as flat is flat (bench/dynamodb_cost.py; the full grid runs in `make bench`)."""

from __future__ import annotations

from typing import Any

import pytest

from bench.dynamo_meter import item_size
from bench.dynamodb_cost import (
    GOAL_RATIO,
    RUNTIME_CONFIG_BYTES,
    markdown,
    measure,
    measure_runtime_reads,
    runtime_markdown,
)

# The calls of each route, as docs/ARCHITECTURE.md's "DynamoDB cost per request" table lists them. A
# copy on purpose: it guards that table against drift (a route that gains or loses a call fails here,
# and the table must change with it). tests/integration/test_costs.py holds the budgets themselves.
DOCUMENTED_CALLS = {
    "GET flow": ["GetItem"],
    "GET version (v1)": ["BatchGetItem"],
    "GET version (latest)": ["BatchGetItem"],
    "GET versions (page of 100)": ["Query"],
    "GET list (page of 5)": ["Query", "GetItem"],
    "GET history (page of 25)": ["Query"],
    "GET feed (page of 25)": ["Query"],
    # a miss: the pointer (absent), the key's reservation, the flow, the version's snapshot (which a new
    # instance does not hold yet), then the pointer written (the reservation checked)
    "GET live (miss, new instance)": ["GetItem", "GetItem", "GetItem", "BatchGetItem", "TransactWriteItems"],
    "GET live (new instance)": ["GetItem", "BatchGetItem"],
    "GET live (warm instance)": ["GetItem"],
    "GET live (304)": ["GetItem"],
    "PUT draft": ["GetItem", "UpdateItem"],
    # a release reads the flow with the tenant's review policy (and a rollback, the target's snapshot)
    "POST publish": ["BatchGetItem", "TransactWriteItems"],
    "POST rollback": ["BatchGetItem", "TransactWriteItems"],
}
WINDOW_BYTES = 20 * 160  # 20 version summaries: what the flow record's window adds between 1 and 20 versions


@pytest.fixture(scope="module")
def results() -> dict[str, Any]:
    # Given the benchmark's grid at 1, 100 and 200 versions with 2 KB configs, each request sent twice
    return measure((1, 100, 200), (2 * 1024,), repeats=2)


def rows(results: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["route"]: row for row in results["rows"]}


def test_every_route_makes_the_calls_the_docs_list_at_every_history_length(results: dict[str, Any]) -> None:
    for length in (1, 100, 200):
        assert {route: row["at"][length]["operations"] for route, row in rows(results).items()} == DOCUMENTED_CALLS
    # and a repeated request costs the same
    assert results["unstable"] == []


def test_every_route_costs_the_same_at_200_versions_as_at_100(results: dict[str, Any]) -> None:
    # Then every figure of every route (round trips, bytes, estimated units) is within the goal's ratio
    for route, row in rows(results).items():
        assert row["against_base"] is not None, route
        assert row["against_base"][0] <= GOAL_RATIO, (route, row["against_base"])
    # and the pages compared are full pages
    pages = ("GET versions (page of 100)", "GET history (page of 25)", "GET feed (page of 25)", "GET list (page of 5)")
    assert [rows(results)[page]["at"][200]["items"] for page in pages] == [100, 25, 25, 5]


def test_the_estimated_units_follow_dynamodbs_rules_on_the_items_sizes(results: dict[str, Any]) -> None:
    at_200 = {route: row["at"][200] for route, row in rows(results).items()}
    # Then every route is estimated
    assert all(figures["read_units"] is not None for figures in at_200.values())
    # a version: the snapshot and the anchor, each its own 4 KB unit
    assert at_200["GET version (v1)"]["read_units"] == 2
    # a publish writes in a transaction: two units per KB of each item, the 2 KB snapshot at least 3 KB
    assert at_200["POST publish"]["write_units"] % 2 == 0
    assert at_200["POST publish"]["write_units"] >= 2 * 3
    # and the rate-limit call every request makes, left out of the routes, is one write unit
    assert (results["rate_limit"]["operations"], results["rate_limit"]["write_units"]) == (["UpdateItem"], 1)
    # Sizes: "id" 2 + "abc" 3; "n" 1 + 3 digits (2 bytes + 1); "ok" 2 + 1;
    # "m" 1 + a map (3 + per element 1 + "k" 1 + "v" 1); "l" 1 + a list (3 + per element 1 + 1)
    item = {"id": {"S": "abc"}, "n": {"N": "123"}, "ok": {"BOOL": True}, "m": {"M": {"k": {"S": "v"}}}}
    assert item_size(item | {"l": {"L": [{"NULL": True}]}}) == 5 + 4 + 3 + 7 + 6


def test_against_one_version_only_the_flow_records_window_of_summaries_differs(results: dict[str, Any]) -> None:
    # Then GET flow at 200 versions carries at most 20 summaries more than at 1, which at 2 KB configs
    # takes the flow record past one 4 KB read unit: the benchmark shows it rather than hide it
    get_flow = rows(results)["GET flow"]["at"]
    assert 0 < get_flow[200]["bytes"] - get_flow[1]["bytes"] <= WINDOW_BYTES
    assert (get_flow[1]["read_units"], get_flow[200]["read_units"]) == (1, 2)
    # and a rollback, which needs two versions, is measured at 2 where the grid says 1
    assert [at["measured_at"] for at in rows(results)["POST rollback"]["at"].values()] == [2, 100, 200]


def test_the_markdown_gives_each_goal_route_its_verdict(results: dict[str, Any]) -> None:
    assert "| POST publish | 2 KB | BatchGetItem + TransactWriteItems |" in markdown(results)
    assert "**met** at every config size" in markdown(results)
    # Given a run where publish grew past the goal's ratio, then the Markdown says on which figure
    grown = {"against_base": (1.2, "bytes"), "pass": False}
    failing = results | {"rows": [row | grown if row["route"] == "POST publish" else row for row in results["rows"]]}
    assert "1.200 **fail** (bytes)" in markdown(failing)
    assert "**not met** for POST publish at 2 KB" in markdown(failing)


def test_a_hot_key_costs_half_a_read_unit_whatever_its_config_size() -> None:
    # Given /live of a 2 KB and a 300 KB config, as a new instance, a warm one and a 304
    found = measure_runtime_reads()

    # Then only a new instance pays for the config; warm reads and polls cost the pointer alone
    assert found["new instance"][RUNTIME_CONFIG_BYTES[1]]["read_units"] > 70  # 300 KB, read consistently
    for name in ("warm instance", "304"):
        assert [at["read_units"] for at in found[name].values()] == [0.5, 0.5], name
        assert found[name][RUNTIME_CONFIG_BYTES[1]]["operations"] == ["GetItem"]
    assert "6\u2009000" in runtime_markdown(found)  # 3 000 units a second buy 6 000 half-unit reads
