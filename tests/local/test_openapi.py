"""The OpenAPI document tells the truth: it is what the server serves, and real answers fit it."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from decision_flows_local.api import openapi
from decision_flows_local.api.gateway import Api
from decision_flows_local.dynamodb.streams import StreamPoller
from decision_flows_local.fixtures.samples import v2_config
from tests.support.local_server import VIEWER_KEY, Reply, Server
from tests.support.waiting import eventually

FLOWS = "/api/v1/decision-flows"


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return openapi.build()


def strict(components: dict[str, Any]) -> dict[str, Any]:
    """The components with no room for fields they do not name, so an undocumented field fails too."""
    strict_components = copy.deepcopy(components)
    for schema in strict_components["schemas"].values():
        if "properties" in schema:
            schema.setdefault("additionalProperties", False)
    return strict_components


def assert_documented(
    document: dict[str, Any], method: str, path: str, status: int, headers: Mapping[str, str], body: Any
) -> None:
    """The answer (``body`` parsed) is one the document lists for this operation, with its media type and schema."""
    headers = {name.lower(): value for name, value in headers.items()}
    operation = document["paths"][path.split("?")[0]][method.lower()]
    response = operation["responses"].get(str(status))
    assert response is not None, f"{method} {path} answered {status}, which the document does not list"
    documented_headers = {name.lower() for name in response.get("headers", {})}
    for header in ("etag", "location", "retry-after", "www-authenticate"):
        assert header not in headers or header in documented_headers, f"{method} {path}: {header} undocumented"
    if "content" not in response:
        assert body is None
        return
    content_type = headers.get("content-type", "").split(";")[0]
    assert content_type in response["content"], f"{method} {path} {status}: {content_type}"
    schema = response["content"][content_type]["schema"]
    validator = Draft202012Validator({**schema, "components": strict(document["components"])})
    problems = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(body)]
    assert not problems, f"{method} {path} {status} does not fit the document: {problems}"


def documented_reply(document: dict[str, Any], method: str, path: str, reply: Reply) -> Any:
    body = reply.json()
    assert_documented(document, method, path, reply.status, dict(reply.headers.items()), body)
    return body


def test_openapi_json_is_served_without_credentials_and_is_the_generators_document(
    module_server: Server, document: dict[str, Any]
) -> None:
    for path in ("/openapi.json", "/swagger?format=json"):
        reply = module_server.send("GET", path, key=None)
        assert (reply.status, reply.content_type) == (200, "application/json")
        assert reply.json() == document
    pages = {"/swagger": "text/html", "/swagger.js": "text/javascript", "/swagger.css": "text/css"}
    for path, content_type in pages.items():
        reply = module_server.send("GET", path, key=None)
        assert (reply.status, reply.content_type) == (200, content_type)


def test_answers_of_a_whole_flow_life_fit_the_document(module_server: Server, document: dict[str, Any]) -> None:
    def send(method: str, path: str, **kwargs: Any) -> Any:
        return documented_reply(document, method, path, module_server.send(method, path, **kwargs))

    flow = send("POST", FLOWS, body={"key": "life", "name": "Life", "draftConfig": v2_config("a")})
    flow_id = flow["id"]
    send("POST", f"{FLOWS}/publish", body={"id": flow_id, "notes": "first"}, headers={"Idempotency-Key": "p1"})
    send("PUT", FLOWS, body={"id": flow_id, "draftConfig": v2_config("b"), "description": None})
    send("POST", f"{FLOWS}/publish", body={"id": flow_id}, headers={"If-Match": '"3"'})
    send("POST", f"{FLOWS}/rollback", body={"id": flow_id, "version": 1, "notes": "back"})
    send("GET", f"{FLOWS}?id={flow_id}")
    send("GET", f"{FLOWS}?limit=1&include=versions")
    send("GET", f"{FLOWS}?status=active")
    versions = send("GET", f"{FLOWS}/versions?id={flow_id}")
    assert [v.get("restoredFrom") for v in versions["versions"]] == [None, None, 1]
    send("GET", f"{FLOWS}/versions?id={flow_id}&version=3")
    send("GET", f"{FLOWS}/history?id={flow_id}&limit=2")
    # /live follows the stream consumer, which runs a moment after the write
    assert eventually(lambda: module_server.send("GET", f"{FLOWS}/live?key=life").json().get("version") == 3)
    assert send("GET", f"{FLOWS}/live?key=life")["version"] == 3
    send("GET", "/api/v1/health", key=None)
    send("DELETE", f"{FLOWS}?id={flow_id}")


def test_refusals_fit_the_document(module_server: Server, document: dict[str, Any]) -> None:
    def refused(method: str, path: str, status: int, **kwargs: Any) -> Any:
        reply = module_server.send(method, path, **kwargs)
        assert reply.status == status, reply.body
        return documented_reply(document, method, path, reply)

    flow = refused("POST", FLOWS, 201, body={"key": "refusals", "name": "R"})
    assert refused("GET", FLOWS, 401, key=None) == {"message": "Unauthorized"}  # API Gateway's own
    refused("GET", FLOWS, 401, key="sk_test_nobody")
    refused("POST", FLOWS, 403, key=VIEWER_KEY, body={"key": "k", "name": "n"})
    refused("GET", f"{FLOWS}?limit=0", 400)
    refused("GET", f"{FLOWS}?id=df_000000000000000000000000", 404)
    refused("POST", FLOWS, 400, body={"key": "k", "name": "n", "tenantId": "x"})
    refused("POST", FLOWS, 415, body={"key": "k", "name": "n"}, headers={"Content-Type": "text/plain"})
    refused("POST", FLOWS, 413, body={"key": "k", "name": "n", "description": "x" * (1024 * 1024)})
    refused("POST", FLOWS, 409, body={"key": "refusals", "name": "again"})
    refused("POST", FLOWS, 422, body={"key": "bad", "name": "n", "draftConfig": {"version": 2, "nodes": [{}]}})
    refused("PUT", FLOWS, 409, body={"id": flow["id"], "name": "late", "rowVersion": 7})
    refused("POST", f"{FLOWS}/publish", 422, body={"id": flow["id"]})  # no scoring method yet
    refused("GET", f"{FLOWS}/versions?id={flow['id']}&version=9", 404)
    refused("POST", f"{FLOWS}/rollback", 404, body={"id": flow["id"], "version": 1})
    refused("GET", f"{FLOWS}/live?key=refusals", 404)  # never published
    refused("GET", f"{FLOWS}/history?id=df_000000000000000000000000", 404)


def test_a_change_history_and_a_live_entry_fit_the_document(
    admin: Api, stream: StreamPoller, document: dict[str, Any]
) -> None:
    # Given a flow with every kind of change, read by the stream consumer
    flow_id = admin.create(key="told", name="T", draftConfig=v2_config("a")).body["id"]
    admin.publish(id=flow_id, notes="v1")
    admin.update(id=flow_id, draftConfig=v2_config("b"), description="d")
    admin.publish(id=flow_id)
    admin.update(id=flow_id, status="paused")
    admin.rollback(id=flow_id, version=1, notes="back")
    stream.deliver()
    # When its history and live entry are read, then they fit the document
    history = admin.get("/history", id=flow_id)
    assert {entry["action"] for entry in history.body["data"]} >= {"created", "updated", "published", "rolled_back"}
    assert_documented(document, "GET", f"{FLOWS}/history", history.status, history.headers, history.body)
    live = admin.get("/live", key="told")
    assert_documented(document, "GET", f"{FLOWS}/live", live.status, live.headers, live.body)


BODIES: dict[str, tuple[str, str]] = {
    "CreateFlowRequest": ("POST", ""),
    "UpdateFlowRequest": ("PUT", ""),
    "PublishRequest": ("POST", "/publish"),
    "RollbackRequest": ("POST", "/rollback"),
}


def test_a_body_field_takes_null_exactly_where_the_document_says_it_may(admin: Api, document: dict[str, Any]) -> None:
    flow = admin.create(key="nulls", name="N", draftConfig=v2_config("a")).body
    assert admin.publish(id=flow["id"]).status == 200
    minimal = {
        "CreateFlowRequest": {"key": "other", "name": "O"},
        "UpdateFlowRequest": {"id": flow["id"]},
        "PublishRequest": {"id": flow["id"]},
        "RollbackRequest": {"id": flow["id"], "version": 1},
    }
    for schema_name, (method, path) in BODIES.items():
        schema = document["components"]["schemas"][schema_name]
        validator = Draft202012Validator({**schema, "components": document["components"]})
        for field in schema["properties"].keys() - set(schema["required"]):
            body = {**minimal[schema_name], field: None}
            answer = admin.request(method, path, body=body)
            refused = answer.status == 400 and answer.code == "VALIDATION_ERROR"
            assert refused != validator.is_valid(body), f"{schema_name}.{field}=null: {answer.status} {answer.body}"
            if answer.status in (200, 201) and method == "POST" and not path:
                admin.delete(answer.body["id"])  # the key is free again
