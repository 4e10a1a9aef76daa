"""Pipeline configs: format detection, structural validation and the facts publish needs.

Two formats exist (see the contract): v1 fixed-stage ``{"stages": {...}}`` and v2 composable
``{"version": 2, "nodes": [...], "edges": [...]}``. A draft may be incomplete (no scoring method
yet); only structural problems make it invalid. Publishing additionally needs a scoring method.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from graphlib import CycleError, TopologicalSorter
from typing import Any

from decision_flows.domain.errors import FieldProblem, PayloadTooLarge, Unprocessable

NODE_TYPES = frozenset({"candidate_source", "enrich", "qualify", "score", "rank", "filter", "output"})
SCORING_METHODS = frozenset({"propensity", "scorecard", "priority", "priority_weighted"})
V1_STAGES = ("enrichment", "qualification", "scoring", "ranking", "filtering")
# Leaves room under DynamoDB's 400 KB item limit for the flow's other attributes.
MAX_CONFIG_BYTES = 300 * 1024
# Far beyond any real pipeline, and well inside what JSON and pydantic serialise (~250 levels).
MAX_CONFIG_DEPTH = 64

DEFAULT_DRAFT_CONFIG: dict[str, Any] = {"version": 2, "nodes": [], "edges": []}


@dataclass(frozen=True)
class PipelineFacts:
    format_version: int
    node_count: int | None
    scoring_method: str | None


def canonical_json(config: dict[str, Any]) -> str:
    """The one serialisation used for storage, size limits and equality of configs."""
    try:
        canonical = json.dumps(config, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except ValueError:
        raise _invalid([FieldProblem("draftConfig", "numbers must be finite (no NaN or Infinity)")]) from None
    try:
        canonical.encode()
    except UnicodeEncodeError:
        # JSON's \ud800 escapes can smuggle in lone surrogates, which no UTF-8 store or response can carry.
        raise _invalid([FieldProblem("draftConfig", "strings must be valid Unicode (no lone surrogates)")]) from None
    return canonical


def config_hash(canonical: str) -> str:
    return hashlib.sha256(canonical.encode()).hexdigest()


def check_size(canonical: str, field: str = "draftConfig") -> None:
    size = len(canonical.encode())
    if size > MAX_CONFIG_BYTES:
        raise PayloadTooLarge(
            "CONFIG_TOO_LARGE",
            f"{field} is {size} bytes as JSON; the limit is {MAX_CONFIG_BYTES} bytes.",
        )


def is_v2(config: dict[str, Any]) -> bool:
    return _is_int(config.get("version"), 2) or isinstance(config.get("nodes"), list)


def _is_int(value: Any, expected: int) -> bool:
    """Exactly the JSON integer ``expected``: neither ``true`` (== 1 in Python) nor ``2.0``."""
    return type(value) is int and value == expected


def validate_config(config: Any, field: str = "draftConfig") -> PipelineFacts:
    """Validate a pipeline config, reporting every problem at once (422 CONFIG_INVALID)."""
    problems: list[FieldProblem] = []
    if not isinstance(config, dict):
        problems.append(FieldProblem(field, "must be a JSON object"))
        raise _invalid(problems)
    if _deeper_than(config, MAX_CONFIG_DEPTH):
        problems.append(FieldProblem(field, f"nests deeper than {MAX_CONFIG_DEPTH} levels"))
        raise _invalid(problems)
    facts = _validate_v2(config, field, problems) if is_v2(config) else _validate_v1(config, field, problems)
    if problems:
        raise _invalid(problems)
    return facts


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether objects and arrays nest more than ``limit`` levels deep (iterative: no recursion limit)."""
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        current, depth = pending.pop()
        children = current.values() if isinstance(current, dict) else current if isinstance(current, list) else ()
        for child in children:
            if isinstance(child, dict | list):
                if depth + 1 > limit:
                    return True
                pending.append((child, depth + 1))
    return False


def require_scoring_method(facts: PipelineFacts) -> str:
    if facts.scoring_method is None:
        raise Unprocessable(
            "SCORING_METHOD_MISSING",
            "The draft has no scoring method: set stages.scoring.method or add a 'score' node "
            "with config.method before publishing.",
        )
    return facts.scoring_method


def _invalid(problems: list[FieldProblem]) -> Unprocessable:
    return Unprocessable("CONFIG_INVALID", f"The pipeline config has {len(problems)} problem(s).", problems)


def _validate_v1(config: dict[str, Any], field: str, problems: list[FieldProblem]) -> PipelineFacts:
    if "version" in config and not _is_int(config["version"], 1):
        problems.append(FieldProblem(f"{field}.version", "must be 1 or 2"))
    stages = config.get("stages")
    if not isinstance(stages, dict):
        problems.append(FieldProblem(f"{field}.stages", "a v1 config needs a 'stages' object"))
        return PipelineFacts(1, None, None)
    method = _check_stages(stages, f"{field}.stages", problems)
    return PipelineFacts(1, None, method)


