"""The JSON the API answers with: flows, version summaries, change entries, errors."""

from __future__ import annotations

import json
from typing import Any

from bench.baseline.wire import Item

Response = dict[str, Any]

# The fields of the contract's flow record, in the order the service sends them.
FLOW_FIELDS = ("id", "tenantId", "key", "name", "description", "status", "autoAssembly")
FLOW_TAIL_FIELDS = ("liveVersion", "latestVersion")
FLOW_STAMPS = ("rowVersion", "createdAt", "updatedAt", "createdBy", "updatedBy")
SUMMARY_FIELDS = ("version", "publishedAt", "publishedBy", "notes")
CHANGE_FIELDS = ("eventId", "flowId", "action", "actor", "at", "rowVersion")
CHANGE_OPTIONAL = ("fromVersion", "toVersion", "restoredFrom", "changes")


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return {
        "statusCode": status,
        "body": json.dumps(body, ensure_ascii=False),
        "isBase64Encoded": False,
        "headers": {**(headers or {}), "Content-Type": "application/json"},
        "cookies": [],
    }


def flow_response(flow: Item) -> Response:
    return json_response(200, flow_view(flow), {"ETag": f'"{flow["rowVersion"]}"'})


def flow_view(flow: Item, *, with_config: bool = True, with_versions: bool = True) -> dict[str, Any]:
    view = {name: flow.get(name) for name in FLOW_FIELDS}
    view["id"] = flow["flowId"]
    if with_config:
        view["draftConfig"] = json.loads(flow["draftConfig"])
    if with_versions:
        view["publishedVersions"] = [summary_view(summary) for summary in flow.get("publishedVersions", [])]
    view.update({name: flow.get(name) for name in FLOW_TAIL_FIELDS})
    view["hasUnpublishedChanges"] = flow["draftHash"] != flow.get("liveConfigHash")
    view.update({name: flow[name] for name in FLOW_STAMPS})
    return view


def summary_view(summary: Item) -> dict[str, Any]:
    view = {name: summary.get(name) for name in SUMMARY_FIELDS}
    if summary.get("restoredFrom") is not None:
        view["restoredFrom"] = summary["restoredFrom"]
    return view


def change_view(entry: Item) -> dict[str, Any]:
    view = {name: entry[name] for name in CHANGE_FIELDS}
    view.update({name: entry[name] for name in CHANGE_OPTIONAL if entry.get(name) is not None})
    if entry.get("previousDraft"):
        view["previousDraft"] = json.loads(entry["previousDraft"])
    return view
