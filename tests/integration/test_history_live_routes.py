"""GET /history and GET /live as callers see them: pagination, errors and DynamoDB cost."""

from __future__ import annotations

import json
from typing import Any

from decision_flows_local.api.gateway import Api
from decision_flows_local.dynamodb.streams import StreamPoller
from decision_flows_local.fixtures.samples import config_of_size, v2_config


def flow_with_changes(api: Api, stream: StreamPoller, renames: int) -> dict[str, Any]:
    flow: dict[str, Any] = api.create(key="offers", name="Offers", draftConfig=v2_config("a")).body
    for n in range(renames):
        api.update(id=flow["id"], name=f"Offers {n}")
    stream.deliver()
    return flow


class TestHistory:
    def test_pages_run_newest_first_without_gaps_or_repeats(self, editor: Api, stream: StreamPoller) -> None:
        # Given 7 changes
        flow = flow_with_changes(editor, stream, renames=6)

        # When they are read 3 at a time
        seen, cursor, pages = [], None, 0
        while True:
            query = {"limit": "3", **({"cursor": cursor} if cursor else {})}
            body = editor.history(flow["id"], **query).body
            seen += [entry["rowVersion"] for entry in body["data"]]
            pages += 1
            if not body["pagination"]["hasMore"]:
                assert body["pagination"]["nextCursor"] is None
                break
            cursor = body["pagination"]["nextCursor"]

        # Then every change comes once, newest first
        assert seen == [7, 6, 5, 4, 3, 2, 1]
        assert pages == 3

    def test_default_limit_is_25(self, editor: Api, stream: StreamPoller) -> None:
        flow = flow_with_changes(editor, stream, renames=0)
        assert editor.history(flow["id"]).body["pagination"]["limit"] == 25

    def test_unknown_flow_is_404(self, editor: Api) -> None:
        assert editor.history("df_nobody").code == "FLOW_NOT_FOUND"

    def test_a_flow_the_consumer_has_not_reached_yet_has_an_empty_history(self, editor: Api) -> None:
        flow = editor.create(key="offers", name="Offers").body

        response = editor.history(flow["id"])

        assert (response.status, response.body["data"]) == (200, [])

    def test_bad_queries_are_400(self, editor: Api, stream: StreamPoller) -> None:
        flow = flow_with_changes(editor, stream, renames=2)
        other = editor.create(key="other", name="Other").body
        other_cursor = editor.history(flow["id"], limit="1").body["pagination"]["nextCursor"]

        assert editor.history(flow["id"], limit="0").status == 400
        assert editor.history(flow["id"], limit="101").status == 400
        assert editor.history(flow["id"], cursor="not-a-cursor").code == "INVALID_CURSOR"
        assert editor.history(other["id"], cursor=other_cursor).code == "INVALID_CURSOR"
        assert editor.get("/history", id="").status == 400  # without id at all, it is the tenant feed

    def test_viewers_may_not_read_history(self, viewer: Api) -> None:
        assert viewer.history("df_any").code == "INSUFFICIENT_ROLE"

    def test_history_costs_one_query(self, editor: Api, stream: StreamPoller, dynamo_calls: Any) -> None:
        flow = flow_with_changes(editor, stream, renames=3)
        dynamo_calls.reset()

        editor.history(flow["id"])

        assert dynamo_calls.operations == ["Query"]


def published_offers(editor: Api, stream: StreamPoller) -> dict[str, Any]:
    """Flow "offers" with v1 live, and the live pointer the consumer wrote for it."""
    flow: dict[str, Any] = editor.create(key="offers", name="Offers", draftConfig=v2_config("a")).body
    editor.publish(id=flow["id"])
    stream.deliver()
    return flow


class TestLive:
    def test_a_hit_costs_one_small_read_once_the_instance_holds_the_version(
        self, editor: Api, viewer: Api, stream: StreamPoller, dynamo_calls: Any
    ) -> None:
        # Given a published flow whose live pointer the consumer has written
        published_offers(editor, stream)

        # When a fresh instance serves it twice
        dynamo_calls.reset()
        first = viewer.live("offers")
        cold = list(dynamo_calls.operations)
        dynamo_calls.reset()
        second = viewer.live("offers")

        # Then the first read the pointer and the version's snapshot, the second the pointer only
        assert (first.status, first.body) == (200, second.body)
        assert set(first.body) == {"flowId", "key", "version", "publishedAt", "config", "role"}
        assert (first.body["config"], first.body["role"]) == (v2_config("a"), "champion")
        assert (cold, dynamo_calls.operations) == (["GetItem", "BatchGetItem"], ["GetItem"])

    def test_an_etag_names_flow_and_version_and_a_poll_that_names_it_is_304(
        self, editor: Api, viewer: Api, stream: StreamPoller, dynamo_calls: Any
    ) -> None:
        flow = published_offers(editor, stream)
        served = viewer.live("offers")
        etag = f'"{flow["id"]}:1"'
        assert served.headers["etag"] == etag

        for header in (etag, f"W/{etag}", f'"other:9", {etag}', "*"):
            dynamo_calls.reset()
            polled = viewer.request("GET", "/live", query={"key": "offers"}, headers={"If-None-Match": header})
            assert (polled.status, polled.body, polled.headers["etag"]) == (304, None, etag), header
            assert dynamo_calls.operations == ["GetItem"]

        # And once v2 is live, the old ETag gets the new config
        editor.update(id=flow["id"], draftConfig=v2_config("b"))
        editor.publish(id=flow["id"])
        stream.deliver()
        changed = viewer.request("GET", "/live", query={"key": "offers"}, headers={"If-None-Match": etag})
        assert (changed.status, changed.body["version"], changed.headers["etag"]) == (200, 2, f'"{flow["id"]}:2"')

    def test_a_live_pointer_stays_small_whatever_the_config(
        self, editor: Api, stream: StreamPoller, dynamodb: Any
    ) -> None:
        flow = editor.create(key="big", name="Big", draftConfig=config_of_size(300 * 1024 - 2048)).body
        editor.publish(id=flow["id"])
        stream.deliver()

        (item,) = dynamodb.scan(TableName="LiveTable")["Items"]

        assert len(json.dumps(item)) < 1024
        assert "config" not in item

    def test_another_tenant_never_gets_our_live_config(
        self, editor: Api, other_tenant: Api, stream: StreamPoller
    ) -> None:
        flow = editor.create(key="offers", name="Offers", draftConfig=v2_config("a")).body
        editor.publish(id=flow["id"])
        stream.deliver()

        assert other_tenant.live("offers").code == "LIVE_FLOW_NOT_FOUND"
