"""Sample pipeline configs for local runs, benchmarks and tests: valid v1 and v2 configs that differ by a label."""

from __future__ import annotations

from typing import Any


def v2_config(label: str = "base", method: str = "propensity", extra_nodes: int = 0) -> dict[str, Any]:
    nodes: list[dict[str, Any]] = [
        {"id": "source", "type": "candidate_source", "config": {"catalog": label}},
        {"id": "score", "type": "score", "config": {"method": method, "modelKey": f"model-{label}"}},
        {"id": "rank", "type": "rank", "config": {"top": 5}},
    ]
    nodes += [{"id": f"enrich-{i}", "type": "enrich", "data": {"field": f"f{i}"}} for i in range(extra_nodes)]
    edges = [{"source": "source", "target": "score"}, {"source": "score", "target": "rank"}]
    return {"version": 2, "nodes": nodes, "edges": edges}


def v1_config(method: str = "scorecard") -> dict[str, Any]:
    return {"stages": {"qualification": {"rules": []}, "scoring": {"method": method}, "ranking": {"top": 3}}}


def config_of_size(target_bytes: int) -> dict[str, Any]:
    """A valid v2 config whose canonical JSON is about ``target_bytes`` long."""
    config = v2_config()
    padding = max(0, target_bytes - 400)
    config["nodes"][0]["config"]["padding"] = "x" * padding
    return config


def edge_heavy_config(edges: int, parity: int = 0, nodes: int = 200) -> dict[str, Any]:
    """A valid DAG of ``nodes`` nodes and ``edges`` distinct edges i → j (i < j, i + j of ``parity``), the
    security review's H2 shape: the two parities share no edge, so a diff of 0 against 1 adds and removes
    every one. 200 nodes hold 9 900 edges of a parity; about 9 700 fill the 300 KB limit."""
    pairs = [(i, j) for i in range(nodes) for j in range(i + 1, nodes) if (i + j) % 2 == parity]
    if edges > len(pairs):
        raise ValueError(f"{nodes} nodes hold {len(pairs)} edges of parity {parity}, not {edges}")
    config_nodes: list[dict[str, Any]] = [{"id": str(i), "type": "enrich"} for i in range(nodes)]
    config_nodes[0] = {"id": "0", "type": "candidate_source"}
    config_nodes[1] = {"id": "1", "type": "score", "config": {"method": "propensity"}}
    edge_list = [{"source": str(i), "target": str(j)} for i, j in pairs[:edges]]
    return {"version": 2, "nodes": config_nodes, "edges": edge_list}
