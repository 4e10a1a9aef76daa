"""DynamoDB cost per request: round trips within docs/ARCHITECTURE.md's budgets, and bytes that do not
grow with a flow's history (idempotency records are not counted: no Idempotency-Key is sent here)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import pytest

from decision_flows_local.api.gateway import Api, HttpResponse
from decision_flows_local.fixtures.histories import seed_history
from decision_flows_local.fixtures.samples import config_of_size, v2_config
from tests.support.costs import measure
from tests.support.dynamodb_calls import DynamoCalls

CONFIG_BYTES = 50 * 1024
# 20 version summaries as DynamoDB JSON (the seeded notes are short): what the flow's window adds.
WINDOW_BYTES = 20 * 160


def new_flow(api: Api, key: str = "welcome", size: int = CONFIG_BYTES) -> str:
    flow_id: str = api.create(key=key, name="Welcome", draftConfig=config_of_size(size)).body["id"]
    return flow_id


def publish_times(api: Api, flow_id: str, times: int) -> None:
    for n in range(times):
        assert api.publish(id=flow_id, notes=f"release {n}").status == 200


ROUTE_BUDGETS: dict[str, int] = {
    "get one flow": 1,
    "get one flow by key": 2,  # the key's reservation, then the flow
    "list versions": 1,
    "get one version": 1,
    "list flows": 2,
    "create": 1,
    # a call the review policy can refuse reads the policy with the flow: no round trip of its own
    "update": 2,
    "publish": 2,
    "rollback": 3,
    "delete": 2,
}


def test_every_route_stays_within_its_round_trip_budget(admin: Api, dynamo_calls: DynamoCalls) -> None:
    flow_id = new_flow(admin, size=2048)
    publish_times(admin, flow_id, 2)
    admin.update(id=flow_id, draftConfig=v2_config("other"))
    admin.publish(id=flow_id)
    requests: dict[str, Callable[[], HttpResponse]] = {
        "get one flow": lambda: admin.get(id=flow_id),
        "get one flow by key": lambda: admin.get(key="welcome"),
        "list versions": lambda: admin.get("/versions", id=flow_id),
        "get one version": lambda: admin.get("/versions", id=flow_id, version="1"),
        "list flows": lambda: admin.get(),
        "create": lambda: admin.create(key="second", name="Second"),
        "update": lambda: admin.update(id=flow_id, name="Renamed", status="paused"),
        "publish": lambda: admin.publish(id=flow_id),
        "rollback": lambda: admin.rollback(id=flow_id, version=1),
        "delete": lambda: admin.delete(flow_id),
    }
    figures = {}
    for route, request in requests.items():
        response, calls = measure(dynamo_calls, request)
        assert response.status < 300, (route, response.body)
        figures[route] = (calls.count, dict(calls.by_operation()))
        assert calls.count <= ROUTE_BUDGETS[route], (route, calls.operations)
    print("\nDynamoDB round trips per route:", *(f"  {r}: {n} {ops}" for r, (n, ops) in figures.items()), sep="\n")


def test_flow_and_version_list_reads_never_read_snapshot_bytes(editor: Api, dynamo_calls: DynamoCalls) -> None:
    # Given a flow with three 50 KB snapshots
    flow_id = new_flow(editor)
    publish_times(editor, flow_id, 3)

    # When the flow, the list and the version list are read
    _, one_flow = measure(dynamo_calls, lambda: editor.get(id=flow_id))
    _, flow_list = measure(dynamo_calls, lambda: editor.get())
    _, version_list = measure(dynamo_calls, lambda: editor.get("/versions", id=flow_id))
    _, one_version = measure(dynamo_calls, lambda: editor.get("/versions", id=flow_id, version="2"))

    # Then only the draft (once) or nothing config-sized crosses the wire; one version reads one snapshot
    assert CONFIG_BYTES < one_flow.response_bytes < 1.2 * CONFIG_BYTES
    assert flow_list.response_bytes < 4096
    assert version_list.response_bytes < 4096
    assert CONFIG_BYTES < one_version.response_bytes < 1.2 * CONFIG_BYTES


@pytest.fixture
def flow_at_version(editor: Api, dynamodb: Any) -> Callable[[int], str]:
    """A flow with a 50 KB draft whose history is ``version`` published versions long."""

    def build(version: int) -> str:
        flow_id = new_flow(editor, key=f"at-{version}")
        seed_history(dynamodb, "tenant-a", flow_id, version)
        return flow_id

    return build


def test_publish_costs_the_same_at_version_500_as_at_version_2(
    editor: Api, admin: Api, dynamo_calls: DynamoCalls, flow_at_version: Callable[[int], str]
) -> None:
    costs: dict[int, dict[str, Any]] = {}
    for history in (2, 30, 500):
        flow_id = flow_at_version(history)
        _, publish = measure(dynamo_calls, partial(editor.publish, id=flow_id))
        _, rollback = measure(dynamo_calls, partial(admin.rollback, id=flow_id, version=1))
        _, get_flow = measure(dynamo_calls, partial(editor.get, id=flow_id))
        costs[history] = {"publish": publish, "rollback": rollback, "get": get_flow}

    print("\nbytes sent/received at history length 2 / 30 / 500:")
    for route in ("publish", "rollback", "get"):
        sent = [costs[h][route].request_bytes for h in costs]
        received = [costs[h][route].response_bytes for h in costs]
        print(f"  {route}: sent {sent}, received {received}")
        # The same round trips whatever the history
        assert len({costs[h][route].count for h in costs}) == 1
        # Once the flow's window of 20 recent summaries is full, only the digits of version numbers differ
        assert abs(costs[500][route].request_bytes - costs[30][route].request_bytes) <= 64
        assert abs(costs[500][route].response_bytes - costs[30][route].response_bytes) <= 64
        # Against version 2 the only difference is that bounded window (the contract's latest 20
        # summaries on the flow record, at most WINDOW_BYTES), never the history behind it
        assert costs[500][route].request_bytes - costs[2][route].request_bytes <= WINDOW_BYTES
        assert costs[500][route].response_bytes - costs[2][route].response_bytes <= WINDOW_BYTES


def test_a_call_the_review_policy_can_refuse_reads_it_with_the_flow(admin: Api, dynamo_calls: DynamoCalls) -> None:
    # Given an active flow with v1 live, a draft edited since, and a tenant that never set a policy
    flow_id = new_flow(admin, size=2048)
    publish_times(admin, flow_id, 1)
    admin.update(id=flow_id, draftConfig=v2_config("next"))
    requests: dict[str, Callable[[], HttpResponse]] = {
        "draft edit": lambda: admin.update(id=flow_id, draftConfig=v2_config("again")),
        "publish": lambda: admin.publish(id=flow_id, rollout={"percent": 10}),
        "rollout step": lambda: admin.request("POST", "/rollout/promote", body={"id": flow_id}),
        "rollback": lambda: admin.rollback(id=flow_id, version=1),
        "key change": lambda: admin.update(id=flow_id, key="moved"),
        "delete": lambda: admin.delete(flow_id),
    }

    # When each is sent
    operations = {}
    for call, request in requests.items():
        response, calls = measure(dynamo_calls, request)
        assert response.status < 300, (call, response.body)
        operations[call] = calls.operations

    # Then each gated call reads the flow and the policy in one BatchGetItem, then writes: no GetItem of
    # the policy of its own; a draft edit, which no policy refuses, reads the flow alone
    assert operations == {
        "draft edit": ["GetItem", "UpdateItem"],
        "publish": ["BatchGetItem", "TransactWriteItems"],
        "rollout step": ["BatchGetItem", "UpdateItem"],
        "rollback": ["BatchGetItem", "TransactWriteItems"],
        "key change": ["BatchGetItem", "TransactWriteItems"],
        "delete": ["BatchGetItem", "TransactWriteItems"],
    }


def test_a_refusal_of_the_review_policy_costs_the_one_read(admin: Api, dynamo_calls: DynamoCalls) -> None:
    # Given an active flow under a policy that requires one approval
    flow_id = new_flow(admin, size=2048)
    publish_times(admin, flow_id, 1)
    admin.update(id=flow_id, draftConfig=v2_config("next"))
    assert admin.request("PUT", "/policy", body={"approvals": {"required": 1}}).status == 200

    # When it is published directly
    response, calls = measure(dynamo_calls, partial(admin.publish, id=flow_id))

    # Then it is refused after the one read of the flow with the policy, and nothing is written
    assert (response.status, response.code) == (409, "APPROVAL_REQUIRED")
    assert calls.operations == ["BatchGetItem"]
