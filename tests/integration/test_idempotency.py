"""Idempotency-Key on create, publish and rollback: a retry replays, a different body is 422."""

from __future__ import annotations

from decision_flows_local.api.gateway import Api
from decision_flows_local.fixtures.samples import v2_config


def test_a_retried_create_returns_the_first_response_and_creates_nothing(editor: Api) -> None:
    headers = {"Idempotency-Key": "create-1"}
    body = {"key": "welcome", "name": "Welcome"}

    first = editor.request("POST", body=body, headers=headers)
    retry = editor.request("POST", body=body, headers=headers)

    assert first.status == retry.status == 201
    assert retry.body == first.body
    assert retry.headers["etag"] == first.headers["etag"]
    assert editor.get().body["pagination"]["total"] == 1


def test_a_retried_publish_creates_one_version(editor: Api) -> None:
    flow = editor.create(key="welcome", name="Welcome", draftConfig=v2_config()).body
    headers = {"Idempotency-Key": "publish-1"}

    first = editor.request("POST", "/publish", body={"id": flow["id"]}, headers=headers)
    retry = editor.request("POST", "/publish", body={"id": flow["id"]}, headers=headers)

    assert first.status == retry.status == 200
    assert retry.body == first.body
    assert [v["version"] for v in editor.get("/versions", id=flow["id"]).body["versions"]] == [1]


def test_a_retried_rollback_appends_one_version(editor: Api, admin: Api) -> None:
    flow = editor.create(key="welcome", name="Welcome", draftConfig=v2_config("a")).body
    editor.publish(id=flow["id"])
    editor.update(id=flow["id"], draftConfig=v2_config("b"))
    editor.publish(id=flow["id"])
    headers = {"Idempotency-Key": "rollback-1"}

    first = admin.request("POST", "/rollback", body={"id": flow["id"], "version": 1}, headers=headers)
    retry = admin.request("POST", "/rollback", body={"id": flow["id"], "version": 1}, headers=headers)

    assert first.status == retry.status == 200
    assert retry.body == first.body
    assert editor.get(id=flow["id"]).body["latestVersion"] == 3


def test_the_same_key_with_another_body_is_422(editor: Api) -> None:
    headers = {"Idempotency-Key": "create-2"}
    editor.request("POST", body={"key": "one", "name": "One"}, headers=headers)

    response = editor.request("POST", body={"key": "two", "name": "Two"}, headers=headers)

    assert response.status == 422
    assert response.code == "IDEMPOTENCY_KEY_REUSED"
    assert editor.get().body["pagination"]["total"] == 1


def test_a_failed_request_is_not_remembered(editor: Api) -> None:
    flow = editor.create(key="welcome", name="Welcome").body
    headers = {"Idempotency-Key": "publish-2"}
    failed = editor.request("POST", "/publish", body={"id": flow["id"]}, headers=headers)
    assert failed.status == 422
    editor.update(id=flow["id"], draftConfig=v2_config())

    retried = editor.request("POST", "/publish", body={"id": flow["id"]}, headers=headers)

    assert retried.status == 200


def test_a_refused_create_or_rollback_frees_its_key_for_a_retry(editor: Api, admin: Api) -> None:
    # Given a create refused for a taken key, and a rollback refused because its target is live
    welcome = editor.create(key="welcome", name="Welcome", draftConfig=v2_config()).body
    create_key = {"Idempotency-Key": "create-taken"}
    assert editor.request("POST", body={"key": "welcome", "name": "Again"}, headers=create_key).status == 409
    flow = editor.create(key="rolled", name="Rolled", draftConfig=v2_config("a")).body
    editor.publish(id=flow["id"])
    rollback_key = {"Idempotency-Key": "rollback-live"}
    body = {"id": flow["id"], "version": 1}
    assert admin.request("POST", "/rollback", body=body, headers=rollback_key).code == "ALREADY_ACTIVE"

    # When the same requests are retried with the same keys once the conditions have changed
    assert editor.update(id=welcome["id"], key="renamed").status == 200
    editor.update(id=flow["id"], draftConfig=v2_config("b"))
    editor.publish(id=flow["id"])

    # Then each runs afresh: a refused request was not remembered
    assert editor.request("POST", body={"key": "welcome", "name": "Again"}, headers=create_key).status == 201
    assert admin.request("POST", "/rollback", body=body, headers=rollback_key).status == 200


def test_keys_are_scoped_to_the_tenant(editor: Api, other_tenant: Api) -> None:
    headers = {"Idempotency-Key": "shared-key"}
    body = {"key": "welcome", "name": "Welcome"}
    mine = editor.request("POST", body=body, headers=headers)
    theirs = other_tenant.request("POST", body=body, headers=headers)
    assert mine.status == theirs.status == 201
    assert theirs.body["tenantId"] == "tenant-b"
    assert theirs.body["id"] != mine.body["id"]
