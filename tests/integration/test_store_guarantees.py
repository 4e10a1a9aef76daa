"""What a FlowStore promises, held over both stores: the DynamoDB access layer on the embedded moto
store, and the in-memory fake the domain's unit tests run on, so the fake cannot drift.

The promises: one writer wins a race, a refused write leaves nothing behind, deletes take the
versions and the key with them, lists page through everything once, and no tenant reaches
another's items.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

import pytest

from decision_flows.dal.flows import FlowRepository
from decision_flows.dal.policies import PolicyRepository
from decision_flows.domain.errors import DomainError, InvalidRequest
from decision_flows.domain.ports import FlowStore
from decision_flows.domain.service import FlowService
from decision_flows.models.draft_commands import CreateFlowRequest, UpdateFlowRequest
from decision_flows.models.flow import Flow, FlowStatus, PublishedVersion
from decision_flows.models.identity import Identity, Role
from decision_flows.models.page import Page
from decision_flows.models.policy import Policy
from decision_flows.models.publish_commands import PublishRequest
from decision_flows.settings import settings
from decision_flows_local.fixtures.samples import v2_config
from tests.support.in_memory_flows import InMemoryFlowStore

ALICE = Identity(tenant_id="tenant-a", role=Role.ADMIN, principal="alice")
BOB = Identity(tenant_id="tenant-b", role=Role.ADMIN, principal="bob")


@dataclass(frozen=True)
class Backend:
    """A store under contract, with a view of everything it holds (to show a refused write left no
    trace) and a way to plant a stray version (to make a publish fail on its last step)."""

    store: FlowStore
    contents: Callable[[], object]
    plant_version: Callable[[Flow, int], None]
    store_policy: Callable[[Policy], None]


def in_memory(_: pytest.FixtureRequest) -> Backend:
    fake = InMemoryFlowStore()

    def plant(flow: Flow, number: int) -> None:
        stray = PublishedVersion(version=number, published_at="x", published_by="x", config_hash="x", config="{}")
        fake.versions[(flow.tenant_id, flow.id)][number] = stray

    def store_policy(policy: Policy) -> None:
        fake.policies[policy.tenant_id] = policy

    return Backend(fake, lambda: copy.deepcopy((fake.flows, fake.keys, fake.versions)), plant, store_policy)


def on_dynamodb(request: pytest.FixtureRequest) -> Backend:
    client = request.getfixturevalue("dynamodb")
    table = settings().flows_table

    def contents() -> object:
        found: list[dict[str, Any]] = client.scan(TableName=table)["Items"]
        return sorted(found, key=lambda item: (item["PK"]["S"], item["SK"]["S"]))

    def plant(flow: Flow, number: int) -> None:
        pk = f"T#{flow.tenant_id}#F#{flow.id}"
        client.put_item(TableName=table, Item={"PK": {"S": pk}, "SK": {"S": f"SNAP#{number:010d}"}})

    def store_policy(policy: Policy) -> None:
        PolicyRepository(client, table).save_policy(Policy(tenant_id=policy.tenant_id), policy)

    return Backend(FlowRepository(client, table), contents, plant, store_policy)


@pytest.fixture(params=[in_memory, on_dynamodb], ids=["in_memory", "dynamodb"])
def backend(request: pytest.FixtureRequest) -> Backend:
    make: Callable[[pytest.FixtureRequest], Backend] = request.param
    return make(request)


@pytest.fixture
def store(backend: Backend) -> FlowStore:
    return backend.store


@pytest.fixture
def service(store: FlowStore) -> FlowService:
    return FlowService(store)


def create(service: FlowService, identity: Identity = ALICE, key: str = "welcome") -> Flow:
    request = CreateFlowRequest.model_validate({"key": key, "name": "Welcome", "draftConfig": v2_config()})
    return service.create(identity, request)


def refused_code(write: Callable[[], object]) -> str:
    with pytest.raises(DomainError) as refused:
        write()
    return refused.value.code


class RacingStore:
    """Lets every racer read before any of them writes, so all of them start from one rowVersion.

    Writes go through one lock: moto in-process is not atomic under threads, DynamoDB is.
    """

    def __init__(self, inner: FlowStore, racers: int) -> None:
        self._inner = inner
        self._all_have_read = threading.Barrier(racers)
        self._write_lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def get_flow(self, tenant_id: str, flow_id: str) -> Flow | None:
        flow = self._inner.get_flow(tenant_id, flow_id)
        self._all_have_read.wait(timeout=10)
        return flow

    def publish_version(self, previous: Flow, new: Flow, version: PublishedVersion) -> None:
        with self._write_lock:
            self._inner.publish_version(previous, new, version)

    def save_flow(self, previous: Flow, new: Flow) -> None:
        with self._write_lock:
            self._inner.save_flow(previous, new)


def racing(store: FlowStore, racers: int, attempt: Callable[[FlowService, str], object]) -> dict[str, object]:
    """Each racer's outcome, by its name: what ``attempt`` returned, or the code it was refused with."""
    service = FlowService(cast("FlowStore", RacingStore(store, racers)))
    outcomes: dict[str, object] = {}

    def run(name: str) -> None:
        try:
            outcomes[name] = attempt(service, name)
        except DomainError as error:
            outcomes[name] = error.code

    threads = [threading.Thread(target=run, args=(f"racer-{n}",)) for n in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    return outcomes


class TestRaces:
    @pytest.mark.parametrize("racers", [2, 6])
    def test_of_writers_racing_on_one_row_version_exactly_one_wins(
        self, store: FlowStore, service: FlowService, racers: int
    ) -> None:
        # Given a flow, and racers that all read it at rowVersion 1
        flow = create(service)

        # When they all publish at once
        outcomes = racing(
            store, racers, lambda racer, notes: racer.publish(ALICE, PublishRequest(id=flow.id, notes=notes), None)
        )

        # Then exactly one wins, the rest get ROW_VERSION_MISMATCH, and only the winner's version exists
        (winner,) = [name for name, outcome in outcomes.items() if isinstance(outcome, Flow)]
        assert list(outcomes.values()).count("ROW_VERSION_MISMATCH") == racers - 1
        stored = store.get_flow(ALICE.tenant_id, flow.id)
        assert stored is not None
        assert (stored.row_version, stored.latest_version) == (2, 1)
        page = store.list_versions(ALICE.tenant_id, flow.id, 100, None)
        assert page is not None
        assert [(v.version, v.notes) for v in page.items] == [(1, winner)]

    def test_the_losing_update_of_a_race_lands_nothing(self, store: FlowStore, service: FlowService) -> None:
        flow = create(service)

        outcomes = racing(
            store,
            2,
            lambda racer, name: racer.update(ALICE, UpdateFlowRequest(id=flow.id, name=name, description=name), None),
        )

        (winner,) = [name for name, outcome in outcomes.items() if isinstance(outcome, Flow)]
        (loser,) = [name for name, outcome in outcomes.items() if outcome == "ROW_VERSION_MISMATCH"]
        stored = store.get_flow(ALICE.tenant_id, flow.id)
        assert stored is not None
        assert (stored.name, stored.description, stored.row_version) == (winner, winner, 2)
        assert loser not in (stored.name, stored.description)

    def test_a_write_from_a_stale_read_is_refused(self, store: FlowStore, service: FlowService) -> None:
        flow = create(service)
        service.update(ALICE, UpdateFlowRequest(id=flow.id, name="Newer"), None)
        stale = flow.model_copy(update={"name": "Older", "row_version": 2})

        assert refused_code(lambda: store.save_flow(flow, stale)) == "ROW_VERSION_MISMATCH"
        assert service.get(ALICE, flow.id).name == "Newer"

    def test_a_write_racing_a_delete_is_404_not_a_crash(self, store: FlowStore, service: FlowService) -> None:
        flow = create(service)
        stale_read = store.get_flow(ALICE.tenant_id, flow.id)
        assert stale_read is not None
        service.delete(ALICE, flow.id, None)
        renamed = stale_read.model_copy(update={"name": "Ghost", "row_version": stale_read.row_version + 1})

        assert refused_code(lambda: store.save_flow(stale_read, renamed)) == "FLOW_NOT_FOUND"


class TestRefusedWritesLeaveNothing:
    def test_a_cancelled_publish_leaves_nothing_behind(self, backend: Backend, service: FlowService) -> None:
        # Given a flow whose next version number is already taken by a stray version
        flow = create(service)
        backend.plant_version(flow, 1)
        before = backend.contents()

        # When publishing (the flow update would succeed; the version's write cannot)
        code = refused_code(lambda: service.publish(ALICE, PublishRequest(id=flow.id), None))

        # Then the whole write is refused and the store is exactly as it was
        assert code == "ROW_VERSION_MISMATCH"
        assert backend.contents() == before

    def test_a_cancelled_key_change_leaves_nothing_behind(self, backend: Backend, service: FlowService) -> None:
        flow = create(service, key="mine")
        create(service, key="taken")
        before = backend.contents()

        change = UpdateFlowRequest(id=flow.id, key="taken", status=FlowStatus.ARCHIVED)
        assert refused_code(lambda: service.update(ALICE, change, None)) == "KEY_TAKEN"
        assert backend.contents() == before

    def test_a_taken_key_or_id_refuses_a_new_flow(self, store: FlowStore, service: FlowService) -> None:
        flow = create(service, key="mine")

        assert refused_code(lambda: create(service, key="mine")) == "KEY_TAKEN"
        other = flow.model_copy(update={"key": "other"})
        assert refused_code(lambda: store.create_flow(other)) == "FLOW_EXISTS"
        assert store.key_owner(ALICE.tenant_id, "other") is None


class TestReads:
    def test_versions_list_without_configs_and_read_one_by_one_with_them(
        self, store: FlowStore, service: FlowService
    ) -> None:
        flow = create(service)
        for notes in ("one", "two", "three"):
            service.publish(ALICE, PublishRequest(id=flow.id, notes=notes), None)

        listed = walk(lambda cursor: store.list_versions(ALICE.tenant_id, flow.id, 2, cursor))
        one = store.get_version(ALICE.tenant_id, flow.id, 2)
        both = store.get_flow_and_version(ALICE.tenant_id, flow.id, 3)
        some = store.get_flow_with_versions(ALICE.tenant_id, flow.id, [1, 9], with_flow=False)

        assert [(v.version, v.notes, v.config) for v in listed] == [
            (1, "one", None),
            (2, "two", None),
            (3, "three", None),
        ]
        assert one is not None
        assert one.config is not None
        assert one.notes == "two"
        assert both[0] is not None
        assert both[0].latest_version == 3
        assert both[1] is not None
        assert both[1].config is not None
        assert (some.exists, some.flow, sorted(some.versions)) == (True, None, [1])
        assert some.versions[1].config is not None

    def test_flows_page_through_all_of_a_status_once_without_drafts(
        self, store: FlowStore, service: FlowService
    ) -> None:
        made = [create(service, key=f"flow-{n}") for n in range(5)]
        service.update(ALICE, UpdateFlowRequest(id=made[0].id, status=FlowStatus.ARCHIVED), None)

        drafts = walk(lambda cursor: store.list_flows(ALICE.tenant_id, FlowStatus.DRAFT, 2, cursor))
        everything = walk(lambda cursor: store.list_flows(ALICE.tenant_id, None, 2, cursor))

        assert sorted(flow.id for flow in drafts) == sorted(flow.id for flow in made[1:])
        assert [flow.id for flow in everything][-1] == made[0].id, "archived flows list last"
        assert all(flow.draft_config is None for flow in everything)
        assert store.list_flows(ALICE.tenant_id, FlowStatus.DRAFT, 2, None).total == 4

    def test_a_deleted_flow_takes_its_versions_and_key_with_it(self, store: FlowStore, service: FlowService) -> None:
        flow = create(service)
        service.publish(ALICE, PublishRequest(id=flow.id), None)

        service.delete(ALICE, flow.id, None)

        assert store.get_flow(ALICE.tenant_id, flow.id) is None
        assert not store.flow_exists(ALICE.tenant_id, flow.id)
        assert store.get_version(ALICE.tenant_id, flow.id, 1) is None
        assert store.list_versions(ALICE.tenant_id, flow.id, 10, None) is None
        assert not store.get_flow_with_versions(ALICE.tenant_id, flow.id, [1], with_flow=True).exists
        assert store.key_owner(ALICE.tenant_id, flow.key) is None
        assert create(service, key=flow.key).key == flow.key

    def test_a_new_key_is_the_flows_and_the_old_one_is_free(self, store: FlowStore, service: FlowService) -> None:
        flow = create(service, key="old")

        service.update(ALICE, UpdateFlowRequest(id=flow.id, key="new"), None)

        assert (store.key_owner(ALICE.tenant_id, "new"), store.key_owner(ALICE.tenant_id, "old")) == (flow.id, None)

    @pytest.mark.parametrize("cursor", ["not-a-cursor", "eyJ9", ""])
    def test_a_cursor_the_store_did_not_hand_out_is_refused(
        self, store: FlowStore, service: FlowService, cursor: str
    ) -> None:
        flow = create(service)
        with pytest.raises(InvalidRequest):
            store.list_flows(ALICE.tenant_id, None, 1, cursor)
        with pytest.raises(InvalidRequest):
            store.list_versions(ALICE.tenant_id, flow.id, 1, cursor)

    def test_a_gated_read_finds_the_flow_the_tenants_policy_and_a_version(
        self, backend: Backend, service: FlowService
    ) -> None:
        # Given a flow with one version, in a tenant without a policy
        store = backend.store
        flow = create(service)
        service.publish(ALICE, PublishRequest(id=flow.id), None)

        # When it is read for a call the policy can refuse, before and after the tenant stores one
        before = store.get_gated_flow(ALICE.tenant_id, flow.id, 1)
        backend.store_policy(Policy(tenant_id=ALICE.tenant_id, required=2, row_version=1))
        after = store.get_gated_flow(ALICE.tenant_id, flow.id)

        # Then each finds the flow as read alone, the policy as stored (the defaults when none), and the
        # version only when asked for
        assert before.flow == after.flow == store.get_flow(ALICE.tenant_id, flow.id)
        assert before.version == store.get_version(ALICE.tenant_id, flow.id, 1) is not None
        assert (before.policy.required, before.policy.row_version) == (0, 0)
        assert (after.policy.required, after.policy.row_version, after.version) == (2, 1, None)
        # and another tenant finds neither the flow nor that policy
        bobs = store.get_gated_flow(BOB.tenant_id, flow.id, 1)
        assert (bobs.flow, bobs.version, bobs.policy.tenant_id, bobs.policy.required) == (None, None, BOB.tenant_id, 0)


def walk[T](list_page: Callable[[str | None], Page[T] | None]) -> list[T]:
    """Every item of a list, page by page."""
    found: list[T] = []
    cursor: str | None = None
    while True:
        page = list_page(cursor)
        assert page is not None
        found.extend(page.items)
        cursor = page.next_cursor
        if cursor is None:
            return found


class TestTenantIsolation:
    def test_no_read_reaches_another_tenants_flow(self, store: FlowStore, service: FlowService) -> None:
        flow = create(service, ALICE)
        service.publish(ALICE, PublishRequest(id=flow.id), None)

        assert store.get_flow(BOB.tenant_id, flow.id) is None
        assert store.get_version(BOB.tenant_id, flow.id, 1) is None
        assert store.list_versions(BOB.tenant_id, flow.id, 10, None) is None
        assert store.get_flow_and_version(BOB.tenant_id, flow.id, 1) == (None, None)
        assert not store.get_flow_with_versions(BOB.tenant_id, flow.id, [1], with_flow=True).exists
        assert not store.flow_exists(BOB.tenant_id, flow.id)
        assert store.key_owner(BOB.tenant_id, flow.key) is None
        bob_page = store.list_flows(BOB.tenant_id, None, 10, None)
        assert (bob_page.items, bob_page.total) == ([], 0)

    def test_keys_and_counts_are_per_tenant(self, store: FlowStore, service: FlowService) -> None:
        create(service, ALICE, key="same")
        bobs = create(service, BOB, key="same")
        assert bobs.tenant_id == "tenant-b"
        assert store.list_flows(ALICE.tenant_id, None, 10, None).total == 1
        assert store.list_flows(BOB.tenant_id, None, 10, None).total == 1

    def test_another_tenants_cursor_is_refused(self, store: FlowStore, service: FlowService) -> None:
        for n in range(3):
            flow = create(service, ALICE, key=f"flow-{n}")
            service.publish(ALICE, PublishRequest(id=flow.id), None)
            service.publish(ALICE, PublishRequest(id=flow.id), None)
        create(service, BOB, key="flow-0")
        flows_cursor = store.list_flows(ALICE.tenant_id, None, 1, None).next_cursor
        versions_page = store.list_versions(ALICE.tenant_id, flow.id, 1, None)
        assert flows_cursor is not None
        assert versions_page is not None
        assert versions_page.next_cursor is not None

        with pytest.raises(InvalidRequest):
            store.list_flows(BOB.tenant_id, None, 1, flows_cursor)
        with pytest.raises(InvalidRequest):
            store.list_flows(ALICE.tenant_id, FlowStatus.ARCHIVED, 1, flows_cursor)
        with pytest.raises(InvalidRequest):
            store.list_versions(BOB.tenant_id, flow.id, 1, versions_page.next_cursor)

    def test_writes_cannot_touch_another_tenants_flow(self, service: FlowService) -> None:
        flow = create(service, ALICE)
        for attempt in (
            lambda: service.update(BOB, UpdateFlowRequest(id=flow.id, name="Mine now"), None),
            lambda: service.publish(BOB, PublishRequest(id=flow.id), None),
            lambda: service.delete(BOB, flow.id, None),
        ):
            assert refused_code(attempt) == "FLOW_NOT_FOUND"
        assert service.get(ALICE, flow.id).name == "Welcome"
