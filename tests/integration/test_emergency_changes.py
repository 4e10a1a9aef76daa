"""Emergency changes end to end through the handlers against moto: an admin rolls back or aborts at
once past the review policy, the call is recorded as an applied request in the same transaction,
audited in history, counted, and approved by reviewers afterwards."""

from __future__ import annotations

from typing import Any

import pytest

from decision_flows import wiring
from decision_flows_local.api.gateway import Api, HttpResponse
from decision_flows_local.dynamodb.streams import StreamPoller
from tests.integration.test_change_requests import approve, request_change, review, reviewer
from tests.integration.test_metrics import SERVICE, Emitted
from tests.integration.test_policy_routes import live_flow, put_policy

REASON = {"reason": "checkout errors spiking", "incident": "INC-42"}


def emergency_rollback(api: Api, flow_id: str, version: int = 1, **emergency: Any) -> HttpResponse:
    return api.rollback(id=flow_id, version=version, emergency=emergency or REASON)


def unreviewed(api: Api, flow_id: str) -> list[dict[str, Any]]:
    listed = api.request("GET", "/changes", query={"flowId": flow_id, "state": "unreviewed"})
    assert listed.status == 200, listed.body
    data: list[dict[str, Any]] = listed.body["data"]
    return data


def test_an_emergency_rollback_lands_past_review_and_is_recorded(admin: Api, stream: StreamPoller) -> None:
    # Given a tenant that requires one approval, where a direct rollback is refused
    flow = live_flow(admin)
    put_policy(admin, 1)
    assert admin.rollback(id=flow["id"], version=1).code == "APPROVAL_REQUIRED"

    # When an admin rolls back as an emergency
    rolled = emergency_rollback(admin, flow["id"])

    # Then the call is made as the direct call would make it
    assert rolled.status == 200, rolled.body
    assert (rolled.body["liveVersion"], rolled.body["latestVersion"]) == (3, 3)

    # And it is recorded as an applied request awaiting review
    (change,) = unreviewed(admin, flow["id"])
    assert (change["action"], change["state"], change["author"]) == ("rollback", "applied", "admin@a.example")
    assert change["emergency"] == {**REASON, "reviewed": False}
    assert (change["result"], change["required"], change["appliedBy"]) == ({"version": 3}, 1, "admin@a.example")
    assert change["params"] == {"version": 1}
    assert change["base"] == {"liveVersion": 2, "challengerVersion": None, "percent": None}

    # And the flow's history entry carries the emergency and the request
    stream.deliver()
    (entry, *_) = admin.history(flow["id"]).body["data"]
    assert (entry["action"], entry["changeId"]) == ("rolled_back", change["changeId"])
    assert entry["emergency"] == REASON
    assert entry["approvedBy"] == []


def test_reviewers_approve_an_emergency_afterwards(admin: Api, editor: Api, stream: StreamPoller) -> None:
    # Given an emergency rollback under a policy of one approval
    flow = live_flow(admin)
    put_policy(admin, 1)
    emergency_rollback(admin, flow["id"])
    (change,) = unreviewed(admin, flow["id"])

    # Then its author may not approve it, nor anyone approve another content
    assert approve(admin, change).code == "SELF_APPROVAL_FORBIDDEN"
    wrong = review(editor, "approve", change, contentHash="sha256:" + "0" * 64)
    assert wrong.code == "CONTENT_MISMATCH"

    # When another editor approves it
    approved = approve(editor, change)

    # Then it is reviewed, still applied, and no longer listed as unreviewed
    assert approved.status == 200, approved.body
    assert approved.body["state"] == "applied"
    assert approved.body["emergency"]["reviewed"] is True
    assert [review["by"] for review in approved.body["approvals"]] == ["editor@a.example"]
    assert unreviewed(admin, flow["id"]) == []
    assert approve(reviewer(editor), change).code == "CHANGE_NOT_PENDING"

    # And the approval is in the tenant's feed
    stream.deliver()
    feed = [entry["action"] for entry in admin.get("/history").body["data"]]
    assert feed[:2] == ["change_approved", "rolled_back"]


def test_with_two_required_an_emergency_stays_unreviewed_until_the_second(admin: Api, editor: Api) -> None:
    flow = live_flow(admin)
    put_policy(admin, 2)
    emergency_rollback(admin, flow["id"])
    (change,) = unreviewed(admin, flow["id"])

    assert approve(editor, change).body["emergency"]["reviewed"] is False
    assert approve(reviewer(editor), change).body["emergency"]["reviewed"] is True


def test_without_required_approvals_an_emergency_still_awaits_one_review(admin: Api, editor: Api) -> None:
    # Given the default policy (no approvals required): an emergency is still looked at by someone
    flow = live_flow(admin)
    assert emergency_rollback(admin, flow["id"]).status == 200
    (change,) = unreviewed(admin, flow["id"])
    assert change["required"] == 0

    assert approve(editor, change).body["emergency"]["reviewed"] is True


