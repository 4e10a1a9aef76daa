"""GET /history without id, the tenant feed, as callers see it: every flow's entries in one list,
newest first, paginated with cursors that stay in their tenant and their ``since``."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from decision_flows import wiring
from decision_flows_local.api.gateway import Api, HttpResponse
from decision_flows_local.dynamodb.streams import StreamPoller
from decision_flows_local.fixtures.samples import v2_config

START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def ticking_clock(dynamodb: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each write of a flow one second after the last, from START: the feed's order is known in advance."""
    moments = (START + timedelta(seconds=n) for n in range(10_000))
    monkeypatch.setattr(wiring.flow_service(), "_clock", lambda: next(moments))


def feed(api: Api, **query: str) -> HttpResponse:
    return api.get("/history", **query)


def whole_feed(api: Api, limit: int, **query: str) -> tuple[list[dict[str, Any]], int]:
    """Every entry, page after page, and the number of pages read."""
    seen: list[dict[str, Any]] = []
    cursor, pages = None, 0
    while True:
        body = feed(api, limit=str(limit), **query, **({"cursor": cursor} if cursor else {})).body
        seen += body["data"]
        pages += 1
        if not body["pagination"]["hasMore"]:
            assert body["pagination"]["nextCursor"] is None
            return seen, pages
        cursor = body["pagination"]["nextCursor"]


def steps(entries: list[dict[str, Any]]) -> list[tuple[str, str, int]]:
    return [(entry["flowId"], entry["action"], entry["rowVersion"]) for entry in entries]


@pytest.fixture
def two_flows(editor: Api, stream: StreamPoller, ticking_clock: None) -> tuple[str, str]:
    """Flows A and B written in turn (A created, B created, A renamed, B published, A deleted)."""
    a = editor.create(key="alpha", name="Alpha").body["id"]
    b = editor.create(key="beta", name="Beta", draftConfig=v2_config("b")).body["id"]
    editor.update(id=a, name="Alpha 2")
    editor.publish(id=b)
    assert editor.delete(a).status == 204
    stream.deliver()
    return a, b


class TestTenantFeed:
    def test_entries_of_every_flow_come_newest_first_deleted_flows_included(
        self, editor: Api, two_flows: tuple[str, str]
    ) -> None:
        a, b = two_flows

        response = feed(editor)

        assert response.status == 200
        assert steps(response.body["data"]) == [
            (a, "deleted", 3),
            (b, "published", 2),
            (a, "updated", 2),
            (b, "created", 1),
            (a, "created", 1),
        ]
        assert response.body["pagination"] == {"limit": 25, "hasMore": False, "nextCursor": None}
        # The same entries as each flow's own history shows
        assert response.body["data"][1] == editor.history(b).body["data"][0]

    def test_pages_hold_every_entry_once_in_order(self, editor: Api, two_flows: tuple[str, str]) -> None:
        everything = feed(editor).body["data"]

        paged, pages = whole_feed(editor, limit=2)

        assert (paged, pages) == (everything, 3)

    def test_since_keeps_the_entries_at_or_after_it(self, editor: Api, two_flows: tuple[str, str]) -> None:
        a, b = two_flows
        third_write = (START + timedelta(seconds=2)).isoformat()  # A's rename, with an offset of +00:00

        assert steps(feed(editor, since=third_write).body["data"]) == [
            (a, "deleted", 3),
            (b, "published", 2),
            (a, "updated", 2),
        ]
        # Other spellings of instants: another offset, a date without a time, a time between milliseconds
        assert len(feed(editor, since="2026-03-01T10:00:03.000+01:00").body["data"]) == 2
        assert len(feed(editor, since="2026-03-02").body["data"]) == 0
        assert len(feed(editor, since="2026-03-01T09:00:03.999999Z").body["data"]) == 1
        assert len(feed(editor, since="2026-03-01t09:00:04z").body["data"]) == 1

    def test_paging_with_since_stays_within_it(self, editor: Api, two_flows: tuple[str, str]) -> None:
        since = (START + timedelta(seconds=1)).isoformat()

        paged, pages = whole_feed(editor, limit=1, since=since)

        assert (len(paged), pages) == (4, 4)
        assert paged == feed(editor, since=since).body["data"]

    def test_a_cursor_from_before_since_is_refused(self, editor: Api, two_flows: tuple[str, str]) -> None:
        # Given a cursor pointing below the instant a later request asks for
        body = feed(editor, limit="4").body
        cursor = body["pagination"]["nextCursor"]

        # Then DynamoDB is never asked to start outside its key condition: a clean 400
        response = feed(editor, cursor=cursor, since=START.isoformat().replace("09:00", "09:03"))
        assert (response.status, response.code) == (400, "INVALID_CURSOR")

    @pytest.mark.parametrize(
        "query",
        [
            {"limit": "0"},
            {"limit": "101"},
            {"limit": "ten"},
            {"cursor": "not-a-cursor"},
            {"since": "yesterday"},
            {"since": "2026-13-01T00:00:00Z"},
            {"since": "0001-01-01T00:00:00+01:00"},  # before the first instant there is, in UTC
            {"since": "9999-12-31T23:59:59.9999Z"},
        ],
    )
    def test_bad_queries_are_400_naming_the_field(self, editor: Api, query: dict[str, str]) -> None:
        response = feed(editor, **query)

        assert response.status == 400, response.body
        assert response.headers["content-type"] == "application/problem+json"
        name = next(iter(query))
        if name != "cursor":
            assert [problem["field"] for problem in response.body["errors"]] == [name]

    def test_viewers_may_not_read_the_feed(self, viewer: Api) -> None:
        assert feed(viewer).code == "INSUFFICIENT_ROLE"

    def test_the_history_of_one_flow_still_needs_a_valid_id(self, editor: Api) -> None:
        assert feed(editor, id="").status == 400

    def test_one_page_is_one_query(self, editor: Api, two_flows: tuple[str, str], dynamo_calls: Any) -> None:
        dynamo_calls.reset()

        feed(editor, limit="2")

        assert dynamo_calls.operations == ["Query"]


class TestFeedIsolation:
    def test_another_tenant_sees_nothing_of_it(self, other_tenant: Api, two_flows: tuple[str, str]) -> None:
        response = feed(other_tenant)

        assert (response.status, response.body["data"]) == (200, [])

    def test_a_cursor_of_another_tenant_is_refused(
        self, editor: Api, other_tenant: Api, stream: StreamPoller, two_flows: tuple[str, str]
    ) -> None:
        # Given the other tenant has a feed of its own, long enough to hand out a cursor
        other_tenant.create(key="gamma", name="Gamma")
        other_tenant.create(key="delta", name="Delta")
        stream.deliver()
        theirs = feed(other_tenant, limit="1").body["pagination"]["nextCursor"]
        ours = feed(editor, limit="1").body["pagination"]["nextCursor"]

        # Then neither tenant's cursor is accepted by the other
        assert feed(editor, cursor=theirs).code == "INVALID_CURSOR"
        assert feed(other_tenant, cursor=ours).code == "INVALID_CURSOR"
        # Nor one whose table key and feed partition are of two tenants, whichever tenant sends it
        mixed = retargeted(ours, FeedPK="T#tenant-b#FEED")
        assert (feed(editor, cursor=mixed).code, feed(other_tenant, cursor=mixed).code) == ("INVALID_CURSOR",) * 2


def retargeted(cursor: str, **keys: str) -> str:
    """``cursor`` with some of its key values replaced, encoded as the service encodes cursors."""
    plain = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    raw = json.dumps(plain | keys, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")
