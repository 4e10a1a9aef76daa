"""Publish, versions and rollback through their handlers, including the contract's seed scenario."""

from __future__ import annotations

from typing import Any

import pytest

from decision_flows_local.api.gateway import Api
from decision_flows_local.fixtures.samples import v1_config, v2_config


def new_flow(api: Api, config: dict[str, Any] | None = None, key: str = "welcome") -> dict[str, Any]:
    response = api.create(key=key, name="Welcome", draftConfig=config or v2_config("v1"))
    assert response.status == 201, response.body
    body: dict[str, Any] = response.body
    return body


def publish(api: Api, flow_id: str, **body: Any) -> dict[str, Any]:
    response = api.publish(id=flow_id, **body)
    assert response.status == 200, response.body
    published: dict[str, Any] = response.body
    return published


class TestPublish:
    def test_snapshots_the_draft_as_version_one_and_makes_it_live(self, editor: Api) -> None:
        flow = new_flow(editor)

        response = editor.publish(id=flow["id"], notes="launch")

        assert response.status == 200
        published = response.body
        assert published["liveVersion"] == published["latestVersion"] == 1
        assert published["status"] == "active"
        assert published["hasUnpublishedChanges"] is False
        assert published["rowVersion"] == 2
        assert response.headers["etag"] == '"2"'
        (summary,) = published["publishedVersions"]
        assert summary == {
            "version": 1,
            "publishedAt": published["updatedAt"],
            "publishedBy": "editor@a.example",
            "notes": "launch",
        }

    def test_a_draft_without_scoring_method_is_422(self, editor: Api) -> None:
        flow = editor.create(key="empty", name="Empty").body
        response = editor.publish(id=flow["id"])
        assert response.status == 422
        assert response.code == "SCORING_METHOD_MISSING"
        assert editor.get(id=flow["id"]).body["rowVersion"] == 1

    def test_v1_configs_publish_too(self, editor: Api) -> None:
        flow = new_flow(editor, v1_config())
        assert publish(editor, flow["id"])["liveVersion"] == 1
        listed = editor.get("/versions", id=flow["id"]).body["versions"]
        assert listed[0]["summary"] == {"nodeCount": None, "scoringMethod": "scorecard"}

    def test_stale_row_version_and_unknown_flow(self, editor: Api) -> None:
        flow = new_flow(editor)
        stale = editor.publish(id=flow["id"], rowVersion=7)
        assert (stale.status, stale.code) == (409, "ROW_VERSION_MISMATCH")
        assert editor.publish(id="df_missing").status == 404

    def test_expected_current_version_must_be_the_live_one(self, editor: Api) -> None:
        flow = new_flow(editor)
        publish(editor, flow["id"])
        wrong = editor.publish(id=flow["id"], expectedCurrentVersion=2)
        assert (wrong.status, wrong.code) == (409, "CURRENT_VERSION_MISMATCH")
        assert editor.publish(id=flow["id"], expectedCurrentVersion=1).body["liveVersion"] == 2

    def test_the_flow_record_keeps_the_latest_twenty_versions(self, editor: Api) -> None:
        flow = new_flow(editor)
        for _ in range(23):
            last = publish(editor, flow["id"])
        assert [v["version"] for v in last["publishedVersions"]] == list(range(4, 24))
        assert len(editor.get("/versions", id=flow["id"], limit="1000").body["versions"]) == 23

    def test_viewers_cannot_publish(self, viewer: Api, editor: Api) -> None:
        flow = new_flow(editor)
        response = viewer.publish(id=flow["id"])
        assert (response.status, response.code) == (403, "INSUFFICIENT_ROLE")


