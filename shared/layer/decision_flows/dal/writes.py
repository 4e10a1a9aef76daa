"""Building and running atomic writes: single conditional writes, or one TransactWriteItems.

A write of one item goes out as a plain conditional Put/Update/Delete (half the cost of a
transaction); more items go out as one transaction. Either way it lands whole or not at all.
"""

from __future__ import annotations

import random
import time
import uuid
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from decision_flows.dal import items, key_schema
from decision_flows.dal.store_errors import (
    UNREACHABLE,
    AlreadyApplied,
    ConditionFailure,
    TokenMismatch,
    TransactionConflict,
    TransactionInProgress,
    WriteStep,
    call,
    store_failed,
    translate_write_error,
)
from decision_flows.domain.errors import Conflict
from decision_flows.models.flow import Flow, FlowStatus

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

TRANSACTION_ATTEMPTS = 3
_SINGLE_CALLS = {"Put": "put_item", "Update": "update_item", "Delete": "delete_item"}


def execute(client: DynamoDBClient, table: str, steps: list[WriteStep]) -> None:
    """Run the steps atomically; translate a refusal into the domain error its step names.

    A transaction carries a ClientRequestToken drawn for it (a uuid4), never derived from the state
    it produces, which two racers share (DynamoDB would refuse the loser's with a 400, not a
    condition). The SDK's own retries resend it unchanged, so a transaction whose first attempt
    landed but timed out is reported as a success. While that first attempt still runs, DynamoDB
    answers TransactionInProgress: the same token is sent again after a pause, and once it ends
    DynamoDB answers with its outcome. A cancelled attempt (a conflict) is retried with a new token:
    what a token means after a cancellation is not documented.
    """
    token = _new_token()
    for attempt in range(TRANSACTION_ATTEMPTS):
        try:
            _send(client, table, steps, token)
            return
        except (ClientError, *UNREACHABLE) as error:
            translated = translate_write_error(error, steps)
            if isinstance(translated, TokenMismatch):
                translated = _as_the_item_shows(client, table, steps[0])
            if isinstance(translated, AlreadyApplied):
                return
            if isinstance(translated, TransactionConflict):
                token = _new_token()
            elif not isinstance(translated, TransactionInProgress):
                raise translated from error
            # The conditions are re-checked on every attempt, so retrying cannot apply a stale write.
            time.sleep(0.02 * (2**attempt) * random.uniform(0.5, 1.5))  # noqa: S311 (jitter, not security)
    if isinstance(translated, TransactionInProgress):
        # Our own first attempt is still running: whether it lands is not known yet; a retry is safe.
        raise store_failed()
    raise Conflict("TRANSACTION_CONFLICT", "Another write to the same flow was in progress; retry.")


def _new_token() -> str:
    return str(uuid.uuid4())


def _as_the_item_shows(client: DynamoDBClient, table: str, first: WriteStep) -> Exception:
    """What a token DynamoDB holds for other parameters means, from the first step's item as it is now
    (one GetItem): our own write that landed (AlreadyApplied), another writer's (409), or the item
    gone (404). Never a 500, though a token drawn per transaction should never meet it."""
    ((kind, body),) = first.operation.items()
    key = body["Key"] if kind != "Put" else {name: body["Item"][name] for name in ("PK", "SK")}
    item = call(client.get_item, TableName=table, Key=key, ConsistentRead=True).get("Item")
    return first.on_condition_failed(item)


def _send(client: DynamoDBClient, table: str, steps: list[WriteStep], token: str | None) -> None:
    for step in steps:
        for body in step.operation.values():
            body.setdefault("TableName", table)
            if "ConditionExpression" in body:
                body["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
    if len(steps) == 1:
        ((kind, body),) = steps[0].operation.items()
        getattr(client, _SINGLE_CALLS[kind])(**body)
    else:
        extra = {"ClientRequestToken": token} if token else {}
        client.transact_write_items(TransactItems=[step.operation for step in steps], **extra)  # type: ignore[misc, arg-type]


def put_new(attributes: dict[str, Any], on_exists: ConditionFailure) -> WriteStep:
    return WriteStep(
        {"Put": {"Item": items.to_wire(attributes), "ConditionExpression": "attribute_not_exists(PK)"}},
        on_exists,
    )


def update_flow(previous: Flow, new: Flow, on_failed: ConditionFailure, write_id: str) -> WriteStep:
    """Send only the attributes that changed, guarded by the rowVersion the change was based on, and
    the write's own id: a refused resend recognises our landed write by it, never by the state."""
    before, after = items.flow_attributes(previous), items.flow_attributes(new)
    changed = {name: value for name, value in after.items() if before.get(name) != value}
    changed[items.WRITE_ID] = write_id
    removed = [name for name in before if name not in after]
    names: dict[str, str] = {"#rv": "rowVersion"}
    values: dict[str, Any] = {":expected": previous.row_version}
    assignments = []
    for index, (name, value) in enumerate(changed.items()):
        names[f"#s{index}"] = name
        values[f":s{index}"] = value
        assignments.append(f"#s{index} = :s{index}")
    expression = "SET " + ", ".join(assignments)
    if removed:
        names.update({f"#r{index}": name for index, name in enumerate(removed)})
        expression += " REMOVE " + ", ".join(f"#r{index}" for index in range(len(removed)))
    return WriteStep(
        {
            "Update": {
                "Key": items.to_wire({"PK": after["PK"], "SK": after["SK"]}),
                "UpdateExpression": expression,
                "ConditionExpression": "#rv = :expected",
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": items.to_wire(values),
            }
        },
        on_failed,
    )


def delete_flow(previous: Flow, on_failed: ConditionFailure) -> WriteStep:
    return WriteStep(
        {
            "Delete": {
                "Key": items.to_wire(
                    {"PK": key_schema.flow_pk(previous.tenant_id, previous.id), "SK": key_schema.FLOW_SK}
                ),
                "ConditionExpression": "rowVersion = :expected",
                "ExpressionAttributeValues": items.to_wire({":expected": previous.row_version}),
            }
        },
        on_failed,
    )


def delete_owned(pk: str, sk: str, owner_attribute: str, owner: str, on_failed: ConditionFailure) -> WriteStep:
    return WriteStep(
        {
            "Delete": {
                "Key": items.to_wire({"PK": pk, "SK": sk}),
                "ConditionExpression": "#owner = :owner",
                "ExpressionAttributeNames": {"#owner": owner_attribute},
                "ExpressionAttributeValues": items.to_wire({":owner": owner}),
            }
        },
        on_failed,
    )


def count_statuses(tenant_id: str, changes: dict[FlowStatus, int], on_failed: ConditionFailure) -> WriteStep:
    """Move the per-tenant status counters that pagination.total is read from."""
    names = {f"#c{index}": counter_attribute(status) for index, status in enumerate(changes)}
    values = {f":c{index}": delta for index, delta in enumerate(changes.values())}
    return WriteStep(
        {
            "Update": {
                "Key": items.to_wire({"PK": key_schema.tenant_pk(tenant_id), "SK": key_schema.COUNTERS_SK}),
                "UpdateExpression": "ADD "
                + ", ".join(f"{name} {value}" for name, value in zip(names, values, strict=True)),
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": items.to_wire(values),
            }
        },
        on_failed,
    )


def counter_attribute(status: FlowStatus) -> str:
    return f"flows_{status.value}"


def status_change(previous: FlowStatus, new: FlowStatus) -> dict[FlowStatus, int]:
    return {} if previous == new else {previous: -1, new: 1}
