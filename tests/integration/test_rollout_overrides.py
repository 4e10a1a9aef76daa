"""Rollout overrides end to end through the handlers against moto: ``include`` (always the challenger)
and ``exclude`` (never) on POST /publish and POST /rollout, ``percent: 0``, what is stored, what /live
serves, what history says, and the 400s of bad lists."""

from __future__ import annotations

from typing import Any

import pytest

from decision_flows.dal import key_schema
from decision_flows_local import template
from decision_flows_local.api.gateway import Api
from decision_flows_local.dynamodb.streams import StreamPoller
from decision_flows_local.fixtures.samples import v2_config
from tests.integration.test_rollout_routes import challenging, gets_challenger, live, rollout

TABLES = template.table_names()


def first_subject(flow_id: str, percent: float, challenger: bool) -> str:
    """A subject the hash rule alone serves the challenger (or the champion) at ``percent``."""
    return next(f"c{n}" for n in range(1000) if gets_challenger(flow_id, 2, f"c{n}", percent) == challenger)


def flow_item(dynamodb: Any, flow_id: str) -> dict[str, Any]:
    key = {"PK": {"S": key_schema.flow_pk("tenant-a", flow_id)}, "SK": {"S": key_schema.FLOW_SK}}
    item: dict[str, Any] = dynamodb.get_item(TableName=TABLES["FlowsTable"], Key=key)["Item"]
    return item


def test_at_zero_percent_only_the_included_subjects_get_the_challenger(
    editor: Api, viewer: Api, stream: StreamPoller, dynamodb: Any
) -> None:
    # Given a challenger published at 0 % for two QA subjects, one of them sent twice
    flow = challenging(editor, stream, percent=0, include=["qa-2", "qa-1", "qa-2"])

    # Then the flow answers and stores the set, and /live serves the challenger to those two only
    assert (flow["rollout"]["percent"], flow["rollout"]["include"], flow["rollout"]["exclude"]) == (
        0,
        ["qa-1", "qa-2"],
        [],
    )
    assert editor.get(id=flow["id"]).body["rollout"] == flow["rollout"]
    stored = flow_item(dynamodb, flow["id"])["rollout"]["M"]
    assert (stored["include"], stored["exclude"]) == ({"L": [{"S": "qa-1"}, {"S": "qa-2"}]}, {"L": []})
    assert [live(viewer, s).body["role"] for s in ("qa-1", "qa-2")] == ["challenger", "challenger"]
    assert live(viewer, "qa-1").body["version"] == 2
    assert {live(viewer, f"customer-{n}").body["role"] for n in range(50)} == {"champion"}

    # And when only include changes, the consumer moves the pointer: the new list is served
    swapped = rollout(editor, id=flow["id"], include=["qa-3"])
    stream.deliver()
    assert (swapped.status, swapped.body["rowVersion"]) == (200, flow["rowVersion"] + 1)
    assert [live(viewer, s).body["role"] for s in ("qa-1", "qa-3")] == ["champion", "challenger"]


def test_excluding_a_subject_alone_moves_it_back_to_the_champion_and_history_says_so(
    editor: Api, viewer: Api, stream: StreamPoller, dynamodb: Any
) -> None:
    # Given a rollout at 99.99 %, and a subject the hash rule serves the challenger
    flow = challenging(editor, stream, percent=99.99)
    vip = first_subject(flow["id"], 99.99, challenger=True)
    assert live(viewer, vip).body["role"] == "challenger"

    # When only exclude changes
    changed = rollout(editor, id=flow["id"], exclude=[vip])
    stream.deliver()

    # Then it is a write like any other: the share stays, the pointer moved, and history names the lists
    assert (changed.status, changed.body["rowVersion"], changed.body["rollout"]["percent"]) == (
        200,
        flow["rowVersion"] + 1,
        99.99,
    )
    assert (live(viewer, vip).body["version"], live(viewer, vip).body["role"]) == (1, "champion")
    (pointer,) = dynamodb.scan(TableName=TABLES["LiveTable"])["Items"]
    assert (pointer["exclude"], pointer["include"]) == ({"L": [{"S": vip}]}, {"L": []})
    latest, started = editor.history(flow["id"]).body["data"][:2]
    assert (latest["action"], latest["fromVersion"], latest["toVersion"], latest["percent"]) == (
        "rollout_changed",
        1,
        2,
        99.99,
    )
    assert (latest["include"], latest["exclude"]) == ([], [vip])
    assert (started["action"], started["include"], started["exclude"]) == ("rollout_started", [], [])


