"""`make serve`'s stream consumer keeps following writes after every kind of refusal, on both stores.

Each scenario makes one write that DynamoDB itself refuses (a cancelled transaction or a failed
condition, checked by watching the store's answers), then successful writes. The poller is the one
`make serve` builds; the store is the embedded one or a plain moto server behind
``DYNAMODB_ENDPOINT_URL``. The refused write must leave no history entry, and every later write must
reach ``/history`` and ``/live``.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest

from decision_flows import wiring
from decision_flows.dal.client import dynamodb_client
from decision_flows.dal.flows import FlowRepository
from decision_flows.domain.service import FlowService
from decision_flows.models.draft_commands import UpdateFlowRequest
from decision_flows.models.identity import Identity, Role
from decision_flows.settings import settings
from decision_flows_local import template
from decision_flows_local.api.gateway import Api, Caller
from decision_flows_local.api.server import stream_poller
from decision_flows_local.dynamodb.embedded import LocalStore
from decision_flows_local.dynamodb.streams import StreamPoller
from decision_flows_local.fixtures.samples import v2_config
from tests.support import moto_server
from tests.support.dynamodb_calls import tables_named
from tests.support.tenants import TENANT_A

RACER = Identity(tenant_id=TENANT_A, role=Role.ADMIN, principal="racer@a.example")
REFUSALS = {"TransactionCanceledException", "ConditionalCheckFailedException"}


@pytest.fixture(params=["embedded", "endpoint"])
def store(request: pytest.FixtureRequest) -> Iterator[LocalStore]:
    url = None
    if request.param == "endpoint":
        url = request.getfixturevalue("endpoint")
        moto_server.reset(url)
    local = LocalStore(url)
    local.start()
    try:
        yield local
    finally:
        local.stop()
        os.environ.pop("DYNAMODB_ENDPOINT_URL", None)
        wiring.reset()


@pytest.fixture
def poller(store: LocalStore) -> StreamPoller:
    return stream_poller(threading.Lock(), store)


@pytest.fixture
def admin(store: LocalStore) -> Api:
    return Api(Caller(TENANT_A, "admin", "admin@a.example"))


@contextmanager
def store_refusals() -> Iterator[list[str]]:
    """The refusals DynamoDB answered (operation: code) while the block ran."""
    seen: list[str] = []
    client = dynamodb_client()

    def after_call(parsed: dict[str, Any], model: Any, **_: Any) -> None:
        code = parsed.get("Error", {}).get("Code")
        if code in REFUSALS:
            seen.append(f"{model.name}: {code}")

    client.meta.events.register("after-call.dynamodb", after_call)
    try:
        yield seen
    finally:
        client.meta.events.unregister("after-call.dynamodb", after_call)


def names_flows_table(params: dict[str, Any]) -> bool:
    return settings().flows_table in tables_named(params)


@contextmanager
def raced_by(write: Callable[[], Any]) -> Iterator[None]:
    """``write`` lands just before the next write to the flows table reaches DynamoDB: the race a
    lock-free store decides by its conditions (the refused write's own read came first, so only the
    store can refuse it)."""
    client = dynamodb_client()
    fired: list[bool] = []

    def before_call(params: dict[str, Any], **_: Any) -> None:
        if not fired and names_flows_table(params):
            fired.append(True)
            write()

    events = [f"before-parameter-build.dynamodb.{operation}" for operation in ("TransactWriteItems", "UpdateItem")]
    for event in events:
        client.meta.events.register(event, before_call)
    try:
        yield
    finally:
        for event in events:
            client.meta.events.unregister(event, before_call)
    assert fired, "the race never ran"


@dataclass
class Flow:
    api: Api
    key: str
    id: str = ""

    def create(self) -> Flow:
        answer = self.api.create(key=self.key, name=self.key, draftConfig=v2_config(self.key))
        assert answer.status == 201, answer.body
        self.id = answer.body["id"]
        return self

    def rename(self, name: str) -> None:
        assert self.api.update(id=self.id, name=name).status == 200

    def rename_elsewhere(self, name: str) -> None:
        """A rename by another Lambda instance: the same service code, not this request's handler."""
        service = FlowService(FlowRepository(dynamodb_client(), settings().flows_table))
        with template.running_as("DraftsFunction"):
            service.update(RACER, UpdateFlowRequest.model_validate({"id": self.id, "name": name}), None)

    def publish(self) -> None:
        assert self.api.publish(id=self.id).status == 200

    def edit_and_publish(self, tag: str) -> None:
        assert self.api.update(id=self.id, draftConfig=v2_config(tag)).status == 200
        self.publish()

    def actions(self) -> list[str]:
        return [entry["action"] for entry in reversed(self.api.history(self.id).body["data"])]


def refuse_create_with_a_taken_key(admin: Api, settle: Callable[[], None]) -> tuple[list[Flow], str]:
    taken = Flow(admin, "taken").create()
    taken.publish()
    settle()
    return [taken], admin.create(key="taken", name="again").code or ""


