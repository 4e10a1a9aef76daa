"""GET /history and GET /live as callers see them: pagination, errors and DynamoDB cost."""

from __future__ import annotations

from typing import Any

from decision_flows_local.gateway import Api
from decision_flows_local.samples import v2_config
from decision_flows_local.streams import StreamPoller


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
        assert editor.get("/history").status == 400

    def test_viewers_may_not_read_history(self, viewer: Api) -> None:
        assert viewer.history("df_any").code == "INSUFFICIENT_ROLE"

    def test_history_costs_one_query(self, editor: Api, stream: StreamPoller, dynamo_calls: Any) -> None:
        flow = flow_with_changes(editor, stream, renames=3)
        dynamo_calls.reset()

        editor.history(flow["id"])

        assert dynamo_calls.operations == ["Query"]


class TestLive:
    def test_a_hit_costs_one_read_and_serves_the_contract_fields(
        self, editor: Api, viewer: Api, stream: StreamPoller, dynamo_calls: Any
    ) -> None:
        flow = editor.create(key="offers", name="Offers", draftConfig=v2_config("a")).body
        editor.publish(id=flow["id"])
        stream.deliver()
        dynamo_calls.reset()

        response = viewer.live("offers")

        assert response.status == 200
        assert set(response.body) == {"flowId", "key", "version", "publishedAt", "config"}
        assert dynamo_calls.operations == ["GetItem"]

    def test_another_tenant_never_gets_our_live_config(
        self, editor: Api, other_tenant: Api, stream: StreamPoller
    ) -> None:
        flow = editor.create(key="offers", name="Offers", draftConfig=v2_config("a")).body
        editor.publish(id=flow["id"])
        stream.deliver()

        assert other_tenant.live("offers").code == "LIVE_FLOW_NOT_FOUND"