class TestVersions:
    def test_lists_summaries_oldest_first_without_snapshots(self, editor: Api) -> None:
        flow = new_flow(editor)
        publish(editor, flow["id"], notes="first")
        editor.update(id=flow["id"], draftConfig=v2_config("v2", method="scorecard", extra_nodes=2))
        publish(editor, flow["id"])

        response = editor.get("/versions", id=flow["id"])

        assert response.status == 200
        assert response.body["flowId"] == flow["id"]
        first, second = response.body["versions"]
        assert (first["version"], first["notes"], first["summary"]) == (
            1,
            "first",
            {"nodeCount": 3, "scoringMethod": "propensity"},
        )
        assert (second["version"], second["notes"], second["summary"]) == (
            2,
            None,
            {"nodeCount": 5, "scoringMethod": "scorecard"},
        )
        assert "configSnapshot" not in first
        assert "restoredFrom" not in first
        assert response.body["pagination"] == {"limit": 100, "hasMore": False, "nextCursor": None}

    def test_pages_with_limit_and_cursor(self, editor: Api) -> None:
        flow = new_flow(editor)
        for _ in range(5):
            publish(editor, flow["id"])
        first = editor.get("/versions", id=flow["id"], limit="2").body
        second = editor.get("/versions", id=flow["id"], limit="2", cursor=first["pagination"]["nextCursor"]).body
        third = editor.get("/versions", id=flow["id"], limit="2", cursor=second["pagination"]["nextCursor"]).body
        numbers = [v["version"] for page in (first, second, third) for v in page["versions"]]
        assert numbers == [1, 2, 3, 4, 5]
        assert third["pagination"]["hasMore"] is False

    def test_a_cursor_of_another_flow_is_400(self, editor: Api) -> None:
        one, two = new_flow(editor, key="one"), new_flow(editor, key="two")
        for flow in (one, two):
            publish(editor, flow["id"])
            publish(editor, flow["id"])
        cursor = editor.get("/versions", id=one["id"], limit="1").body["pagination"]["nextCursor"]
        response = editor.get("/versions", id=two["id"], limit="1", cursor=cursor)
        assert (response.status, response.code) == (400, "INVALID_CURSOR")

    def test_a_flow_never_published_has_no_versions(self, editor: Api) -> None:
        flow = new_flow(editor)
        assert editor.get("/versions", id=flow["id"]).body["versions"] == []

    def test_one_version_with_its_snapshot(self, editor: Api) -> None:
        flow = new_flow(editor)
        publish(editor, flow["id"], notes="first")
        response = editor.get("/versions", id=flow["id"], version="1")
        assert response.status == 200
        assert response.body == {
            "flowId": flow["id"],
            "version": 1,
            "publishedAt": response.body["publishedAt"],
            "publishedBy": "editor@a.example",
            "notes": "first",
            "configSnapshot": v2_config("v1"),
        }

    @pytest.mark.parametrize("version", ["one", "1.5", "", "9" * 5000])
    def test_a_version_that_is_not_an_integer_is_400(self, editor: Api, version: str) -> None:
        flow = new_flow(editor)
        assert editor.get("/versions", id=flow["id"], version=version).status == 400

    @pytest.mark.parametrize("version", ["0", "-2", "99999999999"])
    def test_an_integer_that_is_no_published_version_is_404(self, editor: Api, version: str) -> None:
        flow = new_flow(editor)
        publish(editor, flow["id"])
        response = editor.get("/versions", id=flow["id"], version=version)
        assert (response.status, response.code) == (404, "VERSION_NOT_FOUND")

    def test_unknown_flow_or_version_is_404(self, editor: Api) -> None:
        flow = new_flow(editor)
        publish(editor, flow["id"])
        missing_version = editor.get("/versions", id=flow["id"], version="2")
        assert (missing_version.status, missing_version.code) == (404, "VERSION_NOT_FOUND")
        missing_flow = editor.get("/versions", id="df_missing", version="1")
        assert (missing_flow.status, missing_flow.code) == (404, "FLOW_NOT_FOUND")
        assert editor.get("/versions", id="df_missing").status == 404
        assert editor.get("/versions").status == 400

    def test_viewers_cannot_read_versions(self, viewer: Api, editor: Api) -> None:
        flow = new_flow(editor)
        assert viewer.get("/versions", id=flow["id"]).status == 403


