"""The flow routes (list, get, create, update, delete) through their Lambda handlers, against moto."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest

from decision_flows_local.api.gateway import Api
from decision_flows_local.fixtures.samples import config_of_size, v1_config, v2_config

ISO_MS_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def create(api: Api, key: str = "welcome", **fields: Any) -> dict[str, Any]:
    response = api.create(key=key, name=fields.pop("name", key.title()), **fields)
    assert response.status == 201, response.body
    body: dict[str, Any] = response.body
    return body


class TestCreate:
    def test_creates_a_flow_with_the_contracts_defaults(self, editor: Api) -> None:
        response = editor.create(key="welcome-offers", name="Welcome offers")

        assert response.status == 201
        flow = response.body
        assert flow["id"].startswith("df_")
        assert flow["tenantId"] == "tenant-a"
        assert flow["status"] == "draft"
        assert flow["autoAssembly"] is True
        assert flow["description"] is None
        assert flow["draftConfig"] == {"version": 2, "nodes": [], "edges": []}
        assert flow["publishedVersions"] == []
        assert flow["liveVersion"] is None
        assert flow["latestVersion"] is None
        assert flow["hasUnpublishedChanges"] is True
        assert flow["rowVersion"] == 1
        assert ISO_MS_Z.match(flow["createdAt"])
        assert flow["createdAt"] == flow["updatedAt"]
        assert flow["createdBy"] == flow["updatedBy"] == "editor@a.example"
        assert response.headers["etag"] == '"1"'
        assert response.headers["location"] == f"/api/v1/decision-flows?id={flow['id']}"

    def test_ids_are_never_reused(self, editor: Api) -> None:
        first = create(editor, "one")
        editor.delete(first["id"])
        second = create(editor, "one")
        assert second["id"] != first["id"]

    def test_a_taken_key_is_409(self, editor: Api) -> None:
        create(editor, "welcome")
        response = editor.create(key="welcome", name="Again")
        assert response.status == 409
        assert response.code == "KEY_TAKEN"
        assert response.headers["content-type"] == "application/problem+json"

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"name": "No key"}, "key"),
            ({"key": "has space", "name": "x"}, "key"),
            ({"key": "k" * 256, "name": "x"}, "key"),
            ({"key": "ok", "name": ""}, "name"),
            ({"key": "ok", "name": "x", "autoAssembly": "yes"}, "autoAssembly"),
            ({"key": "ok", "name": "x", "status": "gone"}, "status"),
            ({"key": "ok", "name": "x", "tenantId": "tenant-b"}, "tenantId"),
            ({"key": "ok", "name": "x", "id": "df_mine"}, "id"),
            ({"key": "ok", "name": "x", "rowVersion": 7}, "rowVersion"),
            ({"key": "ok", "name": "x", "liveVersion": 3}, "liveVersion"),
        ],
    )
    def test_invalid_or_server_owned_fields_are_400(self, editor: Api, body: dict[str, Any], field: str) -> None:
        response = editor.create(**body)
        assert response.status == 400
        assert response.code == "VALIDATION_ERROR"
        assert any(problem["field"] == field for problem in response.body["errors"]), response.body

    def test_an_invalid_config_is_422_with_every_problem(self, editor: Api) -> None:
        config = {
            "version": 2,
            "nodes": [{"id": "a", "type": "score"}, {"id": "a", "type": "teleport"}],
            "edges": [{"source": "a", "target": "ghost"}],
        }
        response = editor.create(key="bad", name="Bad", draftConfig=config)
        assert response.status == 422
        assert response.code == "CONFIG_INVALID"
        fields = {problem["field"] for problem in response.body["errors"]}
        assert fields == {"draftConfig.nodes[1].id", "draftConfig.nodes[1].type", "draftConfig.edges[0].target"}

    def test_a_flow_cannot_start_active(self, editor: Api) -> None:
        response = editor.create(key="k", name="n", status="active")
        assert response.status == 422
        assert response.code == "NOT_PUBLISHED"

    def test_configs_up_to_300kb_are_stored_and_larger_are_413(self, editor: Api) -> None:
        fits = editor.create(key="big", name="Big", draftConfig=config_of_size(300 * 1024 - 200))
        assert fits.status == 201
        assert editor.get(id=fits.body["id"]).body["draftConfig"] == fits.body["draftConfig"]

        too_big = editor.create(key="bigger", name="Bigger", draftConfig=config_of_size(300 * 1024 + 200))
        assert too_big.status == 413
        assert too_big.code == "CONFIG_TOO_LARGE"

    def test_a_body_that_is_not_json_is_415_and_malformed_json_is_400(self, editor: Api) -> None:
        not_json = editor.request("POST", raw_body="key=a", headers={"content-type": "text/plain"})
        assert not_json.status == 415
        assert not_json.code == "UNSUPPORTED_MEDIA_TYPE"
        malformed = editor.request("POST", raw_body='{"key": ')
        assert malformed.status == 400
        assert malformed.code == "MALFORMED_JSON"


class TestGet:
    def test_returns_the_flow_with_its_etag(self, editor: Api) -> None:
        flow = create(editor, description="Greets new customers")
        response = editor.get(id=flow["id"])
        assert response.status == 200
        assert response.body == flow
        assert response.headers["etag"] == '"1"'

    def test_an_unknown_id_is_404(self, viewer: Api) -> None:
        response = viewer.get(id="df_nope")
        assert response.status == 404
        assert response.code == "FLOW_NOT_FOUND"

    def test_a_malformed_id_is_400(self, viewer: Api) -> None:
        response = viewer.get(id="a#b")
        assert response.status == 400


class TestGetByKey:
    """Automation knows a flow's key, not its id: GET ?key= is the flow with that key."""

    def test_returns_the_flow_with_that_key_and_its_etag(self, editor: Api, viewer: Api) -> None:
        # Given two flows of the tenant
        create(editor, "other")
        flow = create(editor, "checkout.offers")
        # When a viewer asks for one by its key
        response = viewer.get(key="checkout.offers")
        # Then it is that flow, as GET ?id= answers it
        assert (response.status, response.headers["etag"]) == (200, '"1"')
        assert response.body == editor.get(id=flow["id"]).body

    def test_follows_the_key_when_it_moves(self, editor: Api) -> None:
        flow = create(editor, "old-key")
        editor.update(id=flow["id"], key="new-key")
        assert editor.get(key="new-key").body["id"] == flow["id"]
        assert (editor.get(key="old-key").status, editor.get(key="old-key").code) == (404, "FLOW_NOT_FOUND")

    def test_an_unknown_deleted_or_other_tenants_key_is_404(self, editor: Api, other_tenant: Api) -> None:
        deleted = create(editor, "deleted")
        editor.delete(deleted["id"])
        create(editor, "ours")
        for api, key in ((editor, "nobody-has-it"), (editor, "deleted"), (other_tenant, "ours")):
            response = api.get(key=key)
            assert (response.status, response.code) == (404, "FLOW_NOT_FOUND"), key

    @pytest.mark.parametrize(
        "query",
        [
            pytest.param({"key": "welcome", "id": "df_" + "0" * 24}, id="both id and key"),
            pytest.param({"key": ""}, id="empty key"),
            pytest.param({"key": "a#b"}, id="not a key"),
        ],
    )
    def test_both_id_and_key_or_a_malformed_key_is_400(self, viewer: Api, query: dict[str, str]) -> None:
        response = viewer.get(**query)
        assert (response.status, response.code) == (400, "VALIDATION_ERROR")


