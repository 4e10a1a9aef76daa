"""Give a flow a long published history quickly, by writing its version items directly.

Publishing through the API N times costs O(N^2) under moto (it copies every table for each
transaction), so long histories are written as the access layer would have written them: a
summary and a snapshot item per version, and the flow item moved to the latest version.
``seed_change_log`` writes the change-history entries the stream consumer would have left.

Items go out through BatchWriteItem unless ``write_items`` says otherwise: the DynamoDB cost
benchmark hands every snapshot the same config string straight to moto, so 10 000 snapshots of
250 KB do not take 2.5 GB.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from decision_flows.dal import items, writes
from decision_flows.dal.flows import FlowRepository
from decision_flows.domain import pipeline
from decision_flows.models.flow import (
    PUBLISHED_VERSIONS_ON_FLOW,
    FlowAction,
    FlowStatus,
    PublishedVersion,
    VersionSummary,
)
from decision_flows.models.history import ChangeEntry
from decision_flows.settings import settings
from decision_flows_local.samples import v2_config

BATCH_WRITE_LIMIT = 25

# Writes whole items (DynamoDB JSON) to a table: (table name, items).
ItemWriter = Callable[[str, list[dict[str, Any]]], None]


def batch_writer(dynamodb: Any) -> ItemWriter:
    """Items written with BatchWriteItem, 25 to a call."""

    def write(table: str, wire_items: list[dict[str, Any]]) -> None:
        puts = [{"PutRequest": {"Item": item}} for item in wire_items]
        for start in range(0, len(puts), BATCH_WRITE_LIMIT):
            dynamodb.batch_write_item(RequestItems={table: puts[start : start + BATCH_WRITE_LIMIT]})

    return write


def seed_history(
    dynamodb: Any,
    tenant_id: str,
    flow_id: str,
    versions: int,
    notes: str = "seeded release",
    config: dict[str, Any] | None = None,
    write_items: ItemWriter | None = None,
) -> None:
    """Versions 1..``versions`` of a never-published flow, all with ``config`` (by default a small v2
    config); the flow item ends live at the last one. Every snapshot shares one config string."""
    table = settings().flows_table
    flow = FlowRepository(dynamodb, table).get_flow(tenant_id, flow_id)
    assert flow is not None
    assert flow.latest_version is None, "seed a flow that was never published"
    assert versions >= 1
    released = config if config is not None else v2_config("history")
    canonical = pipeline.canonical_json(released)
    facts = pipeline.validate_config(released)
    config_hash = pipeline.config_hash(canonical)
    history = [
        PublishedVersion(
            version=n,
            published_at=flow.created_at,
            published_by="seed",
            notes=f"{notes} {n}",
            node_count=facts.node_count,
            scoring_method=facts.scoring_method,
            config_hash=config_hash,
            config=canonical,
        )
        for n in range(1, versions + 1)
    ]
    version_items = [
        items.to_wire(attributes)
        for version in history
        for attributes in (
            items.version_summary_attributes(tenant_id, flow_id, version),
            items.snapshot_attributes(tenant_id, flow_id, version),
        )
    ]
    (write_items or batch_writer(dynamodb))(table, version_items)
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


def seed_change_log(
    changes_table: str, tenant_id: str, flow_id: str, releases: int, at: str, write_items: ItemWriter
) -> None:
    """The entries the consumer leaves for a flow created and then published ``releases`` times."""
    created = ChangeEntry(
        event_id="seed-0",
        flow_id=flow_id,
        tenant_id=tenant_id,
        action=FlowAction.CREATED,
        actor="seed",
        at=at,
        row_version=1,
    )
    entries = [created] + [
        created.model_copy(
            update={
                "event_id": f"seed-{n}",
                "action": FlowAction.PUBLISHED,
                "row_version": n + 1,
                "from_version": n - 1 if n > 1 else None,
                "to_version": n,
            }
        )
        for n in range(1, releases + 1)
    ]
    write_items(changes_table, [items.to_wire(items.change_attributes(entry)) for entry in entries])
