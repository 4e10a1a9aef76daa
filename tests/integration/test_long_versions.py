"""A version number longer than a sort key is a client's mistake (400), never a 500 (review L3).

Version numbers become sort keys (``SNAP#<n>``, ``VERSION#<n>``), and DynamoDB refuses a sort key over
1024 bytes on reads too; the embedded store refuses it as DynamoDB does (strict_dynamodb)."""

from __future__ import annotations

from typing import Any

import pytest

from decision_flows_local.api.gateway import Api
from decision_flows_local.fixtures.samples import v2_config

THOUSAND_DIGITS = "9" * 1020


@pytest.fixture
def published(admin: Api) -> str:
    flow_id: str = admin.create(key="long", name="long", draftConfig=v2_config()).body["id"]
    assert admin.publish(id=flow_id).status == 200
    return flow_id


@pytest.mark.parametrize("number", [THOUSAND_DIGITS, f"-{THOUSAND_DIGITS}"], ids=["huge", "huge negative"])
@pytest.mark.parametrize(
    "request_",
    [
        lambda flow_id, n: ("POST", "/rollback", {"raw_body": f'{{"id":"{flow_id}","version":{n}}}'}),
        lambda flow_id, n: ("POST", "/rollback", {"raw_body": f'{{"id":"{flow_id}","version":{n},"dryRun":true}}'}),
        lambda flow_id, n: ("GET", "/versions", {"query": {"id": flow_id, "version": n}}),
    ],
    ids=["rollback", "rollback dry run", "versions"],
)
def test_a_version_longer_than_a_sort_key_is_400(admin: Api, published: str, number: str, request_: Any) -> None:
    method, path, params = request_(published, number)

    response = admin.request(method, path, **params)

    assert (response.status, response.code) == (400, "VALIDATION_ERROR"), response.body
    assert response.headers["content-type"] == "application/problem+json"


def test_the_largest_version_number_accepted_is_simply_not_found(admin: Api, published: str) -> None:
    response = admin.get("/versions", id=published, version="9" * 18)

    assert (response.status, response.code) == (404, "VERSION_NOT_FOUND")
