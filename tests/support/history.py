"""Give a flow a long published history quickly, by writing its version items directly.

Publishing through the API N times costs O(N^2) under moto (it copies every table for each
transaction), so long histories are written as the access layer would have written them: a
summary and a snapshot item per version, and the flow item moved to the latest version.
"""

from __future__ import annotations

from typing import Any

from decision_flows.dal import items, writes
from decision_flows.dal.client import store_settings
from decision_flows.dal.repository import FlowRepository
from decision_flows.domain import pipeline
from decision_flows.models.flow import PUBLISHED_VERSIONS_ON_FLOW, FlowStatus, PublishedVersion, VersionSummary
from tests.support.configs import v2_config

BATCH_WRITE_LIMIT = 25


def seed_history(dynamodb: Any, tenant_id: str, flow_id: str, versions: int, notes: str = "seeded release") -> None:
    table = store_settings().table_name
    flow = FlowRepository(dynamodb, table).get_flow(tenant_id, flow_id)
    assert flow is not None
    assert flow.latest_version is None, "seed a flow that was never published"
    config = pipeline.canonical_json(v2_config("history"))
    config_hash = pipeline.config_hash(config)
    history = [
        PublishedVersion(
            version=n,
            published_at=flow.created_at,
            published_by="seed",
            notes=f"{notes} {n}",
            node_count=3,
            scoring_method="propensity",
            config_hash=config_hash,
            config=config,
        )
        for n in range(1, versions + 1)
    ]
    puts = [
        {"PutRequest": {"Item": items.to_wire(attributes)}}
        for version in history
        for attributes in (
            items.version_summary_attributes(tenant_id, flow_id, version),
            items.snapshot_attributes(tenant_id, flow_id, version),
        )
    ]
    for start in range(0, len(puts), BATCH_WRITE_LIMIT):
        dynamodb.batch_write_item(RequestItems={table: puts[start : start + BATCH_WRITE_LIMIT]})
    recent = [VersionSummary.model_validate(v.model_dump(include=set(VersionSummary.model_fields))) for v in history]
    published = flow.model_copy(
        update={
            "latest_version": versions,
            "live_version": versions,
            "live_config_hash": config_hash,
            "status": FlowStatus.ACTIVE,
            "published_versions": recent[-PUBLISHED_VERSIONS_ON_FLOW:],
            "row_version": flow.row_version + 1,
        }
    )
    dynamodb.put_item(TableName=table, Item=items.to_wire(items.flow_attributes(published)))
    counters = writes.count_statuses(tenant_id, writes.status_change(flow.status, FlowStatus.ACTIVE), lambda _: None)  # type: ignore[arg-type,return-value]
    dynamodb.update_item(TableName=table, **counters.operation["Update"])
