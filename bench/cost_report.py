"""Turning the grid's cells into the results: goal verdicts, page checks, capacity (as moto reports it,
and as estimated by DynamoDB's rules), and the Markdown.

The Markdown is made from the JSON payload alone, so it can be rebuilt from a saved run.
"""

from __future__ import annotations

import itertools
from dataclasses import asdict
from typing import Any

from bench.cost_grid import HISTORY_PAGE, LIST_PAGES, VERSION_PAGES, Cell, RouteCost
from bench.dynamo_meter import Call, Estimate
from decision_flows.models.flow import PUBLISHED_VERSIONS_ON_FLOW

GOAL_RATIO = 1.05
GOAL_ROUTES = ("GET flow", "GET version (v1)", "GET version (latest)", "POST publish", "POST rollback")
OTHER_ROUTES = ("PUT draft", "GET live (cached)", "GET live (miss)")
PAGE_LIMITS = {"GET versions (limit=50)": 50, "GET versions (default 100)": 100, "GET versions (limit=1000)": 1000}
PAGE_LIMITS |= {"GET history": HISTORY_PAGE} | {name: int(query["limit"]) for name, query in LIST_PAGES.items()}
PAGE_FAMILIES = {"versions": list(VERSION_PAGES), "list": list(LIST_PAGES)}
# The figures a verdict compares. moto's reported capacity is a fixed placeholder, so the verdicts use
# the estimate of what DynamoDB would charge instead (a figure that is 0 at the base is left out).
FIGURES = ("round_trips", "request_bytes", "response_bytes", "estimated_read_units", "estimated_write_units")
FIGURE_NAMES = {
    "round_trips": "round trips",
    "request_bytes": "request bytes",
    "response_bytes": "response bytes",
    "estimated_read_units": "estimated read units",
    "estimated_write_units": "estimated write units",
    "capacity_units": "reported capacity",  # in results saved before the estimate
}


def route_json(cost: RouteCost) -> dict[str, Any]:
    figures = asdict(cost)
    figures["capacity"] = [{"operation": op, "units": units} for op, units in cost.capacity]
    figures["estimated"] = [estimate_json(units) | {"operation": op} for op, units in cost.estimated]
    figures |= {
        "stable": cost.stable,
        "capacity_units": cost.capacity_units,
        "capacity_not_reported": cost.capacity_not_reported,
    }
    return figures | {f"estimated_{name}": units for name, units in estimate_json(cost.estimate).items()}


def estimate_json(estimate: Estimate | None) -> dict[str, float | None]:
    if estimate is None:
        return {"read_units": None, "write_units": None}
    return {"read_units": estimate.read_units, "write_units": estimate.write_units}


def calls_json(calls: list[Call]) -> dict[str, Any]:
    estimates = [call.estimate for call in calls]
    total = None if None in estimates else sum((e for e in estimates if e), Estimate())
    return {
        "operations": [call.operation for call in calls],
        "request_bytes": sum(call.request_bytes for call in calls),
        "response_bytes": sum(call.response_bytes for call in calls),
        "estimated": estimate_json(total),
    }


def payload(cells: list[Cell], repeats: int, run_seconds: float, store: str, method: str) -> dict[str, Any]:
    lengths = sorted({cell.history for cell in cells})
    sizes = sorted({cell.config_bytes for cell in cells})
    cells_json: list[dict[str, Any]] = [
        {
            "history": cell.history,
            "config_bytes": cell.config_bytes,
            "seconds": cell.seconds,
            "routes": {name: route_json(cost) for name, cost in cell.routes.items()},
        }
        for cell in cells
    ]
    at = {(c["history"], c["config_bytes"], name): r for c in cells_json for name, r in c["routes"].items()}
    return {
        "method": method,
        "store": store,
        "grid": {"history_lengths": lengths, "config_bytes": sizes, "repeats": repeats},
        "run_seconds": round(run_seconds, 1),
        "goals": {
            "threshold": GOAL_RATIO,
            "rows": [ratios(at, route, size, lengths) for route in GOAL_ROUTES for size in sizes],
        },
        "other_routes": [ratios(at, route, size, lengths) for route in OTHER_ROUTES for size in sizes],
        "pages": pages(at, lengths, sizes),
        "capacity": capacity(cells_json),
        "estimated_capacity": estimated_capacity(at, lengths, sizes),
        "not_counted": not_counted(cells),
        "cells": cells_json,
    }


def ratios(at: dict[tuple[int, int, str], Any], route: str, size: int, lengths: list[int]) -> dict[str, Any]:
    """Each figure at the longest history divided by the same figure at 1 and at 100 versions."""
    top = lengths[-1]
    row: dict[str, Any] = {
        "route": route,
        "config_bytes": size,
        "round_trips": at[(top, size, route)]["round_trips"],
        "total_bytes": {str(n): at[(n, size, route)]["total_bytes"] for n in lengths},
        "measured_at": {str(n): at[(n, size, route)]["history"] for n in lengths},
        "against": {},
    }
    for base in sorted({lengths[0], 100} & set(lengths[:-1])):
        figures = {
            name: round(at[(top, size, route)][name] / at[(base, size, route)][name], 3)
            for name in FIGURES
            if at[(base, size, route)].get(name)
        }
        worst = max(figures, key=lambda name: figures[name])
        row["against"][str(base)] = {
            "ratios": figures,
            "worst": worst,
            "pass": figures[worst] <= GOAL_RATIO,
        }
    return row


