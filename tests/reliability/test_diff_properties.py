"""Property tests (Hypothesis) of the diff: its RFC 6902 patch turns ``from`` into exactly ``to``, and its
summary says which nodes, edges and stages changed, over generated v1 and v2 configs (nested values,
reordered, added, removed and edited nodes), the inputs that break python-json-patch's own patches,
and 300 KB configs.
"""

from __future__ import annotations

import copy
from typing import Any

import jsonpatch
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from jsonpointer import resolve_pointer

from decision_flows.domain import config_diff, pipeline
from decision_flows.domain.compare import State, compare
from decision_flows.domain.config_diff import json_patch, summarize
from decision_flows_local.fixtures.samples import config_of_size
from tests.support.scale import scaled

pytestmark = pytest.mark.long

Json = Any
EXAMPLES = scaled(150, 2000)


def canonical(value: Json) -> str:
    return pipeline.canonical_json({"v": value})


def applies_exactly(old: Json, new: Json) -> None:
    patch = json_patch(old, new)
    assert canonical(jsonpatch.apply_patch(old, patch)) == canonical(new), patch


# Values as a stored config holds them: finite numbers, valid Unicode; 1, 1.0 and true all appear.
scalars = st.none() | st.booleans() | st.integers(-3, 3) | st.sampled_from([1.0, 0.5, -2.0]) | st.text(max_size=4)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=3), inner, max_size=4),
    max_leaves=10,
)
ids = st.sampled_from(["a", "b", "c", "d", "e", "f", "g/h", "i~j"])  # "/" and "~" need escaping in pointers
node_types = st.sampled_from(sorted(pipeline.NODE_TYPES))


@st.composite
def v2_configs(draw: st.DrawFn) -> dict[str, Json]:
    chosen = draw(st.lists(ids, unique=True, max_size=6))
    nodes = [
        {
            "id": node_id,
            "type": draw(node_types),
            "config": draw(st.dictionaries(st.text(max_size=3), values, max_size=3)),
        }
        for node_id in chosen
    ]
    edges = (
        [
            {"source": s, "target": t}
            for s, t in draw(st.lists(st.tuples(st.sampled_from(chosen), st.sampled_from(chosen)), max_size=5))
        ]
        if chosen
        else []
    )
    config: dict[str, Json] = {"version": 2, "nodes": nodes, "edges": edges}
    if draw(st.booleans()):
        config["stages"] = draw(
            st.dictionaries(
                st.sampled_from(pipeline.V1_STAGES),
                st.dictionaries(st.text(max_size=2), values, max_size=2),
                max_size=3,
            )
        )
    return config


v1_configs = st.builds(
    lambda stages: {"stages": stages},
    st.dictionaries(
        st.sampled_from(pipeline.V1_STAGES), st.dictionaries(st.text(max_size=3), values, max_size=3), max_size=4
    ),
)


@st.composite
def edited(draw: st.DrawFn, config: dict[str, Json]) -> dict[str, Json]:
    """``config`` after what a person does to a draft: reorder, edit, drop and add nodes, rewire."""
    new = copy.deepcopy(config)
    nodes = new["nodes"]
    nodes[:] = draw(st.permutations(nodes))
    for node in nodes:
        if draw(st.booleans()):
            node["config"] = (
                draw(st.dictionaries(st.text(max_size=3), values, max_size=3))
                if draw(st.booleans())
                else {**node["config"], "x": draw(values)}
            )
    if nodes and draw(st.booleans()):
        nodes.pop(draw(st.integers(0, len(nodes) - 1)))
    taken = {node["id"] for node in nodes}
    for node_id in draw(st.lists(ids.filter(lambda candidate: candidate not in taken), unique=True, max_size=2)):
        nodes.insert(draw(st.integers(0, len(nodes))), {"id": node_id, "type": draw(node_types), "config": {}})
    if draw(st.booleans()):
        new["edges"] = list(reversed(new["edges"]))[: draw(st.integers(0, len(new["edges"])))]
    return new


@st.composite
def config_pairs(draw: st.DrawFn) -> tuple[dict[str, Json], dict[str, Json]]:
    old = draw(v2_configs() | v1_configs)
    kind = draw(st.sampled_from(["edited", "unrelated", "same"]))
    if kind == "edited" and "nodes" in old:
        return old, draw(edited(old))
    if kind == "same":
        return old, copy.deepcopy(old)
    return old, draw(v2_configs() | v1_configs)


@settings(max_examples=EXAMPLES, deadline=None, database=None)
@given(values, values)
# python-json-patch's own make_patch gets these wrong (issues #138, #124, #160 and #55; and 1 == true):
@example(
    [{"x": ["a", {"y": ["b"]}], "z": "a"}, {"x": ["c", {"d": ["d"]}], "z": "c"}, {}],
    [{"x": ["c", {"y": ["d"]}], "z": "c"}, {}],
)
@example(["a", "b", ["d", "e"], "f"], ["a", "d", ["e", "g"]])
@example(
    {"a": [{"id": [1]}, {"id": [2]}], "b": [{"id": 5}]}, {"a": [{"id": []}, {"id": [1]}], "b": [{"id": 5, "newKey": 2}]}
)
@example([{"a": 1}, {"b": 2}], [{"a": 1, "b": 2}])
@example({"a": 1}, {"a": True})
@example({"a": [1, 2]}, {"a": [1.0, 2]})
def test_the_patch_turns_any_json_into_any_other_exactly(old: Json, new: Json) -> None:
    applies_exactly(old, new)


