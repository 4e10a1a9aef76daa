"""Races as AWS runs them: two real handlers in threads, interleaved between their DynamoDB calls.

On AWS two Lambda instances run one request each, and DynamoDB makes each *call* atomic, not each
request: both racers can read a flow before either writes. Here every DynamoDB call holds one lock
(as DynamoDB serialises them per item), a gate holds each racer after its read of the flow until
both have read it, and the store is the strict one (decision_flows_local/dynamodb/strict_dynamodb), which
applies ClientRequestToken as DynamoDB does. The contract: "Two writers racing on the same flow:
exactly one wins; the other gets 409 and nothing of its write is applied."
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.client import BaseClient

from decision_flows import wiring
from decision_flows.settings import settings
from decision_flows_local.api.gateway import Api, Caller, HttpResponse
from decision_flows_local.fixtures.samples import v2_config

GATE_SECONDS = 10
READS = frozenset({"GetItem", "BatchGetItem"})


@dataclass
class Interleaving:
    """Each DynamoDB call atomic; each racer held after its first read of the flows table until every
    racer has made that read, so that all of them write on what they read before anyone wrote."""

    racers: int = 2
    lock: threading.Lock = field(default_factory=threading.Lock)
    arrived: threading.Barrier = field(init=False)
    held: set[int] = field(default_factory=set)
    racing: set[int] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.arrived = threading.Barrier(self.racers)

    def around(self, send: Callable[..., Any]) -> Callable[..., Any]:
        def call(client: Any, operation: str, params: dict[str, Any]) -> Any:
            with self.lock:
                result = send(client, operation, params)
            me = threading.get_ident()
            if me in self.racing and me not in self.held and operation in READS and _reads_flows(params):
                self.held.add(me)
                self.arrived.wait(GATE_SECONDS)
            return result

        return call

    def race(self, *requests: Callable[[], HttpResponse]) -> list[HttpResponse]:
        """Run the requests at once; each racer starts once the one before is at the gate, so that no two
        of them are inside one handler's request parsing together (a resolver holds one event at a time)."""
        return self.run_at_once(*requests)

    def run_at_once[T](self, *requests: Callable[[], T]) -> list[T]:
        """``race`` for any calls (a schedule's firings): what each returned, in order."""
        replies: list[T | BaseException] = [RuntimeError("did not run")] * len(requests)

        def run(index: int, request: Callable[[], T]) -> None:
            self.racing.add(threading.get_ident())
            try:
                replies[index] = request()
            except BaseException as error:  # reported as the racer's answer: an unhandled 500
                replies[index] = error

        threads = [threading.Thread(target=run, args=(index, request)) for index, request in enumerate(requests)]
        for number, thread in enumerate(threads, start=1):
            thread.start()
            while len(self.held) < number and thread.is_alive():
                threading.Event().wait(0.001)
        for thread in threads:
            thread.join(GATE_SECONDS * 3)
        unhandled = [reply for reply in replies if isinstance(reply, BaseException)]
        assert not unhandled, f"unhandled (a 500 on AWS): {unhandled!r}"
        return [reply for reply in replies if not isinstance(reply, BaseException)]


def _reads_flows(params: dict[str, Any]) -> bool:
    table = settings().flows_table
    return params.get("TableName") == table or table in params.get("RequestItems", {})


@pytest.fixture
def interleaved(dynamodb: Any, monkeypatch: pytest.MonkeyPatch) -> Interleaving:
    interleaving = Interleaving()
    send = BaseClient._make_api_call  # type: ignore[attr-defined]
    monkeypatch.setattr(BaseClient, "_make_api_call", interleaving.around(send))
    return interleaving


@pytest.fixture
def admin(dynamodb: Any) -> Api:
    return Api(Caller("tenant-a", "admin", "ci-pipeline"))


@dataclass
class Flow:
    api: Api
    id: str

    def state(self) -> dict[str, Any]:
        found = self.api.get(id=self.id)
        assert found.status == 200, found.body
        state: dict[str, Any] = found.body
        return state

    def versions(self) -> list[int]:
        return [version["version"] for version in self.api.get("/versions", id=self.id).body["versions"]]


@pytest.fixture
def flow(admin: Api) -> Flow:
    """A flow live at v1 whose draft has moved on (publishable as v2)."""
    created = admin.create(key="race", name="race", draftConfig=v2_config("first"))
    assert created.status == 201, created.body
    flow_id = created.body["id"]
    assert admin.publish(id=flow_id).status == 200
    assert admin.update(id=flow_id, draftConfig=v2_config("second")).status == 200
    return Flow(admin, flow_id)


