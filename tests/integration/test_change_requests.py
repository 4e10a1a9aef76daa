"""Change requests ("four eyes") end to end through the handlers against moto: an editor requests, another
approves, the change applies once at its base; stale bases, expiry, self-approval, veto, isolation."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from decision_flows import wiring
from decision_flows_local.api.gateway import Api, Caller, HttpResponse
from decision_flows_local.dynamodb.streams import StreamPoller
from decision_flows_local.fixtures.samples import config_of_size, v2_config
from tests.integration.test_policy_routes import live_flow, put_policy
from tests.support.tenants import TENANT_A


def reviewer(api: Api, name: str = "reviewer", role: str = "editor") -> Api:
    return api.as_(Caller(TENANT_A, role, f"{name}@a.example"))


def request_change(api: Api, flow_id: str, action: str, **params: Any) -> HttpResponse:
    return api.request("POST", "/changes", body={"flowId": flow_id, "action": action, "params": params})


def review(
    api: Api, verb: str, change: dict[str, Any], headers: dict[str, str] | None = None, **body: Any
) -> HttpResponse:
    return api.request("POST", f"/changes/{verb}", body={"changeId": change["changeId"], **body}, headers=headers or {})


def approve(api: Api, change: dict[str, Any]) -> HttpResponse:
    return review(api, "approve", change, contentHash=change["contentHash"])


def test_an_editor_requests_another_approves_and_the_change_applies(
    admin: Api, editor: Api, stream: StreamPoller
) -> None:
    # Given a tenant that requires one approval, and a live flow with an edited draft
    flow = live_flow(admin)
    put_policy(admin, 1)

    # When an editor requests the publish
    made = request_change(editor, flow["id"], "publish", notes="Q3 scoring")
    assert made.status == 201, made.body
    change = made.body
    assert (change["state"], change["required"], change["author"]) == ("pending", 1, "editor@a.example")
    assert change["base"] == {"liveVersion": 2, "challengerVersion": None, "percent": None}
    assert change["contentHash"].startswith("sha256:")
    assert change["diff"]["summary"]["nodes"] is not None
    assert editor.request("GET", "/changes", query={"id": change["changeId"]}).body == change

    # Then it cannot apply before it is approved, and its author cannot approve it
    assert review(editor, "apply", change).code == "CHANGE_NOT_PENDING"
    assert approve(editor, change).code == "SELF_APPROVAL_FORBIDDEN"

    # When another editor approves what they reviewed, and the author applies it
    approved = approve(reviewer(editor), change)
    assert (approved.status, approved.body["state"]) == (200, "approved"), approved.body
    assert approve(reviewer(editor), change).code == "CHANGE_NOT_PENDING"
    applied = review(editor, "apply", change)

    # Then the flow is published and the request applied, once
    assert applied.status == 200, applied.body
    assert applied.body["flow"]["liveVersion"] == 3
    assert applied.body["change"]["state"] == "applied"
    assert applied.body["change"]["result"] == {"version": 3}
    assert applied.body["change"]["appliedBy"] == "editor@a.example"
    assert review(editor, "apply", change).code == "CHANGE_NOT_PENDING"

    # And the history says who asked, who approved and which request it was
    stream.deliver()
    (published, *_) = admin.history(flow["id"]).body["data"]
    assert published["action"] == "published"
    assert (published["changeId"], published["author"]) == (change["changeId"], "editor@a.example")
    assert published["approvedBy"] == ["reviewer@a.example"]
    feed = [entry["action"] for entry in admin.get("/history").body["data"]]
    assert feed[:3] == ["published", "change_approved", "change_requested"]


def test_a_publish_request_publishes_the_draft_it_captured(admin: Api, editor: Api) -> None:
    flow = live_flow(admin)
    put_policy(admin, 1)
    change = request_change(editor, flow["id"], "publish").body
    assert editor.update(id=flow["id"], draftConfig=v2_config("later")).status == 200

    approve(reviewer(editor), change)
    applied = review(editor, "apply", change)

    assert applied.status == 200, applied.body
    published = admin.get("/versions", id=flow["id"], version="3").body
    assert published["configSnapshot"] == v2_config("v3", method="scorecard")


def test_a_request_is_refused_as_its_dry_run_would_be(admin: Api, editor: Api) -> None:
    flow = live_flow(admin)
    put_policy(admin, 1)

    assert request_change(editor, "df_missing", "publish").status == 404
    assert request_change(editor, flow["id"], "promote").code == "NO_ROLLOUT"
    assert request_change(editor, flow["id"], "rollback", version=1).code == "INSUFFICIENT_ROLE"
    assert request_change(admin, flow["id"], "rollback", version=2).code == "ALREADY_ACTIVE"
    assert request_change(editor, flow["id"], "publish", rowVersion=1).status == 400
    assert request_change(editor, flow["id"], "rollout", percent="ten").status == 400


def test_a_base_that_moved_blocks_the_request_for_good(admin: Api, editor: Api) -> None:
    flow = live_flow(admin)
    put_policy(admin, 1)
    stale = request_change(admin, flow["id"], "rollback", version=1).body
    fresh = request_change(editor, flow["id"], "publish").body
    approve(reviewer(editor), stale)
    approve(reviewer(editor), fresh)
    assert review(editor, "apply", fresh).status == 200  # v3 is live: the rollback's base moved

    refused = review(admin, "apply", stale)

    assert (refused.status, refused.code) == (409, "CHANGE_STALE")
    blocked = admin.request("GET", "/changes", query={"id": stale["changeId"]}).body
    assert blocked["blocked"]["code"] == "CHANGE_STALE"
    assert review(admin, "apply", stale).code == "CHANGE_STALE"
    assert admin.get(id=flow["id"]).body["liveVersion"] == 3


def test_one_rejection_is_a_veto_and_reviews_bind_to_the_content(admin: Api, editor: Api) -> None:
    flow = live_flow(admin)
    put_policy(admin, 2)
    change = request_change(editor, flow["id"], "publish").body

    assert review(reviewer(editor), "approve", change, contentHash="sha256:other").code == "CONTENT_MISMATCH"
    assert approve(reviewer(editor), change).body["state"] == "pending"
    assert approve(reviewer(editor), change).code == "ALREADY_REVIEWED"
    assert review(editor, "reject", change, comment="mine").code == "SELF_REJECTION_FORBIDDEN"
    rejected = review(reviewer(editor, "second"), "reject", change, comment="not this quarter")
    assert (rejected.status, rejected.body["state"]) == (200, "rejected")
    assert approve(reviewer(editor, "third"), change).code == "CHANGE_NOT_PENDING"
    assert review(editor, "apply", change).code == "CHANGE_NOT_PENDING"


def test_approvals_are_counted_against_the_policy_at_apply_time(admin: Api, editor: Api) -> None:
    flow = live_flow(admin)
    put_policy(admin, 1)
    change = request_change(editor, flow["id"], "publish").body
    approve(reviewer(editor), change)
    put_policy(admin, 2)

    assert review(editor, "apply", change).code == "APPROVAL_REQUIRED"


def test_without_required_approvals_a_request_is_approved_at_once(editor: Api) -> None:
    flow = live_flow(editor)
    change = request_change(editor, flow["id"], "publish").body

    assert (change["state"], change["required"]) == ("approved", 0)
    assert review(editor, "apply", change).status == 200


def test_the_author_or_an_admin_cancels(admin: Api, editor: Api) -> None:
    flow = live_flow(admin)
    put_policy(admin, 1)
    change = request_change(editor, flow["id"], "publish").body

    assert review(reviewer(editor), "cancel", change).code == "INSUFFICIENT_ROLE"
    cancelled = review(editor, "cancel", change)
    assert (cancelled.status, cancelled.body["state"]) == (200, "cancelled")
    assert review(admin, "cancel", change).code == "CHANGE_NOT_PENDING"


def test_a_flows_requests_are_listed_newest_first_by_state(admin: Api, editor: Api) -> None:
    flow = live_flow(admin)
    put_policy(admin, 1)
    first = request_change(editor, flow["id"], "publish").body
    second = request_change(editor, flow["id"], "update", status="paused").body
    review(editor, "cancel", first)

    listed = editor.get("/changes", flowId=flow["id"]).body
    assert [c["changeId"] for c in listed["data"]] == [second["changeId"], first["changeId"]]
    pending = editor.get("/changes", flowId=flow["id"], state="pending").body["data"]
    assert [c["changeId"] for c in pending] == [second["changeId"]]
    paged = editor.get("/changes", flowId=flow["id"], limit="1").body
    assert (len(paged["data"]), paged["pagination"]["hasMore"]) == (1, True)


def test_another_tenant_sees_none_of_our_requests(admin: Api, editor: Api, other_tenant: Api) -> None:
    flow = live_flow(admin)
    put_policy(admin, 1)
    change = request_change(editor, flow["id"], "publish").body

    assert other_tenant.request("GET", "/changes", query={"id": change["changeId"]}).code == "CHANGE_NOT_FOUND"
    assert other_tenant.get("/changes", flowId=flow["id"]).body["data"] == []
    bodies = {"approve": {"contentHash": change["contentHash"]}, "reject": {"comment": "mine now"}}
    for verb in ("approve", "reject", "cancel", "apply"):
        response = review(other_tenant, verb, change, **bodies.get(verb, {}))
        assert (response.status, response.code) == (404, "CHANGE_NOT_FOUND"), verb
    assert request_change(other_tenant, flow["id"], "publish").status == 404


def test_a_request_expires_seven_days_after_it_was_made(
    admin: Api, editor: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a pending and an approved request
    flow = live_flow(admin)
    put_policy(admin, 1)
    pending = request_change(editor, flow["id"], "publish").body
    approved = request_change(editor, flow["id"], "update", status="paused").body
    approve(reviewer(editor), approved)

    # When the service's clock reaches their expiresAt
    made = datetime.fromisoformat(pending["createdAt"])
    monkeypatch.setattr(wiring.change_service(), "_clock", lambda: made + timedelta(days=7, seconds=1))

    # Then both read expired, are listed as such, and neither is approved nor applied any more
    read = editor.request("GET", "/changes", query={"id": pending["changeId"]}).body
    assert (read["state"], read["expiresAt"] < (made + timedelta(days=7, seconds=1)).isoformat()) == ("expired", True)
    expired = editor.get("/changes", flowId=flow["id"], state="expired").body["data"]
    assert {c["changeId"] for c in expired} == {pending["changeId"], approved["changeId"]}
    assert editor.get("/changes", flowId=flow["id"], state="pending").body["data"] == []
    assert approve(reviewer(editor), pending).code == "CHANGE_NOT_PENDING"
    assert review(editor, "apply", approved).code == "CHANGE_NOT_PENDING"


def test_deleting_a_flow_cancels_its_open_requests(admin: Api, editor: Api, stream: StreamPoller) -> None:
    # Given an open request of a draft flow (deleting it needs no review)
    draft = admin.create(key="draft", name="Draft", draftConfig=v2_config("d")).body
    put_policy(admin, 1)
    change = request_change(editor, draft["id"], "update", name="Renamed").body

    # When the flow is deleted and the consumer has followed
    assert admin.delete(draft["id"]).status == 204
    stream.deliver()

    # Then the request is cancelled, kept, and its cancellation is in the feed
    read = editor.request("GET", "/changes", query={"id": change["changeId"]}).body
    assert read["state"] == "cancelled"
    feed = admin.get("/history").body["data"]
    assert [e["action"] for e in feed if e.get("changeId") == change["changeId"]] == [
        "change_cancelled",
        "change_requested",
    ]


def test_a_retried_post_with_its_idempotency_key_gets_the_first_answer(admin: Api, editor: Api) -> None:
    flow = live_flow(admin)
    put_policy(admin, 1)
    key = {"Idempotency-Key": "request-q3-publish"}
    body = {"flowId": flow["id"], "action": "publish", "params": {"notes": "Q3"}}

    first = editor.request("POST", "/changes", body=body, headers=key)
    again = editor.request("POST", "/changes", body=body, headers=key)

    assert (first.status, again.status) == (201, 201)
    assert again.body["changeId"] == first.body["changeId"]
    assert len(editor.get("/changes", flowId=flow["id"]).body["data"]) == 1
    # A refused call frees its key: the same key may be used once the refusal is fixed
    refused = review(editor, "apply", first.body, headers={"Idempotency-Key": "apply-1"})
    assert refused.code == "CHANGE_NOT_PENDING"
    approve(reviewer(editor), first.body)
    assert review(editor, "apply", first.body, headers={"Idempotency-Key": "apply-1"}).status == 200


def test_a_delete_request_deletes_the_flow_when_applied(admin: Api, editor: Api) -> None:
    flow = live_flow(admin)
    put_policy(admin, 1)
    change = request_change(editor, flow["id"], "delete").body
    approve(reviewer(editor), change)

    applied = review(editor, "apply", change)

    assert applied.status == 200, applied.body
    assert admin.get(id=flow["id"]).status == 404
    assert editor.request("GET", "/changes", query={"id": change["changeId"]}).body["state"] == "applied"


def test_a_policy_that_allows_self_approval_counts_the_authors_own(admin: Api, editor: Api) -> None:
    flow = live_flow(admin)
    put_policy(admin, 1, approvals={"required": 1, "allowSelfApproval": True})
    change = request_change(editor, flow["id"], "publish").body

    assert approve(editor, change).body["state"] == "approved"
    assert review(editor, "apply", change).status == 200


def test_a_publish_request_holds_a_draft_at_the_size_limit(admin: Api, editor: Api) -> None:
    # Given a live flow whose draft is now about 300 KB
    flow = live_flow(admin)
    large = config_of_size(300 * 1024 - 200)
    assert admin.update(id=flow["id"], draftConfig=v2_config("small")).status == 200
    assert admin.update(id=flow["id"], draftConfig=large).status == 200
    put_policy(admin, 1)

    # When it is requested, approved and applied
    change = request_change(editor, flow["id"], "publish").body
    approve(reviewer(editor), change)
    applied = review(editor, "apply", change)

    # Then the request held the whole config, and published it
    assert applied.status == 200, applied.body
    assert admin.get("/versions", id=flow["id"], version="3").body["configSnapshot"] == large
