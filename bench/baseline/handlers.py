"""The floor's Lambda handlers, one per measured route, and what every one of them does first:
identity, the per-request rate limit, the role check, and errors as JSON."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from bench.baseline import writes
from bench.baseline.views import Response, change_view, flow_response, flow_view, json_response, summary_view
from bench.baseline.wire import (
    Item,
    batch_get,
    changes_table,
    client,
    flow_item,
    flow_pk,
    flows_table,
    key,
    live_table,
    pagination,
    plain_item,
    version_sk,
)

Event = dict[str, Any]
Handler = Callable[[Event, Any], Response]
# What a route does once the caller is admitted: (tenant, principal) -> response.
Route = Callable[[str, str], Response]

ROLES = {"viewer": 1, "editor": 2, "admin": 3}
STATUSES = ("active", "draft", "paused", "archived")


class Refused(Exception):
    """A request the handler answers with an error status (the service's problem details, minimally)."""

    def __init__(self, status: int, code: str) -> None:
        super().__init__(code)
        self.status, self.code = status, code


def get_flow(event: Event, context: Any) -> Response:
    def run(tenant: str, principal: str) -> Response:
        return flow_response(existing_flow(tenant, event["queryStringParameters"]["id"]))

    return handle(event, "viewer", run)


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
            Key=key(f"T#{tenant}", "COUNTERS"),
            ProjectionExpression=", ".join(f"flows_{status}" for status in STATUSES),
            ConsistentRead=True,
        )
        total = sum(int(value["N"]) for value in counters.get("Item", {}).values())
        flows = [flow_view(plain_item(item), with_config=False, with_versions=False) for item in items[:limit]]
        page = pagination(limit, items, found, ("PK", "SK", "GSI1PK", "GSI1SK"), total)
        return json_response(200, {"data": flows, "pagination": page})

    return handle(event, "viewer", run)


def list_versions(event: Event, context: Any) -> Response:
    def run(tenant: str, principal: str) -> Response:
        query = event["queryStringParameters"]
        flow_id, limit = query["id"], int(query.get("limit", 100))
        # The versions anchor (SK "VER#") sorts first and proves that the flow exists.
        found = client().query(
            TableName=flows_table(),
            KeyConditionExpression="PK = :pk AND begins_with(SK, :prefix)",
            ExpressionAttributeValues={":pk": {"S": flow_pk(tenant, flow_id)}, ":prefix": {"S": "VER#"}},
            ConsistentRead=True,
            Limit=limit + 2,
        )
        items = found["Items"]
        if not items or items[0]["SK"]["S"] != "VER#":
            raise Refused(404, "FLOW_NOT_FOUND")
        summaries = [plain_item(item) for item in items[1 : limit + 1]]
        versions = [
            {**summary_view(summary), "summary": {name: summary.get(name) for name in ("nodeCount", "scoringMethod")}}
            for summary in summaries
        ]
        page = pagination(limit, items[1:], found, ("PK", "SK"))
        return json_response(200, {"flowId": flow_id, "versions": versions, "pagination": page})

    return handle(event, "editor", run)


def get_version(event: Event, context: Any) -> Response:
    def run(tenant: str, principal: str) -> Response:
        query = event["queryStringParameters"]
        flow_id, number = query["id"], int(query["version"])
        found = batch_get(tenant, flow_id, ["VER#", version_sk("SNAP", number)])
        snapshot = found.get(version_sk("SNAP", number))
        if "VER#" not in found or snapshot is None:
            raise Refused(404, "VERSION_NOT_FOUND")
        body = {**summary_view(snapshot), "flowId": flow_id, "configSnapshot": json.loads(snapshot["config"])}
        return json_response(200, body)

    return handle(event, "editor", run)


def update_draft(event: Event, context: Any) -> Response:
    def run(tenant: str, principal: str) -> Response:
        request = json.loads(event["body"])
        flow = existing_flow(tenant, request["id"])
        return flow_response(writes.update_draft(flow, principal, writes.canonical(request["draftConfig"])))

    return handle(event, "editor", run)


