"""Pipeline configs built for a test's size or shape, beyond decision_flows_local.fixtures.samples."""

from __future__ import annotations

import json


def many_nodes(prefix: str) -> str:
    """A config of about 300 KB: 4 000 nodes, whose ids all start with ``prefix``."""
    nodes = [{"id": f"{prefix}{i:05d}", "type": "enrich", "config": {"p": "x" * 22}} for i in range(4000)]
    config = json.dumps({"version": 2, "nodes": nodes, "edges": []}, separators=(",", ":"))
    assert 290 * 1024 < len(config) <= 300 * 1024
    return config
