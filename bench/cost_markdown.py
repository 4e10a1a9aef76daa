"""The Markdown of the DynamoDB cost benchmark, made from its JSON payload alone."""

from __future__ import annotations

from typing import Any

from bench.cost_grid import LIST_FLOWS
from bench.cost_report import FIGURE_NAMES, GOAL_RATIO
from bench.report import markdown_table


def number(value: int) -> str:
    return f"{value:,}".replace(",", "\u2009")


def kb(size: int) -> str:
    return f"{size // 1024} KB"


def markdown(results: dict[str, Any]) -> str:
    lengths = results["grid"]["history_lengths"]
    sizes = results["grid"]["config_bytes"]
    top = lengths[-1]
    parts = [
        f"**DynamoDB cost per request** ({results['store']}; request + response bytes of the calls each "
        f"request makes, median of {results['grid']['repeats']}, idempotency and rate-limit records apart; "
        f"goal: publish, rollback, GET flow and GET version cost the same at {number(top)} versions as at 1, "
        f"ratio ≤ {GOAL_RATIO})",
        goal_table(results, lengths),
        goal_summary(results, top),
        "Other routes, bytes at each config size (each route's round trips are the same in every cell):",
        other_table(results, lengths, sizes),
        f"Pages (at {kb(sizes[0])} configs; list pages are of {LIST_FLOWS} flows that all have the cell's history):",
        page_table(results, lengths),
        page_summary(results),
        capacity_line(results),
        not_counted_line(results),
        f"Grid: {len(lengths)} history lengths by {len(sizes)} config sizes, {results['run_seconds']} s.",
    ]
    return "\n\n".join(parts)


def ratio_cell(verdict: dict[str, Any] | None) -> str:
    if verdict is None:
        return "—"
    worst = verdict["ratios"][verdict["worst"]]
    if verdict["pass"]:
        return f"{worst:.3f} pass"
    return f"{worst:.3f} **fail** ({FIGURE_NAMES[verdict['worst']]})"


def bytes_cells(row: dict[str, Any], lengths: list[int]) -> list[str]:
    cells = []
    for n in lengths:
        measured = row["measured_at"][str(n)]
        mark = f" (at {measured})" if measured != n else ""
        cells.append(number(row["total_bytes"][str(n)]) + mark)
    return cells


def goal_table(results: dict[str, Any], lengths: list[int]) -> str:
    top = lengths[-1]
    bases = [n for n in (lengths[0], 100) if n in lengths[:-1]]
    bases = sorted(set(bases))
    header = ["route", "config", "round trips", *(f"bytes at {number(n)}" for n in lengths)]
    header += [f"{number(top)} ÷ {number(base)}" for base in bases]
    rows = [
        [row["route"], kb(row["config_bytes"]), row["round_trips"], *bytes_cells(row, lengths)]
        + [ratio_cell(row["against"].get(str(base))) for base in bases]
        for row in results["goals"]["rows"]
    ]
    return markdown_table(header, rows)


def goal_summary(results: dict[str, Any], top: int) -> str:
    verdicts: dict[str, list[str]] = {}
    for row in results["goals"]["rows"]:
        for base, verdict in row["against"].items():
            if not verdict["pass"]:
                verdicts.setdefault(base, []).append(f"{row['route']} at {kb(row['config_bytes'])}")
    lines = []
    for base in sorted({b for row in results["goals"]["rows"] for b in row["against"]}, key=int):
        failed = verdicts.get(base, [])
        verdict = "**pass** everywhere" if not failed else f"**fail** for {', '.join(failed)}"
        lines.append(f"{number(top)} vs {number(int(base))} versions: {verdict}.")
    lines.append(
        "A rollback needs a published version other than the live one, so its first column is measured "
        "at 2 versions. Round trips never change with history. What does change between 1 and 20 versions is the flow "
        "record itself: the contract puts the latest 20 version summaries on it (`publishedVersions`), so "
        "reading or writing the flow carries up to 20 summaries more than at version 1; past 20 the window "
        "only slides. The smaller the config, the larger that bounded difference weighs in the ratio."
    )
    return " ".join(lines)