def publish(event: Event, context: Any) -> Response:
    def run(tenant: str, principal: str) -> Response:
        request = json.loads(event["body"])
        flow = existing_flow(tenant, request["id"])
        node_count, method = writes.pipeline_facts(json.loads(flow["draftConfig"]))
        if method is None:
            raise Refused(422, "SCORING_METHOD_MISSING")
        version = {
            "notes": request.get("notes"),
            "nodeCount": node_count,
            "scoringMethod": method,
            "configHash": flow["draftHash"],
            "config": flow["draftConfig"],
        }
        return flow_response(writes.release(flow, principal, "published", version))

    return handle(event, "editor", run)


def rollback(event: Event, context: Any) -> Response:
    def run(tenant: str, principal: str) -> Response:
        request = json.loads(event["body"])
        number = request["version"]
        found = batch_get(tenant, request["id"], ["FLOW", version_sk("SNAP", number)])
        flow, target = found.get("FLOW"), found.get(version_sk("SNAP", number))
        if flow is None or target is None:
            raise Refused(404, "VERSION_NOT_FOUND" if flow else "FLOW_NOT_FOUND")
        if flow.get("liveConfigHash") == target["configHash"]:
            raise Refused(409, "ALREADY_ACTIVE")
        notes = f"Rollback to v{number}" + (f": {request['notes']}" if request.get("notes") else "")
        version = {
            "notes": notes,
            "restoredFrom": number,
            **{name: target.get(name) for name in ("nodeCount", "scoringMethod", "configHash", "config")},
        }
        return flow_response(writes.release(flow, principal, "rolled_back", version))

    return handle(event, "admin", run)


def history(event: Event, context: Any) -> Response:
    def run(tenant: str, principal: str) -> Response:
        query = event["queryStringParameters"]
        flow_id, limit = query["id"], int(query.get("limit", 25))
        found = client().query(
            TableName=changes_table(),
            KeyConditionExpression="PK = :pk",
            ExpressionAttributeValues={":pk": {"S": flow_pk(tenant, flow_id)}},
            ScanIndexForward=False,
            Limit=limit + 1,
        )
        items = found["Items"]
        if not items:  # an empty history is told apart from an unknown flow with a second read; not benchmarked
            raise Refused(404, "FLOW_NOT_FOUND")
        entries = [change_view(plain_item(item)) for item in items[:limit]]
        page = pagination(limit, items, found, ("PK", "SK"))
        return json_response(200, {"flowId": flow_id, "data": entries, "pagination": page})

    return handle(event, "editor", run)


def live(event: Event, context: Any) -> Response:
    def run(tenant: str, principal: str) -> Response:
        runtime_key = event["queryStringParameters"]["key"]
        found = client().get_item(TableName=live_table(), Key={"PK": {"S": f"T#{tenant}#KEY#{runtime_key}"}})
        entry = plain_item(found["Item"]) if "Item" in found else None
        if entry is None or not entry["served"]:  # a missing entry is rebuilt by the service; not benchmarked
            raise Refused(404, "LIVE_FLOW_NOT_FOUND")
        body = {name: entry[name] for name in ("flowId", "key", "version", "publishedAt")}
        return json_response(200, {**body, "config": json.loads(entry["config"])})

    return handle(event, "viewer", run)


def existing_flow(tenant: str, flow_id: str) -> Item:
    flow = flow_item(tenant, flow_id)
    if flow is None:
        raise Refused(404, "FLOW_NOT_FOUND")
    return flow


def handle(event: Event, minimum_role: str, run: Route) -> Response:
    """Who calls (as the authorizer told), the rate limit, the role; a refusal becomes its JSON error."""
    try:
        identity = event["requestContext"]["authorizer"]["lambda"]
        tenant, principal = identity["tenantId"], identity["principal"]
        if event["headers"].get("x-tenant-id") != tenant:
            raise Refused(403, "TENANT_MISMATCH")
        count_request(tenant)
        if ROLES[identity["role"]] < ROLES[minimum_role]:
            raise Refused(403, "INSUFFICIENT_ROLE")
        return run(tenant, principal)
    except Refused as refused:
        return json_response(refused.status, {"status": refused.status, "code": refused.code})


def count_request(tenant: str) -> None:
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
