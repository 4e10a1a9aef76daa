"""Pipeline configs: format detection, structural validation, scoring method, facts, canonical JSON, size."""

from __future__ import annotations

import math
from typing import Any

import pytest

from decision_flows.domain.errors import PayloadTooLarge, Unprocessable
from decision_flows.domain.pipeline import (
    DEFAULT_DRAFT_CONFIG,
    MAX_CONFIG_BYTES,
    PipelineFacts,
    canonical_json,
    check_size,
    config_hash,
    is_v2,
    require_scoring_method,
    validate_config,
)
from decision_flows_local.fixtures.samples import v1_config, v2_config


def problems_of(config: Any) -> dict[str, str]:
    """The field → message map of the CONFIG_INVALID error ``config`` raises."""
    with pytest.raises(Unprocessable) as caught:
        validate_config(config)
    assert caught.value.code == "CONFIG_INVALID"
    fields = [problem.field for problem in caught.value.errors]
    assert len(fields) == len(set(fields)), f"a field is reported twice: {fields}"
    return {problem.field: problem.message for problem in caught.value.errors}


def node(node_id: str, node_type: str = "enrich", **settings: Any) -> dict[str, Any]:
    return {"id": node_id, "type": node_type, **settings}


def edge(source: str, target: str) -> dict[str, str]:
    return {"source": source, "target": target}


# --- format detection --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        pytest.param({"version": 2}, True, id="version-2"),
        pytest.param({"nodes": []}, True, id="nodes-array-without-version"),
        pytest.param({"version": 2, "nodes": [], "edges": []}, True, id="default-draft"),
        pytest.param({"version": 3, "nodes": []}, True, id="nodes-array-wins-over-version"),
        pytest.param({"stages": {}}, False, id="stages-only"),
        pytest.param({"version": 1, "stages": {}}, False, id="version-1"),
        pytest.param({"version": "2", "stages": {}}, False, id="version-as-string"),
        pytest.param({"nodes": {"a": {}}}, False, id="nodes-not-an-array"),
        pytest.param({}, False, id="empty"),
    ],
)
def test_is_v2_detects_the_format(config: dict[str, Any], expected: bool) -> None:
    # Given a config / When its format is detected / Then v2 means `version: 2` or a `nodes` array
    assert is_v2(config) is expected


@pytest.mark.parametrize(
    ("config", "format_version"),
    [
        pytest.param(v2_config(), 2, id="v2"),
        pytest.param({"nodes": []}, 2, id="nodes-without-version"),
        pytest.param(v1_config(), 1, id="v1"),
        pytest.param({"version": 1, "stages": {"ranking": {}}}, 1, id="explicit-v1"),
    ],
)
def test_facts_carry_the_detected_format_version(config: dict[str, Any], format_version: int) -> None:
    assert validate_config(config).format_version == format_version


def test_default_draft_is_valid_and_has_no_scoring_method() -> None:
    # Given the default draft of a new flow
    # When it is validated
    facts = validate_config(DEFAULT_DRAFT_CONFIG)
    # Then it is a valid, empty v2 pipeline without a scoring method
    assert facts == PipelineFacts(format_version=2, node_count=0, scoring_method=None)


# --- facts -------------------------------------------------------------------------------------


@pytest.mark.parametrize("extra_nodes", [0, 1, 4])
def test_node_count_is_the_number_of_v2_nodes(extra_nodes: int) -> None:
    assert validate_config(v2_config(extra_nodes=extra_nodes)).node_count == 3 + extra_nodes


def test_node_count_is_none_for_v1() -> None:
    facts = validate_config(v1_config("priority"))
    assert facts == PipelineFacts(format_version=1, node_count=None, scoring_method="priority")


def test_v2_without_edges_is_valid() -> None:
    facts = validate_config({"version": 2, "nodes": [node("a"), node("b", "rank")]})
    assert facts.node_count == 2


# --- v2 structural validation ------------------------------------------------------------------


