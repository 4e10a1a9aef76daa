"""The diff's patch is checked before it is answered, and the summary reads as the contract says."""

from __future__ import annotations

import copy
import sys
from dataclasses import dataclass
from typing import Any

import jsonpatch
import pytest

from decision_flows.domain import config_diff, pipeline
from decision_flows.domain.config_diff import changed_paths, json_patch, summarize
from decision_flows_local.fixtures.samples import edge_heavy_config


class WrongPatch:
    def __init__(self, patch: list[dict[str, Any]]) -> None:
        self.patch = patch


@pytest.mark.parametrize(
    "wrong",
    [
        pytest.param([], id="applies-to-something-else"),
        pytest.param([{"op": "move", "from": "/nodes/7", "path": "/nodes/0"}], id="does-not-apply"),
        pytest.param([{"op": "replace", "path": "/version", "value": True}], id="true-for-1"),
    ],
)
def test_a_wrong_patch_from_the_library_is_replaced_by_one_built_member_by_member(
    monkeypatch: pytest.MonkeyPatch, wrong: list[dict[str, Any]]
) -> None:
    # Given the library answers a patch that does not give the new config
    monkeypatch.setattr(jsonpatch, "make_patch", lambda old, new: WrongPatch(wrong))
    old = {"version": 2, "nodes": [{"id": "a", "w": [1, 2]}, {"id": "b"}], "edges": []}
    new = {"version": 1, "nodes": [{"id": "a", "w": [1, 3]}, {"id": "b", "x": {"y~/z": 1}}], "stages": {}}

    # When the diff's patch is made, then it is exact, and escapes pointer characters
    patch = json_patch(old, new)
    assert jsonpatch.apply_patch(old, patch) == new
    assert {"op": "add", "path": "/nodes/1/x", "value": {"y~/z": 1}} in patch
    assert {"op": "remove", "path": "/edges"} in patch


def test_a_changed_node_names_the_deepest_members_that_differ_as_pointers() -> None:
    old = {"id": "n/1", "type": "score", "config": {"method": "propensity", "weights": [1, 2], "a~b": 1}}
    new = {"id": "n/1", "type": "score", "config": {"method": "scorecard", "weights": [1, 2, 3], "x": 1}}
    assert changed_paths(old, new) == ["/config/method", "/config/weights", "/config/a~0b", "/config/x"]
    assert changed_paths({"v": 1}, {"v": True}) == ["/v"]
    assert changed_paths({"v": [1, {"w": 2}]}, {"v": [1, {"w": 3}]}) == ["/v/1/w"]


def test_a_v1_and_a_v2_config_compare_by_format_stages_and_counts() -> None:
    summary = summarize(
        {"stages": {"scoring": {"method": "priority"}}},
        {"version": 2, "nodes": [{"id": "s", "type": "score", "config": {"method": "priority"}}], "edges": []},
    )
    assert summary.format == ("v1", "v2")
    assert [node.id for node in summary.nodes_added] == ["s"]
    assert summary.stages_removed == ["scoring"]
    assert (summary.scoring_method, summary.node_count) == (("priority", "priority"), (None, 1))
    assert not summary.identical


def test_the_member_by_member_patch_alone_is_exact_for_type_changes() -> None:
    for old, new in [(None, {"a": 1}), ({"a": [1]}, {"a": {"0": 1}}), ([1, 2], [1]), ({"a": 1.0}, {"a": 1})]:
        assert config_diff._same(jsonpatch.apply_patch(old, list(config_diff._member_patch(old, new, []))), new)


# H2 (security review 2026-12): a diff's work must grow with the configs, not with their square. Work is
# counted, never timed: comparisons and hashes of node ids for the summary (plain strings do them in C,
# out of a profiler's sight), every call the profiler sees for the patch. Each ledger stops the work as
# soon as it is overspent, so the quadratic code this guards against fails at once instead of running
# for seconds. The largest edge-heavy pair that fits 300 KB: 9 700 edges on each side, none shared.
LARGEST_EDGES = 9_700


class OverBudget(Exception):
    pass


@dataclass
class Ledger:
    limit: int
    spent: int = 0

    def spend(self, *_: object) -> None:
        self.spent += 1
        if self.spent > self.limit:
            raise OverBudget(f"more than {self.limit} operations")


def with_counted_ids(config: dict[str, Any], ledger: Ledger) -> dict[str, Any]:
    """``config`` with every node id a string that spends from ``ledger`` when compared or hashed."""

    class CountedId(str):
        def __eq__(self, other: object) -> bool:
            ledger.spend()
            return str.__eq__(self, other)

        def __hash__(self) -> int:
            ledger.spend()
            return str.__hash__(self)

    for node in config["nodes"]:
        node["id"] = CountedId(node["id"])
    for edge in config["edges"]:
        edge["source"], edge["target"] = CountedId(edge["source"]), CountedId(edge["target"])
    return config


def test_the_summary_of_two_300_kb_edge_heavy_configs_costs_a_few_operations_per_edge() -> None:
    # Given the largest valid configs of edges only, with no edge in common
    old, new = edge_heavy_config(LARGEST_EDGES, parity=0), edge_heavy_config(LARGEST_EDGES, parity=1)
    assert max(len(pipeline.canonical_json(config).encode()) for config in (old, new)) <= pipeline.MAX_CONFIG_BYTES
    ledger = Ledger(limit=60 * 2 * LARGEST_EDGES)
    expected_added = [(edge["source"], edge["target"]) for edge in new["edges"]]
    expected_removed = [(edge["source"], edge["target"]) for edge in old["edges"]]

    # When they are summarised with every comparison of a node id counted
    summary = summarize(with_counted_ids(old, ledger), with_counted_ids(new, ledger))

    # Then every edge is added or removed, in the configs' order, within the budget (the list-in-list
    # comparison of before spent ~E²/2 ≈ 47 million), and the count saw the work (it is not bypassed)
    assert (summary.edges_added, summary.edges_removed) == (expected_added, expected_removed)
    assert LARGEST_EDGES <= ledger.spent <= ledger.limit


