"""The DynamoDB cost benchmark on a small grid: its figures agree with the README's budgets, and the
costs it reports as flat are flat (bench/dynamodb_cost.py; the full grid runs in `make bench`)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from bench.cost_chart import draw
from bench.cost_markdown import markdown
from bench.dynamo_meter import item_size, read_units, write_units
from bench.dynamodb_cost import measure

SMALL = 2 * 1024
LENGTHS = (1, 100, 200)
# The calls of each route, as README.md's "DynamoDB cost per request" table lists them. A copy on
# purpose: it guards that table against drift (a route that gains or loses a call fails here, and the
# README must change with it). tests/integration/test_costs.py holds the budgets themselves.
README_CALLS = {
    "GET flow": ["GetItem"],
    "GET version (v1)": ["BatchGetItem"],
    "GET version (latest)": ["BatchGetItem"],
    "GET versions (limit=50)": ["Query"],
    "GET versions (default 100)": ["Query"],
    "GET versions (limit=1000)": ["Query"],
    "GET list (limit=1)": ["Query", "GetItem"],
    "GET list (limit=5)": ["Query", "GetItem"],
    "PUT draft": ["GetItem", "UpdateItem"],
    "POST publish": ["GetItem", "TransactWriteItems"],
    "POST rollback": ["BatchGetItem", "TransactWriteItems"],
    "GET history": ["Query"],
    "GET live (cached)": ["GetItem"],
    # a miss: the key's reservation, the flow, then the entry written (with the reservation checked)
    "GET live (miss)": ["GetItem", "GetItem", "GetItem", "TransactWriteItems"],
}
# 20 version summaries as DynamoDB JSON: what the flow record's window adds between 1 and 20 versions.
WINDOW_BYTES = 20 * 160


@pytest.fixture(scope="module")
def results() -> dict[str, Any]:
    # Given the benchmark's grid at 1, 100 and 200 versions with 2 KB configs
    return measure(LENGTHS, (SMALL,), repeats=2)


def test_every_route_makes_the_calls_the_readme_lists_at_every_history_length(results: dict[str, Any]) -> None:
    for cell in results["cells"]:
        calls = {route: figures["operations"] for route, figures in cell["routes"].items()}
        assert calls == README_CALLS, cell["history"]


def test_repetitions_of_a_request_cost_the_same(results: dict[str, Any]) -> None:
    unstable = [
        (cell["history"], route, figures["samples"])
        for cell in results["cells"]
        for route, figures in cell["routes"].items()
        if not figures["stable"]
    ]
    assert unstable == []


def test_publish_rollback_and_reads_of_one_flow_cost_the_same_at_200_versions_as_at_100(
    results: dict[str, Any],
) -> None:
    for row in results["goals"]["rows"]:
        verdict = row["against"]["100"]
        assert verdict["pass"], (row["route"], verdict)
        assert verdict["ratios"]["round_trips"] == 1.0


def test_against_one_version_only_the_flow_records_window_of_summaries_differs(results: dict[str, Any]) -> None:
    # Then GET flow at 200 versions carries at most 20 summaries more than at 1, which at 2 KB
    # configs is more than 5 %: the benchmark must say so rather than hide it
    get_flow = next(row for row in results["goals"]["rows"] if row["route"] == "GET flow")
    growth = get_flow["total_bytes"]["200"] - get_flow["total_bytes"]["1"]
    assert 0 < growth <= WINDOW_BYTES
    assert get_flow["against"]["1"]["pass"] is False


def test_pages_cost_what_their_items_cost_not_what_the_history_holds(results: dict[str, Any]) -> None:
    rows = {row["route"]: row for row in results["pages"]["rows"]}
    # a full page costs the same at 100 and 200 versions
    for route in ("GET versions (limit=50)", "GET versions (default 100)", "GET history", "GET list (limit=5)"):
        assert rows[route]["flat"], rows[route]
    # and a bigger page costs more
    assert all(growth["grows_with_page"] for growth in results["pages"]["growth"].values())
    assert rows["GET versions (limit=1000)"]["items"]["200"] == 200


def test_capacity_is_reported_as_the_endpoint_reports_it(results: dict[str, Any]) -> None:
    # moto answers TransactWriteItems with an empty ConsumedCapacity: "not reported", never a number
    assert results["capacity"]["not_reported"] == ["TransactWriteItems"]
    publish = results["cells"][0]["routes"]["POST publish"]
    assert publish["capacity"][1] == {"operation": "TransactWriteItems", "units": None}


def test_the_estimated_capacity_follows_dynamodbs_rules_on_the_items_sizes(results: dict[str, Any]) -> None:
    at_one, at_200 = results["cells"][0]["routes"], results["cells"][-1]["routes"]
    # Then every call of every route is estimated
    assert all(figures["estimated_read_units"] is not None for figures in at_one.values())
    # a strongly consistent GetItem of the flow: one unit per 4 KB; the window of summaries takes the
    # 2 KB flow record past 4 KB
    assert (at_one["GET flow"]["estimated_read_units"], at_one["GET flow"]["estimated_write_units"]) == (1, 0)
    assert at_200["GET flow"]["estimated_read_units"] == 2
    # a version: the snapshot and the anchor, each its own 4 KB unit
    assert at_200["GET version (v1)"]["estimated_read_units"] == 2
    # a publish writes in a transaction: two units per KB of each item, the 2 KB snapshot at least 3 KB
    publish = {entry["operation"]: entry for entry in at_200["POST publish"]["estimated"]}
    assert list(publish) == ["GetItem", "TransactWriteItems"]
    assert publish["GetItem"]["write_units"] == 0
    assert publish["TransactWriteItems"]["read_units"] == 0
    assert publish["TransactWriteItems"]["write_units"] % 2 == 0
    assert publish["TransactWriteItems"]["write_units"] >= 2 * 3
    # and the rate-limit call every request makes is estimated too
    assert results["not_counted"]["rate limit (every request)"]["estimated"] == {"read_units": 0, "write_units": 1}


def test_item_sizes_and_units_are_dynamodbs() -> None:
    # names and values: "id" 2 + "abc" 3, "n" 1 + 3 digits (2 bytes + 1), "ok" 2 + 1,
    # "m" 1 + a map (3 + per element 1 + "k" 1 + "v" 1), "l" 1 + a list (3 + per element 1 + 1)
    item = {
        "id": {"S": "abc"},
        "n": {"N": "123"},
        "ok": {"BOOL": True},
        "m": {"M": {"k": {"S": "v"}}},
        "l": {"L": [{"NULL": True}]},
    }
    assert item_size(item) == 5 + 4 + 3 + 7 + 6
    assert (read_units(0, False), read_units(4096, True), read_units(4097, False)) == (0.5, 1, 1)
    assert (write_units(0), write_units(1024), write_units(1025)) == (1, 1, 2)


def test_the_markdown_and_the_chart_are_made_from_the_results(results: dict[str, Any], tmp_path: Path) -> None:
    text = markdown(results)
    chart = tmp_path / "cost_vs_history.png"
    draw(results, chart)
    assert "| POST publish | 2 KB | 2 |" in text
    assert "| route | config | route's own round trips |" in text
    assert "**Every request also makes the rate-limit UpdateItem** (1 more round trip" in text
    assert "GET flow is 2 round trips in all, not 1" in text
    assert "**Estimated** capacity units per request" in text
    assert "not reported** for TransactWriteItems" in text
    assert chart.read_bytes().startswith(b"\x89PNG")


def test_the_markdown_of_a_grid_without_two_long_histories_says_pages_were_not_compared(
    results: dict[str, Any],
) -> None:
    # Given results where no two histories of 20 versions or more could be compared (a quick grid of short ones)
    short = copy.deepcopy(results)
    for row in short["pages"]["rows"]:
        row |= {"same_items_spread": None, "flat": False}
    # Then the Markdown says so rather than failing
    assert "Not checked whether a page of the same items costs the same" in markdown(short)


def test_results_saved_before_the_estimate_still_render(results: dict[str, Any]) -> None:
    older = copy.deepcopy(results)
    del older["estimated_capacity"]
    assert "Estimated capacity units: not in these results" in markdown(older)