class TestList:
    def test_orders_by_status_then_newest_first(self, editor: Api) -> None:
        older_draft = create(editor, "older-draft")
        paused = create(editor, "paused", status="paused")
        time.sleep(0.005)  # updatedAt has millisecond resolution
        newer_draft = create(editor, "newer-draft")
        active = create(editor, "active", draftConfig=v2_config())
        editor.publish(id=active["id"])
        archived = create(editor, "archived", status="archived")

        response = editor.get()

        assert response.status == 200
        assert [flow["key"] for flow in response.body["data"]] == [
            "active",
            "newer-draft",
            "older-draft",
            "paused",
            "archived",
        ]
        assert response.body["pagination"] == {"total": 5, "limit": 25, "hasMore": False, "nextCursor": None}
        ids = {older_draft["id"], paused["id"], newer_draft["id"], active["id"], archived["id"]}
        assert {flow["id"] for flow in response.body["data"]} == ids

    def test_list_items_carry_no_config_and_versions_only_when_asked(self, editor: Api) -> None:
        flow = create(editor, draftConfig=v2_config())
        editor.publish(id=flow["id"], notes="v1")

        plain = editor.get().body["data"][0]
        with_versions = editor.get(include="versions").body["data"][0]

        assert "draftConfig" not in plain
        assert "publishedVersions" not in plain
        assert plain["liveVersion"] == plain["latestVersion"] == 1
        assert with_versions["publishedVersions"][0]["version"] == 1
        assert with_versions["publishedVersions"][0]["notes"] == "v1"

    def test_pages_through_everything_once_with_a_cursor(self, editor: Api) -> None:
        keys = {create(editor, f"flow-{i}")["key"] for i in range(7)}
        seen: list[str] = []
        cursor = None
        pages = 0
        while True:
            query = {"limit": "3"} | ({"cursor": cursor} if cursor else {})
            page = editor.get(**query).body
            pages += 1
            seen += [flow["key"] for flow in page["data"]]
            assert page["pagination"]["total"] == 7
            if not page["pagination"]["hasMore"]:
                assert page["pagination"]["nextCursor"] is None
                break
            cursor = page["pagination"]["nextCursor"]
        assert pages == 3
        assert sorted(seen) == sorted(keys)

    def test_status_filter_and_its_total(self, editor: Api) -> None:
        create(editor, "a")
        create(editor, "b", status="paused")
        time.sleep(0.005)
        create(editor, "c", status="paused")
        response = editor.get(status="paused")
        assert [flow["key"] for flow in response.body["data"]] == ["c", "b"]
        assert response.body["pagination"]["total"] == 2

    @pytest.mark.parametrize("query", [{"limit": "0"}, {"limit": "101"}, {"limit": "ten"}, {"status": "live"}])
    def test_bad_limit_or_status_is_400(self, viewer: Api, query: dict[str, str]) -> None:
        assert viewer.get(**query).status == 400

    @pytest.mark.parametrize("cursor", ["garbage", "eyJQSyI6IngifQ", "e30"])
    def test_a_bad_cursor_is_400(self, viewer: Api, cursor: str) -> None:
        response = viewer.get(cursor=cursor)
        assert response.status == 400
        assert response.code == "INVALID_CURSOR"


