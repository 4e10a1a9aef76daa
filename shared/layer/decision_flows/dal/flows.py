"""The DynamoDB access layer: the only code in the service that calls DynamoDB.

Each public method is one request's worth of DynamoDB work, and its docstring says how many round
trips it costs; the domain composes them within the per-route budgets of docs/ARCHITECTURE.md.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from decision_flows.dal import items, key_schema, paging, purge, writes
from decision_flows.dal.batch import batch_get
from decision_flows.dal.store_errors import AlreadyApplied, ConditionFailure, WriteStep, call
from decision_flows.domain.errors import (
    Conflict,
    DomainError,
    flow_not_found,
    key_taken,
    row_version_mismatch,
)
from decision_flows.domain.reads import FlowWithVersions, GatedFlow
from decision_flows.models.flow import Flow, FlowStatus, PublishedVersion
from decision_flows.models.page import Page

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

Item = dict[str, Any]
_LIST_CURSOR_KEYS = frozenset({"PK", "SK", "GSI1PK", "GSI1SK"})
_VERSION_CURSOR_KEYS = frozenset({"PK", "SK"})


class FlowRepository:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    # Reads

    def get_flow(self, tenant_id: str, flow_id: str) -> Flow | None:
        """One GetItem."""
        response = call(
            self._client.get_item,
            TableName=self._table,
            Key=key_schema.key(key_schema.flow_pk(tenant_id, flow_id), key_schema.FLOW_SK),
            ConsistentRead=True,
        )
        item = response.get("Item")
        return items.flow_from_item(item) if item else None

    def get_flow_and_version(
        self, tenant_id: str, flow_id: str, version: int
    ) -> tuple[Flow | None, PublishedVersion | None]:
        """One BatchGetItem: the flow and one version's snapshot."""
        pk = key_schema.flow_pk(tenant_id, flow_id)
        found = self._batch_get(
            [key_schema.key(pk, key_schema.FLOW_SK), key_schema.key(pk, key_schema.snapshot_sk(version))]
        )
        return _flow_in(found), _snapshot_in(found, version)

    def get_gated_flow(self, tenant_id: str, flow_id: str, version: int | None = None) -> GatedFlow:
        """One BatchGetItem: the flow, the tenant's policy item (another partition of the same table) and,
        with ``version``, its snapshot. The policy costs no round trip of its own, only its read units."""
        from decision_flows.dal.policies import policy_from_item  # only the calls a policy can refuse
        from decision_flows.models.policy import Policy

        pk = key_schema.flow_pk(tenant_id, flow_id)
        wanted = [
            key_schema.key(pk, key_schema.FLOW_SK),
            key_schema.key(key_schema.tenant_pk(tenant_id), key_schema.POLICY_SK),
        ]
        if version is not None:
            wanted.append(key_schema.key(pk, key_schema.snapshot_sk(version)))
        found = self._batch_get(wanted)
        policy = found.get(key_schema.POLICY_SK)
        return GatedFlow(
            flow=_flow_in(found),
            policy=policy_from_item(policy) if policy else Policy(tenant_id=tenant_id),
            version=None if version is None else _snapshot_in(found, version),
        )

    def get_version(self, tenant_id: str, flow_id: str, version: int) -> PublishedVersion | None:
        """One BatchGetItem of the snapshot and the versions anchor, so a deleted flow's versions are gone
        even before the stream consumer has removed their items, without reading the flow's draft."""
        pk = key_schema.flow_pk(tenant_id, flow_id)
        found = self._batch_get(
            [key_schema.key(pk, key_schema.VERSIONS_ANCHOR_SK), key_schema.key(pk, key_schema.snapshot_sk(version))]
        )
        snapshot = found.get(key_schema.snapshot_sk(version))
        if key_schema.VERSIONS_ANCHOR_SK not in found or snapshot is None:
            return None
        return items.version_from_item(snapshot)

    def get_flow_with_versions(
        self, tenant_id: str, flow_id: str, versions: Sequence[int], with_flow: bool
    ) -> FlowWithVersions:
        """One BatchGetItem: the flow (or, without ``with_flow``, the small versions anchor that proves it
        exists) and the snapshots of ``versions``."""
        pk = key_schema.flow_pk(tenant_id, flow_id)
        head = key_schema.FLOW_SK if with_flow else key_schema.VERSIONS_ANCHOR_SK
        wanted = [head, *dict.fromkeys(key_schema.snapshot_sk(version) for version in versions)]
        found = self._batch_get([key_schema.key(pk, sort_key) for sort_key in wanted])
        if head not in found:
            return FlowWithVersions(exists=False)
        return FlowWithVersions(
            exists=True,
            flow=items.flow_from_item(found[head]) if with_flow else None,
            versions={
                version: items.version_from_item(found[key_schema.snapshot_sk(version)])
                for version in versions
                if key_schema.snapshot_sk(version) in found
            },
        )

    def flow_exists(self, tenant_id: str, flow_id: str) -> bool:
        """One GetItem of the small versions anchor (never the draft)."""
        response = call(
            self._client.get_item,
            TableName=self._table,
            Key=key_schema.key(key_schema.flow_pk(tenant_id, flow_id), key_schema.VERSIONS_ANCHOR_SK),
            ConsistentRead=True,
        )
        return "Item" in response

    def list_versions(
        self, tenant_id: str, flow_id: str, limit: int, page_cursor: str | None
    ) -> Page[PublishedVersion] | None:
        """One Query over the summary items (never the snapshots); None when the flow does not exist.

        The first page starts at the versions anchor, which proves the flow exists in the same read.
        """
        pk = key_schema.flow_pk(tenant_id, flow_id)
        first = page_cursor is None
        query = paging.PageQuery(
            {
                "TableName": self._table,
                "KeyConditionExpression": "PK = :pk AND begins_with(SK, :prefix)",
                "ExpressionAttributeValues": {":pk": {"S": pk}, ":prefix": {"S": key_schema.VERSIONS_PREFIX}},
                "ConsistentRead": True,
            },
            _VERSION_CURSOR_KEYS,
            lambda start: start["PK"] == pk and start["SK"].startswith(key_schema.VERSIONS_PREFIX),
            lead=1 if first else 0,
        )
        page = paging.query_page(self._client, query, limit, page_cursor)
        if first and (not page.lead or page.lead[0]["SK"]["S"] != key_schema.VERSIONS_ANCHOR_SK):
            return None
        versions = [items.version_from_item(item) for item in page.items]
        return Page(items=versions, next_cursor=page.next_cursor)

    def list_flows(self, tenant_id: str, status: FlowStatus | None, limit: int, page_cursor: str | None) -> Page[Flow]:
        """One Query of the list index plus one GetItem of the tenant's counters."""
        list_pk = key_schema.list_pk(tenant_id)
        flow_pk_prefix = key_schema.flow_pk(tenant_id, "")
        status_prefix = key_schema.status_prefix(status) if status else ""
        params: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": key_schema.LIST_INDEX,
            "KeyConditionExpression": "GSI1PK = :pk",
            "ExpressionAttributeValues": {":pk": {"S": list_pk}},
        }
        if status:
            params["KeyConditionExpression"] += " AND begins_with(GSI1SK, :status)"
            params["ExpressionAttributeValues"][":status"] = {"S": status_prefix}
        query = paging.PageQuery(
            params,
            _LIST_CURSOR_KEYS,
            lambda start: (
                start["GSI1PK"] == list_pk
                and start["GSI1SK"].startswith(status_prefix)
                and start["PK"].startswith(flow_pk_prefix)
                and start["SK"] == key_schema.FLOW_SK
            ),
        )
        page = paging.query_page(self._client, query, limit, page_cursor)
        flows = [items.flow_from_item(item) for item in page.items]
        return Page(items=flows, next_cursor=page.next_cursor, total=self._count_flows(tenant_id, status))

    def _count_flows(self, tenant_id: str, status: FlowStatus | None) -> int:
        statuses = [status] if status else list(FlowStatus)
        response = call(
            self._client.get_item,
            TableName=self._table,
            Key=key_schema.key(key_schema.tenant_pk(tenant_id), key_schema.COUNTERS_SK),
            ProjectionExpression=", ".join(writes.counter_attribute(s) for s in statuses),
            ConsistentRead=True,
        )
        counters = items.from_wire(response.get("Item", {}))
        return sum(int(value) for value in counters.values())

    # Writes

    def create_flow(self, flow: Flow) -> None:
        """One transaction: the flow, its key reservation, its versions anchor and the status counter."""
        writes.execute(
            self._client,
            self._table,
            [
                writes.put_new(items.flow_attributes(flow), lambda _: Conflict("FLOW_EXISTS", "Flow id collision.")),
                writes.put_new(_reservation(flow), lambda _: key_taken(flow.key)),
                writes.put_new(items.anchor_attributes(flow.tenant_id, flow.id), _never),
                writes.count_statuses(flow.tenant_id, {flow.status: 1}, _never),
            ],
        )

    def save_flow(self, previous: Flow, new: Flow) -> None:
        """One conditional write of the changed attributes; a transaction when the key or status moves."""
        writes.execute(self._client, self._table, save_steps(previous, new))

    def publish_version(self, previous: Flow, new: Flow, version: PublishedVersion) -> None:
        """One transaction: the flow moves to the new version, whose summary and snapshot are written
        once and never again (attribute_not_exists)."""
        writes.execute(self._client, self._table, publish_steps(previous, new, version))

    def delete_flow(self, previous: Flow, deleted_by: str, deleted_at: str) -> None:
        """One transaction: the flow, its key reservation and its versions anchor go; the counter drops;
        a tombstone records who deleted it (the stream's REMOVE record of the flow cannot).

        Version items are left for the stream consumer to remove in batches, so a delete costs the
        same at any history length; without the anchor they are unreachable at once.
        """
        writes.execute(self._client, self._table, delete_steps(previous, deleted_by, deleted_at))

    def key_owner(self, tenant_id: str, key: str) -> str | None:
        """One GetItem of the key's reservation: the id of the flow that has the key."""
        response = call(
            self._client.get_item,
            TableName=self._table,
            Key=key_schema.key(key_schema.key_reservation_pk(tenant_id, key), key_schema.KEY_SK),
            ConsistentRead=True,
        )
        owner = response.get("Item", {}).get("flowId", {}).get("S")
        return str(owner) if owner else None

    def purge_deleted_flow(self, tenant_id: str, flow_id: str) -> None:
        """Remove a deleted flow's remaining items (its versions), the tombstone last, so a retry after
        a failure part way finds the tombstone and the rest still there. One Query per 1 MB page of
        keys and one BatchWriteItem per 25 items."""
        pk = key_schema.flow_pk(tenant_id, flow_id)
        # Change requests stay: the record of what was asked, reviewed and applied outlives the flow.
        purge.delete_partition(
            self._client,
            self._table,
            pk,
            keep_until_last=key_schema.TOMBSTONE_SK,
            keep_prefix=key_schema.CHANGE_REQUEST_PREFIX,
        )

    # Plumbing

    def _batch_get(self, wanted: list[dict[str, dict[str, str]]]) -> dict[str, Item]:
        return batch_get(self._client, self._table, wanted)


