"""The tenant's review policy (GET/PUT /policy) and the calls it gates, through the handlers against moto."""

from __future__ import annotations

from typing import Any

from decision_flows_local.api.gateway import Api, HttpResponse
from decision_flows_local.dynamodb.streams import StreamPoller
from decision_flows_local.fixtures.samples import v2_config

DEFAULTS = {"approvals": {"required": 0, "allowSelfApproval": False}, "emergency": {"enabled": True}}


def put_policy(api: Api, required: int, headers: dict[str, str] | None = None, **fields: Any) -> HttpResponse:
    body = {"approvals": {"required": required}, **fields}
    return api.request("PUT", "/policy", body=body, headers=headers or {})


def live_flow(api: Api, key: str = "offers") -> dict[str, Any]:
    """An active flow with v1 and v2 published, v2 live, and a draft edited since (v3 to be)."""
    flow = api.create(key=key, name=key.title(), draftConfig=v2_config("v1")).body
    assert api.publish(id=flow["id"]).status == 200
    assert api.update(id=flow["id"], draftConfig=v2_config("v2")).status == 200
    assert api.publish(id=flow["id"]).status == 200
    edited = api.update(id=flow["id"], draftConfig=v2_config("v3", method="scorecard"))
    assert edited.status == 200, edited.body
    body: dict[str, Any] = edited.body
    return body


def test_a_tenant_without_a_policy_reads_the_defaults(viewer: Api) -> None:
    read = viewer.request("GET", "/policy")

    assert read.status == 200
    assert {name: read.body[name] for name in DEFAULTS} == DEFAULTS
    assert (read.body["rowVersion"], read.body["updatedAt"], read.body["updatedBy"]) == (0, None, None)


def test_only_an_admin_changes_the_policy_at_its_row_version(admin: Api, editor: Api, viewer: Api) -> None:
    assert put_policy(editor, 1).code == "INSUFFICIENT_ROLE"

    first = put_policy(admin, 2, emergency={"enabled": False})
    assert first.status == 200, first.body
    assert first.body["approvals"] == {"required": 2, "allowSelfApproval": False}
    assert (first.body["emergency"], first.body["rowVersion"]) == ({"enabled": False}, 1)
    assert first.body["updatedBy"] == "admin@a.example"
    assert viewer.request("GET", "/policy").body == first.body

    stale = put_policy(admin, 1, rowVersion=5)
    assert (stale.status, stale.code) == (409, "ROW_VERSION_MISMATCH")
    stale_header = put_policy(admin, 1, headers={"If-Match": '"4"'})
    assert (stale_header.status, stale_header.code) == (409, "ROW_VERSION_MISMATCH")
    second = put_policy(admin, 1, headers={"If-Match": '"1"'})
    assert (second.status, second.body["rowVersion"]) == (200, 2)


def test_a_policy_out_of_range_is_refused(admin: Api) -> None:
    for required in (-1, 6, "1", True, None):
        response = put_policy(admin, required)  # type: ignore[arg-type]
        assert (response.status, response.code) == (400, "VALIDATION_ERROR"), required
    assert admin.request("GET", "/policy").body["rowVersion"] == 0


def test_each_policy_change_is_in_the_tenant_feed(admin: Api, stream: StreamPoller) -> None:
    put_policy(admin, 1)
    put_policy(admin, 1, approvals={"required": 1, "allowSelfApproval": True})
    put_policy(admin, 1, approvals={"required": 1, "allowSelfApproval": True})  # unchanged: no entry
    stream.deliver()

    feed = admin.get("/history").body["data"]
    assert [entry["action"] for entry in feed] == ["policy_changed", "policy_changed"]
    assert {entry["flowId"] for entry in feed} == {"policy"}
    assert feed[1]["changes"] == {"approvals.required": {"from": 0, "to": 1}}
    assert feed[0]["changes"] == {"approvals.allowSelfApproval": {"from": False, "to": True}}
    assert feed[0]["actor"] == "admin@a.example"


def test_with_required_approvals_direct_changes_of_live_flows_are_refused(admin: Api) -> None:
    flow = live_flow(admin)
    paused = admin.create(key="paused", name="Paused", draftConfig=v2_config("p")).body
    put_policy(admin, 1)

    refusals = {
        "publish": admin.publish(id=flow["id"]),
        "rollback": admin.rollback(id=flow["id"], version=1, notes="again"),
        "rollout": admin.publish(id=flow["id"], rollout={"percent": 5}),
        "status": admin.update(id=flow["id"], status="paused"),
        "key": admin.update(id=flow["id"], key="elsewhere"),
        "delete": admin.delete(flow["id"]),
    }
    for call, response in refusals.items():
        assert (response.status, response.code) == (409, "APPROVAL_REQUIRED"), call
        assert "POST /api/v1/decision-flows/changes" in response.body["detail"], call
    assert admin.get(id=flow["id"]).body["rowVersion"] == flow["rowVersion"]

    # Dry runs, draft edits and flows that are not active stay free.
    assert admin.publish(id=flow["id"], dryRun=True).status == 200
    assert admin.update(id=flow["id"], name="Renamed", draftConfig=v2_config("v4")).status == 200
    assert admin.publish(id=paused["id"]).status == 200


def test_rollout_steps_are_gated_too(admin: Api) -> None:
    flow = live_flow(admin)
    assert admin.publish(id=flow["id"], rollout={"percent": 5}).status == 200
    put_policy(admin, 1)

    for path, body in (("", {"percent": 10}), ("/promote", {}), ("/abort", {})):
        response = admin.request("POST", f"/rollout{path}", body={"id": flow["id"], **body})
        assert (response.status, response.code) == (409, "APPROVAL_REQUIRED"), path


def test_policies_are_per_tenant(admin: Api, other_tenant: Api) -> None:
    flow = live_flow(other_tenant)
    put_policy(admin, 3)

    assert other_tenant.request("GET", "/policy").body["approvals"]["required"] == 0
    assert other_tenant.publish(id=flow["id"]).status == 200
