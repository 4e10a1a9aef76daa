"""What the service's code costs per request: the real handlers against a hand-written floor.

For each route a user calls most, the API Gateway payload-2.0 event is built once, as the local
gateway builds it after the authorizer ran, and handed to the function's ``lambda_handler``; the
floor (bench/baseline_handlers.py) gets the same event and makes exactly the same DynamoDB calls
with a plain boto3 client. Both run in one process against one in-process moto store, alternating
(ABAB, the first of each pair swapped every round), each write put back untimed so that every
sample meets the same store (bench/inprocess_store.py). A route is reported only when both sides
made the same DynamoDB calls and answered 200 with bodies of the same shape. Goal: real at most 1.3
times the baseline (ratio of medians). Writes bench/results/overhead.json and .md.

    python -m bench.overhead [--samples 200] [--warmup 20] [--profile-rounds 100] [--quick] [--gc-paused]
"""

from __future__ import annotations

import argparse
import copy
import gc
import io
import json
import logging
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from bench import baseline_handlers as baseline
from bench.dynamodb_probe import DynamoDBProbe, Signature
from bench.handler_profile import profile_without_store
from bench.inprocess_store import RATE_LIMIT_NO_RUN_REACHES, TENANT, Checkpoint, Seeded, in_process_store, seed
from bench.report import markdown_table, write
from bench.stats import median, ms, percentile
from decision_flows_local import gateway, template
from tests.support.configs import v2_config

GOAL = 1.3
BASE = "/api/v1/decision-flows"
SIDES = ("real", "baseline")
PROFILE_ROUNDS = 100
Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


@dataclass(frozen=True)
class Route:
    name: str
    method: str
    path: str
    baseline: Handler
    query: dict[str, str] | None = None
    body: dict[str, Any] | None = None

    @property
    def writes(self) -> bool:
        return self.method != "GET"

    def event(self, caller: gateway.Caller) -> dict[str, Any]:
        """The event API Gateway sends once the authorizer has admitted ``caller``."""
        return gateway.build_event(self.method, self.path, caller=caller, query=self.query, body=self.body)

    def real_handler(self) -> Handler:
        handler: Handler = template.handler(gateway.function_for(self.method, self.path))
        return handler


def routes(flow: Seeded) -> list[Route]:
    """The routes a user calls most, each with the one request its samples repeat."""
    flow_id = flow.flow_id
    edited = v2_config("edited", extra_nodes=8)
    return [
        Route("GET one flow", "GET", BASE, baseline.get_flow, {"id": flow_id}),
        Route("GET list", "GET", BASE, baseline.list_flows),
        Route(
            "GET versions (page of 20)",
            "GET",
            f"{BASE}/versions",
            baseline.list_versions,
            {"id": flow_id, "limit": "20"},
        ),
        Route("GET one version", "GET", f"{BASE}/versions", baseline.get_version, {"id": flow_id, "version": "12"}),
        Route("GET history", "GET", f"{BASE}/history", baseline.history, {"id": flow_id}),
        Route("GET live", "GET", f"{BASE}/live", baseline.live, {"key": flow.key}),
        Route("PUT update draft", "PUT", BASE, baseline.update_draft, body={"id": flow_id, "draftConfig": edited}),
        # Publishing an unchanged draft is allowed: every sample publishes the same draft as the next version.
        Route("POST publish", "POST", f"{BASE}/publish", baseline.publish, body={"id": flow_id, "notes": "bench"}),
        # Version 1 is never the live one here, so no sample is refused as ALREADY_ACTIVE.
        Route("POST rollback", "POST", f"{BASE}/rollback", baseline.rollback, body={"id": flow_id, "version": 1}),
    ]


