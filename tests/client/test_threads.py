"""One client shared by many threads: one refresh per key at a time; threads with a state answer from
memory meanwhile, threads with nothing wait for the refresh in flight instead of starting another."""

from __future__ import annotations

import threading
from collections.abc import Callable

from decision_flows_client import Decision, LiveClient
from tests.client.conftest import MAX_AGE
from tests.client.fake_service import FakeClock, FakeLiveService, state_answer
from tests.support.waiting import eventually

THREADS = 16


def run_in_threads(call: Callable[[], Decision]) -> tuple[list[threading.Thread], list[Decision]]:
    decisions: list[Decision] = []
    threads = [threading.Thread(target=lambda: decisions.append(call())) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    return threads, decisions


def test_threads_with_nothing_for_a_key_wait_for_the_one_refresh_in_flight(
    service: FakeLiveService, make_client: Callable[..., LiveClient]
) -> None:
    # Given a slow service (it holds every request until the test opens it)
    service.publish(state_answer("offers", 3, challenger=4, percent=30))
    client = make_client()
    service.open.clear()

    # When 16 threads ask for a key the client has never read
    threads, decisions = run_in_threads(lambda: client.get("offers", "customer-1"))
    assert service.arrived.wait(timeout=5)
    service.open.set()
    for thread in threads:
        thread.join(timeout=5)

    # Then one request answered them all
    assert len(service.requests_for("offers")) == 1
    assert len(decisions) == THREADS
    assert all(decision is decisions[0] for decision in decisions)


def test_threads_answer_from_memory_while_one_refreshes(
    service: FakeLiveService, make_client: Callable[..., LiveClient], clock: FakeClock
) -> None:
    # Given a client holding version 3, due for refresh, and a slow service now serving version 4
    service.publish(state_answer("offers", 3))
    client = make_client()
    client.get("offers")
    service.publish(state_answer("offers", 4))
    service.arrived.clear()
    service.open.clear()
    clock.advance(MAX_AGE + 1)

    # When 16 threads ask while the refresh is held
    threads, decisions = run_in_threads(lambda: client.get("offers"))
    assert service.arrived.wait(timeout=5)
    assert eventually(lambda: len(decisions) == THREADS - 1, seconds=5)
    answered_while_held = list(decisions)
    service.open.set()
    for thread in threads:
        thread.join(timeout=5)

    # Then 15 answered version 3 (1 s stale) before the refresh came back, which made one request
    assert [(d.version, d.stale_seconds) for d in answered_while_held] == [(3, 1.0)] * (THREADS - 1)
    assert [d.version for d in decisions] == [3] * (THREADS - 1) + [4]
    assert len(service.requests_for("offers")) == 2
