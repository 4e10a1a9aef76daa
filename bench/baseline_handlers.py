"""The overhead benchmark's floor: minimal hand-written Lambda handlers, one per measured route.

Each takes the same API Gateway payload-2.0 event as the real handler, makes exactly the same
DynamoDB calls with a plain boto3 client (same operations, tables, keys, conditions, the per-request
rate-limit update included; bench/overhead.py checks the sequence), and returns a response of the
same shape. Nothing else: no decision_flows, no Powertools, no pydantic. The real handlers also
validate configs and requests in full; these do only what their writes need (canonical JSON, its
hash, a config's node count and scoring method), so the difference is what the service's code costs.
Only the requests the benchmark sends are understood (no cursors, no status filter, no If-Match).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

Event = dict[str, Any]
Response = dict[str, Any]
Handler = Callable[[Event, Any], Response]
Item = dict[str, Any]

ROLES = {"viewer": 1, "editor": 2, "admin": 3}
STATUS_RANK = {"active": 1, "draft": 2, "paused": 3, "archived": 4}
STATUSES = tuple(STATUS_RANK)
LATEST_SUMMARIES_ON_FLOW = 20
MAX_EPOCH_MS = 10**13 - 1
# The fields of the contract's flow record, in the order the service sends them.
FLOW_FIELDS = ("id", "tenantId", "key", "name", "description", "status", "autoAssembly")
FLOW_TAIL_FIELDS = ("liveVersion", "latestVersion")
FLOW_STAMPS = ("rowVersion", "createdAt", "updatedAt", "createdBy", "updatedBy")
SUMMARY_FIELDS = ("version", "publishedAt", "publishedBy", "notes")
CHANGE_FIELDS = ("eventId", "flowId", "action", "actor", "at", "rowVersion")
CHANGE_OPTIONAL = ("fromVersion", "toVersion", "restoredFrom", "changes")


class Refused(Exception):
    """A request the handler answers with an error status (the service's problem details, minimally)."""

    def __init__(self, status: int, code: str) -> None:
        super().__init__(code)
        self.status, self.code = status, code


@cache
def client() -> DynamoDBClient:
    """Configured like the service's client, so both pay the same SDK costs; created on first use,
    after the in-process store has started."""
    import boto3
    from botocore.config import Config

    config = Config(
        retries={"mode": "standard", "max_attempts": 3}, connect_timeout=2, read_timeout=5, tcp_keepalive=True
    )
    return boto3.client("dynamodb", config=config)


def flows_table() -> str:
    return os.environ["TABLE_NAME"]


# The handlers


def get_flow(event: Event, context: Any) -> Response:
    def run(tenant: str, principal: str) -> Response:
        flow = _flow_item(tenant, event["queryStringParameters"]["id"])
        return _flow_response(flow)

    return _handle(event, "viewer", run)


def list_flows(event: Event, context: Any) -> Response:
    def run(tenant: str, principal: str) -> Response:
        limit = int((event.get("queryStringParameters") or {}).get("limit", 25))
        found = client().query(
            TableName=flows_table(),
            IndexName="ByStatus",
            KeyConditionExpression="GSI1PK = :pk",
            ExpressionAttributeValues={":pk": {"S": f"T#{tenant}#FLOWS"}},
            Limit=limit + 1,
        )
        items = found["Items"]
        counters = client().get_item(
            TableName=flows_table(),
            Key=_key(f"T#{tenant}", "COUNTERS"),
            ProjectionExpression=", ".join(f"flows_{status}" for status in STATUSES),
            ConsistentRead=True,
        )
        total = sum(int(value["N"]) for value in counters.get("Item", {}).values())
        flows = [_flow_view(_plain_item(item), with_config=False, with_versions=False) for item in items[:limit]]
        pagination = _pagination(limit, items, found, ("PK", "SK", "GSI1PK", "GSI1SK"), total)
        return _json(200, {"data": flows, "pagination": pagination})

    return _handle(event, "viewer", run)


def list_versions(event: Event, context: Any) -> Response:
    def run(tenant: str, principal: str) -> Response:
        query = event["queryStringParameters"]
        flow_id, limit = query["id"], int(query.get("limit", 100))
        # The versions anchor (SK "VER#") sorts first and proves that the flow exists.
        found = client().query(
            TableName=flows_table(),
            KeyConditionExpression="PK = :pk AND begins_with(SK, :prefix)",
            ExpressionAttributeValues={":pk": {"S": f"T#{tenant}#F#{flow_id}"}, ":prefix": {"S": "VER#"}},
            ConsistentRead=True,
            Limit=limit + 2,
        )
        items = found["Items"]
        if not items or items[0]["SK"]["S"] != "VER#":
            raise Refused(404, "FLOW_NOT_FOUND")
        summaries = [_plain_item(item) for item in items[1 : limit + 1]]
        versions = [
            {**_summary_view(summary), "summary": {name: summary.get(name) for name in ("nodeCount", "scoringMethod")}}
            for summary in summaries
        ]
        pagination = _pagination(limit, items[1:], found, ("PK", "SK"))
        return _json(200, {"flowId": flow_id, "versions": versions, "pagination": pagination})

    return _handle(event, "editor", run)


def get_version(event: Event, context: Any) -> Response:
    def run(tenant: str, principal: str) -> Response:
        query = event["queryStringParameters"]
        flow_id, number = query["id"], int(query["version"])
        found = _batch_get(tenant, flow_id, ["VER#", f"SNAP#{number:010d}"])
        snapshot = found.get(f"SNAP#{number:010d}")
        if "VER#" not in found or snapshot is None:
            raise Refused(404, "VERSION_NOT_FOUND")
        body = {**_summary_view(snapshot), "flowId": flow_id, "configSnapshot": json.loads(snapshot["config"])}
        return _json(200, body)

    return _handle(event, "editor", run)


def update_draft(event: Event, context: Any) -> Response:
    def run(tenant: str, principal: str) -> Response:
        request = json.loads(event["body"])
        flow = _flow_item(tenant, request["id"])
        draft = _canonical(request["draftConfig"])
        changes = {"draftConfig": draft, "draftHash": _hash(draft)}
        if all(flow.get(name) == value for name, value in changes.items()):
            return _flow_response(flow)
        updated = _next_state(flow, principal, "updated", changes)
        client().update_item(**_update_flow(flow, updated), ReturnValuesOnConditionCheckFailure="ALL_OLD")
        return _flow_response(updated)

    return _handle(event, "editor", run)


def publish(event: Event, context: Any) -> Response:
    def run(tenant: str, principal: str) -> Response:
        request = json.loads(event["body"])
        flow = _flow_item(tenant, request["id"])
        node_count, method = _pipeline_facts(json.loads(flow["draftConfig"]))
        if method is None:
            raise Refused(422, "SCORING_METHOD_MISSING")
        release = {
            "notes": request.get("notes"),
            "nodeCount": node_count,
            "scoringMethod": method,
            "configHash": flow["draftHash"],
            "config": flow["draftConfig"],
        }
        return _flow_response(_release(flow, principal, "published", release))

    return _handle(event, "editor", run)


def rollback(event: Event, context: Any) -> Response:
    def run(tenant: str, principal: str) -> Response:
        request = json.loads(event["body"])
        number = request["version"]
        found = _batch_get(tenant, request["id"], ["FLOW", f"SNAP#{number:010d}"])
        flow, target = found.get("FLOW"), found.get(f"SNAP#{number:010d}")
        if flow is None or target is None:
            raise Refused(404, "VERSION_NOT_FOUND" if flow else "FLOW_NOT_FOUND")
        if flow.get("liveConfigHash") == target["configHash"]:
            raise Refused(409, "ALREADY_ACTIVE")
        notes = f"Rollback to v{number}" + (f": {request['notes']}" if request.get("notes") else "")
        release = {
            "notes": notes,
            "restoredFrom": number,
            **{name: target.get(name) for name in ("nodeCount", "scoringMethod", "configHash", "config")},
        }
        return _flow_response(_release(flow, principal, "rolled_back", release))

    return _handle(event, "admin", run)


def history(event: Event, context: Any) -> Response:
    def run(tenant: str, principal: str) -> Response:
        query = event["queryStringParameters"]
        flow_id, limit = query["id"], int(query.get("limit", 25))
        found = client().query(
            TableName=os.environ["CHANGES_TABLE_NAME"],
            KeyConditionExpression="PK = :pk",
            ExpressionAttributeValues={":pk": {"S": f"T#{tenant}#F#{flow_id}"}},
            ScanIndexForward=False,
            Limit=limit + 1,
        )
        items = found["Items"]
        if not items:  # an empty history is told apart from an unknown flow with a second read; not benchmarked
            raise Refused(404, "FLOW_NOT_FOUND")
        entries = [_change_view(_plain_item(item)) for item in items[:limit]]
        pagination = _pagination(limit, items, found, ("PK", "SK"))
        return _json(200, {"flowId": flow_id, "data": entries, "pagination": pagination})

    return _handle(event, "editor", run)


def live(event: Event, context: Any) -> Response:
    def run(tenant: str, principal: str) -> Response:
        key = event["queryStringParameters"]["key"]
        found = client().get_item(TableName=os.environ["LIVE_TABLE_NAME"], Key={"PK": {"S": f"T#{tenant}#KEY#{key}"}})
        entry = _plain_item(found["Item"]) if "Item" in found else None
        if entry is None or not entry["served"]:  # a missing entry is rebuilt by the service; not benchmarked
            raise Refused(404, "LIVE_FLOW_NOT_FOUND")
        body = {name: entry[name] for name in ("flowId", "key", "version", "publishedAt")}
        return _json(200, {**body, "config": json.loads(entry["config"])})

    return _handle(event, "viewer", run)


# What every handler does: identity, rate limit, role, and errors as JSON


def _handle(event: Event, minimum_role: str, run: Callable[[str, str], Response]) -> Response:
    try:
        identity = event["requestContext"]["authorizer"]["lambda"]
        tenant, principal = identity["tenantId"], identity["principal"]
        if event["headers"].get("x-tenant-id") != tenant:
            raise Refused(403, "TENANT_MISMATCH")
        _count_request(tenant)
        if ROLES[identity["role"]] < ROLES[minimum_role]:
            raise Refused(403, "INSUFFICIENT_ROLE")
        return run(tenant, principal)
    except Refused as refused:
        return _json(refused.status, {"status": refused.status, "code": refused.code})


def _count_request(tenant: str) -> None:
    """The per-tenant rate limit: one conditional UpdateItem per request, as the service makes it."""
    limit = int(os.environ["RATE_LIMIT_PER_MINUTE"])
    if not limit:
        return
    now = int(time.time())
    window_start = now - now % 60
    try:
        client().update_item(
            TableName=os.environ["RATE_LIMIT_TABLE_NAME"],
            Key={"window": {"S": f"{tenant}#{window_start}"}},
            UpdateExpression="ADD #count :one SET expiresAt = if_not_exists(expiresAt, :expires)",
            ConditionExpression="attribute_not_exists(#count) OR #count < :limit",
            ExpressionAttributeNames={"#count": "requests"},
            ExpressionAttributeValues={
                ":one": {"N": "1"},
                ":limit": {"N": str(limit)},
                ":expires": {"N": str(window_start + 120)},
            },
        )
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
            raise Refused(429, "RATE_LIMITED") from None
        raise


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return {
        "statusCode": status,
        "body": json.dumps(body, ensure_ascii=False),
        "isBase64Encoded": False,
        "headers": {**(headers or {}), "Content-Type": "application/json"},
        "cookies": [],
    }


# Reads


def _flow_item(tenant: str, flow_id: str) -> Item:
    found = client().get_item(TableName=flows_table(), Key=_key(f"T#{tenant}#F#{flow_id}", "FLOW"), ConsistentRead=True)
    if "Item" not in found:
        raise Refused(404, "FLOW_NOT_FOUND")
    return _plain_item(found["Item"])


def _batch_get(tenant: str, flow_id: str, sort_keys: list[str]) -> dict[str, Item]:
    """One BatchGetItem of a flow's items by sort key (unprocessed keys are not retried: none occur here)."""
    pk = f"T#{tenant}#F#{flow_id}"
    found = client().batch_get_item(
        RequestItems={flows_table(): {"Keys": [_key(pk, sk) for sk in sort_keys], "ConsistentRead": True}}
    )
    return {item["SK"]["S"]: _plain_item(item) for item in found["Responses"][flows_table()]}


def _pagination(
    limit: int, items: list[Item], found: Any, key_names: tuple[str, ...], total: int | None = None
) -> dict[str, Any]:
    more = len(items) > limit or "LastEvaluatedKey" in found
    cursor = None
    if more and items[:limit]:
        last = {name: items[:limit][-1][name]["S"] for name in sorted(key_names)}
        cursor = base64.urlsafe_b64encode(json.dumps(last, separators=(",", ":")).encode()).decode().rstrip("=")
    page = {"limit": limit, "hasMore": more, "nextCursor": cursor}
    return {"total": total, **page} if total is not None else page


# Views


def _flow_response(flow: Item) -> Response:
    return _json(200, _flow_view(flow), {"ETag": f'"{flow["rowVersion"]}"'})


def _flow_view(flow: Item, *, with_config: bool = True, with_versions: bool = True) -> dict[str, Any]:
    view = {name: flow.get(name) for name in FLOW_FIELDS}
    view["id"] = flow["flowId"]
    if with_config:
        view["draftConfig"] = json.loads(flow["draftConfig"])
    if with_versions:
        view["publishedVersions"] = [_summary_view(summary) for summary in flow.get("publishedVersions", [])]
    view.update({name: flow.get(name) for name in FLOW_TAIL_FIELDS})
    view["hasUnpublishedChanges"] = flow["draftHash"] != flow.get("liveConfigHash")
    view.update({name: flow[name] for name in FLOW_STAMPS})
    return view


def _summary_view(summary: Item) -> dict[str, Any]:
    view = {name: summary.get(name) for name in SUMMARY_FIELDS}
    if summary.get("restoredFrom") is not None:
        view["restoredFrom"] = summary["restoredFrom"]
    return view


def _change_view(entry: Item) -> dict[str, Any]:
    view = {name: entry[name] for name in CHANGE_FIELDS}
    view.update({name: entry[name] for name in CHANGE_OPTIONAL if entry.get(name) is not None})
    if entry.get("previousDraft"):
        view["previousDraft"] = json.loads(entry["previousDraft"])
    return view


# Writes


def _release(flow: Item, principal: str, action: str, release: dict[str, Any]) -> Item:
    """Publish or rollback: the next version becomes live, in one transaction (flow, summary, snapshot)."""
    now = _timestamp()
    number = (flow.get("latestVersion") or 0) + 1
    version = {"version": number, "publishedAt": now, "publishedBy": principal, **release}
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
    updated = _next_state(flow, principal, action, changes, now)
    pk = flow["PK"]
    summary_item = {"PK": pk, "SK": f"VER#{number:010d}", **{k: v for k, v in version.items() if k != "config"}}
    snapshot_item = {"PK": pk, "SK": f"SNAP#{number:010d}", **version}
    statements = [
        {"Update": {**_update_flow(flow, updated), "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}},
        {"Put": _put_new(summary_item)},
        {"Put": _put_new(snapshot_item)},
    ]
    if flow["status"] != "active":
        statements.append({"Update": _count_status_change(flow["tenantId"], flow["status"], "active")})
    # Names the write, as the service does: a resent transaction that had landed is recognised.
    token = uuid.uuid5(uuid.NAMESPACE_URL, f"{flow['tenantId']}#{flow['flowId']}#{updated['rowVersion']}")
    client().transact_write_items(TransactItems=statements, ClientRequestToken=str(token))  # type: ignore[arg-type]
    return updated


def _next_state(flow: Item, principal: str, action: str, changes: dict[str, Any], now: str | None = None) -> Item:
    updated = {**flow, **changes}
    updated.update(
        rowVersion=flow["rowVersion"] + 1, updatedAt=now or _timestamp(), updatedBy=principal, lastAction=action
    )
    updated["GSI1SK"] = _list_sort_key(updated["status"], updated["updatedAt"], updated["flowId"])
    return updated


def _update_flow(previous: Item, new: Item) -> dict[str, Any]:
    """SET the attributes that changed, on condition that the flow still has the rowVersion read."""
    changed = [(name, value) for name, value in new.items() if previous.get(name) != value]
    names = {"#rv": "rowVersion", **{f"#s{i}": name for i, (name, _) in enumerate(changed)}}
    values = {
        ":expected": _wire(previous["rowVersion"]),
        **{f":s{i}": _wire(value) for i, (_, value) in enumerate(changed)},
    }
    return {
        "TableName": flows_table(),
        "Key": _key(new["PK"], new["SK"]),
        "UpdateExpression": "SET " + ", ".join(f"#s{i} = :s{i}" for i in range(len(changed))),
        "ConditionExpression": "#rv = :expected",
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
    }


def _put_new(item: Item) -> dict[str, Any]:
    return {
        "TableName": flows_table(),
        "Item": {name: _wire(value) for name, value in item.items()},
        "ConditionExpression": "attribute_not_exists(PK)",
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }


def _count_status_change(tenant: str, before: str, after: str) -> dict[str, Any]:
    return {
        "TableName": flows_table(),
        "Key": _key(f"T#{tenant}", "COUNTERS"),
        "UpdateExpression": "ADD #c0 :c0, #c1 :c1",
        "ExpressionAttributeNames": {"#c0": f"flows_{before}", "#c1": f"flows_{after}"},
        "ExpressionAttributeValues": {":c0": {"N": "-1"}, ":c1": {"N": "1"}},
    }


def _pipeline_facts(config: dict[str, Any]) -> tuple[int | None, str | None]:
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


def _canonical(config: Any) -> str:
    return json.dumps(config, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _hash(canonical: str) -> str:
    return hashlib.sha256(canonical.encode()).hexdigest()


def _timestamp() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _list_sort_key(status: str, updated_at: str, flow_id: str) -> str:
    """The list index's sort key: status rank, then newest first."""
    epoch_ms = int(datetime.fromisoformat(updated_at).timestamp() * 1000)
    return f"{STATUS_RANK[status]}#{MAX_EPOCH_MS - epoch_ms:013d}#{flow_id}"


# DynamoDB's wire format, by hand


def _key(pk: str, sk: str) -> dict[str, dict[str, str]]:
    return {"PK": {"S": pk}, "SK": {"S": sk}}


def _plain_item(item: Item) -> Item:
    return {name: _plain(value) for name, value in item.items()}


def _plain(value: dict[str, Any]) -> Any:
    ((kind, raw),) = value.items()
    if kind == "S" or kind == "BOOL":
        return raw
    if kind == "N":
        return int(raw) if raw.lstrip("-").isdigit() else float(raw)
    if kind == "L":
        return [_plain(element) for element in raw]
    if kind == "M":
        return {name: _plain(element) for name, element in raw.items()}
    if kind == "NULL":
        return None
    raise ValueError(f"no plain value for DynamoDB type {kind}")


def _wire(value: Any) -> dict[str, Any]:
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int | float):
        return {"N": str(value)}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, list):
        return {"L": [_wire(element) for element in value]}
    if isinstance(value, dict):
        return {"M": {name: _wire(element) for name, element in value.items()}}
    raise TypeError(f"no DynamoDB type for {type(value).__name__}")
