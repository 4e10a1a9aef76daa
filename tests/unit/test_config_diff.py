"""The diff's patch is checked before it is answered, and the summary reads as the contract says."""

from __future__ import annotations

from typing import Any

import jsonpatch
import pytest

from decision_flows.domain import config_diff
from decision_flows.domain.config_diff import changed_paths, json_patch, summarize


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
