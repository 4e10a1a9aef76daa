"""Staged rollout (champion/challenger) end to end through the handlers against moto: publishing a
challenger, changing its share, promote and abort, rollbacks and publishes during a rollout, sticky
assignment on /live, and the history the stream consumer writes."""

from __future__ import annotations

import hashlib
from functools import partial
from typing import Any

from decision_flows_local.api.gateway import Api, HttpResponse
from decision_flows_local.dynamodb.streams import StreamPoller
from decision_flows_local.fixtures.samples import config_of_size, v2_config
from tests.support.costs import measure
from tests.support.dynamodb_calls import DynamoCalls


def rollout(api: Api, path: str = "", **body: Any) -> HttpResponse:
    return api.request("POST", f"/rollout{path}", body=body)


def live(api: Api, subject: str | None = None, key: str = "offers") -> HttpResponse:
    return api.request("GET", "/live", query={"key": key} | ({"subject": subject} if subject else {}))


def challenging(
    api: Api, stream: StreamPoller, percent: float = 10, size: int | None = None, **overrides: list[str]
) -> dict[str, Any]:
    """Flow "offers": v1 live (propensity), v2 (scorecard) published as the challenger at ``percent``
    (with the rollout's ``include`` and ``exclude`` when given)."""
    flow = api.create(key="offers", name="Offers", draftConfig=config_of_size(size) if size else v2_config("v1")).body
    assert api.publish(id=flow["id"]).status == 200
    second = config_of_size(size) if size else v2_config("v2", method="scorecard")
    if size:
        second["nodes"][0]["config"]["padding"] = "y" * len(second["nodes"][0]["config"]["padding"])
        # (through a small draft: moto refuses an update whose old and new values together pass 400 KB,
        # where DynamoDB sizes the item the update leaves)
        assert api.update(id=flow["id"], draftConfig=v2_config("between")).status == 200
    assert api.update(id=flow["id"], draftConfig=second).status == 200
    started = api.publish(id=flow["id"], rollout={"percent": percent, **overrides})
    assert started.status == 200, started.body
    stream.deliver()
    body: dict[str, Any] = started.body
    return body


