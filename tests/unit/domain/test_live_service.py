"""The runtime read path against the in-memory store: a missing pointer rebuilt from its flow and
kept, what a read serves, and 404 when nothing is."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from decision_flows.dal import items
from decision_flows.dal.live_reads import pointer_from_item
from decision_flows.domain.byte_cache import ByteBoundedCache
from decision_flows.domain.errors import DomainError
from decision_flows.domain.live import LiveService
from decision_flows.domain.runtime_reads import LivePointer, PublishedRef, RuntimeReads
from decision_flows.domain.service import FlowService
from decision_flows.models.live import LiveEntry
from decision_flows_local.fixtures.samples import v1_config
from tests.support.flow_service import ALICE, create, publish, update
from tests.support.in_memory_flows import InMemoryFlowStore


class Reader:
    """The live table as a dict and snapshots from the in-memory store: what the runtime path reads of
    them, and what a miss writes (LivePointers)."""

    def __init__(self, store: InMemoryFlowStore) -> None:
        self.store = store
        self.entries: dict[tuple[str, str], LiveEntry] = {}
        self.config_reads = 0

    def get_pointer(self, tenant_id: str, key: str) -> LivePointer | None:
        entry = self.entries.get((tenant_id, key))
        return pointer_from_item(items.to_wire(items.live_attributes(entry))) if entry else None

    def get_live(self, tenant_id: str, key: str) -> LiveEntry | None:
        return self.entries.get((tenant_id, key))

    def put_live(self, entry: LiveEntry) -> bool:
        self.entries[(entry.tenant_id, entry.key)] = entry
        return True

    def release_live(self, tenant_id: str, key: str, flow_id: str, row_version: int) -> None:
        raise AssertionError("only the stream consumer releases a pointer")

    def get_config(self, tenant_id: str, flow_id: str, version: int) -> str | None:
        self.config_reads += 1
        snapshot = self.store.get_version(tenant_id, flow_id, version)
        return snapshot.config if snapshot is not None else None


@pytest.fixture
def reader(store: InMemoryFlowStore) -> Reader:
    return Reader(store)


def reads_of(reader: Reader, store: InMemoryFlowStore) -> RuntimeReads:
    def rebuild(tenant_id: str, key: str) -> tuple[LivePointer, dict[int, str]] | None:
        rebuilt = LiveService(reader, store).rebuild(tenant_id, key)
        if rebuilt is None:
            return None
        entry, configs = rebuilt
        return pointer_from_item(items.to_wire(items.live_attributes(entry))), configs

    return RuntimeReads(reader, rebuild, ByteBoundedCache())


@pytest.fixture
def live(reader: Reader, store: InMemoryFlowStore) -> RuntimeReads:
    return reads_of(reader, store)


def stored_config(store: InMemoryFlowStore, flow_id: str, version: int) -> str | None:
    snapshot = store.get_version(ALICE.tenant_id, flow_id, version)
    return snapshot.config if snapshot is not None else None


def not_served(call: Callable[[], object]) -> None:
    with pytest.raises(DomainError) as caught:
        call()
    assert caught.value.code == "LIVE_FLOW_NOT_FOUND"


def test_a_miss_rebuilds_the_pointer_from_the_flow_and_keeps_it(
    service: FlowService, live: RuntimeReads, reader: Reader
) -> None:
    flow = publish(service, create(service))

    pointer = live.pointer(ALICE.tenant_id, "welcome")

    assert (pointer.flow_id, pointer.champion) == (flow.id, PublishedRef(1, flow.updated_at))
    kept = reader.entries[(ALICE.tenant_id, "welcome")]
    assert (kept.version, kept.served, kept.row_version) == (1, True, flow.row_version)
    assert reader.get_pointer(ALICE.tenant_id, "welcome") == pointer
    assert live.config(pointer, 1) == flow.draft_config


def test_a_rollout_is_served_with_its_challenger(
    service: FlowService, store: InMemoryFlowStore, reader: Reader
) -> None:
    flow = update(service, publish(service, create(service)), draftConfig=v1_config())
    started = publish(service, flow, rollout={"percent": 30})

    rebuilt = LiveService(reader, store).rebuild(ALICE.tenant_id, "welcome")

    assert rebuilt is not None
    entry, configs = rebuilt
    assert (entry.version, entry.challenger_version, entry.basis_points) == (1, 2, 3000)
    assert configs == {1: stored_config(store, flow.id, 1), 2: started.draft_config}
    assert entry.challenger_published_at == started.updated_at


def test_unknown_unpublished_and_paused_keys_are_not_served(
    service: FlowService, live: RuntimeReads, reader: Reader
) -> None:
    not_served(lambda: live.pointer(ALICE.tenant_id, "nobody"))
    assert reader.entries == {}  # unknown keys are not remembered
    create(service, "draft-only")
    not_served(lambda: live.pointer(ALICE.tenant_id, "draft-only"))
    update(service, publish(service, create(service, "paused")), status="paused")
    not_served(lambda: live.pointer(ALICE.tenant_id, "paused"))


def test_a_config_is_read_once_per_instance_and_version(
    service: FlowService, live: RuntimeReads, reader: Reader
) -> None:
    # Given a pointer kept by one instance's miss (which read the config before keeping it)
    publish(service, create(service))
    live.pointer(ALICE.tenant_id, "welcome")
    assert reader.config_reads == 0

    # When another instance reads the pointer and its config five times, then it reads the config once
    other = reads_of(reader, reader.store)
    pointer = other.pointer(ALICE.tenant_id, "welcome")
    configs = {other.config(pointer, 1) for _ in range(5)}
    assert (len(configs), reader.config_reads) == (1, 1)


def test_a_snapshot_deleted_after_the_pointer_was_read_is_404(
    service: FlowService, store: InMemoryFlowStore, reader: Reader
) -> None:
    # Given a pointer read by one instance, and the flow deleted since
    flow = publish(service, create(service))
    pointer = reads_of(reader, store).pointer(ALICE.tenant_id, "welcome")
    service.delete(ALICE, flow.id, None)

    # When another instance (nothing in memory) reads that version's config, then it is 404
    not_served(lambda: reads_of(reader, store).config(pointer, 1))