class TestUpdate:
    def test_changes_only_the_fields_sent_and_bumps_row_version(self, editor: Api) -> None:
        flow = create(editor, description="before")
        response = editor.update(id=flow["id"], name="Renamed", rowVersion=1)
        assert response.status == 200
        updated = response.body
        assert updated["name"] == "Renamed"
        assert updated["description"] == "before"
        assert updated["rowVersion"] == 2
        assert response.headers["etag"] == '"2"'

    def test_null_description_clears_it(self, editor: Api) -> None:
        flow = create(editor, description="before")
        assert editor.update(id=flow["id"], description=None).body["description"] is None

    def test_null_for_a_required_field_is_400(self, editor: Api) -> None:
        flow = create(editor)
        response = editor.update(id=flow["id"], name=None)
        assert response.status == 400
        assert response.body["errors"][0]["field"] == "name"

    def test_a_new_draft_is_validated_and_stored(self, editor: Api) -> None:
        flow = create(editor)
        assert editor.update(id=flow["id"], draftConfig=v1_config()).body["draftConfig"] == v1_config()
        invalid = editor.update(id=flow["id"], draftConfig={"nodes": "many"})
        assert invalid.status == 422
        assert editor.get(id=flow["id"]).body["draftConfig"] == v1_config()

    def test_a_stale_row_version_is_409_and_changes_nothing(self, editor: Api) -> None:
        flow = create(editor)
        editor.update(id=flow["id"], name="First", rowVersion=1)
        response = editor.update(id=flow["id"], name="Second", rowVersion=1)
        assert response.status == 409
        assert response.code == "ROW_VERSION_MISMATCH"
        assert editor.get(id=flow["id"]).body["name"] == "First"

    def test_if_match_guards_like_row_version(self, editor: Api) -> None:
        flow = create(editor)
        stale = editor.request("PUT", body={"id": flow["id"], "name": "x"}, headers={"If-Match": '"5"'})
        assert stale.status == 409
        fresh = editor.request("PUT", body={"id": flow["id"], "name": "x"}, headers={"If-Match": '"1"'})
        assert fresh.status == 200
        disagree = editor.request(
            "PUT", body={"id": flow["id"], "name": "y", "rowVersion": 2}, headers={"If-Match": '"3"'}
        )
        assert disagree.status == 400

    def test_changing_the_key_frees_the_old_one(self, editor: Api) -> None:
        flow = create(editor, "old-key")
        create(editor, "taken")
        assert editor.update(id=flow["id"], key="taken").status == 409
        assert editor.update(id=flow["id"], key="new-key").body["key"] == "new-key"
        assert editor.create(key="old-key", name="Reuse").status == 201
        assert editor.create(key="new-key", name="Clash").status == 409

    def test_status_moves_between_list_counters(self, editor: Api) -> None:
        flow = create(editor)
        editor.update(id=flow["id"], status="archived")
        assert editor.get(status="archived").body["pagination"]["total"] == 1
        assert editor.get(status="draft").body["pagination"]["total"] == 0

    def test_active_needs_a_published_version(self, editor: Api) -> None:
        flow = create(editor)
        response = editor.update(id=flow["id"], status="active")
        assert response.status == 422
        assert response.code == "NOT_PUBLISHED"

    def test_an_unknown_flow_is_404(self, editor: Api) -> None:
        assert editor.update(id="df_missing", name="x").status == 404

    def test_an_update_that_changes_nothing_writes_nothing(self, editor: Api) -> None:
        flow = create(editor, "same")
        response = editor.update(id=flow["id"], name=flow["name"])
        assert response.status == 200
        assert response.body["rowVersion"] == 1


