"""The Markdown of the DynamoDB cost benchmark, made from its JSON payload alone."""

from __future__ import annotations

from typing import Any

from bench.cost_grid import LIST_FLOWS
from bench.cost_report import FIGURE_NAMES, GOAL_RATIO
from bench.report import markdown_table

# Only the route's own calls: every request also makes the rate-limit call (see shared_calls_line).
OWN_ROUND_TRIPS = "route's own round trips"


def number(value: int) -> str:
    return f"{value:,}".replace(",", "\u2009")


def kb(size: int) -> str:
    return f"{size // 1024} KB"


def markdown(results: dict[str, Any]) -> str:
    lengths = results["grid"]["history_lengths"]
    sizes = results["grid"]["config_bytes"]
    top = lengths[-1]
    parts = [
        f"**DynamoDB cost per request** ({results['store']}; round trips and request + response bytes of the "
        f"route's own calls, median of {results['grid']['repeats']}, without the rate-limit and idempotency "
        f"calls every route shares; goal: publish, rollback, GET flow and GET version cost the same at "
        f"{number(top)} versions as at 1, ratio ≤ {GOAL_RATIO})",
        goal_table(results, lengths),
        shared_calls_line(results),
        goal_summary(results, top),
        "Other routes, bytes at each config size (each route's own round trips are the same in every cell):",
        other_table(results, lengths, sizes),
        f"Pages (at {kb(sizes[0])} configs; list pages are of {LIST_FLOWS} flows that all have the cell's history):",
        page_table(results, lengths),
        page_summary(results),
        *estimate_parts(results, lengths, sizes),
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
    header = ["route", "config", OWN_ROUND_TRIPS, *(f"bytes at {number(n)}" for n in lengths)]
    header += [f"{number(top)} ÷ {number(base)}" for base in bases]
    rows = [
        [row["route"], kb(row["config_bytes"]), row["round_trips"], *bytes_cells(row, lengths)]
        + [ratio_cell(row["against"].get(str(base))) for base in bases]
        for row in results["goals"]["rows"]
    ]
    return markdown_table(header, rows)


def shared_calls_line(results: dict[str, Any]) -> str:
    """What every request adds to the route's own calls: the tables count only the latter."""
    shared = results["not_counted"]
    rate_limit = shared.get("rate limit (every request)")
    if rate_limit is None:
        return "The round trips and bytes above are the route's own calls only."
    added = len(rate_limit["operations"])
    line = (
        f"**Every request also makes the rate-limit {' + '.join(rate_limit['operations'])}** "
        f"({added} more round trip{'s' if added > 1 else ''}, {calls_bytes(rate_limit)}"
        f"{estimate_suffix(rate_limit)}), which is not in the tables"
    )
    own = {row["route"]: row["round_trips"] for row in results["goals"]["rows"]}
    if "GET flow" in own:
        line += f": GET flow is {own['GET flow'] + added} round trips in all, not {own['GET flow']}"
    first = shared.get("idempotency (first request)")
    if first:
        figures = next(iter(first.values()))
        line += (
            f"; the first write with an Idempotency-Key also makes {' + '.join(figures['operations'])} on the "
            f"idempotency table ({len(figures['operations'])} more round trips, {calls_bytes(figures)})"
        )
    return line + "."


def estimate_suffix(figures: dict[str, Any]) -> str:
    estimated = figures.get("estimated") or {}
    if estimated.get("read_units") is None:
        return ""
    return f", est. {units_text(estimated['read_units'], estimated['write_units'])}"


def units_text(read: float | None, write: float | None) -> str:
    if read is None or write is None:
        return "—"
    parts = [f"{read:g} R"] if read or not write else []
    return " + ".join(parts + ([f"{write:g} W"] if write else []))


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
    header = ["route", OWN_ROUND_TRIPS, *(f"{kb(size)}: at 1 → {number(top)}" for size in sizes)]
    rows = []
    for route, by_size in rows_by_route.items():
        cells = [" → ".join(number(by_size[size]["total_bytes"][str(n)]) for n in (lengths[0], top)) for size in sizes]
        rows.append([route, by_size[sizes[0]]["round_trips"], *cells])
    return markdown_table(header, rows)


def page_table(results: dict[str, Any], lengths: list[int]) -> str:
    sizes = results["grid"]["config_bytes"]
    header = ["page", OWN_ROUND_TRIPS, *(f"at {number(n)}: items, bytes" for n in lengths), "at other config sizes"]
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
    if uneven:
        flat_line = f"**Not flat**: {', '.join(uneven)}"
    elif measured:
        flat_line = (
            "A page of the same items costs the same at every history of 20 versions or more, at every config "
            f"size (largest spread {max(row['same_items_spread'] for row in measured)})"
        )
    else:
        flat_line = (
            "Not checked whether a page of the same items costs the same at every history: it needs two "
            "history lengths of 20 versions or more whose pages hold as many items, and this grid has none"
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


def estimate_parts(results: dict[str, Any], lengths: list[int], sizes: list[int]) -> list[str]:
    """The estimated capacity units per request: a table of R(ead) and W(rite) units at 1 → top."""
    estimated = results.get("estimated_capacity")
    if not estimated:
        return [
            "Estimated capacity units: not in these results (saved before the estimate was added; the next "
            "full run of `python -m bench.dynamodb_cost` records them)."
        ]
    top = lengths[-1]
    by_route: dict[str, dict[int, dict[str, Any]]] = {}
    for row in estimated["rows"]:
        by_route.setdefault(row["route"], {})[row["config_bytes"]] = row
    header = ["route", *(f"{kb(size)}: at {number(lengths[0])} → {number(top)}" for size in sizes)]
    rows = [
        [route]
        + [
            " → ".join(
                units_text(by_size[size]["read_units"][str(n)], by_size[size]["write_units"][str(n)])
                for n in (lengths[0], top)
            )
            for size in sizes
        ]
        for route, by_size in by_route.items()
    ]
    return [
        f"**Estimated** capacity units per request, the route's own calls (R read, W write units; "
        f"{estimated['rules']}; moto reports no real figure):",
        markdown_table(header, rows),
    ]


def capacity_line(results: dict[str, Any]) -> str:
    reported = results["capacity"]["reported_units_by_operation"]
    shown = ", ".join(f"{op} {'/'.join(f'{u:g}' for u in units)}" for op, units in reported.items())
    missing = ", ".join(results["capacity"]["not_reported"]) or "none"
    verdicts = (
        "the verdicts use the estimate above instead"
        if results.get("estimated_capacity")
        else "so the verdicts rest on bytes and round trips"
    )
    return (
        f"Consumed capacity as moto reports it (`ReturnConsumedCapacity=TOTAL`): fixed figures that do not depend "
        f"on item size ({shown}; BatchGetItem counts 1 per key) and **not reported** for {missing}; they are "
        f"not DynamoDB's read and write units, {verdicts}."
    )


def not_counted_line(results: dict[str, Any]) -> str:
    parts = []
    for label, figures in results["not_counted"].items():
        if "operations" in figures:
            parts.append(
                f"{label}: {' + '.join(figures['operations'])}, {calls_bytes(figures)}{estimate_suffix(figures)}"
            )
        else:
            per_size = ", ".join(f"{kb(int(size))} {calls_bytes(f)}{estimate_suffix(f)}" for size, f in figures.items())
            operations = " + ".join(next(iter(figures.values()))["operations"])
            parts.append(f"{label}: {operations}, {per_size}")
    return "Not in the figures above (the calls every route shares): " + "; ".join(parts) + "."


def calls_bytes(figures: dict[str, Any]) -> str:
    return f"{number(figures['request_bytes'] + figures['response_bytes'])} bytes"