class TestRollback:
    def test_the_seed_scenario(self, editor: Api, admin: Api) -> None:
        # Given a flow published five times, each version a different config
        flow = new_flow(editor, v2_config("v1"))
        configs = {n: v2_config(f"v{n}") for n in range(1, 6)}
        for n in range(1, 6):
            if n > 1:
                editor.update(id=flow["id"], draftConfig=configs[n])
            publish(editor, flow["id"], notes=f"release {n}")
        # and an unpublished edit of the draft
        edited = editor.update(id=flow["id"], draftConfig=v2_config("work in progress")).body
        assert edited["hasUnpublishedChanges"] is True

        # When an admin rolls back to v3
        response = admin.rollback(id=flow["id"], version=3, notes="v5 broke ranking")

        # Then v6 is appended as a copy of v3, live, and the draft is v3's config
        assert response.status == 200
        restored = response.body
        assert restored["liveVersion"] == restored["latestVersion"] == 6
        assert restored["status"] == "active"
        assert restored["draftConfig"] == configs[3]
        assert restored["hasUnpublishedChanges"] is False
        assert restored["rowVersion"] == edited["rowVersion"] + 1
        assert restored["publishedVersions"][-1] == {
            "version": 6,
            "publishedAt": restored["updatedAt"],
            "publishedBy": "admin@a.example",
            "notes": "Rollback to v3: v5 broke ranking",
            "restoredFrom": 3,
        }
        v6 = editor.get("/versions", id=flow["id"], version="6").body
        assert v6["configSnapshot"] == configs[3]
        assert v6["restoredFrom"] == 3
        # and history is not rewritten: v4 and v5 stay as they were
        versions = editor.get("/versions", id=flow["id"]).body["versions"]
        assert [v["version"] for v in versions] == [1, 2, 3, 4, 5, 6]
        for n in (4, 5):
            assert editor.get("/versions", id=flow["id"], version=str(n)).body["configSnapshot"] == configs[n]

    def test_notes_default_to_the_target(self, editor: Api, admin: Api) -> None:
        flow = new_flow(editor)
        publish(editor, flow["id"])
        editor.update(id=flow["id"], draftConfig=v2_config("v2"))
        publish(editor, flow["id"])
        restored = admin.rollback(id=flow["id"], version=1).body
        assert restored["publishedVersions"][-1]["notes"] == "Rollback to v1"

    def test_rolling_back_to_the_live_config_is_409(self, editor: Api, admin: Api) -> None:
        flow = new_flow(editor)
        publish(editor, flow["id"])
        editor.update(id=flow["id"], draftConfig=v2_config("unpublished"))
        response = admin.rollback(id=flow["id"], version=1)
        assert (response.status, response.code) == (409, "ALREADY_ACTIVE")
        assert editor.get(id=flow["id"]).body["latestVersion"] == 1

    def test_errors(self, editor: Api, admin: Api) -> None:
        flow = new_flow(editor)
        publish(editor, flow["id"])
        editor.update(id=flow["id"], draftConfig=v2_config("v2"))
        publish(editor, flow["id"])

        for unknown in (9, 0, -1):
            unknown_version = admin.rollback(id=flow["id"], version=unknown)
            assert (unknown_version.status, unknown_version.code) == (404, "VERSION_NOT_FOUND")
        assert admin.rollback(id="df_missing", version=1).status == 404
        assert admin.rollback(id=flow["id"], version="1").status == 400
        assert admin.rollback(id=7, version=1).status == 400
        assert admin.rollback(id=flow["id"]).status == 400
        wrong_live = admin.rollback(id=flow["id"], version=1, expectedCurrentVersion=1)
        assert (wrong_live.status, wrong_live.code) == (409, "CURRENT_VERSION_MISMATCH")
        stale = admin.rollback(id=flow["id"], version=1, rowVersion=1)
        assert (stale.status, stale.code) == (409, "ROW_VERSION_MISMATCH")
        assert editor.get(id=flow["id"]).body["latestVersion"] == 2

    def test_editors_cannot_roll_back(self, editor: Api) -> None:
        flow = new_flow(editor)
        publish(editor, flow["id"])
        response = editor.rollback(id=flow["id"], version=1)
        assert (response.status, response.code) == (403, "INSUFFICIENT_ROLE")