def test_an_emergency_abort_ends_the_rollout_past_review(admin: Api, editor: Api) -> None:
    # Given a flow with a running rollout and a tenant that requires review
    flow = live_flow(admin)
    assert admin.publish(id=flow["id"], rollout={"percent": 10}).status == 200
    put_policy(admin, 1)
    abort = {"id": flow["id"], "emergency": {"reason": "challenger is failing"}}

    # Then an editor may not make it, an admin may
    assert editor.request("POST", "/rollout/abort", body=abort).code == "INSUFFICIENT_ROLE"
    aborted = admin.request("POST", "/rollout/abort", body=abort)

    assert aborted.status == 200, aborted.body
    assert (aborted.body["rollout"], aborted.body["liveVersion"]) == (None, 2)
    (change,) = unreviewed(admin, flow["id"])
    assert (change["action"], change["result"]) == ("abort", {})
    assert change["emergency"] == {"reason": "challenger is failing", "incident": None, "reviewed": False}
    assert change["base"] == {"liveVersion": 2, "challengerVersion": 3, "percent": 10}


def test_refusals(admin: Api, editor: Api) -> None:
    flow = live_flow(admin)
    put_policy(admin, 1)

    # Not an admin (rollback is admin-only anyway; an abort's emergency is too)
    assert emergency_rollback(editor, flow["id"]).code == "INSUFFICIENT_ROLE"
    # No reason, or one too short: 400, as is an unknown field of the emergency
    assert admin.rollback(id=flow["id"], version=1, emergency={}).status == 400
    assert emergency_rollback(admin, flow["id"], reason="too short").status == 400
    assert emergency_rollback(admin, flow["id"], reason="long enough reason", extra=1).status == 400
    # On any other route it stays an unknown field
    assert admin.publish(id=flow["id"], emergency=REASON).status == 400
    assert admin.request("POST", "/rollout/promote", body={"id": flow["id"], "emergency": REASON}).status == 400
    # In a change request's params it is refused: a request is the way with review
    assert request_change(admin, flow["id"], "rollback", version=1, emergency=REASON).status == 400
    # The emergency path closed by the policy
    assert put_policy(admin, 1, emergency={"enabled": False}).status == 200
    closed = emergency_rollback(admin, flow["id"])
    assert (closed.status, closed.code) == (403, "EMERGENCY_DISABLED")

    # And none of them changed the flow or recorded anything
    assert admin.get(id=flow["id"]).body["liveVersion"] == 2
    assert admin.request("GET", "/changes", query={"flowId": flow["id"]}).body["data"] == []


def test_a_dry_run_with_an_emergency_is_a_plain_dry_run(admin: Api) -> None:
    # Decided: dry runs are free under any policy, so an emergency dry run previews and records nothing
    flow = live_flow(admin)
    put_policy(admin, 1)

    preview = admin.rollback(id=flow["id"], version=1, dryRun=True, emergency=REASON)

    assert preview.status == 200, preview.body
    assert preview.body["dryRun"] is True
    assert admin.get(id=flow["id"]).body["liveVersion"] == 2
    assert unreviewed(admin, flow["id"]) == []


def test_an_emergency_is_counted(admin: Api, capsys: pytest.CaptureFixture[str]) -> None:
    flow = live_flow(admin)
    emitted = Emitted(capsys)
    emitted.read()

    emergency_rollback(admin, flow["id"])

    counts = emitted.read()
    assert counts[("EmergencyChanges", SERVICE)] == 1
    assert counts[("Rollbacks", SERVICE)] == 1


def test_another_tenant_can_neither_make_nor_see_our_emergency(admin: Api, other_tenant: Api) -> None:
    flow = live_flow(admin)
    assert emergency_rollback(other_tenant, flow["id"]).status == 404
    emergency_rollback(admin, flow["id"])
    (change,) = unreviewed(admin, flow["id"])

    assert unreviewed(other_tenant, flow["id"]) == []
    assert other_tenant.request("GET", "/changes", query={"id": change["changeId"]}).status == 404
    assert approve(other_tenant, change).status == 404


def test_the_flow_is_not_written_when_its_request_cannot_be(admin: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given an emergency already recorded, and a next emergency whose request id is taken
    flow = live_flow(admin)
    emergency_rollback(admin, flow["id"], version=1)
    (taken,) = unreviewed(admin, flow["id"])
    monkeypatch.setattr(wiring.change_service(), "_new_id", lambda _moment, _flow_id: taken["changeId"])

    # When the admin rolls back again
    refused = emergency_rollback(admin, flow["id"], version=2)

    # Then neither lands: the flow's write and the request's are one transaction
    assert (refused.status, refused.code) == (409, "CHANGE_EXISTS")
    after = admin.get(id=flow["id"]).body
    assert (after["liveVersion"], after["latestVersion"]) == (3, 3)
    assert len(unreviewed(admin, flow["id"])) == 1
