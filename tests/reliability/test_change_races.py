"""Change requests under races as AWS runs them (interleaved per DynamoDB call, on the strict store):
a request applies at most once, whoever races, and never over a state that moved since it was read."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from botocore.client import BaseClient

from decision_flows_local.api.gateway import Api, Caller
from tests.integration.test_change_requests import approve, request_change, review, reviewer
from tests.integration.test_policy_routes import live_flow, put_policy
from tests.reliability.test_interleaved_races import GATE_SECONDS, READS, Interleaving, _reads_flows

APPLIERS = 5
# An apply reads the request, the tenant's policy, then the flow: holding each applier after its third
# read makes all of them decide on the same request and flow before any writes.
READS_OF_AN_APPLY = 3


@dataclass
class AfterReads(Interleaving):
    """Interleaving's gate, after a racer's ``reads``-th read of the flows table instead of its first."""

    reads: int = 1
    counted: dict[int, int] = field(default_factory=dict)

    def around(self, send: Callable[..., Any]) -> Callable[..., Any]:
        def call(client: Any, operation: str, params: dict[str, Any]) -> Any:
            with self.lock:
                result = send(client, operation, params)
            me = threading.get_ident()
            if me in self.racing and me not in self.held and operation in READS and _reads_flows(params):
                self.counted[me] = self.counted.get(me, 0) + 1
                if self.counted[me] == self.reads:
                    self.held.add(me)
                    self.arrived.wait(GATE_SECONDS)
            return result

        return call


def interleaving_of(racers: int, monkeypatch: pytest.MonkeyPatch, reads: int = 1) -> Interleaving:
    interleaving = AfterReads(racers=racers, reads=reads)
    send = BaseClient._make_api_call  # type: ignore[attr-defined]
    monkeypatch.setattr(BaseClient, "_make_api_call", interleaving.around(send))
    return interleaving


@pytest.fixture
def admin(dynamodb: Any) -> Api:
    return Api(Caller("tenant-a", "admin", "ci-pipeline"))


def approved_publish(admin: Api, action: str = "publish", **params: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """A live flow (v2) of a tenant that requires one approval, and an approved request (to publish v3)."""
    flow = live_flow(admin)
    put_policy(admin, 1)
    change = request_change(admin, flow["id"], action, **params).body
    assert approve(reviewer(admin), change).body["state"] == "approved"
    return flow, change


@pytest.mark.parametrize(
    ("action", "params"),
    [("publish", {}), ("update", {"status": "paused"})],  # the release's version items are guarded too
)
def test_five_concurrent_applies_apply_once(
    admin: Api, dynamodb: Any, monkeypatch: pytest.MonkeyPatch, action: str, params: dict[str, Any]
) -> None:
    # Given an approved request, which five appliers read with its policy and flow before any writes
    flow, change = approved_publish(admin, action, **params)
    before = admin.get(id=flow["id"]).body["rowVersion"]
    interleaved = interleaving_of(APPLIERS, monkeypatch, reads=READS_OF_AN_APPLY)

    # When all five apply it at once
    replies = interleaved.race(*[lambda: review(admin, "apply", change) for _ in range(APPLIERS)])

    # Then one is 200, the other four 409, and the flow was written once
    statuses = sorted(reply.status for reply in replies)
    assert statuses == [200] + [409] * (APPLIERS - 1), [(r.status, r.body) for r in replies]
    assert admin.get(id=flow["id"]).body["rowVersion"] == before + 1
    assert admin.request("GET", "/changes", query={"id": change["changeId"]}).body["state"] == "applied"


def test_an_apply_racing_a_direct_rollback_lands_one_or_the_other(
    admin: Api, dynamodb: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an approved publish, and a tenant whose policy allows nothing direct but (as the test's
    # stand-in for the emergency path) the policy is read before the rollback's write
    flow, change = approved_publish(admin)
    put_policy(admin, 0, headers={"If-Match": '"2"'})
    interleaved = interleaving_of(2, monkeypatch)

    # When the apply and a direct rollback to v1 race
    applied, rolled_back = interleaved.race(
        lambda: review(admin, "apply", change), lambda: admin.rollback(id=flow["id"], version=1)
    )

    # Then exactly one lands: the flow has one new version, and the request is applied only if it won
    assert sorted([applied.status, rolled_back.status]) == [200, 409], (applied.body, rolled_back.body)
    assert admin.get(id=flow["id"]).body["latestVersion"] == 3
    state = admin.request("GET", "/changes", query={"id": change["changeId"]}).body["state"]
    assert state == ("applied" if applied.status == 200 else "approved")


def test_an_apply_racing_an_emergency_rollback_lands_one_or_the_other(
    admin: Api, dynamodb: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an approved publish under a policy of one approval, which an emergency rollback bypasses
    flow, change = approved_publish(admin)
    interleaved = interleaving_of(2, monkeypatch)
    emergency = {"reason": "checkout errors spiking"}

    # When the apply and an admin's emergency rollback to v1 race
    applied, rolled_back = interleaved.race(
        lambda: review(admin, "apply", change),
        lambda: admin.rollback(id=flow["id"], version=1, emergency=emergency),
    )

    # Then exactly one lands: one new version; the loser is refused (409) or its request stale for good
    assert sorted([applied.status, rolled_back.status]) == [200, 409], (applied.body, rolled_back.body)
    assert admin.get(id=flow["id"]).body["latestVersion"] == 3
    if applied.status == 409:
        assert applied.code in {"CHANGE_STALE", "ROW_VERSION_MISMATCH", "TRANSACTION_CONFLICT"}
    stored = admin.request("GET", "/changes", query={"id": change["changeId"]}).body
    assert (stored["state"] == "applied") == (applied.status == 200)
    # And the emergency's request exists exactly when its rollback landed (one transaction)
    listed = admin.request("GET", "/changes", query={"flowId": flow["id"], "state": "unreviewed"}).body["data"]
    assert len(listed) == (1 if rolled_back.status == 200 else 0)
