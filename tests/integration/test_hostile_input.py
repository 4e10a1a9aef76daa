"""Input built to break things gets a 4xx and stores nothing, and big honest input is served whole."""

from __future__ import annotations

import json
from typing import Any

from decision_flows_local.api.gateway import Api
from decision_flows_local.fixtures.histories import seed_history
from decision_flows_local.fixtures.samples import config_of_size, v2_config


def nested(depth: int) -> dict[str, Any]:
    config = v2_config()
    value: Any = "leaf"
    for _ in range(depth - 1):
        value = [value]
    config["nodes"][0]["config"] = {"deep": value}
    return config


def depth_of(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((depth_of(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((depth_of(v) for v in value), default=0)
    return 0


def test_configs_nested_up_to_64_levels_are_served_and_deeper_is_422(editor: Api) -> None:
    fits, just_over, far_over = nested(61), nested(62), nested(300)
    assert (depth_of(fits), depth_of(just_over)) == (64, 65)

    created = editor.create(key="deep", name="Deep", draftConfig=fits)

    assert created.status == 201
    assert editor.get(id=created.body["id"]).body["draftConfig"] == fits
    for config in (just_over, far_over):
        refused = editor.create(key="deeper", name="Deeper", draftConfig=config)
        assert (refused.status, refused.code) == (422, "CONFIG_INVALID")
    assert editor.get().body["pagination"]["total"] == 1


def test_a_lone_surrogate_in_a_config_is_422_and_stores_nothing(editor: Api) -> None:
    raw = json.dumps({"key": "s", "name": "S", "draftConfig": v2_config()})[:-2] + ', "x": "\\ud800"}}'

    response = editor.request("POST", raw_body=raw)

    assert (response.status, response.code) == (422, "CONFIG_INVALID")
    assert editor.get().body["pagination"]["total"] == 0


def test_idempotent_writes_of_a_config_near_the_limit_store_and_replay_whole(editor: Api, admin: Api) -> None:
    # Given a config of 290 KB that JSON escaping would push past 400 KB (quotes everywhere)
    config = v2_config()
    config["nodes"][0]["config"]["quotes"] = ["ab"] * 55_000
    create = {"key": "big", "name": "Big", "draftConfig": config}

    # When it is created, published and rolled back with Idempotency-Keys, and each is retried
    first = editor.request("POST", body=create, headers={"Idempotency-Key": "c1"})
    again = editor.request("POST", body=create, headers={"Idempotency-Key": "c1"})
    flow_id = first.body["id"]
    published = editor.request("POST", "/publish", body={"id": flow_id}, headers={"Idempotency-Key": "p1"})
    republished = editor.request("POST", "/publish", body={"id": flow_id}, headers={"Idempotency-Key": "p1"})

    # Then every response is whole, every replay equals its first response, and one version exists
    assert first.status == again.status == 201
    assert again.body == first.body
    assert again.body["draftConfig"] == config
    assert published.status == republished.status == 200
    assert republished.body == published.body
    assert republished.body["draftConfig"] == config
    assert editor.get(id=flow_id).body["latestVersion"] == 1


def test_a_replay_with_another_if_match_is_422(editor: Api) -> None:
    flow = editor.create(key="k", name="K", draftConfig=v2_config()).body
    body = {"id": flow["id"]}
    editor.request("POST", "/publish", body=body, headers={"Idempotency-Key": "p", "If-Match": '"1"'})

    response = editor.request("POST", "/publish", body=body, headers={"Idempotency-Key": "p", "If-Match": '"2"'})

    assert (response.status, response.code) == (422, "IDEMPOTENCY_KEY_REUSED")


def test_a_version_list_larger_than_a_dynamodb_page_loses_nothing(editor: Api, dynamodb: Any) -> None:
    # Given 600 versions whose summaries carry 2 KB of notes each (1.2 MB: beyond one 1 MB Query page)
    flow_id = editor.create(key="long", name="Long", draftConfig=config_of_size(2048)).body["id"]
    seed_history(dynamodb, "tenant-a", flow_id, 600, notes="€" * 499)

    # When the versions are paged through 1000 at a time
    seen: list[int] = []
    pages = 0
    query = {"id": flow_id, "limit": "1000"}
    while True:
        page = editor.get("/versions", **query).body
        pages += 1
        seen += [version["version"] for version in page["versions"]]
        if not page["pagination"]["hasMore"]:
            break
        query["cursor"] = page["pagination"]["nextCursor"]

    # Then DynamoDB's page limit split the list, and still every version comes exactly once, in order
    assert pages >= 2
    assert seen == list(range(1, 601))
