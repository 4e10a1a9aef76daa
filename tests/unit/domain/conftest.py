"""Fixtures of the unit tests that run FlowService over the in-memory store."""

from __future__ import annotations

import pytest

from decision_flows.domain.service import FlowService
from tests.support.flow_service import Clock
from tests.support.in_memory_flows import InMemoryFlowStore


@pytest.fixture
def store() -> InMemoryFlowStore:
    return InMemoryFlowStore()


@pytest.fixture
def service(store: InMemoryFlowStore) -> FlowService:
    return FlowService(store, clock=Clock())
