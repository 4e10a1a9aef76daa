"""BatchGetItem of a few items of one table, with what DynamoDB leaves unprocessed asked again."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from decision_flows.dal.store_errors import call, store_unavailable

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

Item = dict[str, Any]
BATCH_GET_ATTEMPTS = 5


def batch_get(
    client: DynamoDBClient, table: str, wanted: list[dict[str, dict[str, str]]], projection: str | None = None
) -> dict[str, Item]:
    """Items by sort key (strongly consistent), so the keys ``wanted`` have distinct sort keys (a flow's
    items and its tenant's policy item do); retries what DynamoDB left unprocessed (rare, under
    throttling). ``projection`` (attribute names, comma-separated) must name SK."""
    keys: dict[str, Any] = {"Keys": wanted, "ConsistentRead": True}
    if projection is not None:
        keys["ProjectionExpression"] = projection
    found: dict[str, Item] = {}
    request: dict[str, Any] = {table: keys}
    for attempt in range(BATCH_GET_ATTEMPTS):
        response = call(client.batch_get_item, RequestItems=request)
        for item in response.get("Responses", {}).get(table, []):
            found[item["SK"]["S"]] = item
        request = response.get("UnprocessedKeys") or {}
        if not request:
            return found
        time.sleep(0.02 * 2**attempt)
    raise store_unavailable()
