"""Change requests: items beside their flow (``T#<t>#F#<flowId>`` / ``CR#<changeId>``).

The change id names its flow, so a request is read by id with one GetItem, and a flow's requests are
one Query of its partition, newest first (the id starts with its creation time).
"""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import TYPE_CHECKING, Any

from decision_flows.dal import flows, items, key_schema, paging, writes
from decision_flows.dal.store_errors import WriteStep, call
from decision_flows.domain.errors import Conflict, NotFound
from decision_flows.models.change import ChangeListing, ChangeRequest
from decision_flows.models.change_terms import OPEN_STATES, ChangeState, ScheduleStatus
from decision_flows.models.flow import FlowAction
from decision_flows.models.page import Page
from decision_flows.models.scheduled_job import ScheduledJob

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from decision_flows.domain.service import Plan

# Parametrised once, as models.page does for its pages (kept here: only the changes function lists requests).
ChangeRequestPage = Page[ChangeRequest]
_CURSOR_KEYS = frozenset({"PK", "SK"})
# A start key in an index holds the table's key as well as the index's.
_UNREVIEWED_CURSOR_KEYS = frozenset({"PK", "SK", "UnreviewedPK", "UnreviewedSK"})
_INDEX_KEYS = ("UnreviewedPK", "UnreviewedSK", "DuePK", "DueSK", "dueJob")
# Never rewritten after creation (a publish's config may be 300 KB): updates leave them alone.
_FROZEN = frozenset({"PK", "SK", "config", "params", "contentHash", "base", "diffSummary"})


def flow_id_of(change_id: str) -> str:
    """The flow a change id names (``cr_<20 hex>_<flowId>``, as models.change_terms.ChangeId checks)."""
    return change_id[24:]


def change_not_found(change_id: str) -> NotFound:
    return NotFound("CHANGE_NOT_FOUND", f"Change request {change_id!r} does not exist.")


