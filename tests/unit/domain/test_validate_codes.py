"""POST /validate's errors: each stable code at its RFC 6901 pointer, every problem of a config at once.

The codes are part of the contract (stable UPPER_SNAKE identifiers); PUT's 422 names only fields, so
these are the tests that hold each code to its rule.
"""

from __future__ import annotations

from typing import Any

import pytest

from decision_flows.domain.compare import validate
from decision_flows.domain.pipeline import MAX_CONFIG_DEPTH

SCORE = {"id": "s", "type": "score", "config": {"method": "propensity"}}


def nested(depth: int) -> dict[str, Any]:
    """A v2 config whose objects nest ``depth`` levels deep (the config itself is level 1)."""
    inner: dict[str, Any] = {}
    for _ in range(depth - 4):  # the config, nodes, the node and its config are the first four
        inner = {"x": inner}
    return {"version": 2, "nodes": [{"id": "a", "type": "enrich", "config": inner}], "edges": []}


CASES: list[Any] = [
    pytest.param(["not", "an", "object"], [("CONFIG_NOT_AN_OBJECT", "")], id="not-an-object"),
    pytest.param(nested(MAX_CONFIG_DEPTH + 1), [("CONFIG_TOO_DEEP", "")], id="too-deep"),
    pytest.param({"stages": {"scoring": {"w": float("inf")}}}, [("NUMBER_NOT_FINITE", "")], id="infinity"),
    pytest.param({"stages": {"scoring": {"w": "\ud800"}}}, [("INVALID_UNICODE", "")], id="lone-surrogate"),
    pytest.param({"version": 3, "stages": {}}, [("INVALID_VERSION", "/version")], id="v1-version"),
    pytest.param({"version": 3, "nodes": [], "edges": []}, [("INVALID_VERSION", "/version")], id="v2-version"),
    pytest.param({"version": 1}, [("STAGES_MISSING", "/stages")], id="no-stages"),
    pytest.param({"stages": {"a/b~c": {}}}, [("UNKNOWN_STAGE", "/stages/a~1b~0c")], id="unknown-stage-escaped"),
    pytest.param({"stages": {"ranking": 3}}, [("STAGE_NOT_AN_OBJECT", "/stages/ranking")], id="stage-not-object"),
    pytest.param(
        {"stages": {"scoring": {"method": "guess"}}},
        [("UNKNOWN_SCORING_METHOD", "/stages/scoring/method")],
        id="v1-scoring-method",
    ),
    pytest.param({"version": 2, "nodes": {}, "edges": []}, [("NODES_NOT_AN_ARRAY", "/nodes")], id="nodes-not-array"),
    pytest.param(
        {"version": 2, "nodes": [], "edges": [], "stages": []},
        [("STAGES_NOT_AN_OBJECT", "/stages")],
        id="v2-stages-not-object",
    ),
    pytest.param({"version": 2, "nodes": [7], "edges": []}, [("NODE_NOT_AN_OBJECT", "/nodes/0")], id="node-not-obj"),
    pytest.param(
        {"version": 2, "nodes": [{"id": "", "type": "rank"}], "edges": []},
        [("INVALID_NODE_ID", "/nodes/0/id")],
        id="empty-node-id",
    ),
    pytest.param(
        {"version": 2, "nodes": [SCORE, {**SCORE, "config": {}}], "edges": []},
        [("DUPLICATE_NODE_ID", "/nodes/1/id")],
        id="duplicate-node-id",
    ),
    pytest.param(
        {"version": 2, "nodes": [{"id": "a", "type": "teleport"}], "edges": []},
        [("UNKNOWN_NODE_TYPE", "/nodes/0/type")],
        id="unknown-node-type",
    ),
    pytest.param(
        {"version": 2, "nodes": [{"id": "a", "type": "rank", "data": 1}], "edges": []},
        [("NODE_SETTINGS_NOT_AN_OBJECT", "/nodes/0/data")],
        id="settings-not-object",
    ),
    pytest.param(
        {"version": 2, "nodes": [{"id": "s", "type": "score", "config": {"method": "x"}}], "edges": []},
        [("UNKNOWN_SCORING_METHOD", "/nodes/0/config/method")],
        id="v2-scoring-method",
    ),
    pytest.param({"version": 2, "nodes": [], "edges": {}}, [("EDGES_NOT_AN_ARRAY", "/edges")], id="edges-not-array"),
    pytest.param(
        {"version": 2, "nodes": [SCORE], "edges": [{"source": "s", "target": "s"}]},
        [("GRAPH_HAS_CYCLE", "/edges")],
        id="cycle",
    ),
]


@pytest.mark.parametrize(("config", "errors"), CASES)
def test_each_problem_has_its_code_at_its_pointer(config: Any, errors: list[tuple[str, str]]) -> None:
    report = validate(config)
    assert [(error.code, error.pointer()) for error in report.errors] == errors
    assert not report.valid


@pytest.mark.parametrize(
    "edge",
    [
        pytest.param("a->b", id="not-an-object"),
        pytest.param({"source": "a"}, id="no-target"),
        pytest.param({"source": 1, "target": "b"}, id="source-not-a-string"),
    ],
)
def test_edges_are_checked_for_shape_even_when_the_nodes_cannot_be_read(edge: Any) -> None:
    config = {"version": 2, "nodes": "a,b", "edges": [{"source": "a", "target": "b"}, edge]}
    codes = [(error.code, error.pointer()) for error in validate(config).errors]
    assert codes == [("NODES_NOT_AN_ARRAY", "/nodes"), ("INVALID_EDGE", "/edges/1")]


def test_an_edge_that_is_not_an_object_does_not_hide_the_edges_after_it() -> None:
    # Given a bad edge first, then an edge to a missing node, then a loop
    config = {
        "version": 2,
        "nodes": [SCORE, {"id": "r", "type": "rank"}],
        "edges": [
            None,
            {"source": "s", "target": "gone"},
            {"source": "s", "target": "r"},
            {"source": "r", "target": "s"},
        ],
    }

    # Then every one of them is reported, in order
    assert [(error.code, error.pointer()) for error in validate(config).errors] == [
        ("INVALID_EDGE", "/edges/0"),
        ("EDGE_TO_UNKNOWN_NODE", "/edges/1/target"),
        ("GRAPH_HAS_CYCLE", "/edges"),
    ]


def test_a_too_deep_config_still_names_its_format_and_the_limit_is_exact() -> None:
    assert validate(nested(MAX_CONFIG_DEPTH)).valid
    too_deep = validate(nested(MAX_CONFIG_DEPTH + 1))
    assert (too_deep.facts.format_version, too_deep.facts.node_count) == (2, None)
    assert validate({"stages": {"x": nested(MAX_CONFIG_DEPTH)}}).facts.format_version == 1
