"""Per-tenant request counting in fixed 60-second windows: one conditional UpdateItem per request.

The condition refuses the increment once the window is full, so the count never runs past the
limit and a refused request costs no more than an admitted one. Windows expire through TTL.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from decision_flows.dal.store_errors import call, error_code

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

WINDOW_SECONDS = 60


class RateLimitRepository:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def admit(self, tenant_id: str, limit: int, now: float) -> int | None:
        """Count one request; None when admitted, else the seconds until the window resets."""
        window_start = int(now) - int(now) % WINDOW_SECONDS
        try:
            call(
                self._client.update_item,
                TableName=self._table,
                Key={"window": {"S": f"{tenant_id}#{window_start}"}},
                UpdateExpression="ADD #count :one SET expiresAt = if_not_exists(expiresAt, :expires)",
                ConditionExpression="attribute_not_exists(#count) OR #count < :limit",
                ExpressionAttributeNames={"#count": "requests"},
                ExpressionAttributeValues={
                    ":one": {"N": "1"},
                    ":limit": {"N": str(limit)},
                    ":expires": {"N": str(window_start + 2 * WINDOW_SECONDS)},
                },
            )
        except ClientError as error:
            if error_code(error) == "ConditionalCheckFailedException":
                return max(1, window_start + WINDOW_SECONDS - int(now))
            raise
        return None
