"""What changed between two pipeline configs: an RFC 6902 patch, and a summary a person can read.

The patch comes from python-json-patch (``jsonpatch.make_patch``), checked by applying it: open issues
report move detection that yields patches which do not apply or apply to something else
(stefankoegl/python-json-patch#138, #160, #179). 1.48 passed every case of our property tests, but a
wrong patch would silently misinform a publish decision, so it is checked (an apply: milliseconds at
300 KB), and when it does not give exactly the new config, the patch is built member by member
instead (add, remove and replace only), longer but always right.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from jsonpointer import JsonPointer, JsonPointerException

from decision_flows.domain.pipeline import canonical_json, is_v2
from decision_flows.domain.pipeline import facts as pipeline_facts

Patch = list[dict[str, Any]]


def json_patch(old: Any, new: Any) -> Patch:
    """An RFC 6902 patch that turns ``old`` into exactly ``new``."""
    import jsonpatch  # loaded by the requests that ask for a patch, not by every function's init

    made: Patch = jsonpatch.make_patch(old, new).patch
    try:
        applied = jsonpatch.apply_patch(old, made)
    except (jsonpatch.JsonPatchException, JsonPointerException, IndexError, KeyError, TypeError, ValueError):
        applied = _FAILED
    if applied is not _FAILED and _same(applied, new):
        return made
    return list(_member_patch(old, new, []))


_FAILED = object()


def _same(left: Any, right: Any) -> bool:
    """JSON equality: unlike ``==``, ``1``, ``1.0`` and ``true`` differ."""
    return bool(canonical_json({"v": left}) == canonical_json({"v": right}))


def _member_patch(old: Any, new: Any, parts: list[str | int]) -> Iterator[dict[str, Any]]:
    path = JsonPointer.from_parts(parts).path
    if isinstance(old, dict) and isinstance(new, dict):
        for name in old.keys() - new.keys():
            yield {"op": "remove", "path": JsonPointer.from_parts([*parts, name]).path}
        for name, value in new.items():
            if name not in old:
                yield {"op": "add", "path": JsonPointer.from_parts([*parts, name]).path, "value": value}
            else:
                yield from _member_patch(old[name], value, [*parts, name])
    elif isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        for index, (before, after) in enumerate(zip(old, new, strict=True)):
            yield from _member_patch(before, after, [*parts, index])
    elif not _same(old, new):
        yield {"op": "replace", "path": path, "value": new}


@dataclass(frozen=True)
class NodeChange:
    id: str
    type: str
    paths: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Summary:
    """The contract's diff summary: v2 nodes matched by id, edges by endpoints, stages by name."""

    format: tuple[str | None, str | None]
    nodes_added: list[NodeChange]
    nodes_removed: list[NodeChange]
    nodes_changed: list[NodeChange]
    edges_added: list[tuple[str, str]]
    edges_removed: list[tuple[str, str]]
    stages_added: list[str]
    stages_removed: list[str]
    stages_changed: list[str]
    scoring_method: tuple[str | None, str | None]
    node_count: tuple[int | None, int | None]

    def as_document(self) -> dict[str, Any]:
        """The contract's ``summary`` object (what GET /diff answers and history's ``configChanges`` keeps)."""
        return {
            "format": _pair(self.format),
            "nodes": {
                "added": [{"id": node.id, "type": node.type} for node in self.nodes_added],
                "removed": [{"id": node.id, "type": node.type} for node in self.nodes_removed],
                "changed": [{"id": node.id, "type": node.type, "paths": node.paths} for node in self.nodes_changed],
            },
            "edges": {
                "added": [{"source": source, "target": target} for source, target in self.edges_added],
                "removed": [{"source": source, "target": target} for source, target in self.edges_removed],
            },
            "stages": {"added": self.stages_added, "removed": self.stages_removed, "changed": self.stages_changed},
            "scoringMethod": _pair(self.scoring_method),
            "nodeCount": _pair(self.node_count),
        }

    @property
    def identical(self) -> bool:
        return not (
            self.nodes_added
            or self.nodes_removed
            or self.nodes_changed
            or self.edges_added
            or self.edges_removed
            or self.stages_added
            or self.stages_removed
            or self.stages_changed
        )


def _pair(values: tuple[Any, Any]) -> dict[str, Any]:
    return {"from": values[0], "to": values[1]}


def summarize(old: dict[str, Any] | None, new: dict[str, Any] | None) -> Summary:
    """``old`` None: nothing before (a first publish); every node of ``new`` is added."""
    before, after = _nodes(old), _nodes(new)
    old_edges, new_edges = _edges(old), _edges(new)
    old_stages, new_stages = _stages(old), _stages(new)
    return Summary(
        format=(_format(old), _format(new)),
        nodes_added=[NodeChange(node_id, after[node_id]["type"]) for node_id in after if node_id not in before],
        nodes_removed=[NodeChange(node_id, before[node_id]["type"]) for node_id in before if node_id not in after],
        nodes_changed=[
            NodeChange(node_id, after[node_id]["type"], paths)
            for node_id in after
            if node_id in before and (paths := changed_paths(before[node_id], after[node_id]))
        ],
        edges_added=[edge for edge in new_edges if edge not in old_edges],
        edges_removed=[edge for edge in old_edges if edge not in new_edges],
        stages_added=[name for name in new_stages if name not in old_stages],
        stages_removed=[name for name in old_stages if name not in new_stages],
        stages_changed=[
            name for name in new_stages if name in old_stages and not _same(old_stages[name], new_stages[name])
        ],
        scoring_method=(_facts(old)[0], _facts(new)[0]),
        node_count=(_facts(old)[1], _facts(new)[1]),
    )


def changed_paths(old: Any, new: Any, parts: tuple[str | int, ...] = ()) -> list[str]:
    """RFC 6901 pointers (inside the compared value) of what differs: the deepest object members that
    differ, and whole arrays whose length changed."""
    if isinstance(old, dict) and isinstance(new, dict):
        found: list[str] = []
        for name in [*old, *(name for name in new if name not in old)]:
            if name not in old or name not in new:
                found.append(JsonPointer.from_parts([*parts, name]).path)
            else:
                found += changed_paths(old[name], new[name], (*parts, name))
        return found
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        return [
            path
            for index, pair in enumerate(zip(old, new, strict=True))
            for path in changed_paths(*pair, (*parts, index))
        ]
    return [] if _same(old, new) else [JsonPointer.from_parts(list(parts)).path]


def _format(config: dict[str, Any] | None) -> str | None:
    return None if config is None else ("v2" if is_v2(config) else "v1")


def _nodes(config: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    if config is None or not is_v2(config):
        return {}
    return {node["id"]: node for node in config.get("nodes", [])}


def _edges(config: dict[str, Any] | None) -> list[tuple[str, str]]:
    if config is None or not is_v2(config):
        return []
    return list(dict.fromkeys((edge["source"], edge["target"]) for edge in config.get("edges", [])))


def _stages(config: dict[str, Any] | None) -> dict[str, Any]:
    stages = (config or {}).get("stages")
    return stages if isinstance(stages, dict) else {}


def _facts(config: dict[str, Any] | None) -> tuple[str | None, int | None]:
    if config is None:
        return None, None
    found = pipeline_facts(config)
    return found.scoring_method, found.node_count