@settings(max_examples=EXAMPLES, deadline=None, database=None)
@given(config_pairs())
def test_the_diff_of_two_configs_patches_exactly_and_summarises_by_id(
    pair: tuple[dict[str, Json], dict[str, Json]],
) -> None:
    # Given two configs, when they are compared
    old, new = pair
    diff = compare("df_x", State("1", 1, old), State("draft", None, new))

    # Then the patch gives exactly the new config, and is empty exactly when nothing differs
    assert diff.patch is not None
    assert canonical(jsonpatch.apply_patch(old, diff.patch)) == canonical(new)
    assert diff.identical == (canonical(old) == canonical(new)) == (diff.patch == [])

    # And nodes are matched by id, whatever their positions
    before = {node["id"]: node for node in old.get("nodes", [])}
    after = {node["id"]: node for node in new.get("nodes", [])}
    summary = diff.summary
    assert {node.id for node in summary.nodes_added} == after.keys() - before.keys()
    assert {node.id for node in summary.nodes_removed} == before.keys() - after.keys()
    edited_ids = {
        node_id for node_id in before.keys() & after.keys() if canonical(before[node_id]) != canonical(after[node_id])
    }
    assert {node.id for node in summary.nodes_changed} == edited_ids
    # And each changed path points inside the node, at something that differs (or exists on one side only)
    for node in summary.nodes_changed:
        for path in node.paths:
            sides = [resolve_pointer(side[node.id], path, default=_MISSING) for side in (before, after)]
            assert canonical(sides[0]) != canonical(sides[1]) if _MISSING not in sides else sides.count(_MISSING) == 1
    # And edges by endpoints, counts and formats as they are
    endpoints = {
        side: {(e["source"], e["target"]) for e in config.get("edges", [])}
        for side, config in (("old", old), ("new", new))
    }
    assert set(summary.edges_added) == endpoints["new"] - endpoints["old"]
    assert set(summary.edges_removed) == endpoints["old"] - endpoints["new"]
    assert summary.node_count == (len(before) if "nodes" in old else None, len(after) if "nodes" in new else None)
    assert summary.format == ("v2" if "nodes" in old else "v1", "v2" if "nodes" in new else "v1")


@settings(max_examples=EXAMPLES, deadline=None, database=None)
@given(values | st.lists(st.integers(0, 4), max_size=30), values | st.lists(st.integers(0, 4), max_size=30))
@example([1, 2, 3, 4], [1, 3, 4])
@example([1, 2], [0, 1, 2])
@example([[1, 2], {"a": 1}], [[1], {"a": 1.0}, 3])
def test_the_member_by_member_patch_alone_turns_any_json_into_any_other_exactly(old: Json, new: Json) -> None:
    # What configs whose arrays are too long for python-json-patch's pairing get (config_diff.PAIRING_BUDGET)
    patch = list(config_diff._member_patch(old, new, []))
    assert canonical(jsonpatch.apply_patch(old, patch)) == canonical(new), patch


_MISSING = object()


def test_stages_are_compared_by_name() -> None:
    summary = summarize(
        {"stages": {"scoring": {"method": "propensity"}, "ranking": {"top": 3}, "enrichment": {}}},
        {"stages": {"scoring": {"method": "scorecard"}, "ranking": {"top": 3}, "filtering": {}}},
    )
    assert (summary.stages_added, summary.stages_removed, summary.stages_changed) == (
        ["filtering"],
        ["enrichment"],
        ["scoring"],
    )
    assert summary.scoring_method == ("propensity", "scorecard")


def test_two_300_kb_configs_that_differ_everywhere_patch_exactly() -> None:
    # Given two configs at the 300 KB limit with nothing in common but their shape
    old, new = config_of_size(pipeline.MAX_CONFIG_BYTES - 1024), config_of_size(pipeline.MAX_CONFIG_BYTES - 1024)
    new["nodes"][0]["config"]["padding"] = "y" * len(new["nodes"][0]["config"]["padding"])
    new["nodes"].reverse()
    for size in (len(pipeline.canonical_json(old).encode()), len(pipeline.canonical_json(new).encode())):
        assert 290 * 1024 < size <= pipeline.MAX_CONFIG_BYTES

    # When they are compared, then the patch gives exactly the new one and the summary names the edit
    diff = compare("df_x", State("1", 1, old), State("2", 2, new))
    assert diff.patch is not None
    assert canonical(jsonpatch.apply_patch(old, diff.patch)) == canonical(new)
    assert [(node.id, node.paths) for node in diff.summary.nodes_changed] == [("source", ["/config/padding"])]


def test_a_first_release_adds_every_node() -> None:
    new = {"version": 2, "nodes": [{"id": "a", "type": "score", "config": {"method": "priority"}}], "edges": []}
    diff = compare("df_x", State("live", None, None), State("draft", None, new))
    assert diff.patch is not None
    assert jsonpatch.apply_patch(None, diff.patch) == new
    assert [node.id for node in diff.summary.nodes_added] == ["a"]
    assert (diff.summary.format, diff.summary.scoring_method) == ((None, "v2"), (None, "priority"))


@st.composite
def large_config_pairs(draw: st.DrawFn) -> tuple[dict[str, Json], dict[str, Json]]:
    """A generated v2 config grown to about 300 KB (its nodes' settings padded), and an edit of it."""
    old = draw(v2_configs().filter(lambda config: len(config["nodes"]) >= 2))
    share = (pipeline.MAX_CONFIG_BYTES - 8 * 1024) // len(old["nodes"])
    for node in old["nodes"]:
        node["config"]["padding"] = draw(st.sampled_from("xyz")) * share
    return old, draw(edited(old))


@settings(max_examples=scaled(6, 60), deadline=None, database=None)
@given(large_config_pairs())
def test_generated_300_kb_configs_patch_exactly(pair: tuple[dict[str, Json], dict[str, Json]]) -> None:
    old, new = pair
    assert len(pipeline.canonical_json(old).encode()) > 250 * 1024
    applies_exactly(old, new)