def _check_stages(stages: dict[str, Any], path: str, problems: list[FieldProblem]) -> str | None:
    for name, stage in stages.items():
        if name not in V1_STAGES:
            problems.append(FieldProblem(f"{path}.{name}", f"unknown stage; known: {', '.join(V1_STAGES)}"))
        elif not isinstance(stage, dict):
            problems.append(FieldProblem(f"{path}.{name}", "must be an object"))
    scoring = stages.get("scoring")
    if not isinstance(scoring, dict):
        return None
    return _check_method(scoring.get("method"), f"{path}.scoring.method", problems)


def _check_method(method: Any, path: str, problems: list[FieldProblem]) -> str | None:
    if method is None:
        return None
    if not isinstance(method, str) or method not in SCORING_METHODS:
        problems.append(FieldProblem(path, f"unknown scoring method; known: {', '.join(sorted(SCORING_METHODS))}"))
        return None
    return str(method)


def _validate_v2(config: dict[str, Any], field: str, problems: list[FieldProblem]) -> PipelineFacts:
    if "version" in config and not _is_int(config["version"], 2):
        problems.append(FieldProblem(f"{field}.version", "a config with 'nodes' must have version 2"))
    nodes = config.get("nodes")
    node_ids: set[str] | None = None
    method: str | None = None
    if isinstance(nodes, list):
        node_ids, method = _check_nodes(nodes, f"{field}.nodes", problems)
    else:
        problems.append(FieldProblem(f"{field}.nodes", "must be an array"))
    _check_edges(config.get("edges", []), node_ids, f"{field}.edges", problems)
    stages = config.get("stages")
    if isinstance(stages, dict):
        stage_method = _check_stages(stages, f"{field}.stages", problems)
        method = method or stage_method
    elif stages is not None:
        problems.append(FieldProblem(f"{field}.stages", "must be an object"))
    return PipelineFacts(2, len(nodes) if isinstance(nodes, list) else None, method)


def _check_nodes(nodes: list[Any], path: str, problems: list[FieldProblem]) -> tuple[set[str], str | None]:
    seen: set[str] = set()
    method: str | None = None
    for index, node in enumerate(nodes):
        where = f"{path}[{index}]"
        if not isinstance(node, dict):
            problems.append(FieldProblem(where, "must be an object"))
            continue
        node_id = node.get("id")
        if not isinstance(node_id, str) or not node_id:
            problems.append(FieldProblem(f"{where}.id", "must be a non-empty string"))
        elif node_id in seen:
            problems.append(FieldProblem(f"{where}.id", f"duplicate node id {node_id!r}"))
        else:
            seen.add(node_id)
        node_type = node.get("type")
        if not isinstance(node_type, str) or node_type not in NODE_TYPES:
            problems.append(FieldProblem(f"{where}.type", f"unknown node type; known: {', '.join(sorted(NODE_TYPES))}"))
        settings_key = "config" if "config" in node else "data"
        settings = node.get(settings_key, {})
        if not isinstance(settings, dict):
            problems.append(FieldProblem(f"{where}.{settings_key}", "must be an object"))
        elif node_type == "score":
            node_method = _check_method(settings.get("method"), f"{where}.{settings_key}.method", problems)
            method = method or node_method
    return seen, method


def _check_edges(edges: Any, node_ids: set[str] | None, path: str, problems: list[FieldProblem]) -> None:
    """Shape, references and acyclicity; references only when the nodes could be read (``node_ids``)."""
    if not isinstance(edges, list):
        problems.append(FieldProblem(path, "must be an array"))
        return
    if node_ids is None:
        for index, edge in enumerate(edges):
            if not isinstance(edge, dict) or not all(isinstance(edge.get(end), str) for end in ("source", "target")):
                problems.append(FieldProblem(f"{path}[{index}]", "must be an object with 'source' and 'target'"))
        return
    graph: dict[str, set[str]] = {node_id: set() for node_id in node_ids}
    for index, edge in enumerate(edges):
        where = f"{path}[{index}]"
        if not isinstance(edge, dict):
            problems.append(FieldProblem(where, "must be an object with 'source' and 'target'"))
            continue
        ends = {end: edge.get(end) for end in ("source", "target")}
        dangling = [end for end, node_id in ends.items() if not isinstance(node_id, str) or node_id not in node_ids]
        for end in dangling:
            problems.append(FieldProblem(f"{where}.{end}", f"references no existing node ({ends[end]!r})"))
        if not dangling:
            graph[str(ends["target"])].add(str(ends["source"]))
    try:
        TopologicalSorter(graph).prepare()
    except CycleError as cycle:
        loop = " -> ".join(str(node_id) for node_id in cycle.args[1])
        problems.append(FieldProblem(path, f"the graph has a cycle: {loop}"))
