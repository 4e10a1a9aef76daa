"""API Gateway HTTP API (payload 2.0) in miniature: a request becomes the event AWS would send,
routed to the function template.yaml names for it, with an identity in the authorizer context."""

from __future__ import annotations

import base64
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

from decision_flows_local import template


@dataclass(frozen=True)
class Caller:
    tenant_id: str
    role: str
    principal: str = "user@example.com"


@dataclass
class HttpResponse:
    status: int
    headers: dict[str, str]
    body: Any
    raw: dict[str, Any] = field(repr=False)

    @property
    def code(self) -> str | None:
        return self.body.get("code") if isinstance(self.body, dict) else None


class LambdaContext:
    function_name = "decision-flows-test"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:decision-flows-test"

    def __init__(self) -> None:
        self.aws_request_id = str(uuid.uuid4())

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


def build_event(
    method: str,
    path: str,
    *,
    caller: Caller | None,
    query: dict[str, str] | None = None,
    body: Any = None,
    headers: dict[str, str] | None = None,
    raw_body: str | None = None,
) -> dict[str, Any]:
    all_headers = {"host": "api.example.com", "user-agent": "pytest"}
    if caller is not None:
        all_headers["x-tenant-id"] = caller.tenant_id
    if body is not None or raw_body is not None:
        all_headers["content-type"] = "application/json"
    all_headers.update({name.lower(): value for name, value in (headers or {}).items()})
    key = route_key(method, path)
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": key,
        "rawPath": path,
        "rawQueryString": urlencode(query or {}),
        "headers": all_headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": "api.example.com",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": "pytest",
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": key,
            "stage": "$default",
            "time": "22/Nov/2026:12:00:00 +0000",
            "timeEpoch": 1795348800000,
        },
        "isBase64Encoded": False,
    }
    if caller is not None:
        event["requestContext"]["authorizer"] = {
            "lambda": {"tenantId": caller.tenant_id, "role": caller.role, "principal": caller.principal}
        }
    if query:
        event["queryStringParameters"] = query
    if raw_body is not None:
        event["body"] = raw_body
    elif body is not None:
        event["body"] = json.dumps(body)
    return event


def route_for(method: str, path: str) -> template.TemplateRoute:
    """The route API Gateway picks: the exact method and path, else ANY on the path, else $default."""
    routes = {(route.method, route.path): route for route in template.routes()}
    for wanted in ((method, path), (template.ANY_METHOD, path), (template.ANY_METHOD, template.DEFAULT_ROUTE)):
        if wanted in routes:
            return routes[wanted]
    raise LookupError(f"template.yaml has no route {method} {path} and no $default route")


def route_key(method: str, path: str) -> str:
    """The ``routeKey`` of an event for this request (a template without $default: as if it had one)."""
    try:
        return route_for(method, path).route_key
    except LookupError:
        return template.DEFAULT_ROUTE


def function_for(method: str, path: str) -> str:
    return route_for(method, path).function


def authorize_like_api_gateway(event: dict[str, Any]) -> HttpResponse | dict[str, Any]:
    """Run the route's authorizer as an HTTP API would: a missing identity source is API Gateway's
    own 401, ``isAuthorized: false`` its own 403; otherwise the event gains the authorizer's context."""
    method = event["requestContext"]["http"]["method"]
    route = route_for(method, event["rawPath"])
    if route.authorizer is None:
        return event
    authorizer = template.authorizer(route.authorizer)
    sources = [event["headers"].get(header.lower()) for header in authorizer.identity_headers]
    if not all(sources):
        return HttpResponse(401, {}, {"message": "Unauthorized"}, {})
    request = {
        **{k: v for k, v in event.items() if k != "body"},
        "type": "REQUEST",
        "routeArn": f"arn:aws:execute-api:us-east-1:123456789012:local/$default/{method}{event['rawPath']}",
        "identitySource": sources,
    }
    decision: dict[str, Any] = template.handler(authorizer.function)(request, LambdaContext())
    if not decision.get("isAuthorized"):
        return HttpResponse(403, {}, {"message": "Forbidden"}, {})
    context = {**event["requestContext"], "authorizer": {"lambda": decision.get("context", {})}}
    return {**event, "requestContext": context}


def invoke_through_authorizer(event: dict[str, Any]) -> HttpResponse:
    authorized = authorize_like_api_gateway(event)
    return authorized if isinstance(authorized, HttpResponse) else invoke(authorized)


def invoke(event: dict[str, Any]) -> HttpResponse:
    method = event["requestContext"]["http"]["method"]
    result: dict[str, Any] = template.handler(function_for(method, event["rawPath"]))(event, LambdaContext())
    body_text = result.get("body") or ""
    body = json.loads(body_text) if body_text else None
    return HttpResponse(
        result["statusCode"], {k.lower(): v for k, v in result.get("headers", {}).items()}, body, result
    )


class Api:
    """Calls routes as one caller; ``as_(caller)`` switches identity."""

    BASE = "/api/v1/decision-flows"

    def __init__(self, caller: Caller | None) -> None:
        self.caller = caller

    def as_(self, caller: Caller | None) -> Api:
        return Api(caller)

    def request(self, method: str, path: str = "", **kwargs: Any) -> HttpResponse:
        return invoke(build_event(method, self.BASE + path, caller=self.caller, **kwargs))

    def get(self, path: str = "", **query: str) -> HttpResponse:
        return self.request("GET", path, query={k: str(v) for k, v in query.items()})

    def create(self, **body: Any) -> HttpResponse:
        return self.request("POST", body=body)

    def update(self, **body: Any) -> HttpResponse:
        return self.request("PUT", body=body)

    def publish(self, **body: Any) -> HttpResponse:
        return self.request("POST", "/publish", body=body)

    def rollback(self, **body: Any) -> HttpResponse:
        return self.request("POST", "/rollback", body=body)

    def delete(self, flow_id: str) -> HttpResponse:
        return self.request("DELETE", query={"id": flow_id})

    def history(self, flow_id: str, **query: str) -> HttpResponse:
        return self.get("/history", id=flow_id, **query)

    def live(self, key: str) -> HttpResponse:
        return self.get("/live", key=key)


def event_from_http(
    method: str, path: str, raw_query: str, header_pairs: list[tuple[str, str]], body: bytes, source_ip: str
) -> dict[str, Any]:
    """The payload-2.0 event API Gateway makes of a real HTTP request: headers lower-cased and
    repeats joined with commas, the raw query kept, a body that is not UTF-8 sent as base64."""
    route = route_for(method, path)
    headers: dict[str, str] = {}
    for name, value in header_pairs:
        key = name.lower()
        headers[key] = f"{headers[key]},{value}" if key in headers else value
    query: dict[str, str] = {}
    for name, value in parse_qsl(raw_query, keep_blank_values=True):
        query[name] = f"{query[name]},{value}" if name in query else value
    now = time.time()
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route.route_key,
        "rawPath": path,
        "rawQueryString": raw_query,
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": headers.get("host", "127.0.0.1"),
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": headers.get("user-agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": route.route_key,
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": False,
    }
    if query:
        event["queryStringParameters"] = query
    if body:
        try:
            event["body"] = body.decode("utf-8")
        except UnicodeDecodeError:
            event["body"], event["isBase64Encoded"] = base64.b64encode(body).decode(), True
    return event
