"""The stream consumer, fed real records read from moto's stream of the flows table."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from decision_flows.dal import key_schema
from decision_flows.dal.client import dynamodb_client
from decision_flows_local import template
from decision_flows_local.api.gateway import Api, LambdaContext
from decision_flows_local.dynamodb.streams import StreamPoller
from decision_flows_local.fixtures.histories import seed_history
from decision_flows_local.fixtures.samples import v1_config, v2_config

TABLES = template.table_names()


def consume(records: list[dict[str, Any]]) -> dict[str, Any]:
    """One invocation of the consumer, as the event source mapping makes it."""
    result: dict[str, Any] = template.handler("StreamFunction")({"Records": records}, LambdaContext())
    return result


def history(api: Api, flow_id: str) -> list[dict[str, Any]]:
    response = api.history(flow_id, limit="100")
    assert response.status == 200, response.body
    entries: list[dict[str, Any]] = response.body["data"]
    return entries


def published_flow(api: Api, key: str = "offers", label: str = "a") -> dict[str, Any]:
    flow: dict[str, Any] = api.create(key=key, name="Offers", draftConfig=v2_config(label)).body
    published: dict[str, Any] = api.publish(id=flow["id"]).body
    return published


def clear_table(logical_id: str) -> None:
    client = dynamodb_client()
    key_names = [k["AttributeName"] for k in client.describe_table(TableName=TABLES[logical_id])["Table"]["KeySchema"]]
    for item in client.scan(TableName=TABLES[logical_id])["Items"]:
        client.delete_item(TableName=TABLES[logical_id], Key={name: item[name] for name in key_names})


class TestEveryAction:
    def test_each_change_leaves_one_entry_with_its_actor_versions_and_changes(
        self, editor: Api, admin: Api, stream: StreamPoller
    ) -> None:
        # Given a flow created, edited, published twice, paused, rolled back and deleted by two people
        flow = editor.create(key="offers", name="Offers", draftConfig=v2_config("a")).body
        editor.update(id=flow["id"], name="Offers 2", description="for spring")
        editor.publish(id=flow["id"], notes="first")
        editor.update(id=flow["id"], draftConfig=v2_config("b"))
        editor.publish(id=flow["id"])
        editor.update(id=flow["id"], status="paused")
        admin.rollback(id=flow["id"], version=1, notes="b was wrong")
        admin.delete(flow["id"])

        # When the stream reaches the consumer
        assert stream.deliver() == []

        # Then history lists every change, newest first
        entries = history(admin, flow["id"])
        assert [(e["action"], e["rowVersion"], e["actor"]) for e in entries] == [
            ("deleted", 8, "admin@a.example"),
            ("rolled_back", 7, "admin@a.example"),
            ("status_changed", 6, "editor@a.example"),
            ("published", 5, "editor@a.example"),
            ("updated", 4, "editor@a.example"),
            ("published", 3, "editor@a.example"),
            ("updated", 2, "editor@a.example"),
            ("created", 1, "editor@a.example"),
        ]
        deleted, rolled_back, paused, second, edited, first, renamed, _ = entries
        assert (first.get("fromVersion"), first["toVersion"]) == (None, 1)
        assert (second["fromVersion"], second["toVersion"]) == (1, 2)
        assert (rolled_back["fromVersion"], rolled_back["toVersion"], rolled_back["restoredFrom"]) == (2, 3, 1)
        assert "restoredFrom" not in second
        assert paused["changes"] == {"status": {"from": "active", "to": "paused"}}
        assert renamed["changes"] == {
            "name": {"from": "Offers", "to": "Offers 2"},
            "description": {"from": None, "to": "for spring"},
        }
        assert set(edited["changes"]) == {"draftConfig"}
        assert deleted["fromVersion"] == 3
        assert all(entry["flowId"] == flow["id"] for entry in entries)
        assert len({entry["eventId"] for entry in entries}) == len(entries)

    def test_an_unpublished_draft_overwritten_by_a_rollback_is_kept(self, admin: Api, stream: StreamPoller) -> None:
        # Given v1 and v2 published, then an unpublished draft c
        flow = published_flow(admin)
        admin.update(id=flow["id"], draftConfig=v2_config("b"))
        admin.publish(id=flow["id"])
        admin.update(id=flow["id"], draftConfig=v1_config())

        # When a rollback to v1 overwrites the draft
        admin.rollback(id=flow["id"], version=1)
        stream.deliver()

        # Then the rollback's entry keeps the draft it overwrote
        newest = history(admin, flow["id"])[0]
        assert newest["action"] == "rolled_back"
        assert newest["previousDraft"] == v1_config()

    def test_a_publish_or_edit_of_a_draft_equal_to_the_live_version_keeps_no_copy(
        self, admin: Api, stream: StreamPoller
    ) -> None:
        # Given a published flow whose draft is the live config
        flow = published_flow(admin)

        # When the draft is edited (the old draft is v1's snapshot) and published
        admin.update(id=flow["id"], draftConfig=v2_config("b"))
        admin.publish(id=flow["id"])
        stream.deliver()

        # Then neither entry copies a draft: the snapshots hold both
        published, edited, *_ = history(admin, flow["id"])
        assert "previousDraft" not in published
        assert "previousDraft" not in edited

    def test_an_edit_over_an_unpublished_draft_keeps_it(self, admin: Api, stream: StreamPoller) -> None:
        flow = admin.create(key="offers", name="Offers", draftConfig=v2_config("a")).body

        admin.update(id=flow["id"], draftConfig=v2_config("b"))
        stream.deliver()

        assert history(admin, flow["id"])[0]["previousDraft"] == v2_config("a")


class TestRedelivery:
    def test_replaying_a_batch_writes_no_duplicates(self, admin: Api, stream: StreamPoller) -> None:
        # Given a batch of real records, consumed once
        flow = published_flow(admin)
        admin.update(id=flow["id"], name="Renamed")
        records = stream.read()
        assert consume(records) == {"batchItemFailures": []}
        first = history(admin, flow["id"])

        # When the same batch comes again
        assert consume(records) == {"batchItemFailures": []}

        # Then history is exactly as it was
        assert history(admin, flow["id"]) == first
        assert len(first) == 3

    def test_a_failing_record_is_reported_alone_and_the_others_are_processed(
        self, admin: Api, stream: StreamPoller, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        from decision_flows.dal.history import HistoryRepository

        # Given two flows whose records share a batch, and a history write that fails for one of them
        doomed = published_flow(admin, key="doomed")
        healthy = published_flow(admin, key="healthy")
        records = stream.read()
        original = HistoryRepository.record

        def failing_for_doomed(self: HistoryRepository, entry: Any) -> None:
            if entry.flow_id == doomed["id"] and entry.action == "published":
                raise RuntimeError("injected failure")
            original(self, entry)

        monkeypatch.setattr(HistoryRepository, "record", failing_for_doomed)

        # When the batch is consumed
        result = consume(records)

        # Then exactly the doomed flow's publish record is reported, and the rest landed
        failed = {failure["itemIdentifier"] for failure in result["batchItemFailures"]}
        doomed_publish = [
            r["dynamodb"]["SequenceNumber"]
            for r in records
            if r["eventName"] == "MODIFY"
            and r["dynamodb"]["Keys"]["SK"]["S"] == "FLOW"
            and doomed["id"] in r["dynamodb"]["Keys"]["PK"]["S"]
        ]
        assert failed == set(doomed_publish)
        assert [e["action"] for e in history(admin, healthy["id"])] == ["published", "created"]
        assert [e["action"] for e in history(admin, doomed["id"])] == ["created"]
        assert admin.live("healthy").status == 200

    def test_the_poller_retries_a_failed_record_until_it_lands(
        self, admin: Api, stream: StreamPoller, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        from decision_flows.dal.history import HistoryRepository

        flow = published_flow(admin)
        original, failures = HistoryRepository.record, [2]

        def flaky(self: HistoryRepository, entry: Any) -> None:
            if entry.action == "published" and failures[0]:
                failures[0] -= 1
                raise RuntimeError("injected failure")
            original(self, entry)

        monkeypatch.setattr(HistoryRepository, "record", flaky)

        assert stream.deliver() == []
        assert [e["action"] for e in history(admin, flow["id"])] == ["published", "created"]


def deliver_shuffled(records: list[Any], seed: int) -> None:
    """``records`` to the consumer one by one, in a random order, half of them twice."""
    order = random.Random(seed)  # noqa: S311 (a test's reproducible order, not security)
    shuffled = records + order.sample(records, k=len(records) // 2)
    order.shuffle(shuffled)
    for record in shuffled:
        assert consume([record]) == {"batchItemFailures": []}


class TestLiveEntries:
    def test_publish_and_rollback_reach_live_through_the_stream(self, admin: Api, stream: StreamPoller) -> None:
        # Given v1 live and the stream consumed
        flow = published_flow(admin)
        stream.deliver()
        assert admin.live("offers").body["config"] == v2_config("a")

        # When v2 is published
        admin.update(id=flow["id"], draftConfig=v2_config("b"))
        admin.publish(id=flow["id"])
        # Then the cached entry still serves v1 until the consumer has run...
        assert admin.live("offers").body["version"] == 1
        stream.deliver()
        # ...and v2 once it has
        live = admin.live("offers").body
        assert (live["version"], live["config"], live["flowId"]) == (2, v2_config("b"), flow["id"])

        # When v1 is restored, the restored config is what runtime callers get
        admin.rollback(id=flow["id"], version=1)
        stream.deliver()
        live = admin.live("offers").body
        assert (live["version"], live["config"]) == (3, v2_config("a"))
        assert live["publishedAt"] == admin.get(id=flow["id"]).body["publishedVersions"][-1]["publishedAt"]

    def test_pausing_or_deleting_stops_serving(self, admin: Api, stream: StreamPoller) -> None:
        flow = published_flow(admin)
        stream.deliver()

        admin.update(id=flow["id"], status="paused")
        stream.deliver()
        assert admin.live("offers").code == "LIVE_FLOW_NOT_FOUND"

        admin.update(id=flow["id"], status="active")
        stream.deliver()
        assert admin.live("offers").body["version"] == 1

        admin.delete(flow["id"])
        stream.deliver()
        assert admin.live("offers").status == 404

    def test_a_draft_edit_keeps_serving_the_live_version(self, admin: Api, stream: StreamPoller) -> None:
        flow = published_flow(admin)
        admin.update(id=flow["id"], draftConfig=v2_config("unpublished"), name="Renamed")
        stream.deliver()

        assert admin.live("offers").body["config"] == v2_config("a")

    def test_a_new_key_serves_and_the_old_one_stops(self, admin: Api, stream: StreamPoller) -> None:
        flow = published_flow(admin)
        stream.deliver()

        admin.update(id=flow["id"], key="offers-v2")
        stream.deliver()

        assert admin.live("offers").status == 404
        assert admin.live("offers-v2").body["config"] == v2_config("a")

    @pytest.mark.parametrize("seed", range(8))
    def test_shuffled_records_converge_to_the_truth(self, admin: Api, stream: StreamPoller, seed: int) -> None:
        # Given a flow through publishes, a rollback, a pause and a resume, with an unpublished draft
        flow = published_flow(admin)
        for label in ("b", "c"):
            admin.update(id=flow["id"], draftConfig=v2_config(label))
            admin.publish(id=flow["id"])
        admin.rollback(id=flow["id"], version=2)
        admin.update(id=flow["id"], status="paused")
        admin.update(id=flow["id"], status="active")
        admin.update(id=flow["id"], draftConfig=v2_config("unpublished"))
        records = stream.read()

        # When its records arrive in a random order, one by one, some twice
        deliver_shuffled(records, seed)

        # Then the live entry is the last state's, and history has one entry per change
        live = admin.live("offers").body
        assert (live["version"], live["config"]) == (4, v2_config("b"))
        assert [e["rowVersion"] for e in history(admin, flow["id"])] == list(range(10, 0, -1))

    @pytest.mark.parametrize("seed", range(3))
    def test_shuffled_rollout_records_converge_to_the_truth(self, admin: Api, stream: StreamPoller, seed: int) -> None:
        # Given a flow through a rollout that is widened and aborted, then another that is promoted
        flow = published_flow(admin)
        admin.update(id=flow["id"], draftConfig=v2_config("b"))
        admin.publish(id=flow["id"], rollout={"percent": 10})
        admin.request("POST", "/rollout", body={"id": flow["id"], "percent": 60})
        admin.request("POST", "/rollout/abort", body={"id": flow["id"]})
        admin.update(id=flow["id"], draftConfig=v2_config("c"))
        admin.publish(id=flow["id"], rollout={"percent": 99.99})
        admin.request("POST", "/rollout/promote", body={"id": flow["id"]})
        records = stream.read()

        # When its records arrive in a random order, one by one, some twice
        deliver_shuffled(records, seed)

        # Then /live serves the promoted version to everyone, and history has each step once
        served = {
            admin.request("GET", "/live", query={"key": "offers", "subject": f"s{n}"}).body["version"]
            for n in range(30)
        }
        assert served == {3}
        entries = history(admin, flow["id"])
        actions = [e["action"] for e in entries]
        assert actions[:5] == ["rollout_promoted", "rollout_started", "updated", "rollout_aborted", "rollout_changed"]
        assert [e["rowVersion"] for e in entries] == list(range(len(entries), 0, -1))

    def test_a_late_record_of_a_deleted_flow_never_takes_its_key_back(self, admin: Api, stream: StreamPoller) -> None:
        # Given flow A with key "offers", deleted, and flow B that took the key and was published
        first = published_flow(admin, label="a")
        admin.delete(first["id"])
        old_records = stream.read()
        second = published_flow(admin, label="b")

        # When B's records arrive first, then A's publish late (its delete later still)
        stream.deliver()
        late_publish = [
            r for r in old_records if r["eventName"] == "MODIFY" and r["dynamodb"]["Keys"]["SK"]["S"] == "FLOW"
        ]
        assert consume(late_publish) == {"batchItemFailures": []}

        # Then the key serves B, before and after A's delete is processed
        live = admin.live("offers").body
        assert (live["flowId"], live["config"]) == (second["id"], v2_config("b"))
        assert consume(old_records) == {"batchItemFailures": []}
        assert admin.live("offers").body["flowId"] == second["id"]

    def test_a_miss_is_rebuilt_from_the_flow(self, admin: Api, stream: StreamPoller) -> None:
        # Given a published flow whose records never reached the consumer, then a lost cache
        flow = published_flow(admin)
        admin.update(id=flow["id"], draftConfig=v2_config("unpublished"))
        stream.deliver()
        clear_table("LiveTable")

        # When a runtime caller asks, the entry is rebuilt from the flow and its live snapshot...
        live = admin.live("offers").body
        assert (live["version"], live["config"]) == (1, v2_config("a"))
        # ...and stored again
        assert dynamodb_client().scan(TableName=TABLES["LiveTable"])["Count"] == 1

    def test_unknown_or_never_published_keys_are_404_and_not_cached(self, admin: Api, stream: StreamPoller) -> None:
        admin.create(key="drafty", name="Draft only")
        stream.deliver()

        assert admin.live("drafty").code == "LIVE_FLOW_NOT_FOUND"
        assert admin.live("nobody").code == "LIVE_FLOW_NOT_FOUND"
        assert admin.live("not a key!").status == 400
        items = dynamodb_client().scan(TableName=TABLES["LiveTable"])["Items"]
        assert [(item["PK"]["S"], item["served"]["BOOL"]) for item in items] == [("T#tenant-a#KEY#drafty", False)]


class TestDeletion:
    def test_the_consumer_removes_a_deleted_flows_versions_in_batches(
        self, admin: Api, stream: StreamPoller, dynamodb: Any, dynamo_calls: Any
    ) -> None:
        # Given a flow with 40 versions (80 version items), deleted
        flow = admin.create(key="offers", name="Offers", draftConfig=v2_config("a")).body
        seed_history(dynamodb, "tenant-a", flow["id"], 40)
        admin.delete(flow["id"])
        partition: dict[str, Any] = {
            "KeyConditionExpression": "PK = :pk",
            "ExpressionAttributeValues": {":pk": {"S": f"T#tenant-a#F#{flow['id']}"}},
        }
        left = dynamodb.query(TableName=TABLES["FlowsTable"], **partition)["Items"]
        assert len(left) == 81  # versions and snapshots, and the tombstone

        # When the consumer handles the delete
        dynamo_calls.reset()
        stream.deliver()

        # Then nothing of the flow is left, in batch deletes of 25, and its history stays
        assert dynamodb.query(TableName=TABLES["FlowsTable"], **partition)["Items"] == []
        assert dynamo_calls.by_operation()["BatchWriteItem"] == 4
        assert history(admin, flow["id"])[0]["action"] == "deleted"
        assert admin.get(id=flow["id"]).status == 404


def test_the_sample_stream_event_runs_through_the_consumer(dynamodb: Any, admin: Api) -> None:
    event = json.loads((template.ROOT / "events" / "stream" / "flow-changes.json").read_text())

    result = template.handler("StreamFunction")(event, LambdaContext())

    assert result == {"batchItemFailures": []}
    entries = history(admin.as_(admin.caller), "df_example0000000000000001")
    assert [(e["action"], e["actor"]) for e in entries] == [
        ("published", "alice@tenant-a.example"),
        ("created", "alice@tenant-a.example"),
    ]


def test_the_write_id_stays_inside_the_flow_item(editor: Api, stream: StreamPoller) -> None:
    # Given a flow renamed once: its item carries the id of the write that left it (writeId)
    flow = editor.create(key="offers", name="Offers", draftConfig=v2_config("a")).body
    renamed = editor.update(id=flow["id"], name="Offers 2").body
    key = {"PK": {"S": key_schema.flow_pk("tenant-a", flow["id"])}, "SK": {"S": key_schema.FLOW_SK}}
    item = dynamodb_client().get_item(TableName=TABLES["FlowsTable"], Key=key)["Item"]
    assert "writeId" in item

    # When the consumer has had the records
    stream.deliver()

    # Then no response, list item or history entry shows it: the edit changed the name, nothing else
    listed = editor.get().body["data"]
    assert "writeId" not in json.dumps([renamed, editor.get(id=flow["id"]).body, listed])
    (edit,) = [entry for entry in history(editor, flow["id"]) if entry["action"] == "updated"]
    assert set(edit["changes"]) == {"name"}
