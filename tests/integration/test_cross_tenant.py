"""A credential reaches only its own tenant's data, on every route: another tenant's flow id is 404."""

from __future__ import annotations

from typing import Any

import pytest

from decision_flows_local import template
from decision_flows_local.api.gateway import Api, HttpResponse
from decision_flows_local.dynamodb.streams import StreamPoller
from decision_flows_local.fixtures.samples import v2_config

FLOW_ROUTES = sorted((r.method, r.path) for r in template.routes() if r.path.startswith("/api/v1/decision-flows"))


@pytest.fixture
def alices_flow(admin: Api, stream: StreamPoller) -> dict[str, Any]:
    flow: dict[str, Any] = admin.create(key="alice", name="Alice's", draftConfig=v2_config("a")).body
    admin.publish(id=flow["id"])
    admin.update(id=flow["id"], draftConfig=v2_config("b"))
    admin.publish(id=flow["id"])
    stream.deliver()  # so that Alice's flow has a change history and a live entry to leak
    assert admin.request("GET", "/live", query={"key": "alice"}).status == 200
    change = admin.request(
        "POST", "/changes", body={"flowId": flow["id"], "action": "rollback", "params": {"version": 1}}
    )
    assert change.status == 201, change.body
    flow["changeId"] = change.body["changeId"]  # Alice's change request, approved at once (no review asked)
    return flow


def attempt(api: Api, method: str, path: str, flow_id: str, change_id: str) -> HttpResponse:
    suffix = path.removeprefix(Api.BASE)
    bodies = {
        ("POST", ""): {"key": "alice", "name": "Bob's"},
        ("PUT", ""): {"id": flow_id, "name": "Taken over"},
        ("POST", "/publish"): {"id": flow_id},
        ("POST", "/rollback"): {"id": flow_id, "version": 1},
        ("POST", "/validate"): {"id": flow_id},
        ("POST", "/rollout"): {"id": flow_id, "percent": 10},
        ("POST", "/rollout/promote"): {"id": flow_id},
        ("POST", "/rollout/abort"): {"id": flow_id},
        ("PUT", "/policy"): {"approvals": {"required": 4}},
        ("POST", "/changes"): {"flowId": flow_id, "action": "publish"},
        ("POST", "/changes/approve"): {"changeId": change_id, "contentHash": "sha256:any"},
        ("POST", "/changes/reject"): {"changeId": change_id, "comment": "no"},
        ("POST", "/changes/cancel"): {"changeId": change_id},
        ("POST", "/changes/apply"): {"changeId": change_id},
        ("POST", "/changes/schedule"): {"changeId": change_id, "runAt": "2099-01-01T09:00:00+01:00"},
        ("POST", "/changes/unschedule"): {"changeId": change_id},
    }
    if (method, suffix) == ("GET", "/changes"):
        return api.request(method, suffix, query={"id": change_id})
    if suffix == "/diff":
        return api.request(method, suffix, query={"id": flow_id, "from": "1", "to": "draft"})
    if suffix in ("/live", "/live/state"):
        return api.request(method, suffix, query={"key": "alice"})
    if suffix == "/policy" and method == "GET":
        return api.request(method, suffix)
    if method == "GET" or method == "DELETE":
        return api.request(method, suffix, query={"id": flow_id, **({"version": "1"} if suffix else {})})
    return api.request(method, suffix, body=bodies[(method, suffix)])


def test_the_routes_are_all_covered() -> None:
    assert len(FLOW_ROUTES) == 25


@pytest.mark.parametrize("path", ["/publish", "/rollback"])
def test_another_tenants_dry_run_is_404_too(other_tenant: Api, alices_flow: dict[str, Any], path: str) -> None:
    response = other_tenant.request(
        "POST",
        path,
        body={"id": alices_flow["id"], "version": 1, "dryRun": True}
        if path == "/rollback"
        else {"id": alices_flow["id"], "dryRun": True},
    )
    assert (response.status, response.code) == (404, "FLOW_NOT_FOUND")


@pytest.mark.parametrize(("method", "path"), FLOW_ROUTES)
def test_another_tenant_gets_404_or_its_own_data_never_ours(
    admin: Api, other_tenant: Api, alices_flow: dict[str, Any], method: str, path: str
) -> None:
    before = admin.get(id=alices_flow["id"]).body

    response = attempt(other_tenant, method, path, alices_flow["id"], alices_flow["changeId"])

    if (method, path) == ("POST", Api.BASE):
        # Creating with the same key is Bob's own flow in his own tenant
        assert response.status == 201
        assert response.body["tenantId"] == "tenant-b"
    elif (method, path) == ("GET", Api.BASE):
        assert (response.status, response.code) == (404, "FLOW_NOT_FOUND")
        assert other_tenant.get().body["data"] == []
    elif path.endswith("/policy"):
        # The policy is the caller's own tenant's, never another's
        assert response.status == 200, response.body
        assert admin.request("GET", "/policy").body["rowVersion"] == 0
    else:
        assert response.status == 404, response.body
    assert alices_flow["id"] not in str(response.body) or response.status == 404
    assert admin.get(id=alices_flow["id"]).body == before
    change = admin.request("GET", "/changes", query={"id": alices_flow["changeId"]}).body
    assert (change["state"], change["rowVersion"]) == ("approved", 1)