def one_winner_one_409(replies: list[HttpResponse], loser_status: int = 409) -> tuple[HttpResponse, HttpResponse]:
    statuses = sorted(reply.status for reply in replies)
    assert statuses[0] in (200, 204), [(r.status, r.body) for r in replies]
    assert statuses[1] == loser_status, [(r.status, r.body) for r in replies]
    winner, loser = sorted(replies, key=lambda reply: reply.status)
    assert loser.headers["content-type"] == "application/problem+json"
    assert loser.body["status"] == loser_status
    return winner, loser


def one_write_applied(
    flow: Flow, before: dict[str, Any], replies: list[HttpResponse]
) -> tuple[HttpResponse, dict[str, Any]]:
    """One racer won and the other is 409 ROW_VERSION_MISMATCH; the flow moved on once. The winner's
    reply and the flow as it is now."""
    winner, loser = one_winner_one_409(replies)
    assert loser.code == "ROW_VERSION_MISMATCH"
    after = flow.state()
    assert after["rowVersion"] == before["rowVersion"] + 1 == winner.body["rowVersion"]
    return winner, after


def test_publish_against_publish(interleaved: Interleaving, flow: Flow) -> None:
    # Given a flow both publishers read at one rowVersion
    before = flow.state()

    # When both publish at once
    replies = interleaved.race(
        lambda: flow.api.publish(id=flow.id, notes="alice"), lambda: flow.api.publish(id=flow.id, notes="bob")
    )

    # Then one wins, the other is 409, and one version landed: the winner's
    winner, after = one_write_applied(flow, before, replies)
    assert flow.versions() == [1, 2]
    assert after["publishedVersions"][-1]["notes"] == winner.body["publishedVersions"][-1]["notes"]


def test_publish_against_rollback(interleaved: Interleaving, flow: Flow) -> None:
    # Given a flow at v2 whose draft moved on again, so that publishing and rolling back to v1 both write
    assert flow.api.publish(id=flow.id).status == 200
    assert flow.api.update(id=flow.id, draftConfig=v2_config("third")).status == 200
    before = flow.state()

    # When one publishes as another rolls back
    replies = interleaved.race(
        lambda: flow.api.publish(id=flow.id, notes="publish"), lambda: flow.api.rollback(id=flow.id, version=1)
    )

    # Then exactly one of them made v3
    one_write_applied(flow, before, replies)
    assert flow.versions() == [1, 2, 3]


def test_publish_with_rollout_against_publish(interleaved: Interleaving, flow: Flow) -> None:
    before = flow.state()

    replies = interleaved.race(
        lambda: flow.api.publish(id=flow.id, rollout={"percent": 10}), lambda: flow.api.publish(id=flow.id)
    )

    winner, after = one_write_applied(flow, before, replies)
    assert flow.versions() == [1, 2]
    assert (after["rollout"] is None) == (winner.body["rollout"] is None)


def test_a_key_change_against_a_status_change(interleaved: Interleaving, flow: Flow) -> None:
    before = flow.state()

    replies = interleaved.race(
        lambda: flow.api.update(id=flow.id, key="renamed"), lambda: flow.api.update(id=flow.id, status="paused")
    )

    winner, after = one_write_applied(flow, before, replies)
    # exactly one of the two changes is stored
    assert (after["key"] == "renamed") != (after["status"] == "paused")
    assert (after["key"], after["status"]) == (winner.body["key"], winner.body["status"])


def test_delete_against_delete(interleaved: Interleaving, flow: Flow) -> None:
    replies = interleaved.race(lambda: flow.api.delete(flow.id), lambda: flow.api.delete(flow.id))

    # The loser finds the flow gone: 404, as any request that names a deleted flow (DELETE's contract row)
    _, loser = one_winner_one_409(replies, loser_status=404)
    assert loser.code == "FLOW_NOT_FOUND"
    assert flow.api.get(id=flow.id).status == 404
    # and the tenant's count dropped once
    assert flow.api.get().body["pagination"]["total"] == 0


def test_two_identical_requests_in_the_same_millisecond(
    interleaved: Interleaving, flow: Flow, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a rollout at 10 %, and a clock that gives both requests the same instant
    assert flow.api.publish(id=flow.id, rollout={"percent": 10}).status == 200
    before = flow.state()
    now = datetime.now(UTC)
    monkeypatch.setattr(wiring.flow_service(), "_clock", lambda: now)

    # When the same principal sends the same change twice at once (L4)
    replies = interleaved.race(
        lambda: flow.api.request("POST", "/rollout", body={"id": flow.id, "percent": 50}),
        lambda: flow.api.request("POST", "/rollout", body={"id": flow.id, "percent": 50}),
    )

    # Then one of them wrote and the other is told it did not: an identical state is not our own write
    _, after = one_write_applied(flow, before, replies)
    assert after["rollout"]["percent"] == 50
