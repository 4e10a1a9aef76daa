"""Fixtures of the runtime client's tests: a fake /live/state service over real HTTP and a clock."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from decision_flows_client import LiveClient
from tests.client.fake_service import API_KEY, TENANT, FakeClock, FakeLiveService

MAX_AGE = 15.0


@pytest.fixture
def service() -> Iterator[FakeLiveService]:
    with FakeLiveService().running() as running:
        yield running


@pytest.fixture
def base_url(service: FakeLiveService) -> str:
    """Where the client reads /live/state: the fake service here; a real server's URL fits as well."""
    return service.base_url


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_client(base_url: str, clock: FakeClock) -> Callable[..., LiveClient]:
    """A client of the fake service on the fake clock; keyword arguments override the defaults."""

    def make(**options: Any) -> LiveClient:
        settings: dict[str, Any] = {"max_age": MAX_AGE, "timeout": 2.0, "clock": clock, **options}
        return LiveClient(base_url, API_KEY, TENANT, **settings)

    return make
