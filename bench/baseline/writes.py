"""A flow's next state and the writes that store it: a draft update, and a release (publish or
rollback: the next version becomes live, in one transaction)."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, datetime
from typing import Any

from bench.baseline.views import SUMMARY_FIELDS
from bench.baseline.wire import Item, client, flows_table, key, version_sk, wire

LATEST_SUMMARIES_ON_FLOW = 20
STATUS_RANK = {"active": 1, "draft": 2, "paused": 3, "archived": 4}
MAX_EPOCH_MS = 10**13 - 1
# The order the service lays a flow item's attributes out in (its keys, then its model's fields):
# an update SETs the changed ones in this order, so its placeholders (#s0, #s1, …) name the same
# attributes as the service's.
FLOW_ITEM_ORDER = (
    *("PK", "SK", "GSI1PK", "GSI1SK", "flowId", "tenantId", "key", "name", "description", "status"),
    *("autoAssembly", "draftConfig", "draftHash", "liveConfigHash", "publishedVersions", "liveVersion"),
    *("latestVersion", "rowVersion", "createdAt", "updatedAt", "createdBy", "updatedBy", "lastAction"),
)


def update_draft(flow: Item, principal: str, draft: str) -> Item:
    """Store a changed draft (one conditional UpdateItem); an unchanged one is not written."""
    changes = {"draftConfig": draft, "draftHash": content_hash(draft)}
    if all(flow.get(name) == value for name, value in changes.items()):
        return flow
    updated = next_state(flow, principal, "updated", changes)
    client().update_item(**update_flow(flow, updated), ReturnValuesOnConditionCheckFailure="ALL_OLD")
    return updated


def release(flow: Item, principal: str, action: str, version_facts: dict[str, Any]) -> Item:
    """The next version becomes live: one transaction updates the flow and adds the version's
    summary and snapshot (and moves the tenant's status counters when the flow was not active)."""
    now = timestamp()
    number = (flow.get("latestVersion") or 0) + 1
    version = {"version": number, "publishedAt": now, "publishedBy": principal, **version_facts}
    version = {name: value for name, value in version.items() if value is not None}
    summary = {name: version[name] for name in (*SUMMARY_FIELDS, "restoredFrom") if name in version}
    changes = {
        "draftConfig": version["config"],
        "draftHash": version["configHash"],
        "liveVersion": number,
        "latestVersion": number,
        "liveConfigHash": version["configHash"],
        "status": "active",
        "publishedVersions": [*flow.get("publishedVersions", []), summary][-LATEST_SUMMARIES_ON_FLOW:],
    }
    updated = next_state(flow, principal, action, changes, now)
    pk = flow["PK"]
    summary_item = {"PK": pk, "SK": version_sk("VER", number), **{k: v for k, v in version.items() if k != "config"}}
    snapshot_item = {"PK": pk, "SK": version_sk("SNAP", number), **version}
    statements = [
        {"Update": {**update_flow(flow, updated), "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}},
        {"Put": put_new(summary_item)},
        {"Put": put_new(snapshot_item)},
    ]
    if flow["status"] != "active":
        statements.append({"Update": count_status_change(flow["tenantId"], flow["status"], "active")})
    # Names the write, as the service does: a resent transaction that had landed is recognised.
    token = uuid.uuid5(uuid.NAMESPACE_URL, f"{flow['tenantId']}#{flow['flowId']}#{updated['rowVersion']}")
    client().transact_write_items(TransactItems=statements, ClientRequestToken=str(token))  # type: ignore[arg-type]
    return updated


def next_state(flow: Item, principal: str, action: str, changes: dict[str, Any], now: str | None = None) -> Item:
    updated = {**flow, **changes}
    updated.update(
        rowVersion=flow["rowVersion"] + 1, updatedAt=now or timestamp(), updatedBy=principal, lastAction=action
    )
    updated["GSI1SK"] = list_sort_key(updated["status"], updated["updatedAt"], updated["flowId"])
    ordered = {name: updated[name] for name in FLOW_ITEM_ORDER if name in updated}
    return ordered | updated  # any attribute the order does not know keeps its place at the end


def update_flow(previous: Item, new: Item) -> dict[str, Any]:
    """SET the attributes that changed, on condition that the flow still has the rowVersion read."""
    changed = [(name, value) for name, value in new.items() if previous.get(name) != value]
    names = {"#rv": "rowVersion", **{f"#s{i}": name for i, (name, _) in enumerate(changed)}}
    values = {
        ":expected": wire(previous["rowVersion"]),
        **{f":s{i}": wire(value) for i, (_, value) in enumerate(changed)},
    }
    return {
        "TableName": flows_table(),
        "Key": key(new["PK"], new["SK"]),
        "UpdateExpression": "SET " + ", ".join(f"#s{i} = :s{i}" for i in range(len(changed))),
        "ConditionExpression": "#rv = :expected",
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
    }


def put_new(item: Item) -> dict[str, Any]:
    return {
        "TableName": flows_table(),
        "Item": {name: wire(value) for name, value in item.items()},
        "ConditionExpression": "attribute_not_exists(PK)",
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }


def count_status_change(tenant: str, before: str, after: str) -> dict[str, Any]:
    return {
        "TableName": flows_table(),
        "Key": key(f"T#{tenant}", "COUNTERS"),
        "UpdateExpression": "ADD #c0 :c0, #c1 :c1",
        "ExpressionAttributeNames": {"#c0": f"flows_{before}", "#c1": f"flows_{after}"},
        "ExpressionAttributeValues": {":c0": {"N": "-1"}, ":c1": {"N": "1"}},
    }


def pipeline_facts(config: dict[str, Any]) -> tuple[int | None, str | None]:
    """A config's node count (v2 only) and scoring method: what a version summary records."""
    stages = config.get("stages") or {}
    stage_method = (stages.get("scoring") or {}).get("method")
    nodes = config.get("nodes")
    if config.get("version") != 2 and not isinstance(nodes, list):
        return None, stage_method
    node_methods = [
        (node.get("config") or node.get("data") or {}).get("method")
        for node in nodes or []
        if node.get("type") == "score"
    ]
    return len(nodes or []), next((method for method in node_methods if method), None) or stage_method


def canonical(config: Any) -> str:
    return json.dumps(config, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def content_hash(canonical_json: str) -> str:
    return hashlib.sha256(canonical_json.encode()).hexdigest()


def timestamp() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def list_sort_key(status: str, updated_at: str, flow_id: str) -> str:
    """The list index's sort key: status rank, then newest first."""
    epoch_ms = int(datetime.fromisoformat(updated_at).timestamp() * 1000)
    return f"{STATUS_RANK[status]}#{MAX_EPOCH_MS - epoch_ms:013d}#{flow_id}"