def gets_challenger(flow_id: str, challenger: int, subject: str, percent: float) -> bool:
    """The contract's assignment, computed independently of the service."""
    digest = hashlib.sha256(f"{flow_id}:{challenger}:{subject}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % 10000 < round(percent * 100)


def test_a_challenger_is_published_while_the_champion_stays_live(editor: Api, stream: StreamPoller) -> None:
    flow = challenging(editor, stream, percent=12.5)

    assert (flow["liveVersion"], flow["latestVersion"], flow["status"]) == (1, 2, "active")
    assert flow["rollout"]["challengerVersion"] == 2
    (listed,) = editor.get().body["data"]  # the list shows the rollout too
    assert listed["rollout"] == flow["rollout"]
    assert flow["rollout"]["percent"] == 12.5
    assert flow["rollout"]["startedBy"] == "editor@a.example"
    again = editor.publish(id=flow["id"])
    assert (again.status, again.code) == (409, "ROLLOUT_IN_PROGRESS")
    assert editor.publish(id=flow["id"], rollout={"percent": 20}).code == "ROLLOUT_IN_PROGRESS"


def test_a_rollout_needs_a_champion_and_a_valid_share(editor: Api) -> None:
    flow = editor.create(key="new", name="New", draftConfig=v2_config("v1")).body
    first = editor.publish(id=flow["id"], rollout={"percent": 10})
    assert (first.status, first.code) == (409, "NOT_PUBLISHED")
    too_large_for_a_float = 10**309
    for percent in (-0.01, 100, 12.345, "10", True, -5, float("nan"), float("inf"), too_large_for_a_float, None):
        response = editor.publish(id=flow["id"], rollout={"percent": percent})
        assert (response.status, response.code) == (400, "VALIDATION_ERROR"), percent
        changed = rollout(editor, id=flow["id"], percent=percent)
        assert (changed.status, changed.code) == (400, "VALIDATION_ERROR"), percent
    assert rollout(editor, id=flow["id"], percent=10).code == "NO_ROLLOUT"
    assert rollout(editor, "/promote", id=flow["id"]).code == "NO_ROLLOUT"
    assert rollout(editor, "/abort", id=flow["id"]).code == "NO_ROLLOUT"


def test_the_share_changes_promote_and_abort_are_guarded_like_any_write(editor: Api, stream: StreamPoller) -> None:
    flow = challenging(editor, stream)
    row = flow["rowVersion"]

    assert rollout(editor, id=flow["id"], percent=30, rowVersion=row - 1).code == "ROW_VERSION_MISMATCH"
    assert rollout(editor, id=flow["id"], percent=30, expectedCurrentVersion=2).code == "CURRENT_VERSION_MISMATCH"
    changed = rollout(editor, id=flow["id"], percent=30, expectedCurrentVersion=1, rowVersion=row)
    assert (changed.status, changed.body["rollout"]["percent"], changed.body["rowVersion"]) == (200, 30, row + 1)
    stale = editor.request("POST", "/rollout/promote", body={"id": flow["id"]}, headers={"If-Match": f'"{row}"'})
    assert stale.code == "ROW_VERSION_MISMATCH"

    promoted = rollout(editor, "/promote", id=flow["id"], notes="scorecard wins")
    assert (promoted.body["liveVersion"], promoted.body["latestVersion"], promoted.body["rollout"]) == (2, 2, None)
    assert promoted.body["hasUnpublishedChanges"] is False
    assert editor.publish(id=flow["id"]).status == 200  # publishing works again


def test_abort_serves_the_champion_to_everyone_and_keeps_the_challenger_in_history(
    editor: Api, viewer: Api, stream: StreamPoller
) -> None:
    flow = challenging(editor, stream, percent=50)

    assert rollout(editor, "/abort", id=flow["id"], expectedCurrentVersion=2).code == "CURRENT_VERSION_MISMATCH"
    aborted = rollout(editor, "/abort", id=flow["id"], notes="conversion dropped", expectedCurrentVersion=1)
    stream.deliver()

    assert (aborted.body["liveVersion"], aborted.body["latestVersion"], aborted.body["rollout"]) == (1, 2, None)
    assert {live(viewer, f"customer-{n}").body["version"] for n in range(50)} == {1}
    versions = editor.get("/versions", id=flow["id"]).body["versions"]
    assert [version["version"] for version in versions] == [1, 2]


def test_live_assigns_subjects_exactly_as_the_contract_computes_it(
    viewer: Api, editor: Api, stream: StreamPoller
) -> None:
    flow = challenging(editor, stream, percent=37.5)

    for n in range(150):  # thousands more in tests/unit/domain/test_live.py, without HTTP
        subject = f"customer-{n}"
        response = live(viewer, subject)
        expected = gets_challenger(flow["id"], 2, subject, 37.5)
        assert (response.body["version"], response.body["role"]) == ((2, "challenger") if expected else (1, "champion"))
        assert response.headers["etag"] == f'"{flow["id"]}:{response.body["version"]}"'
    assert (live(viewer).body["version"], live(viewer).body["role"]) == (1, "champion")  # no subject: the champion


def test_a_subject_that_has_the_challenger_keeps_it_as_the_share_grows(
    viewer: Api, editor: Api, stream: StreamPoller
) -> None:
    flow = challenging(editor, stream, percent=10)
    subjects = [f"s{n}" for n in range(120)]
    before = {s for s in subjects if live(viewer, s).body["role"] == "challenger"}

    rollout(editor, id=flow["id"], percent=40)
    stream.deliver()
    after = {s for s in subjects if live(viewer, s).body["role"] == "challenger"}

    assert before
    assert before < after


def test_a_rollback_during_a_rollout_ends_it_even_to_the_champions_config(
    admin: Api, viewer: Api, stream: StreamPoller
) -> None:
    flow = challenging(admin, stream, percent=50)

    back = admin.rollback(id=flow["id"], version=1)  # the champion's config: not ALREADY_ACTIVE while a challenger runs
    stream.deliver()

    assert back.status == 200, back.body
    assert (back.body["liveVersion"], back.body["rollout"]) == (3, None)
    rolled_back = admin.history(flow["id"]).body["data"][0]
    assert rolled_back["action"] == "rolled_back"
    assert rolled_back["rolloutEnded"] == {"challengerVersion": 2, "percent": 50}
    assert {live(viewer, f"c{n}").body["version"] for n in range(40)} == {3}


def test_history_records_each_step_with_its_versions_share_and_changes(editor: Api, stream: StreamPoller) -> None:
    flow = challenging(editor, stream, percent=10)
    rollout(editor, id=flow["id"], percent=25)
    rollout(editor, "/promote", id=flow["id"], notes="scorecard wins")
    stream.deliver()

    entries = {entry["action"]: entry for entry in editor.history(flow["id"]).body["data"]}

    started, changed, promoted = (entries[f"rollout_{step}"] for step in ("started", "changed", "promoted"))
    assert (started["fromVersion"], started["toVersion"], started["percent"]) == (1, 2, 10)
    assert (changed["fromVersion"], changed["toVersion"], changed["percent"]) == (1, 2, 25)
    assert (promoted["fromVersion"], promoted["toVersion"], promoted["notes"]) == (1, 2, "scorecard wins")
    assert promoted["percent"] == 25  # the share when it ended
    for entry in (started, changed, promoted):
        assert entry["configChanges"]["scoringMethod"] == {"from": "propensity", "to": "scorecard"}, entry["action"]


def test_an_aborts_history_compares_challenger_to_champion(editor: Api, stream: StreamPoller) -> None:
    flow = challenging(editor, stream)
    rollout(editor, "/abort", id=flow["id"], notes="no")
    stream.deliver()

    aborted = editor.history(flow["id"]).body["data"][0]

    assert (aborted["action"], aborted["fromVersion"], aborted["toVersion"], aborted["notes"]) == (
        "rollout_aborted",
        2,
        1,
        "no",
    )
    assert aborted["percent"] == 10
    assert aborted["configChanges"]["scoringMethod"] == {"from": "scorecard", "to": "propensity"}


def test_a_rollout_step_retried_with_its_idempotency_key_answers_the_same(editor: Api, stream: StreamPoller) -> None:
    flow = challenging(editor, stream)
    body, key = {"id": flow["id"], "percent": 20}, {"Idempotency-Key": "share-20"}
    first, retry = (editor.request("POST", "/rollout", body=body, headers=key) for _ in range(2))
    assert (retry.status, retry.body) == (first.status, first.body)
    assert editor.get(id=flow["id"]).body["rowVersion"] == first.body["rowVersion"]


def test_live_during_a_rollout_of_two_300_kb_configs_costs_at_most_two_reads(
    viewer: Api, editor: Api, stream: StreamPoller, dynamo_calls: DynamoCalls
) -> None:
    flow = challenging(editor, stream, percent=50, size=300 * 1024 - 4096)
    subjects = {
        role: next(f"c{n}" for n in range(100) if gets_challenger(flow["id"], 2, f"c{n}", 50) == (role == "challenger"))
        for role in ("champion", "challenger")
    }

    for role, subject in subjects.items():
        for _ in range(2):  # a new instance's read of the version, then a warm one
            response, calls = measure(dynamo_calls, partial(live, viewer, subject))
            assert response.body["role"] == role
            assert calls.count <= 2, calls.operations
        assert calls.operations == ["GetItem"]


def test_diff_compares_the_challenger_with_what_is_live(editor: Api, stream: StreamPoller) -> None:
    flow = challenging(editor, stream)

    diff = editor.get("/diff", id=flow["id"], **{"from": "live", "to": "challenger"})

    assert diff.status == 200, diff.body
    assert (diff.body["from"], diff.body["to"]) == ({"ref": "live", "version": 1}, {"ref": "challenger", "version": 2})
    assert diff.body["summary"]["scoringMethod"] == {"from": "propensity", "to": "scorecard"}


def test_a_rollout_step_costs_one_read_and_one_conditional_write(
    editor: Api, stream: StreamPoller, dynamo_calls: DynamoCalls
) -> None:
    flow = challenging(editor, stream)
    for path, body in (("", {"percent": 30}), ("/promote", {})):
        response, calls = measure(dynamo_calls, partial(rollout, editor, path, id=flow["id"], **body))
        assert response.status == 200, response.body
        # The flow with the tenant's review policy (a step changes what an active flow serves), the write.
        assert calls.operations == ["BatchGetItem", "UpdateItem"], path
