"""Sampling the overhead: every route's real handler and its floor, alternating, on one store.

Both sides run in one process against one in-process moto store (bench/inprocess_store.py),
alternating (ABAB, the first of each pair swapped every round); each write is put back untimed, so
every sample meets the same store. Every sample's DynamoDB calls and answer are written down after
its clock stopped, and bench/overhead_compare.py decides whether the route may be reported.
"""

from __future__ import annotations

import copy
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bench.baseline import wire as baseline_wire
from bench.dynamodb_probe import DynamoDBProbe
from bench.handler_profile import profile_without_store
from bench.inprocess_store import TENANT, Checkpoint, Seeded, in_process_store, seed
from bench.overhead_compare import ClockMasks, Observed, differences, exchange
from bench.overhead_process import collections_paused, frozen_heap, silenced_logs
from bench.overhead_routes import Handler, Route, routes
from bench.stats import median
from decision_flows_local import gateway

SIDES = ("real", "baseline")
CALLER = gateway.Caller(TENANT, "admin", "admin@a.example")


@dataclass
class Side:
    """One side's samples of one route: times once warmed up, calls and answers of every sample."""

    total_ns: list[int] = field(default_factory=list)
    store_ns: list[int] = field(default_factory=list)
    sdk_ns: list[int] = field(default_factory=list)
    observed: Observed = field(default_factory=Observed)

    def keep(self, probe: DynamoDBProbe, elapsed_ns: int | None) -> None:
        if elapsed_ns is not None:
            self.total_ns.append(elapsed_ns)
            self.store_ns.append(probe.store_ns())
            self.sdk_ns.append(probe.sdk_ns())

    def without_store_ns(self) -> list[int]:
        """Each sample's time less the store's: what it would take against a store answering instantly."""
        return [total - store for total, store in zip(self.total_ns, self.store_ns, strict=True)]

    def code_ns(self) -> list[int]:
        """Each sample's time in the handler's own code: neither the store nor the SDK."""
        return [rest - sdk for rest, sdk in zip(self.without_store_ns(), self.sdk_ns, strict=True)]


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
        """Issue 8's measure: real ÷ baseline, medians of whole requests, the store included."""
        return median(self.real.total_ns) / median(self.baseline.total_ns)

    @property
    def ratio_without_store(self) -> float:
        """The ratio against a store that answered in no time: the handlers' code and the SDK only."""
        return median(self.real.without_store_ns()) / median(self.baseline.without_store_ns())

    @property
    def paired_ratio(self) -> float:
        """The median of each round's real ÷ baseline: robust to load that drifts during the run."""
        return median([r / b for r, b in zip(self.real.total_ns, self.baseline.total_ns, strict=True)])


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


def measure(
    samples: int,
    warmup: int,
    *,
    gc_paused: bool = False,
    profile_rounds: int = 0,
    chosen: Callable[[Seeded], list[Route]] = routes,
) -> Run:
    """Seed a store, then sample every route ``chosen`` names on the seeded flow; with
    ``profile_rounds``, also profile each side's own time against an instant store."""
    started, load_before = time.perf_counter(), os.getloadavg()
    baseline_wire.client.cache_clear()  # a client of an earlier run would belong to that run's store
    with in_process_store() as service_client, silenced_logs() as log_sink:
        flow = seed(service_client, CALLER)
        probe = DynamoDBProbe()
        probe.attach(service_client)
        probe.attach(baseline_wire.client())
        # The flow's partition and the tenant's counters: all that the measured writes touch.
        checkpoint = Checkpoint(
            _plain_client(), os.environ["TABLE_NAME"], [f"T#{TENANT}#F#{flow.flow_id}", f"T#{TENANT}"]
        )
        checkpoint.take()
        with frozen_heap():
            results = [_measure_route(route, samples, warmup, probe, checkpoint, gc_paused) for route in chosen(flow)]
        # After every measurement: the profiles' hooks must not weigh on any timed call.
        for result in results if profile_rounds else []:
            clients = {"real": service_client, "baseline": baseline_wire.client()}
            result.profiles = _profile_both(result.route, checkpoint, clients, profile_rounds)
    seconds = time.perf_counter() - started
    return Run(samples, warmup, gc_paused, results, seconds, log_sink.lines, load_before, os.getloadavg())


def _plain_client() -> Any:
    """A client of neither side, to put the store back: its calls are neither recorded nor timed."""
    import boto3

    return boto3.client("dynamodb")


def _measure_route(
    route: Route, samples: int, warmup: int, probe: DynamoDBProbe, checkpoint: Checkpoint, gc_paused: bool
) -> RouteResult:
    event = route.event(CALLER)
    handlers: dict[str, Handler] = {"real": route.real_handler(), "baseline": route.baseline}
    sides = {name: Side() for name in SIDES}
    masks = ClockMasks(since=time.time())
    for round_ in range(warmup + samples):
        for name in SIDES if round_ % 2 == 0 else SIDES[::-1]:
            request = copy.deepcopy(event)  # a handler may annotate its event: each sample gets a fresh one
            context = gateway.LambdaContext()
            probe.reset()
            with collections_paused(gc_paused):
                begun = time.perf_counter_ns()
                response = handlers[name](request, context)
                elapsed = time.perf_counter_ns() - begun
            if route.writes:
                checkpoint.restore()
            sides[name].keep(probe, elapsed if round_ >= warmup else None)
            sides[name].observed.add(exchange(probe.calls, response, masks, generates=route.writes))
    real, floor = sides["real"], sides["baseline"]
    return RouteResult(route, real, floor, differences(real.observed, floor.observed))


def _profile_both(route: Route, checkpoint: Checkpoint, clients: dict[str, Any], rounds: int) -> dict[str, Any]:
    """Each side's own time by area, the store answering instantly (cProfile inflates small calls)."""
    handlers: dict[str, Handler] = {"real": route.real_handler(), "baseline": route.baseline}
    profiles = {}
    for name in SIDES:

        def handle(event: dict[str, Any], handler: Handler = handlers[name]) -> None:
            handler(event, gateway.LambdaContext())

        profiles[name] = profile_without_store(clients[name], handle, route.event(CALLER), rounds)
        checkpoint.restore()  # the one recorded request was real
    return profiles