def refuse_a_key_change_to_a_taken_key(admin: Api, settle: Callable[[], None]) -> tuple[list[Flow], str]:
    first, second = Flow(admin, "first").create(), Flow(admin, "second").create()
    settle()
    return [first, second], admin.update(id=second.id, key="first").code or ""


def refuse_a_publish_that_lost_a_race(admin: Api, settle: Callable[[], None]) -> tuple[list[Flow], str]:
    flow = Flow(admin, "raced").create()
    settle()
    with raced_by(lambda: flow.rename_elsewhere("racer")):
        code = admin.publish(id=flow.id).code
    return [flow], code or ""


def refuse_a_rollback_that_lost_a_race(admin: Api, settle: Callable[[], None]) -> tuple[list[Flow], str]:
    flow = Flow(admin, "rolled").create()
    flow.publish()
    flow.edit_and_publish("b")
    settle()
    with raced_by(lambda: flow.rename_elsewhere("racer")):
        code = admin.rollback(id=flow.id, version=1).code
    return [flow], code or ""


def refuse_a_rename_that_lost_a_race(admin: Api, settle: Callable[[], None]) -> tuple[list[Flow], str]:
    flow = Flow(admin, "renamed").create()
    settle()
    with raced_by(lambda: flow.rename_elsewhere("racer")):
        code = admin.update(id=flow.id, name="loser").code
    return [flow], code or ""


def refuse_a_delete_that_lost_a_race(admin: Api, settle: Callable[[], None]) -> tuple[list[Flow], str]:
    flow = Flow(admin, "kept").create()
    settle()
    with raced_by(lambda: flow.rename_elsewhere("racer")):
        code = admin.delete(flow.id).code
    return [flow], code or ""


SCENARIOS: dict[str, tuple[Callable[[Api, Callable[[], None]], tuple[list[Flow], str]], str]] = {
    "create with a taken key": (refuse_create_with_a_taken_key, "KEY_TAKEN"),
    "key change to a taken key": (refuse_a_key_change_to_a_taken_key, "KEY_TAKEN"),
    "publish racing a write": (refuse_a_publish_that_lost_a_race, "ROW_VERSION_MISMATCH"),
    "rollback racing a write": (refuse_a_rollback_that_lost_a_race, "ROW_VERSION_MISMATCH"),
    "rename racing a write": (refuse_a_rename_that_lost_a_race, "ROW_VERSION_MISMATCH"),
    "delete racing a write": (refuse_a_delete_that_lost_a_race, "ROW_VERSION_MISMATCH"),
}


def change_entries() -> int:
    scan = dynamodb_client().scan(TableName=settings().changes_table, Select="COUNT", ConsistentRead=True)
    count: int = scan["Count"]
    return count


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_after_a_refused_write_later_writes_reach_history_and_live(
    scenario: str, admin: Api, poller: StreamPoller
) -> None:
    # Given flows, the consumer having had their changes, then a refusal that reached DynamoDB
    make_refusal, expected_code = SCENARIOS[scenario]

    def settle() -> None:
        assert poller.poll()

    with store_refusals() as refusals:
        flows, code = make_refusal(admin, settle)
    assert code == expected_code
    assert refusals, "the refusal was decided before DynamoDB; this scenario would test nothing"
    assert poller.poll()
    actions_before = {flow.id: flow.actions() for flow in flows}

    # When every flow is edited and published afterwards, and a new flow is created and published
    newcomer = Flow(admin, "newcomer").create()
    for flow in [*flows, newcomer]:
        flow.edit_and_publish(f"after-{flow.key}")
    assert poller.poll()

    # Then each later write has its one entry, the refused write none, and /live serves every live version
    for flow in flows:
        assert flow.actions() == [*actions_before[flow.id], "updated", "published"]
    assert newcomer.actions() == ["created", "updated", "published"]
    assert change_entries() == sum(len(flow.actions()) for flow in [*flows, newcomer])
    for flow in [*flows, newcomer]:
        current = admin.get(id=flow.id).body
        assert admin.live(current["key"]).body["version"] == current["liveVersion"]
    assert poller.status().keeping_up


def test_a_stale_live_write_of_the_consumer_is_refused_and_the_stream_goes_on(admin: Api, poller: StreamPoller) -> None:
    # Given a flow published, and /live read before the consumer ran (the read fills the live entry)
    flow = Flow(admin, "early").create()
    flow.publish()
    assert admin.live("early").body["version"] == 1

    # When the consumer then delivers the publish, whose live write is now stale
    with store_refusals() as refusals:
        assert poller.poll()
    assert "TransactWriteItems: TransactionCanceledException" in refusals

    # Then later writes still reach history and /live
    flow.edit_and_publish("later")
    assert poller.poll()
    assert flow.actions() == ["created", "published", "updated", "published"]
    assert admin.live("early").body["version"] == 2
    assert change_entries() == 4
