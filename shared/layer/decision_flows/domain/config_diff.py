"""What changed between two pipeline configs: an RFC 6902 patch, and a summary a person can read.

The patch comes from python-json-patch (``jsonpatch.make_patch``), checked by applying it: open issues
report move detection that yields patches which do not apply or apply to something else
(stefankoegl/python-json-patch#138, #160, #179). 1.48 passed every case of our property tests, but a
wrong patch would silently misinform a publish decision, so it is checked (an apply: milliseconds at
300 KB), and when it does not give exactly the new config, the patch is built member by member
instead (add, remove and replace only), longer but always right.

The library pairs up the items of two arrays with difflib's SequenceMatcher, whose work grows with the
product of their lengths when edits are scattered (8 000 edges, every other one replaced: 4 s). So
configs whose arrays could cost that much skip it, and get the member-by-member patch, which pairs
array items by position after their common start and end: linear, exact, and as short for the usual
edit (one run of items inserted, removed or changed), but no moves.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from jsonpointer import JsonPointer, JsonPointerException

from decision_flows.domain.pipeline import facts as pipeline_facts
from decision_flows.domain.pipeline import is_v2, json_key

Patch = list[dict[str, Any]]


# Σ len(array)² over both configs' arrays: pairing one array with another costs the library at most
# about the product of their lengths. A million is ~0.1 s at worst (≈700 edges on each side).
PAIRING_BUDGET = 1_000_000


def json_patch(old: Any, new: Any) -> Patch:
    """An RFC 6902 patch that turns ``old`` into exactly ``new``."""
    if _pairing_work(old) + _pairing_work(new) > PAIRING_BUDGET:
        return list(_member_patch(old, new, []))
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
    return json_key(left) == json_key(right)


def _pairing_work(value: Any) -> int:
    """Σ len² over the arrays in ``value`` (iterative: a stored config nests at most 64 levels, but
    ``json_patch`` takes any JSON)."""
    work, pending = 0, [value]
    while pending:
        current = pending.pop()
        if isinstance(current, dict):
            pending.extend(current.values())
        elif isinstance(current, list):
            work += len(current) ** 2
            pending.extend(current)
    return work


def _member_patch(old: Any, new: Any, parts: list[str | int]) -> Iterator[dict[str, Any]]:
    if _containers_alike(old, new):
        yield from _container_patch(old, new, parts)
    elif not _same(old, new):
        yield {"op": "replace", "path": JsonPointer.from_parts(parts).path, "value": new}


def _containers_alike(old: Any, new: Any) -> bool:
    return (isinstance(old, dict) and isinstance(new, dict)) or (isinstance(old, list) and isinstance(new, list))


def _container_patch(old: Any, new: Any, parts: list[str | int]) -> Iterator[dict[str, Any]]:
    if isinstance(old, dict):
        for name in old:
            if name not in new:  # in the config's order, not a set's (which varies between processes)
                yield {"op": "remove", "path": JsonPointer.from_parts([*parts, name]).path}
        for name, value in new.items():
            if name not in old:
                yield {"op": "add", "path": JsonPointer.from_parts([*parts, name]).path, "value": value}
            else:
                yield from _member_patch(old[name], value, [*parts, name])
    else:
        yield from _array_patch(old, new, parts)


def _array_patch(old: list[Any], new: list[Any], parts: list[str | int]) -> Iterator[dict[str, Any]]:
    """Past the items both arrays start and end with, items pair up by position; the longer side's
    surplus is removed (from the last, so that no index shifts) or added."""
    old_keys, new_keys = [json_key(item) for item in old], [json_key(item) for item in new]
    start, shorter = 0, min(len(old), len(new))
    while start < shorter and old_keys[start] == new_keys[start]:
        start += 1
    end = 0
    while end < shorter - start and old_keys[-1 - end] == new_keys[-1 - end]:
        end += 1
    old_end, new_end = len(old) - end, len(new) - end
    paired = min(old_end, new_end) - start
    for index in range(start, start + paired):
        if old_keys[index] == new_keys[index]:
            continue
        if _containers_alike(old[index], new[index]):
            yield from _container_patch(old[index], new[index], [*parts, index])
        else:
            yield {"op": "replace", "path": JsonPointer.from_parts([*parts, index]).path, "value": new[index]}
    for index in reversed(range(start + paired, old_end)):
        yield {"op": "remove", "path": JsonPointer.from_parts([*parts, index]).path}
    for index in range(start + paired, new_end):
        yield {"op": "add", "path": JsonPointer.from_parts([*parts, index]).path, "value": new[index]}


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
    old_facts, new_facts = _facts(old), _facts(new)
    return Summary(
        format=(_format(old), _format(new)),
        nodes_added=[NodeChange(node_id, after[node_id]["type"]) for node_id in after if node_id not in before],
        nodes_removed=[NodeChange(node_id, before[node_id]["type"]) for node_id in before if node_id not in after],
        nodes_changed=[
            NodeChange(node_id, after[node_id]["type"], paths)
            for node_id in after
            if node_id in before and (paths := changed_paths(before[node_id], after[node_id]))
        ],
        # dicts as ordered sets: a membership test each, not a scan of the other list (H2: O(E²) before)
        edges_added=[edge for edge in new_edges if edge not in old_edges],
        edges_removed=[edge for edge in old_edges if edge not in new_edges],
        stages_added=[name for name in new_stages if name not in old_stages],
        stages_removed=[name for name in old_stages if name not in new_stages],
        stages_changed=[
            name for name in new_stages if name in old_stages and not _same(old_stages[name], new_stages[name])
        ],
        scoring_method=(old_facts[0], new_facts[0]),
        node_count=(old_facts[1], new_facts[1]),
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


def _edges(config: dict[str, Any] | None) -> dict[tuple[str, str], None]:
    """The distinct edges as (source, target), in the config's order."""
    if config is None or not is_v2(config):
        return {}
    return dict.fromkeys((edge["source"], edge["target"]) for edge in config.get("edges", []))


def _stages(config: dict[str, Any] | None) -> dict[str, Any]:
    stages = (config or {}).get("stages")
    return stages if isinstance(stages, dict) else {}


def _facts(config: dict[str, Any] | None) -> tuple[str | None, int | None]:
    if config is None:
        return None, None
    found = pipeline_facts(config)
    return found.scoring_method, found.node_count
