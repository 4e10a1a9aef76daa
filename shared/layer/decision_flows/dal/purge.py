"""Removing a whole partition in batches: what the stream consumer does after a flow's delete."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from decision_flows.dal.store_errors import call, store_unavailable

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

BATCH_WRITE_LIMIT = 25
BATCH_WRITE_ATTEMPTS = 6


def delete_partition(
    client: DynamoDBClient, table: str, pk: str, keep_until_last: str, keep_prefix: str | None = None
) -> None:
    """Delete every item of partition ``pk`` but those whose sort key starts with ``keep_prefix``; the
    item with sort key ``keep_until_last`` goes last."""
    params: dict[str, Any] = {
        "TableName": table,
        "KeyConditionExpression": "PK = :pk",
        "ExpressionAttributeValues": {":pk": {"S": pk}},
        "ProjectionExpression": "PK, SK",
    }
    while True:
        response = call(client.query, **params)
        doomed = [
            item
            for item in response.get("Items", [])
            if item["SK"]["S"] != keep_until_last and not (keep_prefix and item["SK"]["S"].startswith(keep_prefix))
        ]
        for start in range(0, len(doomed), BATCH_WRITE_LIMIT):
            _batch_delete(client, table, doomed[start : start + BATCH_WRITE_LIMIT])
        if "LastEvaluatedKey" not in response:
            break
        params["ExclusiveStartKey"] = response["LastEvaluatedKey"]
    call(client.delete_item, TableName=table, Key={"PK": {"S": pk}, "SK": {"S": keep_until_last}})


def _batch_delete(client: DynamoDBClient, table: str, keys: list[dict[str, Any]]) -> None:
    """One BatchWriteItem, resending what DynamoDB left unprocessed (under throttling) with backoff."""
    request: dict[str, Any] = {table: [{"DeleteRequest": {"Key": key}} for key in keys]}
    for attempt in range(BATCH_WRITE_ATTEMPTS):
        response = call(client.batch_write_item, RequestItems=request)
        request = response.get("UnprocessedItems") or {}
        if not request:
            return
        time.sleep(0.05 * 2**attempt)
    raise store_unavailable()
