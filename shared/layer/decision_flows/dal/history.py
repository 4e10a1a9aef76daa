"""The change-history table: entries written once each by the stream consumer, read newest first."""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from decision_flows.dal import items, key_schema, paging
from decision_flows.dal.store_errors import call, error_code
from decision_flows.models.history import ChangeEntry
from decision_flows.models.page import Page

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

_CURSOR_KEYS = frozenset({"PK", "SK"})


class HistoryRepository:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def record(self, entry: ChangeEntry) -> None:
        """One conditional PutItem. An entry for this rowVersion already there is this change, delivered
        again by the stream: nothing new is written."""
        try:
            call(
                self._client.put_item,
                TableName=self._table,
                Item=items.to_wire(items.change_attributes(entry)),
                ConditionExpression="attribute_not_exists(PK)",
            )
        except ClientError as error:
            if error_code(error) != "ConditionalCheckFailedException":
                raise

    def list_changes(self, tenant_id: str, flow_id: str, limit: int, page_cursor: str | None) -> Page[ChangeEntry]:
        """One Query, newest first."""
        pk = key_schema.flow_pk(tenant_id, flow_id)
        query = paging.PageQuery(
            {
                "TableName": self._table,
                "KeyConditionExpression": "PK = :pk",
                "ExpressionAttributeValues": {":pk": {"S": pk}},
                "ScanIndexForward": False,
            },
            _CURSOR_KEYS,
            lambda start: start["PK"] == pk and start["SK"].startswith(key_schema.CHANGE_PREFIX),
        )
        page = paging.query_page(self._client, query, limit, page_cursor)
        return Page(items=[items.change_from_item(item) for item in page.items], next_cursor=page.next_cursor)
