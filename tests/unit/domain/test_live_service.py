"""LiveService against the in-memory store: what a runtime read serves, and 404 when nothing is."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from decision_flows.domain.errors import DomainError
from decision_flows.domain.live import ConfigCache, LiveService
from decision_flows.domain.service import FlowService
from decision_flows.models.live import LiveEntry
from decision_flows_local.fixtures.samples import v1_config
from tests.support.flow_service import ALICE, create, publish, update
from tests.support.in_memory_flows import InMemoryFlowStore


class Pointers:
    """The live-pointer table as a dict (what LiveService reads and writes of it)."""

    def __init__(self) -> None:
        self.entries: dict[tuple[str, str], LiveEntry] = {}

    def get_live(self, tenant_id: str, key: str) -> LiveEntry | None:
        return self.entries.get((tenant_id, key))

    def put_live(self, entry: LiveEntry) -> bool:
        self.entries[(entry.tenant_id, entry.key)] = entry
        return True

    def release_live(self, tenant_id: str, key: str, flow_id: str, row_version: int) -> None:
        raise AssertionError("only the stream consumer releases a pointer")


@pytest.fixture
def pointers() -> Pointers:
    return Pointers()


@pytest.fixture
def live(store: InMemoryFlowStore, pointers: Pointers) -> LiveService:
    return LiveService(pointers, store, ConfigCache())


def not_served(call: Callable[[], object]) -> None:
    with pytest.raises(DomainError) as caught:
        call()
    assert caught.value.code == "LIVE_FLOW_NOT_FOUND"


def test_a_miss_rebuilds_the_pointer_from_the_flow_and_keeps_it(
    service: FlowService, live: LiveService, pointers: Pointers
) -> None:
    flow = publish(service, create(service))

    entry = live.live(ALICE, "welcome")

    assert (entry.flow_id, entry.version, entry.served, entry.row_version) == (flow.id, 1, True, flow.row_version)
    assert entry.published_at == flow.updated_at
    assert pointers.entries[(ALICE.tenant_id, "welcome")] == entry
    assert live.config(entry, 1) == flow.draft_config


def test_a_rollout_is_served_with_its_challenger(service: FlowService, live: LiveService) -> None:
    flow = update(service, publish(service, create(service)), draftConfig=v1_config())
    started = publish(service, flow, rollout={"percent": 30})

    entry = live.live(ALICE, "welcome")

    assert (entry.version, entry.challenger_version, entry.basis_points) == (1, 2, 3000)
    assert entry.challenger_published_at == started.updated_at


def test_unknown_unpublished_and_paused_keys_are_not_served(
    service: FlowService, live: LiveService, pointers: Pointers
) -> None:
    not_served(lambda: live.live(ALICE, "nobody"))
    assert pointers.entries == {}  # unknown keys are not remembered
    create(service, "draft-only")
    not_served(lambda: live.live(ALICE, "draft-only"))
    update(service, publish(service, create(service, "paused")), status="paused")
    not_served(lambda: live.live(ALICE, "paused"))


def test_a_snapshot_deleted_after_the_pointer_was_read_is_404(
    service: FlowService, store: InMemoryFlowStore, pointers: Pointers
) -> None:
    # Given an entry read by one instance, and the flow deleted since
    flow = publish(service, create(service))
    entry = LiveService(pointers, store).live(ALICE, "welcome")
    service.delete(ALICE, flow.id, None)

    # When another instance (nothing in memory) reads that version's config, then it is 404
    not_served(lambda: LiveService(pointers, store).config(entry, 1))
