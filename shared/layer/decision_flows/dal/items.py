"""Mapping between the stored models and DynamoDB items (the wire format of the low-level client)."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from decision_flows.dal import key_schema
from decision_flows.models.flow import Flow, FlowAction, PlanStep, PublishedVersion, ScheduleStatus

# The history and live-pointer models are imported where they are built: every function maps flows,
# few map history entries, tombstones or pointers, and their classes cost each cold start (bench/cold_start.py).
if TYPE_CHECKING:
    from decision_flows.models.history import ChangeEntry, FlowTombstone
    from decision_flows.models.live import LiveEntry

Item = dict[str, Any]

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()

ANCHOR_ENTITY = "VersionsAnchor"
REQUEST_EVENTS = frozenset(
    {
        FlowAction.CHANGE_REQUESTED,
        FlowAction.CHANGE_APPROVED,
        FlowAction.CHANGE_REJECTED,
        FlowAction.CHANGE_CANCELLED,
        FlowAction.CHANGE_BLOCKED,
        FlowAction.CHANGE_SCHEDULED,
        FlowAction.CHANGE_UNSCHEDULED,
        FlowAction.SCHEDULE_SUSPENDED,
    }
)
# The flow item's id of the write that left it (a uuid4 per write): not part of the Flow model, so
# no response, list item or history entry shows it; the list index does not project it.
WRITE_ID = "writeId"


def to_wire(plain: dict[str, Any]) -> Item:
    return {name: _serializer.serialize(value) for name, value in plain.items()}


def from_wire(item: Item) -> dict[str, Any]:
    return {name: _plain(_deserializer.deserialize(value)) for name, value in item.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def flow_attributes(flow: Flow) -> dict[str, Any]:
    """Every attribute of the flow item, keys included, as plain values (absent when None)."""
    attributes = flow.model_dump(mode="json", by_alias=True, exclude_none=True)
    attributes["flowId"] = attributes.pop("id")
    attributes["publishedVersions"] = [
        summary.model_dump(mode="json", by_alias=True, exclude_none=True) for summary in flow.published_versions
    ]
    return {
        "PK": key_schema.flow_pk(flow.tenant_id, flow.id),
        "SK": key_schema.FLOW_SK,
        "GSI1PK": key_schema.list_pk(flow.tenant_id),
        "GSI1SK": key_schema.list_sk(flow.status, flow.updated_at, flow.id),
        **attributes,
        **_due(flow),
    }


def _due(flow: Flow) -> dict[str, Any]:
    """The DueJobs keys of the plan's next pending step, while there is one: a write that moves the plan
    sets, moves or removes them in the same request (``writes.update_flow`` sends what changed)."""
    if flow.rollout is None or flow.rollout.plan is None:
        return {}
    from decision_flows.models.scheduled_job import next_plan_job  # only flows with a plan

    waiting = next_plan_job(flow)
    return key_schema.due_attributes(waiting[1], waiting[0]) if waiting else {}


def flow_from_item(item: Item) -> Flow:
    attributes = from_wire(item)
    attributes["id"] = attributes.pop("flowId")
    return Flow.model_validate(attributes)


def version_summary_attributes(tenant_id: str, flow_id: str, version: PublishedVersion) -> dict[str, Any]:
    summary = version.model_dump(mode="json", by_alias=True, exclude_none=True, exclude={"config"})
    return {"PK": key_schema.flow_pk(tenant_id, flow_id), "SK": key_schema.version_sk(version.version), **summary}


def snapshot_attributes(tenant_id: str, flow_id: str, version: PublishedVersion) -> dict[str, Any]:
    if version.config is None:
        raise ValueError("a snapshot item needs the version's config")
    snapshot = version.model_dump(mode="json", by_alias=True, exclude_none=True)
    return {"PK": key_schema.flow_pk(tenant_id, flow_id), "SK": key_schema.snapshot_sk(version.version), **snapshot}


def version_from_item(item: Item) -> PublishedVersion:
    attributes = from_wire(item)
    attributes.pop("PK", None)
    attributes.pop("SK", None)
    return PublishedVersion.model_validate(attributes)


def anchor_attributes(tenant_id: str, flow_id: str) -> dict[str, Any]:
    return {"PK": key_schema.flow_pk(tenant_id, flow_id), "SK": key_schema.VERSIONS_ANCHOR_SK, "entity": ANCHOR_ENTITY}


def tombstone_attributes(deleted: Flow, deleted_at: str, deleted_by: str) -> dict[str, Any]:
    from decision_flows.models.history import FlowTombstone

    tombstone = FlowTombstone(
        flow_id=deleted.id,
        tenant_id=deleted.tenant_id,
        key=deleted.key,
        status=deleted.status,
        live_version=deleted.live_version,
        row_version=deleted.row_version + 1,
        deleted_at=deleted_at,
        deleted_by=deleted_by,
        cancelled_steps=_pending_steps(deleted),
    )
    return {
        "PK": key_schema.flow_pk(deleted.tenant_id, deleted.id),
        "SK": key_schema.TOMBSTONE_SK,
        **tombstone.model_dump(mode="json", by_alias=True, exclude_none=True),
    }


def _pending_steps(flow: Flow) -> list[PlanStep] | None:
    """The rollout plan's steps a delete cancels, for the plan_cancelled entry the tombstone leaves."""
    plan = flow.rollout.plan if flow.rollout is not None else None
    pending = [step for step in plan or () if step.status == ScheduleStatus.PENDING]
    return [step.model_copy(update={"status": ScheduleStatus.CANCELLED}) for step in pending] or None


def tombstone_from_item(item: Item) -> FlowTombstone:
    from decision_flows.models.history import FlowTombstone

    return FlowTombstone.model_validate(from_wire(item))


def change_attributes(entry: ChangeEntry) -> dict[str, Any]:
    """Every history entry, whatever its action, carries the feed index's keys: it is in the tenant feed.
    A change request's own entries are keyed by the request (their rowVersions are the request's); a
    plan_cancelled entry shares its write's rowVersion and sorts beside its entry."""
    keyed_by = entry.change_id if entry.action in REQUEST_EVENTS and entry.change_id else entry.flow_id
    sort_key = key_schema.change_sk(entry.row_version)
    if entry.action == FlowAction.PLAN_CANCELLED:  # the second entry of the write that cancelled the plan
        sort_key = f"{sort_key}#{entry.action.value}"
    return {
        "PK": key_schema.flow_pk(entry.tenant_id, keyed_by),
        "SK": sort_key,
        "FeedPK": key_schema.feed_pk(entry.tenant_id),
        "FeedSK": key_schema.feed_sk(entry.at, entry.event_id),
        **entry.model_dump(mode="json", by_alias=True, exclude_none=True),
    }


def change_from_item(item: Item) -> ChangeEntry:
    from decision_flows.models.history import ChangeEntry

    return ChangeEntry.model_validate(from_wire(item))


def live_attributes(entry: LiveEntry) -> dict[str, Any]:
    return {
        "PK": key_schema.key_reservation_pk(entry.tenant_id, entry.key),
        **entry.model_dump(mode="json", by_alias=True, exclude_none=True),
    }


def live_from_item(item: Item) -> LiveEntry:
    from decision_flows.models.live import LiveEntry

    return LiveEntry.model_validate(from_wire(item))
