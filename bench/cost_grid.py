"""Measuring every route's DynamoDB cost at one history length and config size (a cell of the grid).

Each cell gets fresh stores, so nothing of one cell weighs on the next. Reads are measured first;
writes (publish, rollback, draft update) run inside ``Store.restored``, so each repetition finds
the flow exactly as long as the cell says. Each route is sent ``repeats`` times for its bytes and
once more, asking for consumed capacity, for what the endpoint reports. The meter's estimate of
the units DynamoDB would charge (bench/dynamo_meter.py) is taken from the first repetition.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from bench.cost_store import Store, moto_store, sized_config
from bench.dynamo_meter import Call, Cost, Estimate, only
from decision_flows.settings import settings
from decision_flows_local.gateway import HttpResponse

SUBJECT_KEY = "subject"
# A rollback needs a published version other than the live one: at history 1 it is measured at 2.
SHORTEST_ROLLBACK_HISTORY = 2
# Few flows: moto answers a query of the list index by scanning the whole table, long histories included.
LIST_FLOWS = 5
LIST_PAGES = {"GET list (limit=1)": {"limit": "1"}, "GET list (limit=5)": {"limit": "5"}}
HISTORY_PAGE = 25  # the default limit of GET /history
VERSION_PAGES = {
    "GET versions (limit=50)": {"limit": "50"},
    "GET versions (default 100)": {},
    "GET versions (limit=1000)": {"limit": "1000"},
}


def not_counted_tables() -> set[str]:
    """Idempotency records and rate-limit counters cost the same whatever the route: reported apart."""
    return {settings().idempotency_table, settings().rate_limit_table}


@dataclass(frozen=True)
class RouteCost:
    """One route's cost per request in one cell: medians over the repetitions."""

    round_trips: int
    operations: list[str]
    request_bytes: int
    response_bytes: int
    total_bytes: int
    samples: list[int]  # request + response bytes of each repetition
    # (operation, units) as the endpoint reported them when asked; None where it reported nothing.
    capacity: list[tuple[str, float | None]]
    history: int  # the history length measured at (differs from the cell's only for rollback at 1)
    page_items: int | None = None
    # (operation, units) DynamoDB would charge by its rules from the items' sizes: an estimate, not measured.
    estimated: list[tuple[str, Estimate | None]] = field(default_factory=list)

    @property
    def stable(self) -> bool:
        return len(set(self.samples)) == 1

    @property
    def capacity_units(self) -> float | None:
        """What was reported, summed; None when no call of the route reported anything."""
        reported = [units for _, units in self.capacity if units is not None]
        return sum(reported) if reported else None

    @property
    def capacity_not_reported(self) -> list[str]:
        return [operation for operation, units in self.capacity if units is None]

    @property
    def estimate(self) -> Estimate | None:
        """The estimated units of the route's own calls; None when a call was not estimated."""
        if not self.estimated or any(units is None for _, units in self.estimated):
            return None
        return sum((units for _, units in self.estimated if units), Estimate())


@dataclass
class Cell:
    history: int
    config_bytes: int
    routes: dict[str, RouteCost] = field(default_factory=dict)
    # Calls on the idempotency and rate-limit tables, by what caused them.
    not_counted: dict[str, list[Call]] = field(default_factory=dict)
    seconds: float = 0.0


Prepare = Callable[[], AbstractContextManager[Any]]


def measure(
    store: Store,
    send: Callable[[], HttpResponse],
    repeats: int,
    history: int,
    prepare: Prepare = nullcontext,
    page: Callable[[Any], int] | None = None,
) -> tuple[RouteCost, list[Call]]:
    """The route's cost, and every call of its first repetition (for the tables not counted)."""
    runs: list[Cost] = []
    first_calls: list[Call] = []
    for attempt in range(repeats + 1):
        asking_capacity = attempt == repeats
        with prepare():
            response, calls = store.meter.record(send, capacity=asking_capacity)
        assert 200 <= response.status < 300, (response.status, response.body)
        first_calls = first_calls or calls
        runs.append(only(calls, not_counted_tables(), inside=False))
    plain, with_capacity = runs[:-1], runs[-1]
    if len({tuple(run.operations) for run in runs}) != 1:
        raise AssertionError(f"the calls changed between repetitions: {[run.operations for run in runs]}")
    cost = RouteCost(
        round_trips=plain[0].round_trips,
        operations=plain[0].operations,
        request_bytes=int(statistics.median(run.request_bytes for run in plain)),
        response_bytes=int(statistics.median(run.response_bytes for run in plain)),
        total_bytes=int(statistics.median(run.total_bytes for run in plain)),
        samples=[run.total_bytes for run in plain],
        capacity=[(call.operation, call.capacity_units) for call in with_capacity.calls],
        history=history,
        page_items=page(response.body) if page else None,
        estimated=[(call.operation, call.estimate) for call in plain[0].calls],
    )
    return cost, first_calls


