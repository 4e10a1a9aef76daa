"""Items stored before rollouts had overrides read as rollouts without them (include and exclude [])."""

from __future__ import annotations

from decision_flows.dal import items
from decision_flows.models.live import LiveEntry
from tests.unit.domain.test_transitions import a_flow, a_rollout

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
