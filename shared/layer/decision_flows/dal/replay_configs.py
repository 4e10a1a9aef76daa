"""Configs of remembered responses too large to keep inline, in the idempotency table by content.

A remembered response (``web.idempotency``) lives in one Powertools record, one DynamoDB item, and
a flow with a 300 KB draft, JSON-escaped once more inside it, may not fit. Its ``draftConfig`` is
then kept here, one item per tenant and config hash:

    id = config#<tenant>#<sha256 of the canonical JSON>    config    expiration (TTL)

No flow, version or delete touches these items, so a replay is the first response even after the
flow changed or was deleted; the same config is one item, however many responses name it. Ids of
Powertools' own records are ``<function>.<name>#<hash>``, so the two never meet.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from decision_flows.dal.store_errors import call
from decision_flows.domain.pipeline import config_hash

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def _item_id(tenant_id: str, digest: str) -> str:
    return f"config#{tenant_id}#{digest}"


class ReplayConfigs:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def keep(self, tenant_id: str, canonical: str, until: int) -> str:
        """Keep ``canonical`` (a config's canonical JSON) until the epoch second ``until``; its hash.
        One PutItem: a config kept before is written again, with the later expiry."""
        digest = config_hash(canonical)
        call(
            self._client.put_item,
            TableName=self._table,
            Item={
                "id": {"S": _item_id(tenant_id, digest)},
                "config": {"S": canonical},
                "expiration": {"N": str(until)},
            },
        )
        return digest

    def get(self, tenant_id: str, digest: str) -> str | None:
        """The kept config's canonical JSON: one GetItem, strongly consistent (it may be seconds old)."""
        response = call(
            self._client.get_item,
            TableName=self._table,
            Key={"id": {"S": _item_id(tenant_id, digest)}},
            ConsistentRead=True,
        )
        item = response.get("Item")
        return item["config"]["S"] if item else None