class ChangeRepository:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def get_change(self, tenant_id: str, change_id: str) -> ChangeRequest | None:
        """One strongly consistent GetItem."""
        response = call(
            self._client.get_item,
            TableName=self._table,
            Key=key_schema.key(
                key_schema.flow_pk(tenant_id, flow_id_of(change_id)), key_schema.change_request_sk(change_id)
            ),
            ConsistentRead=True,
        )
        item = response.get("Item")
        return change_from_item(item) if item else None

    def create_change(self, change: ChangeRequest) -> None:
        """One conditional PutItem."""
        step = writes.put_new(change_attributes(change), lambda _: Conflict("CHANGE_EXISTS", "Change id collision."))
        writes.execute(self._client, self._table, [step])

    def save_change(self, previous: ChangeRequest, new: ChangeRequest) -> None:
        """One UpdateItem of what changed, at the rowVersion read."""
        writes.execute(self._client, self._table, [_update_step(previous, new)])

    def apply_change(self, plan: Plan, previous: ChangeRequest, new: ChangeRequest) -> None:
        """One TransactWriteItems: the planned write of the flow (guarded by the rowVersion its base was
        checked at) and the request's move to applied (guarded by its own rowVersion)."""
        writes.execute(self._client, self._table, [*_flow_steps(plan), _update_step(previous, new)])

    def record_emergency(self, plan: Plan, change: ChangeRequest) -> None:
        """One TransactWriteItems: an emergency's planned write of the flow and its request, created
        applied (neither lands without the other)."""
        collision = writes.put_new(
            change_attributes(change), lambda _: Conflict("CHANGE_EXISTS", "Change id collision.")
        )
        writes.execute(self._client, self._table, [*_flow_steps(plan), collision])

    def list_changes(self, listing: ChangeListing, limit: int, cursor: str | None) -> Page[ChangeRequest]:
        """One Query of the flow's partition, newest first, reading at most ``limit`` requests (a state
        filter may leave a page shorter, with a cursor to go on); ``listing.now`` decides which expired."""
        pk = key_schema.flow_pk(listing.tenant_id, listing.flow_id)
        params: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "PK = :pk AND begins_with(SK, :prefix)",
            "ExpressionAttributeValues": {":pk": {"S": pk}, ":prefix": {"S": key_schema.CHANGE_REQUEST_PREFIX}},
            "ScanIndexForward": False,
            "ConsistentRead": True,
        }
        if listing.state is not None:
            params["ExpressionAttributeNames"] = {"#state": "state"}
            params["FilterExpression"] = _state_filter(
                listing.state, params["ExpressionAttributeValues"], params["ExpressionAttributeNames"], listing.now
            )
        query = paging.PageQuery(
            params,
            _CURSOR_KEYS,
            lambda start: start["PK"] == pk and start["SK"].startswith(key_schema.CHANGE_REQUEST_PREFIX),
        )
        page = paging.query_page(self._client, query, limit, cursor)
        return ChangeRequestPage(items=[change_from_item(item) for item in page.items], next_cursor=page.next_cursor)

    def list_unreviewed(self, tenant_id: str, limit: int, cursor: str | None) -> Page[ChangeRequest]:
        """The tenant's emergency requests awaiting review, across its flows, newest first: one Query of
        the sparse index, reading at most ``limit`` requests (eventually consistent, as any index: an
        approval made a moment ago may not have left it yet). A cursor must be of this tenant's."""
        index_pk = key_schema.unreviewed_pk(tenant_id)

        def in_scope(start: dict[str, str]) -> bool:
            return start["UnreviewedPK"] == index_pk and key_schema.of_tenant(start["PK"], tenant_id)

        params: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": key_schema.UNREVIEWED_INDEX,
            "KeyConditionExpression": "UnreviewedPK = :pk",
            "ExpressionAttributeValues": {":pk": {"S": index_pk}},
            "ScanIndexForward": False,
        }
        query = paging.PageQuery(params, _UNREVIEWED_CURSOR_KEYS, in_scope)
        page = paging.query_page(self._client, query, limit, cursor)
        return ChangeRequestPage(items=[change_from_item(item) for item in page.items], next_cursor=page.next_cursor)

    def cancel_open_changes(self, tenant_id: str, flow_id: str, cancelled_by: str, at: str) -> None:
        """A deleted flow's pending and approved requests become cancelled: one Query per 1 MB of its
        requests, one conditional UpdateItem per open one (a redelivered record finds none open)."""
        params: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "PK = :pk AND begins_with(SK, :prefix)",
            "FilterExpression": "#state IN (:p, :a)",
            "ExpressionAttributeNames": {"#state": "state"},
            "ExpressionAttributeValues": {
                ":pk": {"S": key_schema.flow_pk(tenant_id, flow_id)},
                ":prefix": {"S": key_schema.CHANGE_REQUEST_PREFIX},
                ":p": {"S": ChangeState.PENDING.value},
                ":a": {"S": ChangeState.APPROVED.value},
            },
            "ConsistentRead": True,
        }
        while True:
            response = call(self._client.query, **params)
            for item in response.get("Items", []):
                change = change_from_item(item)
                cancelled = change.model_copy(
                    update={
                        "state": ChangeState.CANCELLED,
                        "cancelled_by": cancelled_by,
                        "row_version": change.row_version + 1,
                        "last_event": FlowAction.CHANGE_CANCELLED,
                        "last_actor": cancelled_by,
                        "updated_at": at,
                        "last_comment": "the flow was deleted",
                        "schedule": change.schedule and change.schedule.ended(),
                    }
                )
                # Reviewed or cancelled meanwhile (a 409): it is no longer open either way.
                with contextlib.suppress(Conflict):
                    writes.execute(self._client, self._table, [_update_step(change, cancelled)])
            if "LastEvaluatedKey" not in response:
                return
            params["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def _flow_steps(plan: Plan) -> list[WriteStep]:
    if plan.new is None:
        return flows.delete_steps(plan.previous, plan.by, plan.at)
    if plan.version is not None:
        return flows.publish_steps(plan.previous, plan.new, plan.version)
    return flows.save_steps(plan.previous, plan.new)


def _state_filter(state: ChangeState, values: dict[str, Any], names: dict[str, str], now: str) -> str:
    """A stored state; ``expired`` is an open one past expiresAt, and an open one only before it,
    unless a pending schedule holds it (ChangeRequest.state_at)."""
    if state == ChangeState.UNREVIEWED:
        values[":applied"], values[":no"] = {"S": ChangeState.APPLIED.value}, {"BOOL": False}
        return "#state = :applied AND emergency.reviewed = :no"
    if state not in OPEN_STATES and state != ChangeState.EXPIRED:
        values[":state"] = {"S": state.value}
        return "#state = :state"
    names["#schedule"], names["#status"] = "schedule", "status"
    values[":now"], values[":scheduled"] = {"S": now}, {"S": ScheduleStatus.PENDING.value}
    scheduled = "#schedule.#status = :scheduled"
    if state == ChangeState.EXPIRED:
        values[":p"], values[":a"] = {"S": "pending"}, {"S": "approved"}
        return f"(#state = :p OR #state = :a) AND expiresAt <= :now AND NOT {scheduled}"
    values[":state"] = {"S": state.value}
    return f"#state = :state AND (expiresAt > :now OR {scheduled})"


def _update_step(previous: ChangeRequest, new: ChangeRequest) -> WriteStep:
    before, after = change_attributes(previous), change_attributes(new)
    changed = {name: value for name, value in after.items() if name not in _FROZEN and before.get(name) != value}
    removed = [name for name in before if name not in after and name not in _FROZEN]
    names = {f"#s{index}": name for index, name in enumerate(changed)} | {"#rv": "rowVersion"}
    values = {f":s{index}": value for index, value in enumerate(changed.values())} | {":expected": previous.row_version}
    expression = "SET " + ", ".join(f"#s{index} = :s{index}" for index in range(len(changed)))
    if removed:
        names.update({f"#r{index}": name for index, name in enumerate(removed)})
        expression += " REMOVE " + ", ".join(f"#r{index}" for index in range(len(removed)))

    def refused(old: items.Item | None) -> Exception:
        if not old:
            return change_not_found(previous.change_id)
        stored = change_from_item(old)
        now = f"it is {stored.state.value} at rowVersion {stored.row_version}"
        if stored.state != previous.state:
            return Conflict(
                "CHANGE_NOT_PENDING", f"Change request {previous.change_id!r} changed since it was read: {now}."
            )
        return Conflict(
            "ROW_VERSION_MISMATCH", f"Change request {previous.change_id!r} changed since it was read: {now}."
        )

    key = {"PK": after["PK"], "SK": after["SK"]}
    return WriteStep(
        {
            "Update": {
                "Key": items.to_wire(key),
                "UpdateExpression": expression,
                "ConditionExpression": "#rv = :expected",
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": items.to_wire(values),
            }
        },
        refused,
    )


def change_attributes(change: ChangeRequest) -> dict[str, Any]:
    """The request's item. An unreviewed emergency's carries the keys of the Unreviewed index, and one
    with a pending schedule those of the DueJobs index; the update that reviews it, or that fires,
    suspends or unschedules its schedule, leaves them out, so that same write removes it from the index
    (_update_step removes what the new item lacks and leaves alone what both have)."""
    attributes = {
        "PK": key_schema.flow_pk(change.tenant_id, change.flow_id),
        "SK": key_schema.change_request_sk(change.change_id),
        **change.model_dump(mode="json", by_alias=True, exclude_none=True),
    }
    if change.emergency is not None and not change.emergency.reviewed:
        attributes["UnreviewedPK"] = key_schema.unreviewed_pk(change.tenant_id)
        attributes["UnreviewedSK"] = change.change_id
    if change.schedule is not None and change.schedule_pending:
        job = ScheduledJob.for_change(change.tenant_id, change.change_id)
        attributes |= key_schema.due_attributes(datetime.fromisoformat(change.schedule.run_at), job)
    return attributes


def change_from_item(item: items.Item) -> ChangeRequest:
    attributes = items.from_wire(item)
    for name in ("PK", "SK", *_INDEX_KEYS):
        attributes.pop(name, None)
    return ChangeRequest.model_validate(attributes)