def test_v2_reports_every_problem_at_once() -> None:
    # Given a v2 config with one of each structural problem
    config = {
        "version": 2,
        "nodes": [
            node("a", "candidate_source"),
            node("a", "score"),  # duplicate id
            node("b", "teleport"),  # unknown type
            "not-a-node",  # not an object
            node("c", "rank"),
        ],
        "edges": [
            edge("a", "b"),
            edge("b", "a"),  # closes the loop a -> b -> a
            edge("ghost", "c"),  # missing source
            edge("c", "phantom"),  # missing target
            42,  # not an object
        ],
    }
    # When it is validated
    problems = problems_of(config)
    # Then a single CONFIG_INVALID lists them all, each at its own field path
    assert set(problems) == {
        "draftConfig.nodes[1].id",
        "draftConfig.nodes[2].type",
        "draftConfig.nodes[3]",
        "draftConfig.edges[2].source",
        "draftConfig.edges[3].target",
        "draftConfig.edges[4]",
        "draftConfig.edges",
    }
    assert "'a'" in problems["draftConfig.nodes[1].id"]
    assert "ghost" in problems["draftConfig.edges[2].source"]
    assert "phantom" in problems["draftConfig.edges[3].target"]
    assert "cycle" in problems["draftConfig.edges"]


def test_every_problem_is_counted_in_the_detail() -> None:
    config = {"version": 2, "nodes": [node("a", "nope"), node("a", "nope")]}
    with pytest.raises(Unprocessable) as caught:
        validate_config(config)
    # Then: nodes[0].type, nodes[1].id, nodes[1].type
    assert len(caught.value.errors) == 3
    assert "3 problem(s)" in caught.value.detail


def test_duplicate_node_id_is_reported_on_the_second_occurrence() -> None:
    problems = problems_of({"version": 2, "nodes": [node("x"), node("y"), node("x")]})
    assert set(problems) == {"draftConfig.nodes[2].id"}
    assert "duplicate" in problems["draftConfig.nodes[2].id"]


@pytest.mark.parametrize("node_id", ["", None, 7, ["a"]])
def test_node_id_must_be_a_non_empty_string(node_id: Any) -> None:
    problems = problems_of({"version": 2, "nodes": [{"id": node_id, "type": "rank"}]})
    assert set(problems) == {"draftConfig.nodes[0].id"}


@pytest.mark.parametrize("node_type", ["teleport", "Score", "", None, 3])
def test_unknown_node_type_is_a_problem(node_type: Any) -> None:
    problems = problems_of({"version": 2, "nodes": [{"id": "a", "type": node_type}]})
    assert set(problems) == {"draftConfig.nodes[0].type"}
    assert "unknown node type" in problems["draftConfig.nodes[0].type"]


@pytest.mark.parametrize("node_type", ["candidate_source", "enrich", "qualify", "score", "rank", "filter", "output"])
def test_every_known_node_type_is_accepted(node_type: str) -> None:
    assert validate_config({"version": 2, "nodes": [node("a", node_type)]}).node_count == 1


@pytest.mark.parametrize(
    "node_type",
    [
        pytest.param(["score"], id="list"),
        pytest.param({"t": "score"}, id="object"),
    ],
)
def test_unhashable_node_type_is_a_problem_not_a_crash(node_type: Any) -> None:
    problems = problems_of({"version": 2, "nodes": [{"id": "a", "type": node_type}]})
    assert set(problems) == {"draftConfig.nodes[0].type"}


@pytest.mark.parametrize("end", ["source", "target"])
def test_edge_referencing_a_missing_node_is_a_problem(end: str) -> None:
    # Given an edge whose `end` names no node
    the_edge = edge("a", "b") | {end: "missing"}
    # When validated / Then that end of that edge is reported
    problems = problems_of({"version": 2, "nodes": [node("a"), node("b")], "edges": [edge("a", "b"), the_edge]})
    assert set(problems) == {f"draftConfig.edges[1].{end}"}
    assert "'missing'" in problems[f"draftConfig.edges[1].{end}"]