def other_table(results: dict[str, Any], lengths: list[int], sizes: list[int]) -> str:
    rows_by_route: dict[str, dict[int, dict[str, Any]]] = {}
    for row in results["other_routes"]:
        rows_by_route.setdefault(row["route"], {})[row["config_bytes"]] = row
    top = lengths[-1]
    header = ["route", "round trips", *(f"{kb(size)}: at 1 → {number(top)}" for size in sizes)]
    rows = []
    for route, by_size in rows_by_route.items():
        cells = [" → ".join(number(by_size[size]["total_bytes"][str(n)]) for n in (lengths[0], top)) for size in sizes]
        rows.append([route, by_size[sizes[0]]["round_trips"], *cells])
    return markdown_table(header, rows)


def page_table(results: dict[str, Any], lengths: list[int]) -> str:
    sizes = results["grid"]["config_bytes"]
    header = ["page", "round trips", *(f"at {number(n)}: items, bytes" for n in lengths), "at other config sizes"]
    rows = [
        [row["route"], row["round_trips"]]
        + [f"{row['items'][str(n)]}, {number(row['total_bytes'][str(n)])}" for n in lengths]
        + [other_sizes(row, sizes)]
        for row in results["pages"]["rows"]
    ]
    return markdown_table(header, rows)


def other_sizes(row: dict[str, Any], sizes: list[int]) -> str:
    if row["same_at_every_config_size"]:
        return "the same"
    items = " / ".join(str(row["items_at_top"][str(size)]) for size in sizes)
    return f"differs: {items} items at {' / '.join(kb(size) for size in sizes)}*"


def page_summary(results: dict[str, Any]) -> str:
    rows = results["pages"]["rows"]
    measured = [row for row in rows if row["same_items_spread"] is not None]
    uneven = [f"{row['route']} ({row['same_items_spread']})" for row in measured if not row["flat"]]
    flat_line = (
        "A page of the same items costs the same at every history of 20 versions or more, at every config size "
        f"(largest spread {max(row['same_items_spread'] for row in measured)})"
        if not uneven
        else f"**Not flat**: {', '.join(uneven)}"
    )
    growth = results["pages"]["growth"]
    grow_line = "; ".join(
        f"{family} pages grow with the page ({'yes' if g['grows_with_page'] else '**no**'}, "
        f"≈{number(g['bytes_per_item'] or 0)} bytes per item)"
        for family, g in growth.items()
    )
    note = ""
    if any(not row["same_at_every_config_size"] for row in rows):
        note = (
            " *moto stops a page of the list index at 1 MB of base-table items, drafts included, so with "
            "large drafts it returns fewer flows (with a cursor to the rest); the index holds no drafts, "
            "and DynamoDB counts the index's items, so it would return the whole page."
        )
    return f"{flat_line}; {grow_line}.{note}"


def capacity_line(results: dict[str, Any]) -> str:
    reported = results["capacity"]["reported_units_by_operation"]
    shown = ", ".join(f"{op} {'/'.join(f'{u:g}' for u in units)}" for op, units in reported.items())
    missing = ", ".join(results["capacity"]["not_reported"]) or "none"
    return (
        f"Consumed capacity (`ReturnConsumedCapacity=TOTAL`): moto reports fixed figures that do not depend "
        f"on item size ({shown}; BatchGetItem counts 1 per key) and **not reported** for {missing}; they are "
        "not DynamoDB's read and write units, so the verdicts rest on bytes and round trips."
    )


def not_counted_line(results: dict[str, Any]) -> str:
    parts = []
    for label, figures in results["not_counted"].items():
        if "operations" in figures:
            parts.append(f"{label}: {' + '.join(figures['operations'])}, {calls_bytes(figures)}")
        else:
            per_size = ", ".join(f"{kb(int(size))} {calls_bytes(f)}" for size, f in figures.items())
            operations = " + ".join(next(iter(figures.values()))["operations"])
            parts.append(f"{label}: {operations}, {per_size}")
    return "Not in the figures above: " + "; ".join(parts) + "."


def calls_bytes(figures: dict[str, Any]) -> str:
    return f"{number(figures['request_bytes'] + figures['response_bytes'])} bytes"
