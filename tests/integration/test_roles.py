"""Every route of template.yaml refuses callers below the minimum role its handler states (403) and
admits the rest."""

from __future__ import annotations

from typing import Any

import pytest

from decision_flows_local import template
from decision_flows_local.api import openapi
from decision_flows_local.api.gateway import Caller, build_event, invoke

ROLES = ["viewer", "editor", "admin"]
# What each handler states (decision_flows.web.routes), checked against template.yaml on reading.
MINIMUM_ROLE = {key: route.role.name.lower() for key, route in openapi.operations().items() if route.role}


def test_every_route_of_the_template_but_the_health_check_has_a_minimum_role() -> None:
    routed = {(route.method, route.path) for route in template.path_routes()}
    assert routed - set(MINIMUM_ROLE) == {("GET", "/api/v1/health")}
    assert MINIMUM_ROLE[("POST", "/api/v1/decision-flows/rollback")] == "admin"  # the contract's one admin route


@pytest.mark.parametrize(("method", "path"), sorted(MINIMUM_ROLE))
@pytest.mark.parametrize("role", ROLES)
def test_each_route_refuses_roles_below_its_minimum(dynamodb: Any, method: str, path: str, role: str) -> None:
    body = {"id": "df_missing", "version": 1} if method in ("POST", "PUT") else None
    event = build_event(method, path, caller=Caller("tenant-a", role), query={"id": "df_missing"}, body=body)

    response = invoke(event)

    if ROLES.index(role) < ROLES.index(MINIMUM_ROLE[(method, path)]):
        assert (response.status, response.code) == (403, "INSUFFICIENT_ROLE")
    else:
        assert response.status != 403, response.body


@pytest.mark.parametrize(("method", "path"), sorted(MINIMUM_ROLE))
def test_each_route_refuses_a_request_without_identity(dynamodb: Any, method: str, path: str) -> None:
    event = build_event(method, path, caller=None, query={"id": "df_missing"})
    assert invoke(event).status == 401


@pytest.mark.parametrize(("method", "path"), sorted(MINIMUM_ROLE))
def test_each_route_refuses_a_tenant_header_of_another_tenant(dynamodb: Any, method: str, path: str) -> None:
    event = build_event(
        method,
        path,
        caller=Caller("tenant-a", "admin"),
        query={"id": "df_missing"},
        headers={"X-Tenant-Id": "tenant-b"},
    )
    response = invoke(event)
    assert (response.status, response.code) == (403, "TENANT_MISMATCH")