def test_edge_with_both_ends_missing_reports_both() -> None:
    problems = problems_of({"version": 2, "nodes": [], "edges": [edge("x", "y")]})
    assert set(problems) == {"draftConfig.edges[0].source", "draftConfig.edges[0].target"}


@pytest.mark.parametrize("bad_end", [None, 1, ["a"]])
def test_edge_end_that_is_not_a_string_is_a_problem(bad_end: Any) -> None:
    problems = problems_of({"version": 2, "nodes": [node("a")], "edges": [{"source": bad_end, "target": "a"}]})
    assert set(problems) == {"draftConfig.edges[0].source"}


@pytest.mark.parametrize("bad_edge", ["a->b", 1, None, ["a", "b"]])
def test_edge_that_is_not_an_object_is_a_problem(bad_edge: Any) -> None:
    problems = problems_of({"version": 2, "nodes": [node("a"), node("b")], "edges": [bad_edge]})
    assert set(problems) == {"draftConfig.edges[0]"}


@pytest.mark.parametrize("bad_node", ["a", 1, None, [{"id": "a"}]])
def test_node_that_is_not_an_object_is_a_problem(bad_node: Any) -> None:
    problems = problems_of({"version": 2, "nodes": [node("a"), bad_node]})
    assert set(problems) == {"draftConfig.nodes[1]"}


@pytest.mark.parametrize("edges", [{}, "a->b", None, 1])
def test_edges_must_be_an_array(edges: Any) -> None:
    problems = problems_of({"version": 2, "nodes": [node("a")], "edges": edges})
    assert set(problems) == {"draftConfig.edges"}


@pytest.mark.parametrize("nodes", [{}, "a", None, 1])
def test_nodes_must_be_an_array_when_version_is_2(nodes: Any) -> None:
    problems = problems_of({"version": 2, "nodes": nodes})
    assert set(problems) == {"draftConfig.nodes"}
    assert "array" in problems["draftConfig.nodes"]


def test_nodes_not_an_array_still_reports_the_other_problems() -> None:
    problems = problems_of({"version": 2, "nodes": "x", "edges": 5, "stages": {"teleport": {}}})
    assert set(problems) == {"draftConfig.nodes", "draftConfig.edges", "draftConfig.stages.teleport"}


def test_version_3_with_nodes_is_a_problem() -> None:
    problems = problems_of({"version": 3, "nodes": [node("a")]})
    assert set(problems) == {"draftConfig.version"}
    assert "version 2" in problems["draftConfig.version"]


def loop_of(message: str) -> list[str]:
    """The node ids of the loop a cycle message names (``... cycle: a -> b -> a``)."""
    assert "cycle" in message
    return message.rsplit(": ", 1)[1].split(" -> ")


def test_cycle_is_a_problem_that_names_the_loop() -> None:
    # Given a -> b -> c -> a, plus a node outside the loop
    nodes = [node("a"), node("b"), node("c"), node("outside")]
    edges = [edge("a", "b"), edge("b", "c"), edge("c", "a"), edge("outside", "a")]
    # When validated
    problems = problems_of({"version": 2, "nodes": nodes, "edges": edges})
    # Then the cycle is reported on `edges`, naming exactly the nodes of the loop, closed
    assert set(problems) == {"draftConfig.edges"}
    loop = loop_of(problems["draftConfig.edges"])
    assert loop[0] == loop[-1]
    assert set(loop) == {"a", "b", "c"}
    assert len(loop) == 4


def test_self_loop_is_a_cycle() -> None:
    problems = problems_of({"version": 2, "nodes": [node("a")], "edges": [edge("a", "a")]})
    assert loop_of(problems["draftConfig.edges"]) == ["a", "a"]


def test_diamond_is_not_a_cycle() -> None:
    nodes = [node("s", "candidate_source"), node("l"), node("r"), node("o", "output")]
    edges = [edge("s", "l"), edge("s", "r"), edge("l", "o"), edge("r", "o")]
    assert validate_config({"version": 2, "nodes": nodes, "edges": edges}).node_count == 4