class TestDelete:
    def test_removes_the_flow_its_versions_and_its_key(self, editor: Api) -> None:
        flow = create(editor, "doomed", draftConfig=v2_config())
        editor.publish(id=flow["id"])

        response = editor.delete(flow["id"])

        assert response.status == 204
        assert response.body is None
        assert editor.get(id=flow["id"]).status == 404
        assert editor.get("/versions", id=flow["id"]).status == 404
        assert editor.get("/versions", id=flow["id"], version="1").status == 404
        assert editor.get().body["pagination"]["total"] == 0
        assert editor.create(key="doomed", name="Reborn").status == 201

    def test_an_unknown_flow_is_404_and_a_missing_id_400(self, editor: Api) -> None:
        assert editor.delete("df_missing").status == 404
        assert editor.request("DELETE").status == 400

    def test_if_match_guards_the_delete(self, editor: Api) -> None:
        flow = create(editor)
        stale = editor.request("DELETE", query={"id": flow["id"]}, headers={"If-Match": '"9"'})
        assert stale.status == 409
        assert editor.get(id=flow["id"]).status == 200


def test_health_needs_no_identity(dynamodb: Any) -> None:
    from decision_flows_local.api.gateway import build_event, invoke

    response = invoke(build_event("GET", "/api/v1/health", caller=None))
    assert response.status == 200
    assert response.body == {"status": "ok"}