def test_a_change_to_what_is_stored_already_is_answered_without_a_write(editor: Api, stream: StreamPoller) -> None:
    flow = challenging(editor, stream, percent=10, include=["qa"])

    same = rollout(editor, id=flow["id"], percent=10, include=["qa", "qa"], exclude=[])
    stream.deliver()

    assert (same.status, same.body["rowVersion"], same.body["rollout"]) == (200, flow["rowVersion"], flow["rollout"])
    assert next(entry["action"] for entry in editor.history(flow["id"]).body["data"]) == "rollout_started"


TOO_MANY = [f"s{n}" for n in range(101)]


@pytest.mark.parametrize(
    ("lists", "field"),
    [
        ({"include": "qa-1"}, "include"),
        ({"include": [""]}, "include.0"),
        ({"exclude": ["ok", "x" * 257]}, "exclude.1"),
        ({"include": [7]}, "include.0"),
        ({"include": TOO_MANY}, "include"),
        ({"include": ["a", "b"], "exclude": ["b"]}, "exclude"),
        # 256 characters of 2 bytes: 65 of them pass the 32 KiB the lists may hold together
        ({"include": [f"{n:02}" + "é" * 254 for n in range(65)]}, "include"),
    ],
)
def test_bad_lists_are_400_with_their_field_and_write_nothing(
    editor: Api, stream: StreamPoller, lists: dict[str, Any], field: str
) -> None:
    flow = challenging(editor, stream)

    published = editor.publish(id=flow["id"], rollout={"percent": 5, **lists})
    changed = rollout(editor, id=flow["id"], **lists)

    assert (published.status, published.code) == (400, "VALIDATION_ERROR")
    assert [problem["field"] for problem in published.body["errors"]] == [f"rollout.{field}"]
    assert (changed.status, changed.code) == (400, "VALIDATION_ERROR")
    assert [problem["field"] for problem in changed.body["errors"]] == [field]
    assert editor.get(id=flow["id"]).body["rowVersion"] == flow["rowVersion"]


@pytest.mark.parametrize(
    ("body", "field"),
    [({}, "body"), ({"percent": None}, "percent"), ({"include": None}, "include"), ({"exclude": None}, "exclude")],
)
def test_a_rollout_change_names_something_to_change_and_never_null(
    editor: Api, stream: StreamPoller, body: dict[str, Any], field: str
) -> None:
    flow = challenging(editor, stream)

    changed = rollout(editor, id=flow["id"], **body)

    assert (changed.status, changed.code) == (400, "VALIDATION_ERROR")
    assert [problem["field"] for problem in changed.body["errors"]] == [field]


def test_a_dry_run_and_an_idempotent_replay_cover_the_lists(editor: Api, stream: StreamPoller) -> None:
    # Given v1 live and a new draft
    flow = editor.create(key="offers", name="Offers", draftConfig=v2_config("v1")).body
    published = editor.publish(id=flow["id"]).body
    assert editor.update(id=flow["id"], draftConfig=v2_config("v2", method="scorecard")).status == 200
    share = {"percent": 0, "include": ["qa"]}

    # When the rollout is tried dry, then sent twice with one key, then with the key and other lists
    dry = editor.publish(id=flow["id"], rollout=share, dryRun=True)
    key = {"Idempotency-Key": "qa-first"}
    first, again = (
        editor.request("POST", "/publish", body={"id": flow["id"], "rollout": share}, headers=key) for _ in range(2)
    )
    other = editor.request(
        "POST", "/publish", body={"id": flow["id"], "rollout": share | {"include": ["qa-2"]}}, headers=key
    )

    # Then the dry run predicted the rollout, the retry replayed it, and other lists are another request
    assert (dry.status, dry.body["flow"]["rollout"]["include"], dry.body["flow"]["rowVersion"]) == (
        200,
        ["qa"],
        published["rowVersion"] + 2,
    )
    assert (first.status, again.status, again.headers.get("idempotent-replayed")) == (200, 200, "true")
    assert again.body == first.body
    assert first.body["rollout"]["include"] == ["qa"]
    assert other.status == 422
    stream.deliver()