@pytest.mark.parametrize("settings_key", ["config", "data"])
def test_node_settings_must_be_an_object(settings_key: str) -> None:
    problems = problems_of({"version": 2, "nodes": [{"id": "a", "type": "rank", settings_key: [1]}]})
    assert set(problems) == {f"draftConfig.nodes[0].{settings_key}"}


def test_v2_stages_must_be_an_object() -> None:
    problems = problems_of({"version": 2, "nodes": [], "stages": ["scoring"]})
    assert set(problems) == {"draftConfig.stages"}


def test_field_prefix_follows_the_field_argument() -> None:
    with pytest.raises(Unprocessable) as caught:
        validate_config({"version": 2, "nodes": [node("a", "nope")]}, field="configSnapshot")
    assert [problem.field for problem in caught.value.errors] == ["configSnapshot.nodes[0].type"]


# --- v1 validation -----------------------------------------------------------------------------


@pytest.mark.parametrize("stages", [None, [], "scoring", 1])
def test_v1_stages_must_be_an_object(stages: Any) -> None:
    problems = problems_of({"stages": stages})
    assert set(problems) == {"draftConfig.stages"}


def test_v1_without_stages_is_a_problem() -> None:
    assert set(problems_of({})) == {"draftConfig.stages"}


def test_v1_unknown_stage_name_is_a_problem() -> None:
    problems = problems_of({"stages": {"ranking": {}, "teleport": {}}})
    assert set(problems) == {"draftConfig.stages.teleport"}
    assert "unknown stage" in problems["draftConfig.stages.teleport"]


def test_v1_stage_must_be_an_object() -> None:
    problems = problems_of({"stages": {"ranking": "top-3"}})
    assert set(problems) == {"draftConfig.stages.ranking"}


def test_v1_unknown_scoring_method_is_a_problem() -> None:
    problems = problems_of({"stages": {"scoring": {"method": "astrology"}}})
    assert set(problems) == {"draftConfig.stages.scoring.method"}
    assert "unknown scoring method" in problems["draftConfig.stages.scoring.method"]


def test_v1_reports_every_problem_at_once() -> None:
    problems = problems_of({"stages": {"teleport": {}, "ranking": 3, "scoring": {"method": "astrology"}}})
    assert set(problems) == {
        "draftConfig.stages.teleport",
        "draftConfig.stages.ranking",
        "draftConfig.stages.scoring.method",
    }


@pytest.mark.parametrize("stages", [{}, {"ranking": {"top": 3}}, {"scoring": {}}, {"scoring": {"modelKey": "m"}}])
def test_v1_draft_without_scoring_method_is_valid(stages: dict[str, Any]) -> None:
    # Given a v1 draft that has not chosen a scoring method yet
    # When validated / Then it is valid and carries no method
    assert validate_config({"stages": stages}) == PipelineFacts(1, None, None)


@pytest.mark.parametrize("version", ["1", "2", 0, 1.5, None])
def test_v1_with_another_version_is_a_problem(version: Any) -> None:
    problems = problems_of({"version": version, "stages": {}})
    assert set(problems) == {"draftConfig.version"}


def test_v1_version_true_is_a_problem() -> None:
    assert set(problems_of({"version": True, "stages": {}})) == {"draftConfig.version"}


# --- scoring method ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "method"),
    [
        pytest.param({"stages": {"scoring": {"method": "scorecard"}}}, "scorecard", id="v1-stages"),
        pytest.param(
            {"version": 2, "nodes": [node("s", "score", config={"method": "propensity"})]},
            "propensity",
            id="v2-node-config",
        ),
        pytest.param(
            {"version": 2, "nodes": [node("s", "score", data={"method": "priority"})]},
            "priority",
            id="v2-node-data",
        ),
        pytest.param(
            {"version": 2, "nodes": [], "stages": {"scoring": {"method": "priority_weighted"}}},
            "priority_weighted",
            id="v2-stages",
        ),
        pytest.param(
            {"version": 2, "nodes": [node("r", "rank"), node("s", "score", config={"method": "scorecard"})]},
            "scorecard",
            id="v2-score-node-not-first",
        ),
    ],
)
def test_scoring_method_is_found(config: dict[str, Any], method: str) -> None:
    facts = validate_config(config)
    assert facts.scoring_method == method
    assert require_scoring_method(facts) == method


