"""DynamoDB cost per route against a flow's history length and config size (issue 8).

Every route is driven through the real handlers (decision_flows_local.gateway) against an
in-process moto DynamoDB built from template.yaml. botocore's events on the service's client give,
per request: the calls (round trips and operations), request and response bytes, the consumed
capacity the endpoint reports when asked (moto's are fixed placeholders), and an estimate of the
capacity units DynamoDB would charge, by its documented rules, from the sizes of the items each call
reads or writes (bench/dynamo_meter.py). Each route's figures are its own calls: every request also
makes the rate-limit UpdateItem (and a write with an Idempotency-Key the idempotency calls), reported
apart. Long histories are written directly (see
decision_flows_local/history_seed.py), writes are undone after each measurement, so every figure is taken at
exactly the history length of its cell. Writes bench/results/dynamodb_cost.json and .md and
bench/results/cost_vs_history.png.

    python -m bench.dynamodb_cost            # 1, 100, 1 000, 10 000 versions x 2, 50, 250 KB
    python -m bench.dynamodb_cost --quick    # a smoke run (1, 100, 300 versions x 2, 50 KB), printed only
    python -m bench.dynamodb_cost --render   # the Markdown and the chart again from the saved JSON
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from bench import report
from bench.cost_chart import draw
from bench.cost_grid import Cell, measure_grid
from bench.cost_markdown import markdown
from bench.cost_report import payload
from bench.support import environment, fake_aws_environment

HISTORY_LENGTHS = (1, 100, 1_000, 10_000)
CONFIG_BYTES = (2 * 1024, 50 * 1024, 250 * 1024)
QUICK_HISTORY_LENGTHS = (1, 100, 300)
QUICK_CONFIG_BYTES = (2 * 1024, 50 * 1024)
REPEATS = 3
# Idempotency records are measured once per config size, at this history length (or the first).
IDEMPOTENCY_AT = 100
NAME = "dynamodb_cost"
CHART = report.RESULTS / "cost_vs_history.png"
METHOD = (
    "Real handlers against in-process moto (tables from template.yaml); per request, botocore's "
    "request-created and after-call events on the service's client count the calls and the bytes of "
    "their HTTP bodies; a separate repetition adds ReturnConsumedCapacity=TOTAL to every data operation "
    "and reads ConsumedCapacity from the parsed response (moto's figures are fixed placeholders); the "
    "estimated read and write units apply DynamoDB's documented rules to the sizes of the items each call "
    "reads or writes, read from moto's tables before and after the call (a Query's from its response). "
    "Histories are written as the access layer "
    "writes them; the live version is published through the API; writes are undone after each "
    "measurement so that every repetition meets the same history. One moto check is corrected for the run: "
    "moto 5.2 refuses an update that replaces a large attribute by counting the old and the new value "
    "together, where DynamoDB sizes the item the update leaves (replacing a 250 KB draft is refused)."
)


def store_description() -> str:
    from importlib.metadata import version

    return f"moto {version('moto')} in-process, botocore {version('botocore')}"


def measure(
    lengths: tuple[int, ...], sizes: tuple[int, ...], repeats: int = REPEATS, progress: bool = False
) -> dict[str, Any]:
    """The whole grid, as the JSON payload. Needs bench.support's fake AWS environment (tests/conftest.py
    sets the same)."""
    started = time.perf_counter()
    idempotency_at = IDEMPOTENCY_AT if IDEMPOTENCY_AT in lengths else lengths[0]
    cells: list[Cell] = measure_grid(lengths, sizes, repeats, idempotency_at, report=print if progress else _quiet)
    return payload(cells, repeats, time.perf_counter() - started, store_description(), METHOD)


def _quiet(_: str) -> None:
    pass


def render() -> None:
    """bench/results/dynamodb_cost.md and the chart, made again from the saved JSON (left as it is)."""
    results = json.loads((report.RESULTS / f"{NAME}.json").read_text())
    text = markdown(results)
    (report.RESULTS / f"{NAME}.md").write_text(text.rstrip() + "\n")
    draw(results, CHART)
    print(text)
    print(f"chart: {CHART.relative_to(report.ROOT)}")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="a smoke run on a small grid")
    mode.add_argument("--render", action="store_true", help="the Markdown and the chart from the saved JSON")
    parser.add_argument("--repeats", type=int, default=REPEATS)
    options = parser.parse_args(argv)
    if options.render:
        render()
        return 0
    lengths, sizes = (QUICK_HISTORY_LENGTHS, QUICK_CONFIG_BYTES) if options.quick else (HISTORY_LENGTHS, CONFIG_BYTES)
    with environment(fake_aws_environment()):
        results = measure(lengths, sizes, options.repeats, progress=True)
    if options.quick:  # a smoke run leaves the last full run's results in place
        print(markdown(results))
        return 0
    report.write(NAME, results, markdown(results))
    draw(results, CHART)
    print(f"chart: {CHART.relative_to(report.ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
