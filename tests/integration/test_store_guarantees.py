"""What the access layer promises: one writer wins a race, a cancelled write leaves nothing
behind, and no tenant reaches another's items."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from decision_flows.dal.repository import FlowRepository
from decision_flows.domain.errors import Conflict, DomainError, InvalidRequest
from decision_flows.domain.service import FlowService
from decision_flows.models.flow import Flow, FlowStatus, PublishedVersion
from decision_flows.models.identity import Identity, Role
from decision_flows.models.requests import CreateFlowRequest, PublishRequest, UpdateFlowRequest
from decision_flows.settings import settings
from decision_flows_local.samples import v2_config

ALICE = Identity(tenant_id="tenant-a", role=Role.ADMIN, principal="alice")
BOB = Identity(tenant_id="tenant-b", role=Role.ADMIN, principal="bob")


@pytest.fixture
def repository(dynamodb: Any) -> FlowRepository:
    return FlowRepository(dynamodb, settings().flows_table)


@pytest.fixture
def service(repository: FlowRepository) -> FlowService:
    return FlowService(repository)


def create(service: FlowService, identity: Identity = ALICE, key: str = "welcome") -> Flow:
    request = CreateFlowRequest.model_validate({"key": key, "name": "Welcome", "draftConfig": v2_config()})
    return service.create(identity, request)


def table_items(dynamodb: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = dynamodb.scan(TableName=settings().flows_table)["Items"]
    return sorted(items, key=lambda item: (item["PK"]["S"], item["SK"]["S"]))


class RacingStore(FlowRepository):
    """Lets every racer read before any of them writes, so all of them start from one rowVersion.

    Writes go through one lock: moto in-process is not atomic under threads, DynamoDB is.
    """

    def __init__(self, inner: FlowRepository, racers: int) -> None:
        super().__init__(inner._client, inner._table)
        self._all_have_read = threading.Barrier(racers)
        self._write_lock = threading.Lock()

    def get_flow(self, tenant_id: str, flow_id: str) -> Flow | None:
        flow = super().get_flow(tenant_id, flow_id)
        self._all_have_read.wait(timeout=10)
        return flow

    def publish_version(self, previous: Flow, new: Flow, version: PublishedVersion) -> None:
        with self._write_lock:
            super().publish_version(previous, new, version)

    def save_flow(self, previous: Flow, new: Flow) -> None:
        with self._write_lock:
            super().save_flow(previous, new)


@pytest.mark.parametrize("racers", [2, 6])
def test_of_writers_racing_on_one_row_version_exactly_one_wins(
    repository: FlowRepository, service: FlowService, racers: int
) -> None:
    # Given a flow, and racers that all read it at rowVersion 1
    flow = create(service)
    racing = FlowService(RacingStore(repository, racers))
    outcomes: list[str] = []

    def publish(notes: str) -> None:
        try:
            racing.publish(ALICE, PublishRequest(id=flow.id, notes=notes), None)
            outcomes.append(f"won:{notes}")
        except Conflict as error:
            outcomes.append(error.code)

    # When they all publish at once
    threads = [threading.Thread(target=publish, args=(f"racer-{n}",)) for n in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)

    # Then exactly one wins, the rest get ROW_VERSION_MISMATCH, and only the winner's version exists
    winners = [outcome for outcome in outcomes if outcome.startswith("won:")]
    assert len(winners) == 1
    assert outcomes.count("ROW_VERSION_MISMATCH") == racers - 1
    stored = repository.get_flow(ALICE.tenant_id, flow.id)
    assert stored is not None
    assert stored.row_version == 2
    assert stored.latest_version == 1
    page = repository.list_versions(ALICE.tenant_id, flow.id, 100, None)
    assert page is not None
    assert [(v.version, f"won:{v.notes}") for v in page.items] == [(1, winners[0])]


def test_the_losing_update_of_a_race_lands_nothing(repository: FlowRepository, service: FlowService) -> None:
    flow = create(service)
    racing = FlowService(RacingStore(repository, 2))
    results: dict[str, Any] = {}

    def rename(name: str) -> None:
        try:
            results[name] = racing.update(ALICE, UpdateFlowRequest(id=flow.id, name=name, description=name), None)
        except DomainError as error:
            results[name] = error.code

    threads = [threading.Thread(target=rename, args=(name,)) for name in ("Left", "Right")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)

    (winner,) = [name for name, result in results.items() if isinstance(result, Flow)]
    (loser,) = [name for name, result in results.items() if result == "ROW_VERSION_MISMATCH"]
    stored = repository.get_flow(ALICE.tenant_id, flow.id)
    assert stored is not None
    assert (stored.name, stored.description, stored.row_version) == (winner, winner, 2)
    assert loser not in (stored.name, stored.description)


def test_a_cancelled_publish_leaves_nothing_behind(
    dynamodb: Any, repository: FlowRepository, service: FlowService
) -> None:
    # Given a flow whose next version number is already taken by a stray snapshot item
    flow = create(service)
    pk = f"T#{ALICE.tenant_id}#F#{flow.id}"
    dynamodb.put_item(
        TableName=settings().flows_table,
        Item={"PK": {"S": pk}, "SK": {"S": "SNAP#0000000001"}, "stray": {"BOOL": True}},
    )
    before = table_items(dynamodb)

    # When publishing (the flow update and the summary would succeed; the snapshot put cannot)
    with pytest.raises(Conflict) as refused:
        service.publish(ALICE, PublishRequest(id=flow.id), None)

    # Then the whole transaction is refused and the table is exactly as it was
    assert refused.value.code == "ROW_VERSION_MISMATCH"
    assert table_items(dynamodb) == before


def test_a_cancelled_key_change_leaves_nothing_behind(dynamodb: Any, service: FlowService) -> None:
    flow = create(service, key="mine")
    create(service, key="taken")
    before = table_items(dynamodb)

    with pytest.raises(Conflict) as refused:
        service.update(ALICE, UpdateFlowRequest(id=flow.id, key="taken", status=FlowStatus.ARCHIVED), None)

    assert refused.value.code == "KEY_TAKEN"
    assert table_items(dynamodb) == before


def test_a_write_racing_a_delete_is_404_not_a_crash(repository: FlowRepository, service: FlowService) -> None:
    flow = create(service)
    stale_read = repository.get_flow(ALICE.tenant_id, flow.id)
    assert stale_read is not None
    service.delete(ALICE, flow.id, None)
    renamed = stale_read.model_copy(update={"name": "Ghost", "row_version": stale_read.row_version + 1})

    with pytest.raises(DomainError) as refused:
        repository.save_flow(stale_read, renamed)

    assert refused.value.code == "FLOW_NOT_FOUND"


class TestTenantIsolation:
    def test_no_read_reaches_another_tenants_flow(self, repository: FlowRepository, service: FlowService) -> None:
        flow = create(service, ALICE)
        service.publish(ALICE, PublishRequest(id=flow.id), None)

        assert repository.get_flow(BOB.tenant_id, flow.id) is None
        assert repository.get_version(BOB.tenant_id, flow.id, 1) is None
        assert repository.list_versions(BOB.tenant_id, flow.id, 10, None) is None
        assert repository.get_flow_and_version(BOB.tenant_id, flow.id, 1) == (None, None)
        assert not repository.flow_exists(BOB.tenant_id, flow.id)
        bob_page = repository.list_flows(BOB.tenant_id, None, 10, None)
        assert (bob_page.items, bob_page.total) == ([], 0)

    def test_keys_and_counts_are_per_tenant(self, repository: FlowRepository, service: FlowService) -> None:
        create(service, ALICE, key="same")
        bobs = create(service, BOB, key="same")
        assert bobs.tenant_id == "tenant-b"
        assert repository.list_flows(ALICE.tenant_id, None, 10, None).total == 1
        assert repository.list_flows(BOB.tenant_id, None, 10, None).total == 1

    def test_another_tenants_cursor_is_refused(self, repository: FlowRepository, service: FlowService) -> None:
        for n in range(3):
            create(service, ALICE, key=f"flow-{n}")
        cursor = repository.list_flows(ALICE.tenant_id, None, 1, None).next_cursor
        assert cursor is not None
        with pytest.raises(InvalidRequest):
            repository.list_flows(BOB.tenant_id, None, 1, cursor)

    def test_writes_cannot_touch_another_tenants_flow(self, service: FlowService) -> None:
        flow = create(service, ALICE)
        for attempt in (
            lambda: service.update(BOB, UpdateFlowRequest(id=flow.id, name="Mine now"), None),
            lambda: service.publish(BOB, PublishRequest(id=flow.id), None),
            lambda: service.delete(BOB, flow.id, None),
        ):
            with pytest.raises(DomainError) as refused:
                attempt()
            assert refused.value.code == "FLOW_NOT_FOUND"
        assert service.get(ALICE, flow.id).name == "Welcome"
