"""GET /diff, POST /validate, dry runs of publish and rollback, and history's configChanges, end to end
through the handlers against moto (the contract's "Compare, validate and preview")."""

from __future__ import annotations

from typing import Any

import jsonpatch
import pytest

from decision_flows import wiring
from decision_flows.domain.history import change_entry
from decision_flows.domain.pipeline import MAX_CONFIG_BYTES
from decision_flows.models.flow import Flow, FlowAction
from decision_flows_local.api.gateway import Api, HttpResponse
from decision_flows_local.dynamodb.streams import StreamPoller
from decision_flows_local.fixtures.samples import config_of_size, v2_config
from tests.support.configs import many_nodes
from tests.support.costs import measure
from tests.support.dynamodb_calls import DynamoCalls


def validate(api: Api, **body: Any) -> HttpResponse:
    return api.request("POST", "/validate", body=body)


def released_twice(api: Api) -> dict[str, Any]:
    """v1 (propensity) and v2 (scorecard) published, v2 live, and a draft that moved on (priority)."""
    flow = api.create(key="welcome", name="Welcome", draftConfig=v2_config("v1")).body
    api.publish(id=flow["id"])
    api.update(id=flow["id"], draftConfig=v2_config("v2", method="scorecard"))
    api.publish(id=flow["id"])
    updated: dict[str, Any] = api.update(id=flow["id"], draftConfig=v2_config("v3", method="priority")).body
    return updated


def test_the_default_diff_answers_what_publishing_would_change(editor: Api) -> None:
    flow = released_twice(editor)

    response = editor.get("/diff", id=flow["id"])

    assert response.status == 200, response.body
    body = response.body
    assert (body["flowId"], body["from"], body["to"]) == (
        flow["id"],
        {"ref": "live", "version": 2},
        {"ref": "draft", "version": None},
    )
    assert jsonpatch.apply_patch(v2_config("v2", method="scorecard"), body["patch"]) == flow["draftConfig"]
    assert body["summary"]["scoringMethod"] == {"from": "scorecard", "to": "priority"}
    assert body["summary"]["nodes"]["changed"][0]["id"] == "source"
    assert "patch" not in editor.get("/diff", id=flow["id"], include="summary").body
    same = editor.get("/diff", id=flow["id"], **{"from": "2", "to": "live"}).body
    assert (same["identical"], same["patch"]) == (True, [])


@pytest.mark.parametrize(
    ("query", "status", "code"),
    [
        ({"from": "draft!"}, 400, "VALIDATION_ERROR"),
        ({"to": "0"}, 400, "VALIDATION_ERROR"),
        ({"to": "-1"}, 400, "VALIDATION_ERROR"),
        ({"include": "everything"}, 400, "VALIDATION_ERROR"),
        ({"from": "7"}, 404, "VERSION_NOT_FOUND"),
        ({"from": "challenger"}, 404, "NO_ROLLOUT"),
    ],
)
def test_bad_refs_are_4xx_problems(editor: Api, query: dict[str, str], status: int, code: str) -> None:
    flow = released_twice(editor)
    response = editor.get("/diff", id=flow["id"], **query)
    assert (response.status, response.code) == (status, code), response.body


def test_a_flow_never_published_has_nothing_live_and_a_missing_one_is_404(editor: Api) -> None:
    flow = editor.create(key="new", name="New").body
    assert editor.get("/diff", id=flow["id"]).code == "NOT_PUBLISHED"
    assert editor.get("/diff", id=flow["id"], **{"from": "draft"}).status == 200
    assert editor.get("/diff", id="df_missing", **{"from": "1", "to": "2"}).code == "FLOW_NOT_FOUND"


