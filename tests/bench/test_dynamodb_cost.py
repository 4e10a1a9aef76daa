"""The DynamoDB cost benchmark on a small grid: its figures agree with the README's budgets, and the
costs it reports as flat are flat (bench/dynamodb_cost.py; the full grid runs in `make bench`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bench.cost_chart import draw
from bench.cost_markdown import markdown
from bench.dynamodb_cost import measure

SMALL = 2 * 1024
LENGTHS = (1, 100, 200)
# The calls of each route, as README.md's "DynamoDB cost per request" lists them.
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


def test_the_markdown_and_the_chart_are_made_from_the_results(results: dict[str, Any], tmp_path: Path) -> None:
    text = markdown(results)
    chart = tmp_path / "cost_vs_history.png"
    draw(results, chart)
    assert "| POST publish | 2 KB | 2 |" in text
    assert "not reported** for TransactWriteItems" in text
    assert chart.read_bytes().startswith(b"\x89PNG")
