"""Warnings about a valid v2 pipeline that is probably wrong. They never block saving or publishing.

Run on configs that ``pipeline.config_problems`` found valid. A v2 config without ``edges`` is a
linear pipeline in the order of its ``nodes``.
"""

from __future__ import annotations

from collections.abc import Iterable, Set
from itertools import pairwise
from typing import Any

from decision_flows.domain.pipeline import ConfigProblem, is_v2


def warnings(config: dict[str, Any]) -> list[ConfigProblem]:
    if not is_v2(config):
        return []
    nodes: list[dict[str, Any]] = config.get("nodes", [])
    index = {node["id"]: position for position, node in enumerate(nodes)}
    types = {node["id"]: node["type"] for node in nodes}
    successors = _successors(config, nodes)
    found: list[ConfigProblem] = []
    sources = [node_id for node_id, node_type in types.items() if node_type == "candidate_source"]
    if not sources:
        found.append(
            ConfigProblem("NO_CANDIDATE_SOURCE", ("nodes",), "No 'candidate_source' node: nothing feeds the pipeline.")
        )
    if "output" not in types.values():
        found.append(
            ConfigProblem("NO_OUTPUT_NODE", ("nodes",), "No 'output' node: the pipeline's result goes nowhere.")
        )
    reachable = _reached(sources, successors)
    scores = [node_id for node_id, node_type in types.items() if node_type == "score"]
    # Roots: where runs start. Without a candidate source, every node nothing points to.
    pointed_to = {target for targets in successors.values() for target in targets}
    roots = sources or [node_id for node_id in types if node_id not in pointed_to]
    unscored = _reached([root for root in roots if types[root] != "score"], successors, stop_at=set(scores))
    for node_id, node_type in types.items():
        where = ("nodes", index[node_id])
        if sources and node_id not in reachable:
            message = f"Node {node_id!r} is not reachable from any 'candidate_source' node: it never runs."
            found.append(ConfigProblem("UNREACHABLE_NODE", where, message))
        if node_type != "output" and not successors[node_id]:
            message = f"Node {node_id!r} ({node_type}) has no outgoing edge: its result is dropped."
            found.append(ConfigProblem("DEAD_END_NODE", where, message))
        if node_type == "rank" and node_id in unscored:
            message = f"Rank node {node_id!r} can run before any 'score' node: it would rank unscored offers."
            found.append(ConfigProblem("RANK_BEFORE_SCORE", where, message))
    for node_id in scores[1:]:
        message = f"Node {node_id!r} is a second 'score' node (the first is {scores[0]!r}): scores may be overwritten."
        found.append(ConfigProblem("MULTIPLE_SCORE_NODES", ("nodes", index[node_id]), message))
    return found


def _successors(config: dict[str, Any], nodes: list[dict[str, Any]]) -> dict[str, list[str]]:
    successors: dict[str, list[str]] = {node["id"]: [] for node in nodes}
    if "edges" in config:
        for edge in config["edges"]:
            successors[edge["source"]].append(edge["target"])
    else:
        for before, after in pairwise(nodes):
            successors[before["id"]].append(after["id"])
    return successors


def _reached(starts: Iterable[str], successors: dict[str, list[str]], stop_at: Set[str] = frozenset()) -> set[str]:
    """The nodes some path from ``starts`` reaches without passing through a node of ``stop_at``."""
    seen: set[str] = set()
    pending = [start for start in starts if start not in stop_at]
    while pending:
        node_id = pending.pop()
        if node_id in seen:
            continue
        seen.add(node_id)
        pending.extend(target for target in successors[node_id] if target not in stop_at)
    return seen
