"""Change requests under races as AWS runs them (interleaved per DynamoDB call, on the strict store):
a request applies at most once, whoever races, and never over a state that moved since it was read."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.client import BaseClient

from decision_flows_local.api.gateway import Api, Caller
from tests.integration.test_change_requests import approve, request_change, review, reviewer
from tests.integration.test_policy_routes import live_flow, put_policy
from tests.reliability.test_interleaved_races import Interleaving

APPLIERS = 5


def interleaving_of(racers: int, monkeypatch: pytest.MonkeyPatch) -> Interleaving:
    interleaving = Interleaving(racers=racers)
    send = BaseClient._make_api_call  # type: ignore[attr-defined]
    monkeypatch.setattr(BaseClient, "_make_api_call", interleaving.around(send))
    return interleaving


@pytest.fixture
def admin(dynamodb: Any) -> Api:
    return Api(Caller("tenant-a", "admin", "ci-pipeline"))


def approved_publish(admin: Api) -> tuple[dict[str, Any], dict[str, Any]]:
    """A live flow (v2) of a tenant that requires one approval, and an approved request to publish v3."""
    flow = live_flow(admin)
    put_policy(admin, 1)
    change = request_change(admin, flow["id"], "publish").body
    assert approve(reviewer(admin), change).body["state"] == "approved"
    return flow, change


def test_five_concurrent_applies_apply_once(admin: Api, dynamodb: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given an approved request, read by five appliers before any of them writes
    flow, change = approved_publish(admin)
    interleaved = interleaving_of(APPLIERS, monkeypatch)

    # When all five apply it at once
    replies = interleaved.race(*[lambda: review(admin, "apply", change) for _ in range(APPLIERS)])

    # Then one is 200, the other four 409, and one version was published
    statuses = sorted(reply.status for reply in replies)
    assert statuses == [200] + [409] * (APPLIERS - 1), [(r.status, r.body) for r in replies]
    assert admin.get(id=flow["id"]).body["latestVersion"] == 3
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