def measure_cell(history: int, size: int, repeats: int, with_idempotency: bool) -> Cell:
    started = time.perf_counter()
    cell = Cell(history, size)
    with moto_store() as store:
        measure_single_flow_routes(store, cell, repeats, with_idempotency)
    with moto_store() as store:
        measure_list_routes(store, cell, repeats)
    cell.seconds = round(time.perf_counter() - started, 1)
    return cell


def measure_single_flow_routes(store: Store, cell: Cell, repeats: int, with_idempotency: bool) -> None:
    api, n = store.api, cell.history
    flow_id = store.flow_with_history(SUBJECT_KEY, n, cell.config_bytes)
    rollback_history = max(n, SHORTEST_ROLLBACK_HISTORY)
    rollback_flow = (
        flow_id if n == rollback_history else store.flow_with_history("rollback", rollback_history, cell.config_bytes)
    )
    draft = {"id": flow_id, "draftConfig": _next_draft(cell.config_bytes)}

    def record(
        name: str,
        send: Callable[[], HttpResponse],
        prepare: Prepare = nullcontext,
        page: Callable[[Any], int] | None = None,
        at_history: int = n,
    ) -> None:
        cell.routes[name], calls = measure(store, send, repeats, at_history, prepare, page)
        rate_limit_table = {settings().rate_limit_table}
        cell.not_counted.setdefault("rate limit (every request)", [c for c in calls if c.tables & rate_limit_table])

    def versions_page(body: Any) -> int:
        return len(body["versions"])

    def restored() -> AbstractContextManager[None]:
        return store.restored(flow_id)

    record("GET flow", partial(api.get, id=flow_id))
    record("GET version (v1)", partial(api.get, "/versions", id=flow_id, version="1"))
    record("GET version (latest)", partial(api.get, "/versions", id=flow_id, version=str(n)))
    for name, query in VERSION_PAGES.items():
        record(name, partial(api.get, "/versions", id=flow_id, **query), page=versions_page)
    record("GET history", partial(api.history, flow_id), page=data_page)
    record("GET live (miss)", partial(api.live, SUBJECT_KEY), prepare=partial(store.live_entry_forgotten, SUBJECT_KEY))
    record("GET live (cached)", partial(api.live, SUBJECT_KEY))
    record("PUT draft", partial(api.update, **draft), prepare=restored)
    record("POST publish", partial(api.publish, id=flow_id, notes="bench"), prepare=restored)
    record(
        "POST rollback",
        partial(api.rollback, id=rollback_flow, version=1, notes="bench"),
        prepare=partial(store.restored, rollback_flow),
        at_history=rollback_history,
    )
    if with_idempotency:
        cell.not_counted.update(idempotency_calls(store, flow_id))


def idempotency_calls(store: Store, flow_id: str) -> dict[str, list[Call]]:
    """The idempotency table's calls for a publish with an Idempotency-Key, and for its replay."""

    def publish() -> HttpResponse:
        headers = {"Idempotency-Key": "bench-publish"}
        return store.api.request("POST", "/publish", body={"id": flow_id, "notes": "bench"}, headers=headers)

    idempotency_table = {settings().idempotency_table}
    with store.restored(flow_id):
        first, first_calls = store.meter.record(publish)
        replay, replay_calls = store.meter.record(publish)
    assert (first.status, replay.status) == (200, 200)
    return {
        "idempotency (first request)": [c for c in first_calls if c.tables & idempotency_table],
        "idempotency (replay)": [c for c in replay_calls if c.tables & idempotency_table],
    }


def measure_list_routes(store: Store, cell: Cell, repeats: int) -> None:
    """A page of flows that all have the cell's history: created first (each a small transaction),
    then given their versions directly, so no transaction ever copies the long histories."""
    flow_ids = [store.new_flow(f"listed-{i}", _next_draft(cell.config_bytes)) for i in range(LIST_FLOWS)]
    for flow_id in flow_ids:
        store.flow_with_seeded_history(flow_id, cell.history, cell.config_bytes)
    for name, query in LIST_PAGES.items():
        cell.routes[name], _ = measure(store, partial(store.api.get, **query), repeats, cell.history, page=data_page)


def data_page(body: Any) -> int:
    return len(body["data"])


def _next_draft(size: int) -> dict[str, Any]:
    return sized_config(size, "next")


def measure_grid(
    lengths: tuple[int, ...],
    sizes: tuple[int, ...],
    repeats: int,
    idempotency_at: int,
    report: Callable[[str], None] = lambda _: None,
) -> list[Cell]:
    cells = []
    for size in sizes:
        for history in lengths:
            cells.append(measure_cell(history, size, repeats, with_idempotency=history == idempotency_at))
            report(f"{history} versions x {size // 1024} KB: {cells[-1].seconds} s")
    return cells
