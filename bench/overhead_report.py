"""The overhead benchmark's results: the JSON payload from a run, and the Markdown from the payload.

Two verdicts per route, both against issue 8's goal of real ≤ 1.3 x baseline (ratio of medians):

- with the store: whole requests against the in-process moto store, as the issue specifies; this is
  the verdict the goal is judged by.
- without the store: each request's time less its store time, i.e. the handlers' code and the SDK
  only, as against a store that answered instantly. moto is slower than DynamoDB, so this is the
  verdict that shows what the service's code costs; it is reported beside the first, never in its place.
"""

from __future__ import annotations

import os
from typing import Any

from bench.inprocess_store import RATE_LIMIT_NO_RUN_REACHES
from bench.overhead_sampling import SIDES, RouteResult, Run, Side
from bench.report import markdown_table
from bench.stats import median, ms, percentile

GOAL = 1.3


def payload(run: Run) -> dict[str, Any]:
    routes = [route_json(result) for result in run.results]
    return {
        "goal_ratio": GOAL,
        "verdict": verdict(routes),
        "samples": run.samples,
        "warmup": run.warmup,
        "seconds": round(run.seconds, 1),
        "gc": "paused inside timed calls" if run.gc_paused else "as in production (seeded store frozen)",
        "log_lines_written": run.log_lines,
        "rate_limit_per_minute": int(RATE_LIMIT_NO_RUN_REACHES),
        "cpu_count": os.cpu_count(),
        "load_average_before": run.load_before,
        "load_average_after": run.load_after,
        "routes": routes,
    }


def route_json(result: RouteResult) -> dict[str, Any]:
    figures = {
        "ratio": round(result.ratio, 3),
        "meets_goal_with_store": result.ratio <= GOAL,
        "ratio_without_store": round(result.ratio_without_store, 3),
        "meets_goal_without_store": result.ratio_without_store <= GOAL,
        "paired_ratio": round(result.paired_ratio, 3),
        "added_ms": ms(median(result.real.total_ns) - median(result.baseline.total_ns)),
    }
    route = result.route
    return {
        "route": route.name,
        "request": {"method": route.method, "path": route.path, "query": route.query},
        "same_calls_and_answers": result.reported,
        "problems": result.problems,
        **(figures if result.reported else {}),
        "real": side_json(result.real),
        "baseline": side_json(result.baseline),
        **({"profiles": result.profiles} if result.profiles else {}),
    }


def side_json(side: Side) -> dict[str, Any]:
    """Medians of each part; p10 and p90 by nearest rank (bench/stats.py)."""
    return {
        "median_ms": ms(median(side.total_ns)),
        "p10_ms": ms(percentile(side.total_ns, 0.1)),
        "p90_ms": ms(percentile(side.total_ns, 0.9)),
        "store_median_ms": ms(median(side.store_ns)),
        "sdk_median_ms": ms(median(side.sdk_ns)),
        "code_median_ms": ms(median(side.code_ns())),
        "without_store_median_ms": ms(median(side.without_store_ns())),
        "statuses": sorted(set(side.observed.statuses)),
        "calls": side.observed.calls(),
    }


def verdict(routes: list[dict[str, Any]]) -> dict[str, Any]:
    reported = [route for route in routes if route["same_calls_and_answers"]]

    def failing(check: str) -> list[str]:
        return [route["route"] for route in reported if not route[check]]

    return {
        "judged_by": "with_store",
        "reported": len(reported),
        "fail_with_store": failing("meets_goal_with_store"),
        "fail_without_store": failing("meets_goal_without_store"),
        "not_reported": [route["route"] for route in routes if not route["same_calls_and_answers"]],
    }


