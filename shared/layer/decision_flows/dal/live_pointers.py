"""The live table: one entry per tenant and flow key, what runtime callers read (see domain.live)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from decision_flows.dal import items, key_schema, writes
from decision_flows.dal.store_errors import WriteStep, call, error_code
from decision_flows.domain.errors import Conflict, DomainError
from decision_flows.models.live import LiveEntry

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

_STALE = "STALE_LIVE_ENTRY"


class LivePointerRepository:
    def __init__(self, client: DynamoDBClient, live_table: str, flows_table: str) -> None:
        self._client = client
        self._table = live_table
        self._flows_table = flows_table

    def get_live(self, tenant_id: str, key: str) -> LiveEntry | None:
        """One GetItem (eventually consistent: the entry is a cache, half the read cost)."""
        response = call(self._client.get_item, TableName=self._table, Key=_key(tenant_id, key))
        item = response.get("Item")
        return items.live_from_item(item) if item else None

    def put_live(self, entry: LiveEntry) -> bool:
        """One transaction: write the entry unless it holds the same or a newer state of this flow, and
        only while this flow still owns the key. False when the entry was stale (nothing written)."""
        values = items.to_wire({":flow": entry.flow_id, ":rv": entry.row_version})
        steps = [
            WriteStep(
                {
                    "Put": {
                        "TableName": self._table,
                        "Item": items.to_wire(items.live_attributes(entry)),
                        "ConditionExpression": "attribute_not_exists(PK) OR flowId <> :flow OR rowVersion < :rv",
                        "ExpressionAttributeValues": values,
                    }
                },
                _stale,
            ),
            WriteStep(
                {
                    "ConditionCheck": {
                        "TableName": self._flows_table,
                        "Key": key_schema.key(
                            key_schema.key_reservation_pk(entry.tenant_id, entry.key), key_schema.KEY_SK
                        ),
                        "ConditionExpression": "flowId = :flow",
                        "ExpressionAttributeValues": {":flow": values[":flow"]},
                    }
                },
                _stale,
            ),
        ]
        try:
            writes.execute(self._client, self._table, steps)
        except Conflict as conflict:
            if conflict.code != _STALE:
                raise
            return False
        return True

    def release_live(self, tenant_id: str, key: str, flow_id: str, row_version: int) -> None:
        """One conditional DeleteItem: the entry goes only if it is this flow's, from before ``row_version``."""
        try:
            call(
                self._client.delete_item,
                TableName=self._table,
                Key=_key(tenant_id, key),
                ConditionExpression="flowId = :flow AND rowVersion < :rv",
                ExpressionAttributeValues=items.to_wire({":flow": flow_id, ":rv": row_version}),
            )
        except ClientError as error:
            if error_code(error) != "ConditionalCheckFailedException":
                raise


def _key(tenant_id: str, key: str) -> dict[str, dict[str, str]]:
    return {"PK": {"S": key_schema.key_reservation_pk(tenant_id, key)}}


def _stale(_: object) -> DomainError:
    return Conflict(_STALE, "The live entry already holds this or a newer state, or the key has moved on.")
