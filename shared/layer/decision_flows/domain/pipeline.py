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


Path = tuple[str | int, ...]


@dataclass(frozen=True)
class ConfigProblem:
    """One structural problem of a config: a stable code, where it is, and what to do about it."""

    code: str
    path: Path  # inside the config: ("nodes", 0, "id")
    message: str

    def pointer(self) -> str:
        """The path as an RFC 6901 JSON Pointer into the config, e.g. ``/nodes/0/id``."""
        return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in self.path)

    def field_problem(self, field: str) -> FieldProblem:
        """As a 422's field problem, e.g. ``draftConfig.nodes[0].id``."""
        where = field + "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in self.path)
        return FieldProblem(where, self.message)


def canonical_json(config: dict[str, Any]) -> str:
    """The one serialisation used for storage, size limits and equality of configs."""
    canonical, problem = _canonical(config)
    if problem:
        raise _invalid([problem.field_problem("draftConfig")])
    return canonical


def json_key(value: Any) -> str:
    """The canonical serialisation of any JSON value: equal for values equal as JSON (whatever the
    order of object members), unequal for ``1``, ``1.0`` and ``true``. ValueError for NaN or Infinity."""
    key: str = _CANONICAL_ENCODER.encode(value)
    return key


# Built once: json.dumps builds an encoder per call, and a diff makes a key per array item.
_CANONICAL_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _canonical(config: dict[str, Any]) -> tuple[str, ConfigProblem | None]:
    try:
        canonical = json_key(config)
    except ValueError:
        return "", ConfigProblem("NUMBER_NOT_FINITE", (), "numbers must be finite (no NaN or Infinity)")
    try:
        canonical.encode()
    except UnicodeEncodeError:
        # JSON's \ud800 escapes can smuggle in lone surrogates, which no UTF-8 store or response can carry.
        return "", ConfigProblem("INVALID_UNICODE", (), "strings must be valid Unicode (no lone surrogates)")
    return canonical, None


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
    """Validate a pipeline config's structure, reporting every problem at once (422 CONFIG_INVALID)."""
    facts, problems = _structure(config)
    if problems:
        raise _invalid([problem.field_problem(field) for problem in problems])
    return facts


def config_problems(config: Any) -> tuple[PipelineFacts, list[ConfigProblem]]:
    """Every problem for which PUT refuses ``config`` with 422, and its facts so far."""
    facts, problems = _structure(config)
    if not problems and (problem := _canonical(config)[1]):
        problems.append(problem)
    return facts, problems


def facts(config: dict[str, Any]) -> PipelineFacts:
    """The facts of a config already known to be valid (a stored one), without raising."""
    return _structure(config)[0]


def _structure(config: Any) -> tuple[PipelineFacts, list[ConfigProblem]]:
    problems: list[ConfigProblem] = []
    if not isinstance(config, dict):
        return PipelineFacts(1, None, None), [ConfigProblem("CONFIG_NOT_AN_OBJECT", (), "must be a JSON object")]
    if _deeper_than(config, MAX_CONFIG_DEPTH):
        return _facts_of_format(config), [_too_deep()]
    facts = _validate_v2(config, problems) if is_v2(config) else _validate_v1(config, problems)
    return facts, problems


def check_depth(config: Any, field: str = "draftConfig") -> None:
    """422 CONFIG_TOO_DEEP, as ``validate_config`` refuses it, for a config nested past the limit;
    iterative, so it is safe before anything recursive (a serialiser) meets the config."""
    if _deeper_than(config, MAX_CONFIG_DEPTH):
        raise _invalid([_too_deep().field_problem(field)])


def _too_deep() -> ConfigProblem:
    return ConfigProblem("CONFIG_TOO_DEEP", (), f"nests deeper than {MAX_CONFIG_DEPTH} levels")


def _facts_of_format(config: dict[str, Any]) -> PipelineFacts:
    return PipelineFacts(2 if is_v2(config) else 1, None, None)


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
        raise scoring_method_missing()
    return facts.scoring_method


def scoring_method_missing() -> Unprocessable:
    return Unprocessable(
        "SCORING_METHOD_MISSING",
        "The draft has no scoring method: set stages.scoring.method or add a 'score' node "
        "with config.method before publishing.",
    )


def config_invalid(problem_count: int, problems: list[FieldProblem] | None = None) -> Unprocessable:
    """What publish and PUT answer (422) for a config with ``problem_count`` structural problems."""
    return Unprocessable("CONFIG_INVALID", f"The pipeline config has {problem_count} problem(s).", problems)


def _invalid(problems: list[FieldProblem]) -> Unprocessable:
    return config_invalid(len(problems), problems)


def _validate_v1(config: dict[str, Any], problems: list[ConfigProblem]) -> PipelineFacts:
    if "version" in config and not _is_int(config["version"], 1):
        problems.append(ConfigProblem("INVALID_VERSION", ("version",), "must be 1 or 2"))
    stages = config.get("stages")
    if not isinstance(stages, dict):
        problems.append(ConfigProblem("STAGES_MISSING", ("stages",), "a v1 config needs a 'stages' object"))
        return PipelineFacts(1, None, None)
    method = _check_stages(stages, problems)
    return PipelineFacts(1, None, method)