def markdown(results: dict[str, Any]) -> str:
    goal = results["goal_ratio"]
    header = [
        "route",
        "DynamoDB calls",
        "real median (p90) ms",
        "baseline median (p90) ms",
        "real ÷ baseline",
        f"goal ≤ {goal} x with the store (issue 8's verdict)",
        "store (moto) ms",
        "SDK ms",
        "real code ms",
        "baseline code ms",
        "real ÷ baseline without the store",
        f"≤ {goal} x without the store",
    ]
    rows = [_row(route) for route in results["routes"]]
    load_before, load_after = results["load_average_before"][0], results["load_average_after"][0]
    caption = (
        f"**Per-request overhead** (`python -m bench.overhead`, {results['seconds']:.0f} s): each route's real "
        f"`lambda_handler` against a hand-written boto3 handler (bench/baseline/) that makes the same DynamoDB calls "
        f"and gives the same answers (checked on every sample: each call's request and response, the Lambda "
        f"response; only what a request generates from the clock is masked: a write's timestamps, the rate "
        f"limit's minute), alternating, in one process on one in-process moto store; {results['samples']} samples "
        f"per side after {results['warmup']} warm-up, medians (p90 by nearest rank). Store = moto's own work, "
        f"SDK = the rest of the botocore calls, code = the handler's own time (medians of each part); *without the "
        f"store* = each request's time less its store time, as against a store that answered instantly. Garbage "
        f"collection {results['gc']}; logging as in production (INFO, {results['log_lines_written']} lines "
        f"written); rate limit on, at {results['rate_limit_per_minute']:,} a minute so that every request still "
        f"makes its UpdateItem and none is refused. Load average {load_before:.1f} before, {load_after:.1f} after "
        f"({results['cpu_count']} cores)."
    )
    table = markdown_table(header, rows)
    return caption + "\n\n" + table + "\n\n" + summary(results) + _profile_markdown(results["routes"])


def summary(results: dict[str, Any]) -> str:
    """One line under the table: both verdicts, naming every route that fails either, and any refused."""
    goal, found, routes = results["goal_ratio"], results["verdict"], results["routes"]
    with_store = _failures(found["fail_with_store"], {route["route"]: route.get("ratio") for route in routes})
    without_store = _failures(
        found["fail_without_store"], {route["route"]: route.get("ratio_without_store") for route in routes}
    )
    line = (
        f"**Verdict** (goal ≤ {goal} x, {found['reported']} routes reported): with the store, as issue 8 judges "
        f"it, {with_store}. Without the store (code and SDK only), {without_store}."
    )
    if found["not_reported"]:
        line += f" Not reported (calls or answers differ): {', '.join(found['not_reported'])}."
    return line


def _failures(failing: list[str], ratios: dict[str, float]) -> str:
    if not failing:
        return "every one passes"
    return f"{len(failing)} fail: " + ", ".join(f"{name} ({ratios[name]:.2f} x)" for name in failing)


def _row(route: dict[str, Any]) -> list[str]:
    if not route["same_calls_and_answers"]:
        return [route["route"], "**not reported**: " + "; ".join(route["problems"]), *[""] * 10]
    real, floor = route["real"], route["baseline"]
    return [
        route["route"],
        " + ".join(real["calls"]),
        f"{real['median_ms']:.2f} ({real['p90_ms']:.2f})",
        f"{floor['median_ms']:.2f} ({floor['p90_ms']:.2f})",
        f"{route['ratio']:.2f}",
        _pass(route["meets_goal_with_store"]),
        f"{real['store_median_ms']:.2f}",
        f"{real['sdk_median_ms']:.2f}",
        f"{real['code_median_ms']:.2f}",
        f"{floor['code_median_ms']:.2f}",
        f"{route['ratio_without_store']:.2f}",
        _pass(route["meets_goal_without_store"]),
    ]


def _pass(meets: bool) -> str:
    return "pass" if meets else "**fail**"


def _profile_markdown(routes: list[dict[str, Any]]) -> str:
    """Where the real handler's extra time goes, from the profiles against an instant store."""
    profiled = [route for route in routes if route.get("profiles")]
    if not profiled:
        return ""
    rows = []
    for route in profiled:
        real, floor = (route["profiles"][side]["own_ms_by_area"] for side in SIDES)
        extra = {area: real.get(area, 0) - floor.get(area, 0) for area in real.keys() | floor.keys()}
        largest = sorted((item for item in extra.items() if item[1] > 0), key=lambda item: -item[1])[:4]
        rows.append(
            [
                route["route"],
                f"{sum(real.values()):.2f}",
                f"{sum(floor.values()):.2f}",
                ", ".join(f"{area} +{ms_:.2f}" for area, ms_ in largest),
            ]
        )
    caption = (
        f"**Where the real handlers' extra time goes**: cProfile of {profiled[0]['profiles']['real']['rounds']} "
        "requests per side with the store answering instantly (each call's recorded answer replayed before "
        "botocore sends it), own time per request by area; cProfile inflates code made of many small calls."
    )
    header = ["route", "real ms", "baseline ms", "largest differences, ms"]
    return "\n\n" + caption + "\n\n" + markdown_table(header, rows)
