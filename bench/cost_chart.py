"""The chart of the DynamoDB cost benchmark: bytes per request against history length."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

from bench.cost_report import GOAL_ROUTES, OTHER_ROUTES

CHARTED_ROUTES = (*GOAL_ROUTES, *OTHER_ROUTES, "GET history", "GET versions (default 100)", "GET list (limit=5)")
MARKERS = "osD^v<>phX*P"
# tab10 and one more: eleven routes, no two of one colour.
COLOURS = [f"C{i}" for i in range(10)] + ["black"]


def draw(results: dict[str, Any], path: Path) -> None:
    """One panel per config size: request + response bytes per request (log) against versions (log)."""
    lengths = results["grid"]["history_lengths"]
    sizes = results["grid"]["config_bytes"]
    figure = Figure(figsize=(5.2 * len(sizes), 6.4), layout="constrained")
    panels = figure.subplots(1, len(sizes), sharex=True, squeeze=False)[0]
    for panel, size in zip(panels, sizes, strict=True):
        cells = {c["history"]: c["routes"] for c in results["cells"] if c["config_bytes"] == size}
        for index, route in enumerate(CHARTED_ROUTES):
            panel.plot(
                [cells[n][route]["history"] for n in lengths],  # a rollback at 1 is measured at 2
                [cells[n][route]["total_bytes"] for n in lengths],
                marker=MARKERS[index % len(MARKERS)],
                color=COLOURS[index % len(COLOURS)],
                linestyle="-" if route in GOAL_ROUTES else "--",
                label=route,
            )
        panel.set_xscale("log")
        panel.set_yscale("log")
        panel.set_xticks(lengths, [f"{n:,}" for n in lengths])
        panel.set_title(f"config {size // 1024} KB")
        panel.set_xlabel("versions in the flow's history")
        panel.grid(True, which="major", alpha=0.3)
    panels[0].set_ylabel("DynamoDB request + response bytes per request")
    handles, labels = panels[0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="outside lower center", ncol=4, fontsize="small")
    figure.suptitle(
        "DynamoDB bytes per request against history length\n"
        "solid: routes with the ≤ 1.05 goal; dashed: the others (pages fill up to their limit, then stay flat)"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