def test_method_of_a_node_that_is_not_a_score_node_is_not_the_scoring_method() -> None:
    config = {"version": 2, "nodes": [node("r", "rank", config={"method": "propensity"})]}
    assert validate_config(config).scoring_method is None


def test_score_node_without_method_leaves_the_method_unset() -> None:
    config = {"version": 2, "nodes": [node("s", "score", config={"modelKey": "m"})]}
    assert validate_config(config).scoring_method is None


@pytest.mark.parametrize(
    ("config", "field"),
    [
        pytest.param({"stages": {"scoring": {"method": "astrology"}}}, "draftConfig.stages.scoring.method", id="v1"),
        pytest.param(
            {"version": 2, "nodes": [node("s", "score", config={"method": "astrology"})]},
            "draftConfig.nodes[0].config.method",
            id="v2-config",
        ),
        pytest.param(
            {"version": 2, "nodes": [node("s", "score", data={"method": "astrology"})]},
            "draftConfig.nodes[0].data.method",
            id="v2-data",
        ),
        pytest.param(
            {"version": 2, "nodes": [], "stages": {"scoring": {"method": "Propensity"}}},
            "draftConfig.stages.scoring.method",
            id="v2-stages-case-sensitive",
        ),
    ],
)
def test_unknown_scoring_method_is_a_problem(config: dict[str, Any], field: str) -> None:
    problems = problems_of(config)
    assert set(problems) == {field}
    assert "propensity" in problems[field]  # the message lists the known methods


@pytest.mark.parametrize(
    "config",
    [
        pytest.param({"stages": {"scoring": {"method": ["propensity"]}}}, id="v1-list"),
        pytest.param({"version": 2, "nodes": [node("s", "score", config={"method": {}})]}, id="v2-object"),
    ],
)
def test_unhashable_scoring_method_is_a_problem_not_a_crash(config: dict[str, Any]) -> None:
    assert len(problems_of(config)) == 1


def test_v2_stages_are_validated_even_when_a_score_node_has_a_method() -> None:
    config = {
        "version": 2,
        "nodes": [node("s", "score", config={"method": "propensity"})],
        "stages": {"teleport": {}, "scoring": {"method": "astrology"}},
    }
    assert set(problems_of(config)) == {"draftConfig.stages.teleport", "draftConfig.stages.scoring.method"}


def test_every_score_node_method_is_validated() -> None:
    config = {
        "version": 2,
        "nodes": [node("s1", "score", config={"method": "propensity"}), node("s2", "score", config={"method": "x"})],
    }
    assert set(problems_of(config)) == {"draftConfig.nodes[1].config.method"}


def test_require_scoring_method_raises_when_none() -> None:
    # Given the facts of a draft with no scoring method
    facts = validate_config(DEFAULT_DRAFT_CONFIG)
    # When publish asks for the method / Then it is refused with SCORING_METHOD_MISSING
    with pytest.raises(Unprocessable) as caught:
        require_scoring_method(facts)
    assert caught.value.code == "SCORING_METHOD_MISSING"
    assert caught.value.errors == []


# --- non-object configs ------------------------------------------------------------------------


@pytest.mark.parametrize("config", [[], [{"version": 2}], "{}", "", None, 2, True])
def test_non_object_config_is_config_invalid(config: Any) -> None:
    problems = problems_of(config)
    assert problems == {"draftConfig": "must be a JSON object"}


# --- canonical JSON, hash and size -------------------------------------------------------------


