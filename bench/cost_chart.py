"""The chart of the DynamoDB cost benchmark: bytes per request against history length (top row, log
scales), and for the goal routes the ratio of bytes at each history length to bytes at the smallest
(bottom row, linear, with the goal's 1.05 drawn), where the log scale would hide a 1.06 or a 1.9."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from matplotlib.axes import Axes
from matplotlib.figure import Figure

from bench.cost_report import GOAL_RATIO, GOAL_ROUTES, OTHER_ROUTES

CHARTED_ROUTES = (*GOAL_ROUTES, *OTHER_ROUTES, "GET history", "GET versions (default 100)", "GET list (limit=5)")
MARKERS = "osD^v<>phX*P"
# tab10 and one more: eleven routes, no two of one colour.
COLOURS = [f"C{i}" for i in range(10)] + ["black"]


def draw(results: dict[str, Any], path: Path) -> None:
    """One column per config size: bytes per request (log) against versions (log) above, and below the
    goal routes' bytes at each history length divided by their bytes at the smallest one."""
    lengths = results["grid"]["history_lengths"]
    sizes = results["grid"]["config_bytes"]
    figure = Figure(figsize=(5.2 * len(sizes), 11.5), layout="constrained")
    panels = figure.subplots(2, len(sizes), sharex=True, squeeze=False, height_ratios=(1.15, 1))
    for column, size in enumerate(sizes):
        cells = {c["history"]: c["routes"] for c in results["cells"] if c["config_bytes"] == size}
        bytes_panel(panels[0][column], cells, lengths, size)
        ratio_panel(panels[1][column], cells, lengths, size)
    panels[0][0].set_ylabel("DynamoDB request + response bytes per request")
    panels[1][0].set_ylabel(f"request + response bytes ÷ the same at {lengths[0]:,} version(s)")
    handles, labels = panels[0][0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="outside lower center", ncol=4, fontsize="small")
    figure.suptitle(
        "DynamoDB bytes per request against history length (the route's own calls)\n"
        "top: solid, routes with the ≤ 1.05 goal; dashed, the others (pages fill up to their limit, then stay flat)\n"
        f"bottom: goal routes, bytes ÷ bytes at the smallest history (each panel its own linear scale); "
        f"above the red line ({GOAL_RATIO}) fails\n"
        "(the tables judge request and response bytes apart, so their ratio can be a little higher)"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)


def line_style(route: str) -> dict[str, Any]:
    index = CHARTED_ROUTES.index(route)
    return {
        "marker": MARKERS[index % len(MARKERS)],
        "color": COLOURS[index % len(COLOURS)],
        "linestyle": "-" if route in GOAL_ROUTES else "--",
        "label": route,
    }


def label_final_ratios(panel: Axes, finals: dict[str, float], top: int) -> None:
    """The ratio at the longest history, for each route above 1.01 (routes on one value share a label);
    a label too close to the one above it goes under its line. Call after the panel's limits are set."""
    shown: dict[str, list[str]] = {}
    for route, ratio in sorted(finals.items(), key=lambda item: -item[1]):
        if ratio > 1.01:
            shown.setdefault(f"{ratio:.3f}", []).append(route)
    low, high = panel.get_ylim()
    above: float | None = None
    for text, routes in shown.items():
        value = float(text)
        crowded = above is not None and above - value < 0.05 * (high - low)
        panel.annotate(
            text,
            (top, value),
            textcoords="offset points",
            xytext=(-6, -13 if crowded else 5),
            ha="right",
            fontsize="small",
            fontweight="bold",
            color=line_style(routes[0])["color"] if len(routes) == 1 else "dimgray",
        )
        above = value


def measured_at(cells: dict[int, Any], route: str, lengths: list[int]) -> list[int]:
    return [cells[n][route]["history"] for n in lengths]  # a rollback at 1 is measured at 2


def bytes_panel(panel: Axes, cells: dict[int, Any], lengths: list[int], size: int) -> None:
    for route in CHARTED_ROUTES:
        totals = [cells[n][route]["total_bytes"] for n in lengths]
        panel.plot(measured_at(cells, route, lengths), totals, **line_style(route))
    panel.set_xscale("log")
    panel.set_yscale("log")
    panel.set_title(f"config {size // 1024} KB")
    panel.grid(True, which="major", alpha=0.3)


def ratio_panel(panel: Axes, cells: dict[int, Any], lengths: list[int], size: int) -> None:
    finals: dict[str, float] = {}
    for route in GOAL_ROUTES:
        totals = [cells[n][route]["total_bytes"] for n in lengths]
        ratios = [total / totals[0] for total in totals]
        panel.plot(measured_at(cells, route, lengths), ratios, **line_style(route))
        finals[route] = ratios[-1]
    highest, lowest = max(finals.values()), min(finals.values())
    panel.set_ylim(min(0.99, lowest - 0.01), max(GOAL_RATIO + 0.03, highest + (highest - 1) * 0.08))
    label_final_ratios(panel, finals, lengths[-1])
    panel.axhline(GOAL_RATIO, color="red", linewidth=1.2, linestyle=":")
    panel.text(lengths[0], GOAL_RATIO, f" goal ≤ {GOAL_RATIO}", color="red", va="bottom", fontsize="small")
    panel.set_xscale("log")
    panel.set_xticks(lengths, [f"{n:,}" for n in lengths])
    panel.set_xlabel("versions in the flow's history")
    panel.set_title(f"config {size // 1024} KB: goal routes, bytes ÷ bytes at {lengths[0]:,}", fontsize="medium")
    panel.grid(True, which="major", alpha=0.3)