@dataclass
class Side:
    """One side's samples of one route."""

    total_ns: list[int] = field(default_factory=list)
    store_ns: list[int] = field(default_factory=list)
    sdk_ns: list[int] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    call_sequences: set[tuple[Signature, ...]] = field(default_factory=set)
    calls: list[str] = field(default_factory=list)
    bodies: list[Any] = field(default_factory=list)
    header_names: set[tuple[str, ...]] = field(default_factory=set)

    def keep(self, response: dict[str, Any], probe: DynamoDBProbe, elapsed_ns: int | None) -> None:
        """Record what every sample answered and called; its times only once warmed up (``elapsed_ns``)."""
        self.statuses.append(response["statusCode"])
        self.call_sequences.add(tuple(probe.signatures()))
        self.calls = [call.describe() for call in probe.calls]
        self.bodies.append(json.loads(response.get("body") or "null"))
        self.header_names.add(tuple(sorted(name.lower() for name in response.get("headers", {}))))
        if elapsed_ns is not None:
            self.total_ns.append(elapsed_ns)
            self.store_ns.append(probe.store_ns())
            self.sdk_ns.append(probe.sdk_ns())

    def without_store_ns(self) -> list[int]:
        return [total - store for total, store in zip(self.total_ns, self.store_ns, strict=True)]

    def summary(self) -> dict[str, Any]:
        code_ns = [rest - sdk for rest, sdk in zip(self.without_store_ns(), self.sdk_ns, strict=True)]
        return {
            "median_ms": ms(median(self.total_ns)),
            "p10_ms": ms(percentile(self.total_ns, 0.1)),
            "p90_ms": ms(percentile(self.total_ns, 0.9)),
            "store_median_ms": ms(median(self.store_ns)),
            "sdk_median_ms": ms(median(self.sdk_ns)),
            "code_median_ms": ms(median(code_ns)),
            "statuses": sorted(set(self.statuses)),
            "calls": self.calls,
        }


@dataclass
class RouteResult:
    route: Route
    real: Side
    baseline: Side
    problems: list[str]
    profiles: dict[str, Any] = field(default_factory=dict)

    @property
    def reported(self) -> bool:
        return not self.problems

    @property
    def ratio(self) -> float:
        return median(self.real.total_ns) / median(self.baseline.total_ns)

    @property
    def ratio_without_store(self) -> float:
        """What the ratio would be with a store that answered in no time: code and SDK only."""
        return median(self.real.without_store_ns()) / median(self.baseline.without_store_ns())

    @property
    def paired_ratio(self) -> float:
        """The median of each round's real ÷ baseline: robust to load that drifts during the run."""
        return median([r / b for r, b in zip(self.real.total_ns, self.baseline.total_ns, strict=True)])

    def to_json(self) -> dict[str, Any]:
        figures = {
            "ratio": round(self.ratio, 3),
            "meets_goal": self.ratio <= GOAL,
            "paired_ratio": round(self.paired_ratio, 3),
            "ratio_without_store": round(self.ratio_without_store, 3),
            "added_ms": ms(median(self.real.total_ns) - median(self.baseline.total_ns)),
        }
        return {
            "route": self.route.name,
            "request": {"method": self.route.method, "path": self.route.path, "query": self.route.query},
            "same_calls_and_answers": self.reported,
            "problems": self.problems,
            **(figures if self.reported else {}),
            "real": self.real.summary(),
            "baseline": self.baseline.summary(),
            **({"profiles": self.profiles} if self.profiles else {}),
        }


@dataclass
class Run:
    samples: int
    warmup: int
    gc_paused: bool
    results: list[RouteResult]
    seconds: float
    log_lines: int
    load_before: tuple[float, float, float]
    load_after: tuple[float, float, float]


def measure(samples: int, warmup: int, *, gc_paused: bool = False, profile_rounds: int = 0) -> Run:
    """Seed a store, then sample every route; with ``profile_rounds``, also profile each side's own
    time against an instant store (bench/handler_profile.py)."""
    started, load_before = time.perf_counter(), os.getloadavg()
    caller = gateway.Caller(TENANT, "admin", "admin@a.example")
    baseline.client.cache_clear()  # a client of an earlier run would belong to that run's store
    with in_process_store() as service_client, silenced_logs() as log_sink:
        flow = seed(service_client, caller)
        probe = DynamoDBProbe()
        probe.attach(service_client)
        probe.attach(baseline.client())
        # The flow's partition and the tenant's counters: all that the measured writes touch.
        checkpoint = Checkpoint(
            _plain_client(), os.environ["TABLE_NAME"], [f"T#{TENANT}#F#{flow.flow_id}", f"T#{TENANT}"]
        )
        checkpoint.take()
        with _frozen_heap():
            results = [
                _measure_route(route, caller, samples, warmup, probe, checkpoint, gc_paused) for route in routes(flow)
            ]
        # After every measurement: the profiles' hooks must not weigh on any timed call.
        for result in results if profile_rounds else []:
            clients = {"real": service_client, "baseline": baseline.client()}
            result.profiles = _profile_both(result.route, caller, checkpoint, clients, profile_rounds)
    seconds = time.perf_counter() - started
    return Run(samples, warmup, gc_paused, results, seconds, log_sink.lines, load_before, os.getloadavg())


def _plain_client() -> Any:
    """A client of neither side, to put the store back: its calls are neither recorded nor timed."""
    import boto3

    return boto3.client("dynamodb")


