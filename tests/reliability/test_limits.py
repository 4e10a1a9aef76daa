"""Limits: configs at and just over the size limit, and a flow with a very long history."""

from __future__ import annotations

import time
from typing import Any

import pytest

from decision_flows.domain.pipeline import MAX_CONFIG_BYTES, canonical_json
from decision_flows_local import template
from decision_flows_local.api.gateway import Api
from decision_flows_local.dynamodb.streams import StreamPoller
from decision_flows_local.fixtures.histories import seed_history
from decision_flows_local.fixtures.samples import config_of_size, v2_config
from tests.support.figures import Figures
from tests.support.scale import scaled

TABLES = template.table_names()


def config_of_exact_size(size: int, label: str = "big") -> dict[str, Any]:
    """A valid config whose canonical JSON is exactly ``size`` bytes."""
    config = config_of_size(size)
    config["nodes"][1]["config"]["modelKey"] = label
    padding = config["nodes"][0]["config"]["padding"]
    config["nodes"][0]["config"]["padding"] = padding + "x" * (size - len(canonical_json(config).encode()))
    assert len(canonical_json(config).encode()) == size
    return config


def table_items(dynamodb: Any) -> dict[str, list[dict[str, Any]]]:
    return {name: dynamodb.scan(TableName=name)["Items"] for name in TABLES.values()}


class TestConfigSize:
    def test_a_config_of_exactly_the_limit_goes_through_every_route_and_the_stream(
        self, admin: Api, stream: StreamPoller
    ) -> None:
        # Given configs of exactly 300 KB. (moto counts an attribute that an UpdateItem replaces twice,
        # old and new value, against its 400 KB item limit; DynamoDB counts the resulting item. So a
        # 300 KB draft is replaced here by a small one and back, never by another 300 KB one.)
        first, third = config_of_exact_size(MAX_CONFIG_BYTES, "one"), config_of_exact_size(MAX_CONFIG_BYTES, "three")

        # When a flow is created with one and published, a small v2 published, a 300 KB draft written
        # and dropped unpublished, and v1 restored over a small draft; then the stream is consumed
        flow = admin.create(key="big", name="Big", draftConfig=first)
        assert flow.status == 201, flow.body
        flow_id = flow.body["id"]
        assert admin.publish(id=flow_id).status == 200
        assert admin.update(id=flow_id, draftConfig=v2_config("small")).status == 200
        assert admin.publish(id=flow_id).status == 200
        assert admin.update(id=flow_id, draftConfig=third).status == 200
        assert admin.update(id=flow_id, draftConfig=v2_config("small again")).status == 200
        restored = admin.rollback(id=flow_id, version=1)
        assert stream.deliver() == []

        # Then every read returns the 300 KB configs whole, and history kept the dropped 300 KB draft
        assert (restored.status, restored.body["draftConfig"]) == (200, first)
        assert admin.get("/versions", id=flow_id, version="1").body["configSnapshot"] == first
        assert admin.get(id=flow_id).body["draftConfig"] == first
        assert admin.live("big").body["config"] == first
        dropped = next(e for e in admin.history(flow_id).body["data"] if e["rowVersion"] == 6)
        assert dropped["previousDraft"] == third

    def test_one_byte_over_is_413_and_writes_nothing(self, admin: Api, dynamodb: Any) -> None:
        flow_id = admin.create(key="big", name="Big", draftConfig=v2_config("a")).body["id"]
        before = table_items(dynamodb)

        created = admin.create(key="bigger", name="Bigger", draftConfig=config_of_exact_size(MAX_CONFIG_BYTES + 1))
        updated = admin.update(id=flow_id, draftConfig=config_of_exact_size(MAX_CONFIG_BYTES + 1))

        assert (created.status, created.code) == (413, "CONFIG_TOO_LARGE")
        assert (updated.status, updated.code) == (413, "CONFIG_TOO_LARGE")
        after = table_items(dynamodb)
        rate_limit = TABLES["RateLimitTable"]
        assert {k: v for k, v in after.items() if k != rate_limit} == {
            k: v for k, v in before.items() if k != rate_limit
        }


@pytest.mark.long
class TestLongHistory:
    def test_a_flow_with_a_long_history_still_publishes_lists_rolls_back_and_is_deleted(
        self, admin: Api, dynamodb: Any, stream: StreamPoller, dynamo_calls: Any, figures: Figures
    ) -> None:
        # Given a flow with a long published history
        versions = scaled(3_000, 10_000)
        flow_id = admin.create(key="long", name="Long", draftConfig=v2_config("a")).body["id"]
        started = time.perf_counter()
        seed_history(dynamodb, "tenant-a", flow_id, versions)
        seeded_in = time.perf_counter() - started

        # When it is published, listed page by page, rolled back and read
        admin.update(id=flow_id, draftConfig=v2_config("next"))
        dynamo_calls.reset()
        published = admin.publish(id=flow_id)
        publish_calls, publish_bytes = dynamo_calls.count, dynamo_calls.request_bytes + dynamo_calls.response_bytes
        listed: list[int] = []
        cursor, pages = None, 0
        while True:
            page = admin.get("/versions", id=flow_id, limit="1000", **({"cursor": cursor} if cursor else {})).body
            listed += [version["version"] for version in page["versions"]]
            pages += 1
            cursor = page["pagination"]["nextCursor"]
            if cursor is None:
                break
        dynamo_calls.reset()
        rolled_back = admin.rollback(id=flow_id, version=1)
        rollback_calls = dynamo_calls.count

        # Then nothing grew with history: one more version each, all listed once, in order
        assert published.status == 200
        assert published.body["liveVersion"] == versions + 1
        assert listed == list(range(1, versions + 2))
        assert rolled_back.status == 200
        assert (rolled_back.body["liveVersion"], rolled_back.body["publishedVersions"][-1]["restoredFrom"]) == (
            versions + 2,
            1,
        )
        assert len(rolled_back.body["publishedVersions"]) == 20
        assert admin.get("/versions", id=flow_id, version=str(versions // 2)).status == 200
        # (each: one read of the flow with the tenant's review policy, and the write)
        assert (publish_calls, rollback_calls) == (2, 2)

        # And when it is deleted, the consumer removes its 2 items per version in batches
        stream.read()  # the seeding's records: history starts at the create, already past
        assert admin.delete(flow_id).status == 204
        started = time.perf_counter()
        assert stream.deliver() == []
        purged_in = time.perf_counter() - started
        left = dynamodb.query(
            TableName=TABLES["FlowsTable"],
            KeyConditionExpression="PK = :pk",
            ExpressionAttributeValues={":pk": {"S": f"T#tenant-a#F#{flow_id}"}},
            Select="COUNT",
        )["Count"]
        assert left == 0
        figures(
            versions=versions,
            pages_of_1000=pages,
            publish_round_trips=publish_calls,
            publish_bytes=publish_bytes,
            rollback_round_trips=rollback_calls,
            seed_seconds=round(seeded_in, 1),
            purge_seconds=round(purged_in, 1),
        )
