"""GET /changes?state=unreviewed without flowId: the tenant's emergency requests awaiting review,
across its flows, newest first, one Query of the sparse Unreviewed index per page."""

from __future__ import annotations

from typing import Any

import pytest

from decision_flows_local.api.gateway import Api, HttpResponse
from tests.integration.test_change_requests import approve
from tests.integration.test_emergency_changes import emergency_rollback, unreviewed
from tests.integration.test_policy_routes import live_flow
from tests.support.costs import measure
from tests.support.dynamodb_calls import DynamoCalls


def across_flows(api: Api, **query: Any) -> HttpResponse:
    return api.request("GET", "/changes", query={"state": "unreviewed", **query})


def change_ids(response: HttpResponse) -> list[str]:
    assert response.status == 200, response.body
    return [change["changeId"] for change in response.body["data"]]


def emergencies_on_two_flows(admin: Api) -> list[str]:
    """The change ids of an emergency rollback on each of two flows, oldest first."""
    made = []
    for key in ("offers", "pricing"):
        flow = live_flow(admin, key)
        assert emergency_rollback(admin, flow["id"]).status == 200
        (change,) = unreviewed(admin, flow["id"])
        made.append(change["changeId"])
    return made


def test_the_tenants_unreviewed_emergencies_are_listed_across_flows_newest_first(admin: Api, editor: Api) -> None:
    # Given an emergency rollback on each of two flows
    older, newer = emergencies_on_two_flows(admin)

    # When an editor lists the unreviewed ones without a flow
    listed = across_flows(editor)

    # Then both are there, newest first, whole, on one page
    assert change_ids(listed) == [newer, older]
    assert {change["emergency"]["reviewed"] for change in listed.body["data"]} == {False}
    assert listed.body["pagination"] == {"limit": 25, "hasMore": False, "nextCursor": None}


def test_a_reviewed_emergency_leaves_the_listing(admin: Api, editor: Api) -> None:
    # Given two unreviewed emergencies
    older, newer = emergencies_on_two_flows(admin)
    (reviewed,) = [change for change in across_flows(admin).body["data"] if change["changeId"] == older]

    # When an editor approves one (the one approval that reviews it)
    assert approve(editor, reviewed).body["emergency"]["reviewed"] is True

    # Then only the other is listed
    assert change_ids(across_flows(admin)) == [newer]


def test_pages_follow_each_other_without_gap_or_duplicate(admin: Api, dynamo_calls: DynamoCalls) -> None:
    # Given three unreviewed emergencies on one flow
    flow = live_flow(admin)
    for version in (1, 2, 1):
        assert emergency_rollback(admin, flow["id"], version=version).status == 200
    every = change_ids(across_flows(admin))
    assert len(every) == 3

    # When they are listed two at a time
    first, calls = measure(dynamo_calls, lambda: across_flows(admin, limit=2))
    second = across_flows(admin, limit=2, cursor=first.body["pagination"]["nextCursor"])

    # Then a page is one Query (of the index), the two pages are the listing, in order, and the last
    # says so
    assert calls.by_operation()["Query"] == 1
    assert first.body["pagination"]["hasMore"] is True
    assert change_ids(first) + change_ids(second) == every
    assert second.body["pagination"] == {"limit": 2, "hasMore": False, "nextCursor": None}


def test_another_tenant_sees_none_and_cannot_use_our_cursor(admin: Api, other_tenant: Api) -> None:
    # Given our unreviewed emergencies and a cursor into them
    emergencies_on_two_flows(admin)
    cursor = across_flows(admin, limit=1).body["pagination"]["nextCursor"]
    assert cursor

    # Then another tenant lists none, and our cursor is refused to it
    assert change_ids(across_flows(other_tenant)) == []
    refused = across_flows(other_tenant, limit=1, cursor=cursor)
    assert refused.status == 400, refused.body


@pytest.mark.parametrize(
    "query",
    [
        {"state": "unreviewed", "limit": "0"},
        {"state": "unreviewed", "limit": "101"},
        {"state": "unreviewed", "limit": "many"},
        {"state": "unreviewed", "cursor": "not-a-cursor"},
        {"state": "pending"},  # only the unreviewed have an index across flows
        {"state": "applied"},
        {},
    ],
)
def test_a_bad_listing_across_flows_is_400(editor: Api, query: dict[str, str]) -> None:
    response = editor.request("GET", "/changes", query=query)
    assert response.status == 400, response.body
    assert response.body["status"] == 400


def test_a_viewer_may_not_list_them(viewer: Api) -> None:
    assert across_flows(viewer).status == 403