def save_steps(previous: Flow, new: Flow) -> list[WriteStep]:
    write_id = _new_write_id()
    steps = [writes.update_flow(previous, new, _flow_changed(previous, write_id), write_id)]
    if new.key != previous.key:
        steps.append(_release_key(previous))
        steps.append(writes.put_new(_reservation(new), lambda _: key_taken(new.key)))
    if change := writes.status_change(previous.status, new.status):
        steps.append(writes.count_statuses(new.tenant_id, change, _never))
    return steps


def publish_steps(previous: Flow, new: Flow, version: PublishedVersion) -> list[WriteStep]:
    write_id = _new_write_id()
    steps = [
        writes.update_flow(previous, new, _flow_changed(previous, write_id), write_id),
        writes.put_new(
            items.version_summary_attributes(new.tenant_id, new.id, version),
            lambda _: row_version_mismatch(previous.row_version),
        ),
        writes.put_new(
            items.snapshot_attributes(new.tenant_id, new.id, version),
            lambda _: row_version_mismatch(previous.row_version),
        ),
    ]
    if change := writes.status_change(previous.status, new.status):
        steps.append(writes.count_statuses(new.tenant_id, change, _never))
    return steps


def delete_steps(previous: Flow, deleted_by: str, deleted_at: str) -> list[WriteStep]:
    pk = key_schema.flow_pk(previous.tenant_id, previous.id)
    anchor_key = items.to_wire({"PK": pk, "SK": key_schema.VERSIONS_ANCHOR_SK})
    return [
        writes.delete_flow(previous, _flow_changed(previous)),
        _release_key(previous),
        WriteStep({"Delete": {"Key": anchor_key}}, _never),
        writes.count_statuses(previous.tenant_id, {previous.status: -1}, _never),
        writes.put_new(items.tombstone_attributes(previous, deleted_at, deleted_by), _never),
    ]


