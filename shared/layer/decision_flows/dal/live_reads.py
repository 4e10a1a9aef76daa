"""The runtime read path's reads (domain.runtime_reads): a key's live pointer and a version's config,
with the low-level client and no pydantic. The live table's items are written by ``live_pointers``
(the stream consumer); read here attribute by attribute, with what older items lack defaulted."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from decision_flows.dal import key_schema
from decision_flows.dal.batch import batch_get
from decision_flows.dal.store_errors import call
from decision_flows.domain.runtime_reads import LivePointer, PublishedRef

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

Item = Mapping[str, Any]


class LiveReads:
    def __init__(self, client: DynamoDBClient, live_table: str, flows_table: str) -> None:
        self._client = client
        self._live_table = live_table
        self._flows_table = flows_table

    def get_pointer(self, tenant_id: str, key: str) -> LivePointer | None:
        """One GetItem (eventually consistent: the pointer is a cache, half the read cost)."""
        response = call(
            self._client.get_item,
            TableName=self._live_table,
            Key={"PK": {"S": key_schema.key_reservation_pk(tenant_id, key)}},
        )
        item = response.get("Item")
        return pointer_from_item(item) if item else None

    def get_config(self, tenant_id: str, flow_id: str, version: int) -> str | None:
        """One BatchGetItem of the version's snapshot (its config only) and the versions anchor, so a
        deleted flow's versions are gone even before the stream consumer has removed their items."""
        pk = key_schema.flow_pk(tenant_id, flow_id)
        snapshot_sk = key_schema.snapshot_sk(version)
        found = batch_get(
            self._client,
            self._flows_table,
            [key_schema.key(pk, key_schema.VERSIONS_ANCHOR_SK), key_schema.key(pk, snapshot_sk)],
            projection="SK, config",
        )
        if key_schema.VERSIONS_ANCHOR_SK not in found or "config" not in found.get(snapshot_sk, {}):
            return None
        config: str = found[snapshot_sk]["config"]["S"]
        return config


def pointer_from_item(item: Item) -> LivePointer:
    """A live table item (DynamoDB's wire format) as the read path's pointer."""
    champion = _ref(item, "version", "publishedAt") if _flag(item, "served") else None
    challenger = _ref(item, "challengerVersion", "challengerPublishedAt") if champion else None
    return LivePointer(
        tenant_id=item["tenantId"]["S"],
        key=item["key"]["S"],
        flow_id=item["flowId"]["S"],
        champion=champion,
        challenger=challenger,
        basis_points=_number(item, "basisPoints") or 0,
        include=_strings(item, "include"),
        exclude=_strings(item, "exclude"),
    )


def _ref(item: Item, version: str, published_at: str) -> PublishedRef | None:
    number = _number(item, version)
    when = item.get(published_at, {}).get("S")
    return PublishedRef(number, when) if number is not None and when is not None else None


def _flag(item: Item, name: str) -> bool:
    return item.get(name, {}).get("BOOL") is True


def _number(item: Item, name: str) -> int | None:
    value = item.get(name, {}).get("N")
    return int(value) if value is not None else None


def _strings(item: Item, name: str) -> tuple[str, ...]:
    """A list of strings, stored as a list ("L") or a string set ("SS"); absent (older items): empty."""
    value = item.get(name, {})
    if "SS" in value:
        return tuple(value["SS"])
    return tuple(member["S"] for member in value.get("L", ()) if "S" in member)
