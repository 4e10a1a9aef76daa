"""Validate's warnings: valid pipelines that are probably wrong, each at the node a person must fix."""

from __future__ import annotations

from typing import Any

from decision_flows.domain.lint import warnings


def node(node_id: str, node_type: str) -> dict[str, Any]:
    return {"id": node_id, "type": node_type, "config": {}}


def pipeline(*nodes: tuple[str, str], edges: list[tuple[str, str]] | None = None) -> dict[str, Any]:
    config: dict[str, Any] = {"version": 2, "nodes": [node(*pair) for pair in nodes]}
    if edges is not None:
        config["edges"] = [{"source": source, "target": target} for source, target in edges]
    return config


def found(config: dict[str, Any]) -> list[tuple[str, str]]:
    return [(warning.code, warning.pointer()) for warning in warnings(config)]


def test_a_sound_pipeline_has_no_warnings() -> None:
    config = pipeline(("src", "candidate_source"), ("s", "score"), ("r", "rank"), ("out", "output"))
    assert found(config) == []  # no edges: a linear pipeline in the order of its nodes


def test_an_empty_pipeline_has_no_source_and_no_output() -> None:
    assert found(pipeline()) == [("NO_CANDIDATE_SOURCE", "/nodes"), ("NO_OUTPUT_NODE", "/nodes")]


def test_nodes_no_source_reaches_and_nodes_that_lead_nowhere() -> None:
    config = pipeline(
        ("src", "candidate_source"),
        ("s", "score"),
        ("orphan", "enrich"),
        ("out", "output"),
        edges=[("src", "s"), ("s", "out"), ("orphan", "out")],
    )
    assert found(config) == [("UNREACHABLE_NODE", "/nodes/2")]
    config["edges"].pop()
    assert found(config) == [("UNREACHABLE_NODE", "/nodes/2"), ("DEAD_END_NODE", "/nodes/2")]


def test_a_rank_that_some_path_reaches_before_any_score() -> None:
    # src -> s -> r -> out, and src -> f -> r: the second path ranks unscored offers
    config = pipeline(
        ("src", "candidate_source"),
        ("s", "score"),
        ("f", "filter"),
        ("r", "rank"),
        ("out", "output"),
        edges=[("src", "s"), ("s", "r"), ("r", "out"), ("src", "f")],
    )
    assert found(config) == [("DEAD_END_NODE", "/nodes/2")]
    config["edges"].append({"source": "f", "target": "r"})
    assert found(config) == [("RANK_BEFORE_SCORE", "/nodes/3")]


def test_without_a_source_paths_start_where_nothing_points() -> None:
    config = pipeline(("r", "rank"), ("s", "score"), ("out", "output"))
    assert found(config) == [("NO_CANDIDATE_SOURCE", "/nodes"), ("RANK_BEFORE_SCORE", "/nodes/0")]


def test_a_second_score_node() -> None:
    config = pipeline(("src", "candidate_source"), ("a", "score"), ("b", "score"), ("out", "output"))
    assert found(config) == [("MULTIPLE_SCORE_NODES", "/nodes/2")]
    assert "'a'" in warnings(config)[0].message


def test_v1_configs_have_no_graph_to_lint() -> None:
    assert warnings({"stages": {"scoring": {"method": "priority"}}}) == []