def pages(at: dict[tuple[int, int, str], Any], lengths: list[int], sizes: list[int]) -> dict[str, Any]:
    """A page of the same items costs the same at every history that fills the flows' windows of
    recent summaries (20 versions), at every config size; a bigger page costs more.

    Shown at the smallest config size: moto applies a query's 1 MB page limit to the base table's
    items, so a page of the list index stops early when the flows' drafts are large, although the
    index holds no drafts (DynamoDB sizes the index's items). ``items_at_top`` shows where.
    """
    shown, top = sizes[0], lengths[-1]
    rows = []
    for route, limit in PAGE_LIMITS.items():
        spreads = [spread(at, route, size, lengths) for size in sizes]
        measured = [value for value in spreads if value is not None]
        rows.append(
            {
                "route": route,
                "limit": limit,
                "config_bytes": shown,
                "round_trips": at[(top, shown, route)]["round_trips"],
                "items": {str(n): at[(n, shown, route)]["page_items"] for n in lengths},
                "total_bytes": {str(n): at[(n, shown, route)]["total_bytes"] for n in lengths},
                "same_at_every_config_size": all(
                    at[(n, size, route)]["total_bytes"] == at[(n, shown, route)]["total_bytes"]
                    for n in lengths
                    for size in sizes
                ),
                "items_at_top": {str(size): at[(top, size, route)]["page_items"] for size in sizes},
                "same_items_spread": max(measured) if measured else None,
                "flat": bool(measured) and max(measured) <= GOAL_RATIO,
            }
        )
    growth = {}
    for family, routes in PAGE_FAMILIES.items():
        pages_at_top = [at[(top, shown, route)] for route in routes]
        grows = all(a["total_bytes"] < b["total_bytes"] for a, b in itertools.pairwise(pages_at_top))
        extra_items = pages_at_top[-1]["page_items"] - pages_at_top[0]["page_items"]
        extra_bytes = pages_at_top[-1]["total_bytes"] - pages_at_top[0]["total_bytes"]
        per_item = round(extra_bytes / extra_items) if extra_items else None
        growth[family] = {"grows_with_page": grows, "bytes_per_item": per_item}
    return {"rows": rows, "growth": growth}


def spread(at: dict[tuple[int, int, str], Any], route: str, size: int, lengths: list[int]) -> float | None:
    """The largest ratio between two histories (of 20 versions or more) whose pages hold as many items."""
    by_items: dict[int, list[int]] = {}
    for n in lengths:
        if n >= PUBLISHED_VERSIONS_ON_FLOW:
            by_items.setdefault(at[(n, size, route)]["page_items"], []).append(at[(n, size, route)]["total_bytes"])
    ratios = [max(totals) / min(totals) for totals in by_items.values() if len(totals) > 1]
    return round(max(ratios), 3) if ratios else None


def capacity(cells_json: list[dict[str, Any]]) -> dict[str, Any]:
    """What the endpoint reported per operation, over every request of the run."""
    seen: dict[str, set[float | None]] = {}
    for cell in cells_json:
        for route in cell["routes"].values():
            for entry in route["capacity"]:
                seen.setdefault(entry["operation"], set()).add(entry["units"])
    return {
        "reported_units_by_operation": {
            op: sorted(u for u in units if u is not None) for op, units in sorted(seen.items()) if units - {None}
        },
        "not_reported": sorted(op for op, units in seen.items() if units == {None}),
    }


ESTIMATE_RULES = (
    "an estimate, not measured: DynamoDB's documented rules applied to the sizes of the items each call "
    "reads or writes (attribute names + values, read from the store); reads in 4 KB units per item "
    "(eventually consistent half, transactional double; a Query's items together), writes in 1 KB units "
    "of the larger of the item before and after (transactional double; a ConditionCheck as a write); "
    "a Query's items are the ones it returns; write units on global secondary indexes are left out"
)


def estimated_capacity(at: dict[tuple[int, int, str], Any], lengths: list[int], sizes: list[int]) -> dict[str, Any]:
    """The estimated read and write units of each route's own calls, at every cell."""
    routes = list(dict.fromkeys(route for (_, _, route) in at))
    return {
        "rules": ESTIMATE_RULES,
        "rows": [
            {
                "route": route,
                "config_bytes": size,
                "read_units": {str(n): at[(n, size, route)]["estimated_read_units"] for n in lengths},
                "write_units": {str(n): at[(n, size, route)]["estimated_write_units"] for n in lengths},
            }
            for route in routes
            for size in sizes
        ],
    }


def not_counted(cells: list[Cell]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for cell in cells:
        for label, calls in cell.not_counted.items():
            if label.startswith("rate limit"):
                found.setdefault(label, calls_json(calls))
            else:
                found.setdefault(label, {})[str(cell.config_bytes)] = calls_json(calls) | {"history": cell.history}
    return found
