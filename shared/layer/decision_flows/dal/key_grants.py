"""The authorizer's read of the API keys table: one GetItem by the key's hash, parsed without pydantic.

``api_keys.ApiKeyRepository`` (the keys command) reads whole records with pydantic; the authorizer
runs before every uncached request and needs only what a key grants (``models.key_grant``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from decision_flows.dal.store_errors import call
from decision_flows.models.key_grant import KeyGrant
from decision_flows.observability import logger

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

Item = dict[str, Any]


def stored_key_item(client: DynamoDBClient, table_name: str, key_hash: str) -> Item | None:
    """One GetItem, eventually consistent.

    Half the cost of a strongly consistent read, on the path of every authenticated request.
    Staleness is bounded (typically well under a second) and harmless here: keys are created
    by an operator long before first use, and a revocation taking effect a moment later is
    within what revocation promises anyway (authorizer responses may be cached for longer).
    """
    item: Item | None = call(client.get_item, TableName=table_name, Key={"keyHash": {"S": key_hash}}).get("Item")
    return item or None


class KeyGrants:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def get_by_hash(self, key_hash: str) -> KeyGrant | None:
        """What the key with that hash grants, None when there is none (StoreUnavailable when the
        store did not answer).

        A record that breaks the record's rules (written around the keys command, e.g. by hand)
        grants nothing: it is logged and answered as no key, so the authorizer refuses it (401)
        rather than crash.
        """
        item = stored_key_item(self._client, self._table, key_hash)
        if item is None:
            return None
        # Every attribute of a key record is a string; any other type breaks a rule below.
        strings = {name: value["S"] for name, value in item.items() if "S" in value}
        try:
            return KeyGrant.from_attributes(strings)
        except ValueError as error:
            logger.warning(
                "stored API key record is invalid", extra={"keyId": strings.get("keyId", "?"), "problems": str(error)}
            )
            return None