def test_validate_a_config_or_a_stored_draft_without_storing_anything(editor: Api) -> None:
    flow = editor.create(key="welcome", name="Welcome").body
    bad = {"version": 2, "nodes": [{"id": "a", "type": "score", "config": {"method": "magic"}}]}

    checked = validate(editor, draftConfig=bad)
    stored = validate(editor, id=flow["id"])

    assert checked.status == 200, checked.body
    assert (checked.body["valid"], checked.body["publishable"], checked.body["format"]) == (False, False, "v2")
    assert [(e["code"], e["path"]) for e in checked.body["errors"]] == [
        ("UNKNOWN_SCORING_METHOD", "/nodes/0/config/method")
    ]
    put = editor.update(id=flow["id"], draftConfig=bad)
    assert (put.status, [e["field"] for e in put.body["errors"]]) == (422, ["draftConfig.nodes[0].config.method"])
    assert (stored.body["valid"], stored.body["publishable"]) == (True, False)  # the default draft: no method yet
    # and each says why publish would refuse it, as publish itself does
    assert [b["code"] for b in checked.body["blockers"]] == ["CONFIG_INVALID"]
    refused = editor.publish(id=flow["id"])
    assert stored.body["blockers"] == [{"code": refused.code, "message": refused.body["detail"]}]
    assert refused.code == "SCORING_METHOD_MISSING"
    assert {w["code"] for w in stored.body["warnings"]} == {"NO_CANDIDATE_SOURCE", "NO_OUTPUT_NODE"}
    assert editor.get(id=flow["id"]).body["rowVersion"] == 1


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({}, 400, "VALIDATION_ERROR"),
        ({"id": "df_x", "draftConfig": {}}, 400, "VALIDATION_ERROR"),
        ({"id": None}, 400, "VALIDATION_ERROR"),
        ({"id": "df_missing"}, 404, "FLOW_NOT_FOUND"),
        ({"draftConfig": config_of_size(MAX_CONFIG_BYTES + 4096)}, 413, "CONFIG_TOO_LARGE"),
    ],
)
def test_validate_refuses_what_it_cannot_check(editor: Api, body: dict[str, Any], status: int, code: str) -> None:
    response = validate(editor, **body)
    assert (response.status, response.code) == (status, code), response.body


def test_a_dry_run_publish_answers_the_flow_and_diff_and_writes_nothing(editor: Api, stream: StreamPoller) -> None:
    # Given a flow whose draft moved on from its live v2, and its history so far
    flow = released_twice(editor)
    stream.deliver()
    history = editor.history(flow["id"]).body["data"]

    # When it is published as a dry run, with an Idempotency-Key
    dry = editor.request("POST", "/publish", body={"id": flow["id"], "dryRun": True}, headers={"Idempotency-Key": "k1"})

    # Then it answers what the real publish would return, and nothing is written
    assert dry.status == 200, dry.body
    assert dry.body["dryRun"] is True
    assert (dry.body["flow"]["liveVersion"], dry.body["flow"]["rowVersion"]) == (3, flow["rowVersion"] + 1)
    assert dry.body["diff"]["summary"]["scoringMethod"] == {"from": "scorecard", "to": "priority"}
    assert editor.get(id=flow["id"]).body == flow
    stream.deliver()
    assert editor.history(flow["id"]).body["data"] == history
    # And the key was not taken: the real call with it publishes
    real = editor.request("POST", "/publish", body={"id": flow["id"]}, headers={"Idempotency-Key": "k1"})
    assert (real.status, real.body["liveVersion"]) == (200, 3)


def test_a_dry_run_refuses_as_the_real_call(admin: Api) -> None:
    flow = released_twice(admin)
    for body, code in [
        ({"id": flow["id"], "version": 2}, "ALREADY_ACTIVE"),
        ({"id": flow["id"], "version": 9}, "VERSION_NOT_FOUND"),
        ({"id": flow["id"], "version": 1, "rowVersion": 1}, "ROW_VERSION_MISMATCH"),
        ({"id": flow["id"], "version": 1, "expectedCurrentVersion": 1}, "CURRENT_VERSION_MISMATCH"),
    ]:
        dry, real = admin.rollback(**body, dryRun=True), admin.rollback(**body)
        assert (dry.status, dry.code) == (real.status, real.code) == (dry.status, code)
    dry = admin.rollback(id=flow["id"], version=1, dryRun=True)
    assert (dry.body["diff"]["to"], dry.body["flow"]["liveVersion"]) == ({"ref": "1", "version": 1}, 3)
    assert admin.rollback(id=flow["id"], version=1).body["liveVersion"] == 3