def scattered_edits(edges: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """An edge-heavy config, and a copy with every other edge replaced by another."""
    old = edge_heavy_config(edges, parity=0)
    new = copy.deepcopy(old)
    new["edges"][1::2] = edge_heavy_config(edges, parity=1)["edges"][1::2]
    return old, new


def patch_within(ledger: Ledger, old: dict[str, Any], new: dict[str, Any]) -> list[dict[str, Any]]:
    """The patch, with every call the profiler sees spent from ``ledger``."""
    sys.setprofile(ledger.spend)
    try:
        return json_patch(old, new)
    finally:
        sys.setprofile(None)


def test_the_patch_of_ten_times_the_edges_with_scattered_edits_costs_about_ten_times_the_calls() -> None:
    # Given configs of 300 and of 3 000 edges (a third of the largest: the profiler slows every call),
    # each beside a copy with every other edge replaced by another
    small, large = scattered_edits(300), scattered_edits(3_000)

    # When their patches are made with every call the profiler sees counted, the larger one allowed
    # 15 times the smaller one's calls (10 times the edges, and slack)
    small_ledger = Ledger(limit=10**9)
    patch_within(small_ledger, *small)
    large_ledger = Ledger(limit=15 * small_ledger.spent)
    patch = patch_within(large_ledger, *large)

    # Then the larger patch turns the one into exactly the other within that budget (python-json-patch's
    # pairing of the two lists spent 34 times the smaller one's calls), and the count saw the work
    assert jsonpatch.apply_patch(large[0], patch) == large[1]
    assert 3_000 <= large_ledger.spent <= large_ledger.limit


def test_the_summary_matches_nodes_by_id_edges_by_endpoints_and_stages_by_name() -> None:
    # Given two v2 configs that differ in a node, an edge and the stages they share or not
    old = {
        "version": 2,
        "nodes": [{"id": "a", "type": "enrich"}, {"id": "b", "type": "rank"}, {"id": "c", "type": "filter"}],
        "edges": [{"source": "a", "target": "b"}, {"source": "b", "target": "c"}],
        "stages": {"kept": {"top": 1}, "changed": {"top": 1}, "dropped": {}},
    }
    new = {
        "version": 2,
        "nodes": [{"id": "a", "type": "enrich"}, {"id": "b", "type": "rank"}, {"id": "d", "type": "output"}],
        "edges": [{"source": "a", "target": "b"}, {"source": "b", "target": "d"}],
        "stages": {"kept": {"top": 1}, "changed": {"top": 2}, "added": {}},
    }

    # When they are summarised, then each list names exactly what differs, under the contract's keys
    assert summarize(old, new).as_document() == {
        "format": {"from": "v2", "to": "v2"},
        "nodes": {"added": [{"id": "d", "type": "output"}], "removed": [{"id": "c", "type": "filter"}], "changed": []},
        "edges": {"added": [{"source": "b", "target": "d"}], "removed": [{"source": "b", "target": "c"}]},
        "stages": {"added": ["added"], "removed": ["dropped"], "changed": ["changed"]},
        "scoringMethod": {"from": None, "to": None},
        "nodeCount": {"from": 3, "to": 3},
    }


def test_a_v2_config_without_edges_diffs_as_one_with_none() -> None:
    edgeless = {"version": 2, "nodes": [{"id": "a", "type": "enrich"}]}
    summary = summarize(edgeless, {**edgeless, "edges": [{"source": "a", "target": "a"}]})
    assert (summary.edges_added, summary.edges_removed) == ([("a", "a")], [])
    assert summarize({**edgeless, "edges": []}, edgeless).identical
    assert summarize({"stages": {}, "edges": [{"source": "x", "target": "y"}]}, {"stages": {}}).edges_removed == []


@pytest.mark.parametrize(
    ("old", "new", "patch"),
    [
        pytest.param(
            [1, 2, 3, 4],
            [1, 9, 3, 4, 5, 6],
            [
                {"op": "replace", "path": "/w/1", "value": 9},
                {"op": "add", "path": "/w/4", "value": 5},
                {"op": "add", "path": "/w/5", "value": 6},
            ],
            id="surplus-added",
        ),
        pytest.param(
            [0, 1, 2, 3, 4],
            [0, 4],
            [{"op": "remove", "path": "/w/3"}, {"op": "remove", "path": "/w/2"}, {"op": "remove", "path": "/w/1"}],
            id="middle-removed",
        ),
    ],
)
def test_the_member_by_member_patch_keeps_the_common_ends_of_arrays(
    monkeypatch: pytest.MonkeyPatch, old: list[int], new: list[int], patch: list[dict[str, Any]]
) -> None:
    # Given the library's patch is wrong, so the member-by-member one is answered
    monkeypatch.setattr(jsonpatch, "make_patch", lambda old, new: WrongPatch([]))

    # Then it names only what changed between the arrays' common start and end
    assert json_patch({"w": old}, {"w": new}) == patch
