"""Fixtures of the tests that drive `make serve`'s server over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.local_server import Server, running_server
from tests.support.moto_server import moto_server


@pytest.fixture
def server() -> Iterator[Server]:
    """A server of its own: the test may stop it."""
    with running_server() as started:
        yield started


@pytest.fixture(scope="module")
def module_server() -> Iterator[Server]:
    """One server for a module's tests that only send requests."""
    with running_server() as started:
        yield started


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    """A plain moto server in its own process, for ``DYNAMODB_ENDPOINT_URL``; reset it to start afresh."""
    with moto_server() as started:
        yield started.url
