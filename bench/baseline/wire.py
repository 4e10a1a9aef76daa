"""Talking to DynamoDB by hand: the client, the tables and keys, the item format, pagination."""

from __future__ import annotations

import base64
import json
import os
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

Item = dict[str, Any]


@cache
def client() -> DynamoDBClient:
    """Configured like the service's client, so both pay the same SDK costs; created on first use,
    after the in-process store has started (``client.cache_clear()`` forgets a previous store's)."""
    import boto3
    from botocore.config import Config

    config = Config(
        retries={"mode": "standard", "max_attempts": 3}, connect_timeout=2, read_timeout=5, tcp_keepalive=True
    )
    return boto3.client("dynamodb", config=config)


def flows_table() -> str:
    return os.environ["TABLE_NAME"]


def changes_table() -> str:
    return os.environ["CHANGES_TABLE_NAME"]


def live_table() -> str:
    return os.environ["LIVE_TABLE_NAME"]


def key(pk: str, sk: str) -> dict[str, dict[str, str]]:
    return {"PK": {"S": pk}, "SK": {"S": sk}}


def flow_pk(tenant: str, flow_id: str) -> str:
    return f"T#{tenant}#F#{flow_id}"


def version_sk(kind: str, number: int) -> str:
    """A version's summary ("VER") or snapshot ("SNAP") sort key: zero-padded, so they sort by number."""
    return f"{kind}#{number:010d}"


def plain_item(item: Item) -> Item:
    return {name: plain(value) for name, value in item.items()}


def plain(value: dict[str, Any]) -> Any:
    """A DynamoDB attribute value as the plain JSON value it stands for."""
    ((kind, raw),) = value.items()
    if kind == "S" or kind == "BOOL":
        return raw
    if kind == "N":
        return int(raw) if raw.lstrip("-").isdigit() else float(raw)
    if kind == "L":
        return [plain(element) for element in raw]
    if kind == "M":
        return {name: plain(element) for name, element in raw.items()}
    if kind == "NULL":
        return None
    raise ValueError(f"no plain value for DynamoDB type {kind}")


def wire(value: Any) -> dict[str, Any]:
    """A plain JSON value as a DynamoDB attribute value."""
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int | float):
        return {"N": str(value)}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, list):
        return {"L": [wire(element) for element in value]}
    if isinstance(value, dict):
        return {"M": {name: wire(element) for name, element in value.items()}}
    raise TypeError(f"no DynamoDB type for {type(value).__name__}")


def flow_item(tenant: str, flow_id: str) -> Item | None:
    found = client().get_item(TableName=flows_table(), Key=key(flow_pk(tenant, flow_id), "FLOW"), ConsistentRead=True)
    return plain_item(found["Item"]) if "Item" in found else None


def batch_get(tenant: str, flow_id: str, sort_keys: list[str]) -> dict[str, Item]:
    """One BatchGetItem of a flow's items by sort key (unprocessed keys are not retried: none occur here)."""
    pk = flow_pk(tenant, flow_id)
    found = client().batch_get_item(
        RequestItems={flows_table(): {"Keys": [key(pk, sk) for sk in sort_keys], "ConsistentRead": True}}
    )
    return {item["SK"]["S"]: plain_item(item) for item in found["Responses"][flows_table()]}


def pagination(
    limit: int, items: list[Item], found: Any, key_names: tuple[str, ...], total: int | None = None
) -> dict[str, Any]:
    """The page's block: more when the query read past the page or stopped early; the cursor names
    the page's last item by its key attributes, as the service encodes it."""
    more = len(items) > limit or "LastEvaluatedKey" in found
    cursor = None
    if more and items[:limit]:
        last = {name: items[:limit][-1][name]["S"] for name in sorted(key_names)}
        cursor = base64.urlsafe_b64encode(json.dumps(last, separators=(",", ":")).encode()).decode().rstrip("=")
    page = {"limit": limit, "hasMore": more, "nextCursor": cursor}
    return {"total": total, **page} if total is not None else page