def _measure_route(
    route: Route,
    caller: gateway.Caller,
    samples: int,
    warmup: int,
    probe: DynamoDBProbe,
    checkpoint: Checkpoint,
    gc_paused: bool,
) -> RouteResult:
    event = route.event(caller)
    handlers = {"real": route.real_handler(), "baseline": route.baseline}
    sides = {name: Side() for name in SIDES}
    for round_ in range(warmup + samples):
        for name in SIDES if round_ % 2 == 0 else SIDES[::-1]:
            request = copy.deepcopy(event)  # a handler may annotate its event: each sample gets a fresh one
            context = gateway.LambdaContext()
            probe.reset()
            with _collections_paused(gc_paused):
                begun = time.perf_counter_ns()
                response = handlers[name](request, context)
                elapsed = time.perf_counter_ns() - begun
            if route.writes:
                checkpoint.restore()
            sides[name].keep(response, probe, elapsed if round_ >= warmup else None)
    return RouteResult(route, sides["real"], sides["baseline"], differences(sides["real"], sides["baseline"]))


def differences(real: Side, floor: Side) -> list[str]:
    """Why the two sides are not comparable (empty when they are)."""
    problems = []
    if len(real.call_sequences) != 1 or real.call_sequences != floor.call_sequences:
        problems.append(f"DynamoDB calls differ: real {real.calls}, baseline {floor.calls}")
    if set(real.statuses) != {200} or set(floor.statuses) != {200}:
        problems.append(f"statuses: real {sorted(set(real.statuses))}, baseline {sorted(set(floor.statuses))}")
    shapes = {json.dumps(shape(body)) for body in real.bodies + floor.bodies}
    if len(shapes) != 1 or real.header_names != floor.header_names:
        problems.append("the answers differ in shape")
    return problems


def shape(value: Any) -> Any:
    """A JSON value's structure: keys and value types, not values."""
    if isinstance(value, dict):
        return {name: shape(element) for name, element in value.items()}
    if isinstance(value, list):
        return [shape(element) for element in value]
    return type(value).__name__


def _profile_both(
    route: Route, caller: gateway.Caller, checkpoint: Checkpoint, clients: dict[str, Any], rounds: int
) -> dict[str, Any]:
    """Each side's own time by area, the store answering instantly (cProfile inflates small calls)."""
    handlers = {"real": route.real_handler(), "baseline": route.baseline}
    profiles = {}
    for name in SIDES:

        def handle(event: dict[str, Any], handler: Handler = handlers[name]) -> None:
            handler(event, gateway.LambdaContext())

        profiles[name] = profile_without_store(clients[name], handle, route.event(caller), rounds)
        checkpoint.restore()  # the one recorded request was real
    return profiles


# Garbage collection and logging


@contextmanager
def _frozen_heap() -> Iterator[None]:
    """Move everything allocated so far (the store and its seeded items, the imported code) out of
    the collector's way, as a Lambda process carries no such heap."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


@contextmanager
def _collections_paused(paused: bool) -> Iterator[None]:
    """With ``paused``, no collection inside a timed call; the ones it defers run in the next gap."""
    if not paused:
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


class CountingSink(io.TextIOBase):
    """Where the handlers' log lines go: counted, then dropped."""

    def __init__(self) -> None:
        self.lines = 0

    def write(self, text: str) -> int:
        self.lines += text.count("\n")
        return len(text)


@contextmanager
def silenced_logs() -> Iterator[CountingSink]:
    """Keep the production logging (Powertools Logger at the template's LOG_LEVEL, INFO), writing to
    a sink that counts lines: at INFO these routes log nothing when they succeed, so the baseline
    logs nothing either, and the count shows it."""
    from decision_flows.observability import logger

    handler = logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    sink = CountingSink()
    previous = handler.setStream(sink)
    try:
        yield sink
    finally:
        handler.setStream(previous)


# Reporting


