"""The throughput benchmark's results: the JSON payload from its cells' figures, and the Markdown
from the payload (so a saved payload renders the same table)."""

from __future__ import annotations

import os
from typing import Any

from bench.report import markdown_table

MIX_NAMES = {"read": "read: GET flow, list, versions, version", "write": "write: PUT draft, POST publish"}


def payload(
    cells: list[dict[str, Any]],
    seconds_per_cell: float,
    run_seconds: float,
    *,
    seeded: dict[str, int],
    server_env: dict[str, str],
) -> dict[str, Any]:
    """``cells``: each cell's figures (``Cell.to_json()``); ``seeded``: flows and versions_each."""
    return {
        "seconds_per_cell": seconds_per_cell,
        "run_seconds": round(run_seconds, 1),
        "cpu_count": os.cpu_count(),
        "server_env": server_env,
        "seeded": seeded,
        "cells": cells,
    }


def markdown(results: dict[str, Any]) -> str:
    header = [
        "mix",
        "clients",
        "requests/s",
        "1st → 2nd half",
        "p50 ms",
        "p99 ms",
        "requests",
        "unexpected",
        "409",
        "server CPU",
        "clients CPU",
        "load avg",
    ]
    rows = [_row(cell) for cell in results["cells"]]
    flows, versions = results["seeded"]["flows"], results["seeded"]["versions_each"]
    environment = ", ".join(f"{name}={value}" for name, value in results["server_env"].items())
    caption = (
        f"**Local server throughput** (`python -m bench.throughput`, {results['run_seconds']:.0f} s): `make serve`'s "
        f"server (embedded moto, one lock around every request, stream consumer in-process) with closed-loop "
        f"clients, one keep-alive connection each, {results['seconds_per_cell']:g} s per row; {flows} flows of "
        f"{versions} versions seeded, client i on flow i mod {flows}; the write mix on a fresh server per row. "
        f"{environment} (0: rate limit off). p50 and p99 by nearest rank; unexpected = answers neither 2xx nor "
        f"409, and requests with no answer. The machine has {results['cpu_count']} cores, shared by the server "
        f"and the client threads (CPU: % of one core); load avg is the 1-minute load after the row, about 1.1 "
        f"from this benchmark alone, more when other work shared the machine."
    )
    return caption + "\n\n" + markdown_table(header, rows)


def _row(cell: dict[str, Any]) -> list[Any]:
    first, second = cell["requests_per_second_by_half"]
    return [
        MIX_NAMES.get(cell["mix"], cell["mix"]),
        cell["concurrency"],
        f"{cell['requests_per_second']:.1f}",
        f"{first:.1f} → {second:.1f}",
        f"{cell['p50_ms']:.1f}",
        f"{cell['p99_ms']:.1f}",
        cell["requests"],
        f"**{cell['unexpected']}**" if cell["unexpected"] else 0,
        cell["conflicts_409"],
        _cpu(cell["server_cpu_percent"]),
        _cpu(cell["client_cpu_percent"]),
        f"{cell['load_average_1min_after']:.1f}",
    ]


def _cpu(percent: float | None) -> str:
    return "n/a" if percent is None else f"{percent:.0f}%"