def _check_stages(stages: dict[str, Any], problems: list[ConfigProblem]) -> str | None:
    for name, stage in stages.items():
        if name not in V1_STAGES:
            known = ", ".join(V1_STAGES)
            problems.append(ConfigProblem("UNKNOWN_STAGE", ("stages", name), f"unknown stage; known: {known}"))
        elif not isinstance(stage, dict):
            problems.append(ConfigProblem("STAGE_NOT_AN_OBJECT", ("stages", name), "must be an object"))
    scoring = stages.get("scoring")
    if not isinstance(scoring, dict):
        return None
    return _check_method(scoring.get("method"), ("stages", "scoring", "method"), problems)


def _check_method(method: Any, path: Path, problems: list[ConfigProblem]) -> str | None:
    if method is None:
        return None
    if not isinstance(method, str) or method not in SCORING_METHODS:
        known = ", ".join(sorted(SCORING_METHODS))
        problems.append(ConfigProblem("UNKNOWN_SCORING_METHOD", path, f"unknown scoring method; known: {known}"))
        return None
    return str(method)


def _validate_v2(config: dict[str, Any], problems: list[ConfigProblem]) -> PipelineFacts:
    if "version" in config and not _is_int(config["version"], 2):
        problems.append(ConfigProblem("INVALID_VERSION", ("version",), "a config with 'nodes' must have version 2"))
    nodes = config.get("nodes")
    node_ids: set[str] | None = None
    method: str | None = None
    if isinstance(nodes, list):
        node_ids, method = _check_nodes(nodes, problems)
    else:
        problems.append(ConfigProblem("NODES_NOT_AN_ARRAY", ("nodes",), "must be an array"))
    _check_edges(config.get("edges", []), node_ids, problems)
    stages = config.get("stages")
    if isinstance(stages, dict):
        stage_method = _check_stages(stages, problems)
        method = method or stage_method
    elif stages is not None:
        problems.append(ConfigProblem("STAGES_NOT_AN_OBJECT", ("stages",), "must be an object"))
    return PipelineFacts(2, len(nodes) if isinstance(nodes, list) else None, method)


def _check_nodes(nodes: list[Any], problems: list[ConfigProblem]) -> tuple[set[str], str | None]:
    seen: set[str] = set()
    method: str | None = None
    for index, node in enumerate(nodes):
        where: Path = ("nodes", index)
        if not isinstance(node, dict):
            problems.append(ConfigProblem("NODE_NOT_AN_OBJECT", where, "must be an object"))
            continue
        node_id = node.get("id")
        if not isinstance(node_id, str) or not node_id:
            problems.append(ConfigProblem("INVALID_NODE_ID", (*where, "id"), "must be a non-empty string"))
        elif node_id in seen:
            problems.append(ConfigProblem("DUPLICATE_NODE_ID", (*where, "id"), f"duplicate node id {node_id!r}"))
        else:
            seen.add(node_id)
        node_type = node.get("type")
        if not isinstance(node_type, str) or node_type not in NODE_TYPES:
            known = ", ".join(sorted(NODE_TYPES))
            problems.append(ConfigProblem("UNKNOWN_NODE_TYPE", (*where, "type"), f"unknown node type; known: {known}"))
        settings_key = "config" if "config" in node else "data"
        settings = node.get(settings_key, {})
        if not isinstance(settings, dict):
            problems.append(ConfigProblem("NODE_SETTINGS_NOT_AN_OBJECT", (*where, settings_key), "must be an object"))
        elif node_type == "score":
            node_method = _check_method(settings.get("method"), (*where, settings_key, "method"), problems)
            method = method or node_method
    return seen, method


EDGE_SHAPE = "must be an object with 'source' and 'target'"


def _check_edges(edges: Any, node_ids: set[str] | None, problems: list[ConfigProblem]) -> None:
    """Shape, references and acyclicity; references only when the nodes could be read (``node_ids``)."""
    if not isinstance(edges, list):
        problems.append(ConfigProblem("EDGES_NOT_AN_ARRAY", ("edges",), "must be an array"))
        return
    if node_ids is None:
        for index, edge in enumerate(edges):
            if not isinstance(edge, dict) or not all(isinstance(edge.get(end), str) for end in ("source", "target")):
                problems.append(ConfigProblem("INVALID_EDGE", ("edges", index), EDGE_SHAPE))
        return
    graph: dict[str, set[str]] = {node_id: set() for node_id in node_ids}
    for index, edge in enumerate(edges):
        if not isinstance(edge, dict):
            problems.append(ConfigProblem("INVALID_EDGE", ("edges", index), EDGE_SHAPE))
            continue
        ends = {end: edge.get(end) for end in ("source", "target")}
        dangling = [end for end, node_id in ends.items() if not isinstance(node_id, str) or node_id not in node_ids]
        for end in dangling:
            message = f"references no existing node ({ends[end]!r})"
            problems.append(ConfigProblem("EDGE_TO_UNKNOWN_NODE", ("edges", index, end), message))
        if not dangling:
            graph[str(ends["target"])].add(str(ends["source"]))
    try:
        TopologicalSorter(graph).prepare()
    except CycleError as cycle:
        loop = " -> ".join(str(node_id) for node_id in cycle.args[1])
        problems.append(ConfigProblem("GRAPH_HAS_CYCLE", ("edges",), f"the graph has a cycle: {loop}"))