def _new_write_id() -> str:
    """Names one write, drawn once per request, as the flow item's writeId: a resent single write that
    finds it knows its first attempt landed. Never derived from the state the write produces, which
    two racers (or two identical requests) share."""
    return str(uuid.uuid4())


def _reservation(flow: Flow) -> dict[str, Any]:
    return {"PK": key_schema.key_reservation_pk(flow.tenant_id, flow.key), "SK": key_schema.KEY_SK, "flowId": flow.id}


def _release_key(flow: Flow) -> WriteStep:
    return writes.delete_owned(
        key_schema.key_reservation_pk(flow.tenant_id, flow.key),
        key_schema.KEY_SK,
        "flowId",
        flow.id,
        lambda _: row_version_mismatch(flow.row_version),
    )


def _flow_changed(previous: Flow, write_id: str | None = None) -> ConditionFailure:
    """A refused flow write: gone means 404; holding our own ``write_id`` means our resent attempt
    had landed (success); anything else, an identical write of another request included, means
    someone else wrote first (409)."""

    def explain(old_item: Item | None) -> Exception:
        if not old_item:
            return flow_not_found(previous.id)
        stored = items.from_wire(old_item)
        if write_id is not None and stored.get(items.WRITE_ID) == write_id:
            return AlreadyApplied()
        actual = stored.get("rowVersion")
        return row_version_mismatch(previous.row_version, int(actual) if actual is not None else None)

    return explain


def _never(_: Item | None) -> DomainError:
    """For steps with no condition: DynamoDB cannot refuse them on a condition."""
    return Conflict("UNEXPECTED_CONDITION", "A write without a condition was refused on a condition.")


def _flow_in(found: dict[str, Item]) -> Flow | None:
    flow = found.get(key_schema.FLOW_SK)
    return items.flow_from_item(flow) if flow else None


def _snapshot_in(found: dict[str, Item], version: int) -> PublishedVersion | None:
    snapshot = found.get(key_schema.snapshot_sk(version))
    return items.version_from_item(snapshot) if snapshot else None
