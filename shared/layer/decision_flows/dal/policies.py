"""The tenant's review policy: one small item beside the tenant's counters (``T#<t>`` / ``POLICY``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from decision_flows.dal import items, key_schema, writes
from decision_flows.dal.store_errors import WriteStep, call
from decision_flows.domain.errors import row_version_mismatch
from decision_flows.models.policy import Policy

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class PolicyRepository:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def get_policy(self, tenant_id: str) -> Policy:
        """One strongly consistent GetItem of a small item; the defaults when none is stored."""
        response = call(
            self._client.get_item,
            TableName=self._table,
            Key=key_schema.key(key_schema.tenant_pk(tenant_id), key_schema.POLICY_SK),
            ConsistentRead=True,
        )
        item = response.get("Item")
        return policy_from_item(item) if item else Policy(tenant_id=tenant_id)

    def save_policy(self, previous: Policy, new: Policy) -> None:
        """One conditional PutItem, at the rowVersion read (none stored: the item must not exist)."""
        guard = (
            {"ConditionExpression": "attribute_not_exists(PK)"}
            if previous.row_version == 0
            else {
                "ConditionExpression": "rowVersion = :expected",
                "ExpressionAttributeValues": items.to_wire({":expected": previous.row_version}),
            }
        )

        def refused(old: items.Item | None) -> Exception:
            stored = items.from_wire(old).get("rowVersion") if old else None
            return row_version_mismatch(previous.row_version, int(stored) if stored is not None else 0)

        step = WriteStep({"Put": {"Item": items.to_wire(policy_attributes(new)), **guard}}, refused)
        writes.execute(self._client, self._table, [step])


def policy_attributes(policy: Policy) -> dict[str, Any]:
    return {
        "PK": key_schema.tenant_pk(policy.tenant_id),
        "SK": key_schema.POLICY_SK,
        **policy.model_dump(mode="json", by_alias=True, exclude_none=True),
    }


def policy_from_item(item: items.Item) -> Policy:
    attributes = items.from_wire(item)
    attributes.pop("PK", None)
    attributes.pop("SK", None)
    return Policy.model_validate(attributes)
