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
