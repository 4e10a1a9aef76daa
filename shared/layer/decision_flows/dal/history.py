"""The change-history table: entries written once each by the stream consumer, read newest first."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from decision_flows.dal import items, key_schema, paging
from decision_flows.dal.store_errors import call, error_code
from decision_flows.models.history import ChangeEntry
from decision_flows.models.page import Page

if TYPE_CHECKING:
    from datetime import datetime

    from mypy_boto3_dynamodb import DynamoDBClient

_CURSOR_KEYS = frozenset({"PK", "SK"})
# A start key in an index holds the table's key as well as the index's.
_FEED_CURSOR_KEYS = frozenset({"PK", "SK", "FeedPK", "FeedSK"})


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
        return _entries(paging.query_page(self._client, query, limit, page_cursor))

    def list_feed(
        self, tenant_id: str, since: datetime | None, limit: int, page_cursor: str | None
    ) -> Page[ChangeEntry]:
        """The tenant's entries across its flows, newest first: one Query of the feed index, at or after
        ``since``. A cursor must be of this tenant's feed and within ``since`` (DynamoDB refuses a start
        key outside the key condition)."""
        feed_pk = key_schema.feed_pk(tenant_id)
        condition, values = "FeedPK = :pk", {":pk": {"S": feed_pk}}
        lower_bound = None if since is None else key_schema.feed_lower_bound(since)
        if lower_bound is not None:
            condition += " AND FeedSK >= :since"
            values[":since"] = {"S": lower_bound}

        def in_scope(start: dict[str, str]) -> bool:
            return (
                start["FeedPK"] == feed_pk
                and key_schema.of_tenant(start["PK"], tenant_id)  # the entry's own key, whatever it is keyed by
                and (lower_bound is None or start["FeedSK"] >= lower_bound)
            )

        params: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": key_schema.FEED_INDEX,
            "KeyConditionExpression": condition,
            "ExpressionAttributeValues": values,
            "ScanIndexForward": False,
        }
        query = paging.PageQuery(params, _FEED_CURSOR_KEYS, in_scope)
        return _entries(paging.query_page(self._client, query, limit, page_cursor))


def _entries(page: paging.QueriedPage) -> Page[ChangeEntry]:
    return Page(items=[items.change_from_item(item) for item in page.items], next_cursor=page.next_cursor)