def test_history_entries_carry_the_config_changes(editor: Api, stream: StreamPoller) -> None:
    flow = released_twice(editor)
    stream.deliver()

    entries = {entry["rowVersion"]: entry for entry in editor.history(flow["id"]).body["data"]}

    assert "configChanges" not in entries[1]  # created
    first = entries[2]["configChanges"]  # the first publish: everything is new
    assert [node["id"] for node in first["nodes"]["added"]] == ["source", "score", "rank"]
    assert entries[4]["configChanges"]["scoringMethod"] == {"from": "propensity", "to": "scorecard"}  # v2 live
    assert entries[5]["action"] == "updated"
    assert entries[5]["configChanges"]["scoringMethod"] == {"from": "scorecard", "to": "priority"}


def test_an_entry_of_two_300_kb_configs_and_a_kept_draft_is_stored(dynamodb: Any) -> None:
    # Given the entry of an update that replaced a 300 KB unpublished draft by another of other nodes
    # (written straight to the history table: moto refuses the PUT itself, counting the old and the new
    # draft together where DynamoDB sizes the item the update leaves)
    before = Flow(
        id="df_big",
        tenant_id="tenant-a",
        key="big",
        name="Big",
        draft_config=many_nodes("old-"),
        draft_hash="h1",
        live_version=1,
        live_config_hash="h0",
        created_at="2026-11-28T00:00:00.000Z",
        updated_at="2026-11-28T00:00:00.000Z",
        created_by="alice",
        updated_by="alice",
    )
    after = before.model_copy(
        update={
            "draft_config": many_nodes("new-"),
            "draft_hash": "h2",
            "row_version": 2,
            "last_action": FlowAction.UPDATED,
        }
    )
    entry = change_entry("e1", before, after)

    # When the consumer records it (moto refuses items over 400 KB, as DynamoDB does)
    wiring.history_repository().record(entry)

    # Then it is stored whole: the old draft, and a summary cut to fit
    stored = wiring.history_repository().list_changes("tenant-a", "df_big", 1, None).items[0]
    assert stored.previous_draft == before.draft_config
    assert stored.config_changes == entry.config_changes
    assert entry.config_changes is not None
    assert entry.config_changes["truncated"] is True


COMPARE_BUDGETS = {
    "diff of two versions": ["BatchGetItem"],
    "diff live to draft, draft moved on": ["BatchGetItem", "BatchGetItem"],
    "diff live to draft, nothing moved": ["BatchGetItem"],
    "validate a config": [],
    "validate a stored draft": ["GetItem"],
}


def test_compare_routes_stay_within_their_round_trips(editor: Api, dynamo_calls: DynamoCalls) -> None:
    flow = released_twice(editor)
    other = editor.create(key="calm", name="Calm", draftConfig=v2_config("calm")).body
    editor.publish(id=other["id"])
    requests = {
        "diff of two versions": lambda: editor.get("/diff", id=flow["id"], **{"from": "1", "to": "2"}),
        "diff live to draft, draft moved on": lambda: editor.get("/diff", id=flow["id"]),
        "diff live to draft, nothing moved": lambda: editor.get("/diff", id=other["id"]),
        "validate a config": lambda: validate(editor, draftConfig=v2_config()),
        "validate a stored draft": lambda: validate(editor, id=flow["id"]),
    }
    for name, request in requests.items():
        response, calls = measure(dynamo_calls, request)
        assert response.status == 200, (name, response.body)
        assert calls.operations == COMPARE_BUDGETS[name], name


@pytest.mark.parametrize("key", ["", "k" * 256, "bad\u0007key"], ids=["empty", "too-long", "control-character"])
@pytest.mark.parametrize("path", ["/publish", "/rollback"])
def test_a_dry_run_refuses_a_malformed_idempotency_key_as_the_real_call(admin: Api, path: str, key: str) -> None:
    # Given a flow with two versions, and a dry run that carries a key the API documents as 1-255 printable characters
    flow = released_twice(admin)
    body = {"id": flow["id"], "dryRun": True} | ({"version": 1} if path == "/rollback" else {})
    # When it is sent, Then it is the real call's 400, though a dry run has nothing to remember
    dry = admin.request("POST", path, body=body, headers={"Idempotency-Key": key})
    assert (dry.status, dry.code) == (400, "INVALID_IDEMPOTENCY_KEY")