def markdown(run: Run) -> str:
    header = [
        "route",
        "DynamoDB calls",
        "real median (p90) ms",
        "baseline median (p90) ms",
        "real ÷ baseline",
        f"goal ≤ {GOAL} x",
        "store (moto) ms",
        "SDK ms",
        "real code ms",
        "baseline code ms",
        "ratio without the store",
    ]
    rows = [_row(result) for result in run.results]
    gc_note = "paused inside timed calls" if run.gc_paused else "as in production"
    caption = (
        f"**Per-request overhead** (`python -m bench.overhead`, {run.seconds:.0f} s): each route's real "
        f"`lambda_handler` against a hand-written boto3 handler that makes the same DynamoDB calls (checked call "
        f"by call), alternating, in one process on one in-process moto store; {run.samples} samples per side "
        f"after {run.warmup} warm-up, medians (p90). Store = moto's own work, SDK = the rest of the botocore "
        f"calls, code = the handler's own time (medians of each part). Garbage collection {gc_note}; logging as "
        f"in production (INFO, {run.log_lines} lines written); rate limit on, at {int(RATE_LIMIT_NO_RUN_REACHES):,} "
        f"a minute so that every request still makes its UpdateItem and none is refused. "
        f"Load average {run.load_before[0]:.1f} before, {run.load_after[0]:.1f} after (2 cores)."
    )
    return caption + "\n\n" + markdown_table(header, rows) + _profile_markdown(run)


def _profile_markdown(run: Run) -> str:
    """Where the real handler's extra time goes, from the profiles against an instant store."""
    profiled = [result for result in run.results if result.profiles]
    if not profiled:
        return ""
    rows = []
    for result in profiled:
        real, floor = (result.profiles[side]["own_ms_by_area"] for side in SIDES)
        extra = {area: real.get(area, 0) - floor.get(area, 0) for area in real.keys() | floor.keys()}
        largest = sorted((item for item in extra.items() if item[1] > 0), key=lambda item: -item[1])[:4]
        rows.append(
            [
                result.route.name,
                f"{sum(real.values()):.2f}",
                f"{sum(floor.values()):.2f}",
                ", ".join(f"{area} +{ms_:.2f}" for area, ms_ in largest),
            ]
        )
    caption = (
        f"**Where the real handlers' extra time goes**: cProfile of {profiled[0].profiles['real']['rounds']} "
        "requests per side with the store answering instantly (each call's recorded answer replayed before "
        "botocore sends it), own time per request by area; cProfile inflates code made of many small calls."
    )
    header = ["route", "real ms", "baseline ms", "largest differences, ms"]
    return "\n\n" + caption + "\n\n" + markdown_table(header, rows)


def _row(result: RouteResult) -> list[str]:
    if not result.reported:
        return [result.route.name, "not reported: " + "; ".join(result.problems), *[""] * 9]
    real, floor = result.real.summary(), result.baseline.summary()
    return [
        result.route.name,
        " + ".join(real["calls"]),
        f"{real['median_ms']:.2f} ({real['p90_ms']:.2f})",
        f"{floor['median_ms']:.2f} ({floor['p90_ms']:.2f})",
        f"{result.ratio:.2f}",
        "pass" if result.ratio <= GOAL else "**fail**",
        f"{real['store_median_ms']:.2f}",
        f"{real['sdk_median_ms']:.2f}",
        f"{real['code_median_ms']:.2f}",
        f"{floor['code_median_ms']:.2f}",
        f"{result.ratio_without_store:.2f}",
    ]


def payload(run: Run) -> dict[str, Any]:
    return {
        "goal_ratio": GOAL,
        "samples": run.samples,
        "warmup": run.warmup,
        "seconds": round(run.seconds, 1),
        "gc": "paused inside timed calls" if run.gc_paused else "as in production (seeded store frozen)",
        "log_lines_written": run.log_lines,
        "rate_limit_per_minute": int(RATE_LIMIT_NO_RUN_REACHES),
        "load_average_before": run.load_before,
        "load_average_after": run.load_after,
        "routes": [result.to_json() for result in run.results],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.overhead", description="Per-request overhead.")
    parser.add_argument("--samples", type=int, default=200, help="samples per side and route (default 200)")
    parser.add_argument("--warmup", type=int, default=20, help="rounds run before sampling (default 20)")
    parser.add_argument(
        "--quick", action="store_true", help="a smoke run: 15 samples after 3 warm-up rounds, 10 profiled"
    )
    parser.add_argument("--gc-paused", action="store_true", help="no garbage collection inside a timed call")
    parser.add_argument(
        "--profile-rounds",
        type=int,
        default=PROFILE_ROUNDS,
        help=f"requests cProfiled per side and route against an instant store (default {PROFILE_ROUNDS}; 0: none)",
    )
    args = parser.parse_args(argv)
    samples, warmup, rounds = (15, 3, 10) if args.quick else (args.samples, args.warmup, args.profile_rounds)
    run = measure(samples, warmup, gc_paused=args.gc_paused, profile_rounds=rounds)
    write("overhead", payload(run), markdown(run))
    return 0 if all(result.reported for result in run.results) else 1


if __name__ == "__main__":
    sys.exit(main())
