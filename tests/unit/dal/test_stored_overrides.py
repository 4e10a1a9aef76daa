"""Items stored before rollouts had overrides read as rollouts without them (include and exclude [])."""

from __future__ import annotations

from decision_flows.dal import items
from decision_flows.domain.pipeline import MAX_CONFIG_BYTES
from decision_flows.models.body_fields import MAX_OVERRIDE_BYTES
from decision_flows.models.flow import PUBLISHED_VERSIONS_ON_FLOW
from decision_flows.models.live import LiveEntry
from tests.unit.domain.test_transitions import a_flow, a_rollout

AT = "2026-12-06T10:00:00.000Z"
ROLLOUT = a_rollout(basis_points=1000).model_copy(update={"include": ["qa"], "exclude": ["vip"]})


def test_a_flow_item_keeps_the_lists_and_one_without_them_reads_as_empty() -> None:
    flow = a_flow(live_version=2, rollout=ROLLOUT)
    item = items.to_wire(items.flow_attributes(flow))
    assert (item["rollout"]["M"]["include"], item["rollout"]["M"]["exclude"]) == (
        {"L": [{"S": "qa"}]},
        {"L": [{"S": "vip"}]},
    )
    assert items.flow_from_item(item) == flow

    del item["rollout"]["M"]["include"], item["rollout"]["M"]["exclude"]

    older = items.flow_from_item(item).rollout
    assert older is not None
    assert (older.basis_points, older.include, older.exclude) == (1000, [], [])


def test_a_live_pointer_without_the_lists_reads_as_empty() -> None:
    entry = LiveEntry(
        tenant_id="tenant-a",
        key="welcome",
        flow_id="df_1",
        row_version=5,
        served=True,
        version=2,
        published_at="2026-12-01T00:00:00.000Z",
        challenger_version=3,
        basis_points=1000,
        include=["qa"],
    )
    item = items.to_wire(items.live_attributes(entry))
    assert (item["include"], item["exclude"]) == ({"L": [{"S": "qa"}]}, {"L": []})

    del item["include"], item["exclude"]

    assert (items.live_from_item(item).include, items.live_from_item(item).exclude) == ([], [])


def test_the_largest_flow_item_with_the_largest_override_lists_fits_dynamodbs_400_kb() -> None:
    from moto.dynamodb.models.dynamo_type import DynamoType  # DynamoDB's own item-size rule

    # Given every field of a flow at its limit, 4-byte characters wherever a limit counts characters
    wide = "\U0001f600"
    summaries = [
        {"version": n, "published_at": AT, "published_by": "apikey:key_" + "f" * 32, "notes": wide * 500}
        for n in range(1, PUBLISHED_VERSIONS_ON_FLOW + 1)
    ]
    subject = wide * 40  # 160 bytes: 200 of them all but fill the lists' 32 KiB
    rollout = a_rollout(basis_points=9999).model_copy(update={"include": [subject] * 100, "exclude": [subject] * 100})
    flow = a_flow(
        key="k" * 255,
        name=wide * 255,
        description=wide * 1000,
        draft_config="x" * MAX_CONFIG_BYTES,
        draft_hash="sha256:" + "0" * 64,
        live_config_hash="sha256:" + "1" * 64,
        published_versions=summaries,
        live_version=19,
        latest_version=20,
        rollout=rollout,
    )
    assert sum(len(s.encode()) for s in (*rollout.include, *rollout.exclude)) > MAX_OVERRIDE_BYTES - 1024

    # When it is stored as an item (with its write id, which the flow model does not carry)
    item = items.to_wire(items.flow_attributes(flow) | {items.WRITE_ID: "0" * 36})

    # Then DynamoDB would take it, with room to spare
    size = sum(len(name.encode()) + DynamoType(value).size() for name, value in item.items())
    assert size < 400 * 1024 - 4 * 1024, size
