"""The API keys table: one item per key, keyed by the key's SHA-256 hash (``keyHash``).

    keyHash (PK)   keyId  tenantId  role  name  prefix  createdAt  revokedAt?

The ``ByTenant`` index (``tenantId``, ``createdAt``; projects everything) lists a tenant's keys
for the management command. The authorizer reads keys through ``key_grants`` instead.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError
from pydantic import ValidationError

from decision_flows.dal.items import from_wire, to_wire
from decision_flows.dal.key_grants import stored_key_item
from decision_flows.dal.store_errors import call, error_code
from decision_flows.domain.clock import timestamp
from decision_flows.domain.errors import Conflict, NotFound
from decision_flows.models.api_key import ApiKey
from decision_flows.observability import logger

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

Item = dict[str, Any]
BY_TENANT_INDEX = "ByTenant"


def api_key_not_found(key_id: str) -> NotFound:
    return NotFound("API_KEY_NOT_FOUND", f"This tenant has no API key {key_id!r}.")


class ApiKeyRepository:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def put(self, key: ApiKey) -> None:
        """One conditional PutItem; never overwrites a key (a hash collision of 256-bit keys would be
        news, but a second write of the same record must not reset its revocation)."""
        try:
            call(
                self._client.put_item,
                TableName=self._table,
                Item=to_wire(_attributes(key)),
                ConditionExpression="attribute_not_exists(keyHash)",
            )
        except ClientError as error:
            if error_code(error) == "ConditionalCheckFailedException":
                raise Conflict("API_KEY_EXISTS", f"API key {key.key_id!r} is already stored.") from error
            raise

    def get_by_hash(self, key_hash: str) -> ApiKey | None:
        """The whole record of the key with that hash (``key_grants.stored_key_item``: the authorizer's
        read), None when there is none; a record that fails validation is logged and answered as none."""
        item = stored_key_item(self._client, self._table, key_hash)
        if item is None:
            return None
        try:
            return _from_item(item)
        except ValidationError as error:
            key_id = item.get("keyId", {}).get("S", "?")
            logger.warning("stored API key record is invalid", extra={"keyId": key_id, "problems": error.error_count()})
            return None

    def list_for_tenant(self, tenant_id: str) -> list[ApiKey]:
        """Every key of one tenant, oldest first: Query on ``ByTenant``, one round trip per 1 MB page.

        Index reads are eventually consistent: a key created a moment ago may not be listed yet.
        """
        params: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": BY_TENANT_INDEX,
            "KeyConditionExpression": "tenantId = :tenant",
            "ExpressionAttributeValues": {":tenant": {"S": tenant_id}},
        }
        found: list[ApiKey] = []
        while True:
            response = call(self._client.query, **params)
            found.extend(_from_item(item) for item in response.get("Items", []))
            last_key = response.get("LastEvaluatedKey")
            if not last_key:
                return found
            params["ExclusiveStartKey"] = last_key

    def revoke(self, tenant_id: str, key_id: str, now: datetime) -> ApiKey:
        """Revoke one key of one tenant: the tenant's listing, then one conditional UpdateItem.

        Revoking a revoked key changes nothing and returns it as it is (so a retry is harmless).
        """
        key = next((k for k in self.list_for_tenant(tenant_id) if k.key_id == key_id), None)
        if key is None:
            raise api_key_not_found(key_id)
        if not key.is_active:
            return key
        try:
            response = call(
                self._client.update_item,
                TableName=self._table,
                Key={"keyHash": {"S": key.key_hash}},
                UpdateExpression="SET revokedAt = :now",
                # The tenant and key id are checked again on the item itself, not just on the index.
                ConditionExpression=(
                    "attribute_exists(keyHash) AND tenantId = :tenant AND keyId = :key_id"
                    " AND attribute_not_exists(revokedAt)"
                ),
                ExpressionAttributeValues={
                    ":now": {"S": timestamp(now)},
                    ":tenant": {"S": tenant_id},
                    ":key_id": {"S": key_id},
                },
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if error_code(error) != "ConditionalCheckFailedException":
                raise
            old: Item | None = error.response.get("Item")  # type: ignore[assignment]
            current = _from_item(old) if old else None
            if current is None or current.tenant_id != tenant_id or current.key_id != key_id:
                raise api_key_not_found(key_id) from error
            return current  # revoked meanwhile (the index showed it a moment out of date)
        return _from_item(response["Attributes"])


def _attributes(key: ApiKey) -> dict[str, Any]:
    attributes: dict[str, Any] = key.model_dump(mode="json", by_alias=True, exclude_none=True)
    return attributes


def _from_item(item: Item) -> ApiKey:
    return ApiKey.model_validate(from_wire(item))