def test_canonical_json_is_key_order_independent() -> None:
    # Given the same config with keys in different orders, at every level
    one = {"version": 2, "nodes": [{"id": "a", "type": "rank", "config": {"x": 1, "y": 2}}], "edges": []}
    other = {"edges": [], "nodes": [{"config": {"y": 2, "x": 1}, "type": "rank", "id": "a"}], "version": 2}
    # When serialised / Then the text and hash are identical
    assert canonical_json(one) == canonical_json(other)
    assert config_hash(canonical_json(one)) == config_hash(canonical_json(other))


def test_canonical_json_is_compact_and_keeps_unicode() -> None:
    assert canonical_json({"b": [1, 2], "a": "é"}) == '{"a":"é","b":[1,2]}'


def test_canonical_json_keeps_array_order() -> None:
    assert canonical_json({"a": [1, 2]}) != canonical_json({"a": [2, 1]})


def test_config_hash_tells_configs_apart() -> None:
    assert config_hash(canonical_json({"a": 1})) != config_hash(canonical_json({"a": 2}))


@pytest.mark.parametrize("number", [math.nan, math.inf, -math.inf])
def test_canonical_json_refuses_non_finite_numbers(number: float) -> None:
    # Given a config with a non-finite number deep inside
    config = {"version": 2, "nodes": [{"id": "a", "type": "rank", "config": {"weight": number}}]}
    # When serialised / Then it is CONFIG_INVALID rather than invalid JSON
    with pytest.raises(Unprocessable) as caught:
        canonical_json(config)
    assert caught.value.code == "CONFIG_INVALID"
    assert [problem.field for problem in caught.value.errors] == ["draftConfig"]


def test_check_size_accepts_exactly_the_limit() -> None:
    check_size("x" * MAX_CONFIG_BYTES)


def test_check_size_refuses_one_byte_over_the_limit() -> None:
    with pytest.raises(PayloadTooLarge) as caught:
        check_size("x" * (MAX_CONFIG_BYTES + 1))
    assert caught.value.code == "CONFIG_TOO_LARGE"
    assert str(MAX_CONFIG_BYTES + 1) in caught.value.detail


def test_check_size_counts_bytes_not_characters() -> None:
    # Given "é" (2 bytes in UTF-8): MAX/2 of them is exactly the limit in bytes
    assert MAX_CONFIG_BYTES % 2 == 0
    at_limit = "é" * (MAX_CONFIG_BYTES // 2)
    assert len(at_limit.encode()) == MAX_CONFIG_BYTES
    check_size(at_limit)
    # When one more byte is added, though the text is only about half the limit in characters
    over = at_limit + "x"
    assert len(over) < MAX_CONFIG_BYTES
    # Then it is too large
    with pytest.raises(PayloadTooLarge) as caught:
        check_size(over)
    assert caught.value.code == "CONFIG_TOO_LARGE"


def test_check_size_names_the_field() -> None:
    with pytest.raises(PayloadTooLarge) as caught:
        check_size("x" * (MAX_CONFIG_BYTES + 1), field="configSnapshot")
    assert caught.value.detail.startswith("configSnapshot ")


def padded_config(size: int) -> dict[str, Any]:
    """A valid v2 config whose canonical JSON is exactly ``size`` bytes."""
    config: dict[str, Any] = {"version": 2, "nodes": [], "pad": ""}
    overhead = len(canonical_json(config).encode())
    config["pad"] = "€" * ((size - overhead) // 3) + "x" * ((size - overhead) % 3)  # "€" is 3 bytes
    assert len(canonical_json(config).encode()) == size
    return config


def test_config_at_the_limit_passes_and_one_byte_more_fails() -> None:
    # Given configs whose canonical JSON is exactly the limit, and one byte more
    at_limit, over = padded_config(MAX_CONFIG_BYTES), padded_config(MAX_CONFIG_BYTES + 1)
    # When measured as they are stored / Then only the larger one is refused
    validate_config(at_limit)
    check_size(canonical_json(at_limit))
    with pytest.raises(PayloadTooLarge):
        check_size(canonical_json(over))
