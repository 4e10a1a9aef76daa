"""The API's OpenAPI 3.1 document, served by `make serve` at /openapi.json and as Swagger UI at /swagger.

Which routes exist and which need credentials is template.yaml's to say; OPERATIONS adds what the
template cannot (summary, minimum role, models, statuses), and ``build`` refuses to run while the
two name different routes. Bodies are the product's pydantic models: the document follows them.
"""

from __future__ import annotations

from dataclasses import dataclass
from http import HTTPStatus
from importlib.metadata import version
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaMode, JsonSchemaValue, models_json_schema
from pydantic_core import core_schema

from decision_flows.models import queries, requests
from decision_flows.models import responses as views
from decision_flows.web.idempotency import MAX_KEY_LENGTH
from decision_flows_local import template
from decision_flows_local.stream_health import StreamConsumerStatus

FLOWS = "/api/v1/decision-flows"
JSON, PROBLEM = "application/json", "application/problem+json"


class FieldError(BaseModel):
    field: str
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details; ``errors`` lists field problems, and only when there are some."""

    type: str
    title: str
    status: int
    detail: str
    code: str = Field(pattern=r"^[A-Z][A-Z0-9_]*$")
    errors: list[FieldError] = Field(default_factory=list)


class GatewayMessage(BaseModel):
    """API Gateway's own 401 when Authorization or X-Tenant-Id is missing: HTTP APIs cannot customise it."""

    message: str


class Health(BaseModel):
    """The API is up. Local runs (`make serve`) add how their in-process stream consumer is doing."""

    model_config = ConfigDict(populate_by_name=True)

    status: Literal["ok"]
    stream_consumer: StreamConsumerStatus | None = Field(default=None, alias="streamConsumer")


@dataclass(frozen=True)
class Operation:
    summary: str
    role: str | None  # the minimum role; None exactly where the template's route has no authorizer
    ok: dict[int, tuple[type[BaseModel], ...]]  # status -> body; several bodies: any one of them
    errors: tuple[int, ...] = ()  # the route's own; _errors adds 400, 413, 415 and the gate's
    body: type[BaseModel] | None = None
    query: tuple[type[BaseModel], ...] = ()  # the parameters of all, required where all require them
    headers: tuple[str, ...] = ()


def read(summary: str, role: str, bodies: tuple[type[BaseModel], ...], *query: type[BaseModel]) -> Operation:
    """A GET of what its query names: 404 when that does not exist."""
    return Operation(summary, role, {200: bodies}, (404,), query=query)


def write(summary: str, role: str, body: type[BaseModel], headers: tuple[str, ...]) -> Operation:
    """A change to one flow, answered with the flow: 404 without it, 409 on a stale rowVersion, 422 by its rules."""
    return Operation(summary, role, {200: (views.FlowView,)}, (404, 409, 422), body=body, headers=headers)


IF_MATCH, IDEMPOTENT, ID = ("If-Match",), ("If-Match", "Idempotency-Key"), (queries.FlowIdQuery,)
OPERATIONS: dict[tuple[str, str], Operation] = {
    ("GET", "/api/v1/health"): Operation("Health check", None, {200: (Health,)}),
    ("GET", FLOWS): read(
        "List flows (active, draft, paused, archived; newest first), or one flow with ?id=",
        "viewer",
        (views.FlowListView, views.FlowView),
        queries.ListFlowsQuery,
        *ID,
    ),
    ("POST", FLOWS): Operation(
        "Create a flow",
        "editor",
        {201: (views.FlowView,)},
        (409, 422),
        requests.CreateFlowRequest,
        headers=("Idempotency-Key",),
    ),
    ("PUT", FLOWS): write("Edit a flow and its draft", "editor", requests.UpdateFlowRequest, IF_MATCH),
    ("DELETE", FLOWS): Operation(
        "Delete a flow, its versions and its key", "editor", {204: ()}, (404, 409), query=ID, headers=IF_MATCH
    ),
    ("POST", f"{FLOWS}/publish"): write(
        "Publish the draft as the next version and make it live", "editor", requests.PublishRequest, IDEMPOTENT
    ),
    ("GET", f"{FLOWS}/versions"): read(
        "A flow's versions, oldest first, or one version with its snapshot (&version=)",
        "editor",
        (views.VersionListView, views.VersionDetailView),
        queries.VersionsQuery,
    ),
    ("POST", f"{FLOWS}/rollback"): write(
        "Roll back: append a version that restores an older one", "admin", requests.RollbackRequest, IDEMPOTENT
    ),
    ("GET", f"{FLOWS}/history"): read(
        "A flow's change history, newest first", "editor", (views.HistoryView,), queries.HistoryQuery
    ),
    ("GET", f"{FLOWS}/live"): read(
        "What runtime callers execute for a flow key", "viewer", (views.LiveView,), queries.LiveQuery
    ),
}
# Nulls the models let through but the service refuses (400): the document says what the API accepts.
REFUSED_NULLS: dict[type[BaseModel], tuple[str, ...]] = {requests.UpdateFlowRequest: requests.NOT_NULLABLE_ON_UPDATE}
STRING = {"type": "string"}
HEADERS: dict[str, dict[str, Any]] = {
    "X-Tenant-Id": {"required": True, "description": "The credential's tenant (403 otherwise)", "schema": STRING},
    "If-Match": {"description": 'The flow\'s ETag, e.g. "3": write only at that rowVersion (409)', "schema": STRING},
    "Idempotency-Key": {
        "description": "A retry with the same key and body gets the first response again (kept 24 h)",
        "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH},
    },
}


class RouteMismatch(LookupError):
    """OPERATIONS and template.yaml disagree about which routes exist or which need credentials."""


def check(routes: list[template.Route], operations: dict[tuple[str, str], Operation] = OPERATIONS) -> None:
    routed = {(route.method, route.path): route for route in routes}
    problems = [f"template.yaml routes {m} {p}: add it to OPERATIONS" for m, p in routed.keys() - operations.keys()]
    problems += [f"OPERATIONS has {m} {p}, which template.yaml does not route" for m, p in operations.keys() - routed]
    problems += [
        f"{m} {p}: role {operations[m, p].role} but authorizer {route.authorizer}"
        for (m, p), route in routed.items()
        if (m, p) in operations and (route.authorizer is None) != (operations[m, p].role is None)
    ]
    if problems:
        raise RouteMismatch("; ".join(sorted(problems)))


class _Schemas(GenerateJsonSchema):
    def field_title_should_be_set(self, schema: Any) -> bool:
        return False  # titles like "Draftconfig" say less than the property names

    def model_field_schema(self, schema: core_schema.ModelField) -> JsonSchemaValue:
        """A response field that is left out when None (``exclude_if``) is optional, and never null."""
        json_schema = super().model_field_schema(schema)
        left_out = schema.get("serialization_exclude_if")
        return _not_null(json_schema) if self.mode == "serialization" and left_out and left_out(None) else json_schema


def _not_null(schema: JsonSchemaValue) -> JsonSchemaValue:
    """``schema`` without null (pydantic writes ``X | None`` as anyOf [X, null], and ``Any`` as {})."""
    rest = {key: value for key, value in schema.items() if key != "anyOf" and (key, value) != ("default", None)}
    options = [option for option in schema.get("anyOf", []) if option != {"type": "null"}]
    if len(options) > 1:
        return {**rest, "anyOf": options}
    if options or "type" in rest or "$ref" in rest:
        return {**rest, **(options[0] if options else {})}
    return {**rest, "not": {"type": "null"}}


def build() -> dict[str, Any]:
    routes = template.routes()
    check(routes)
    operation_id = {(route.method, route.path): route.event for route in routes}
    ops = OPERATIONS.values()
    wanted: list[tuple[type[BaseModel], JsonSchemaMode]] = [(op.body, "validation") for op in ops if op.body]
    wanted += [(model, "validation") for op in ops for model in op.query]
    wanted += [(model, "serialization") for op in ops for models in op.ok.values() for model in models]
    wanted += [(Problem, "serialization"), (GatewayMessage, "serialization")]
    refs, defs = models_json_schema(
        list(dict.fromkeys(wanted)),
        by_alias=True,
        ref_template="#/components/schemas/{model}",
        schema_generator=_Schemas,
    )
    schemas = defs["$defs"]
    for model, fields in REFUSED_NULLS.items():
        properties = schemas[model.__name__]["properties"]
        for alias in (model.model_fields[name].alias or name for name in fields):
            properties[alias] = _not_null(properties[alias])
    query_schemas = {model: schemas.pop(model.__name__) for model in dict.fromkeys(m for op in ops for m in op.query)}
    paths: dict[str, dict[str, Any]] = {}
    for (method, path), op in OPERATIONS.items():
        headers = (("X-Tenant-Id",) if op.role else ()) + op.headers
        item: dict[str, Any] = {
            "operationId": operation_id[method, path],
            "summary": op.summary,
            "description": f"Minimum role: {op.role}." if op.role else "No credentials.",
            "parameters": _query(op, query_schemas) + [{"name": h, "in": "header", **HEADERS[h]} for h in headers],
            "responses": {str(status): _success(status, models, refs) for status, models in op.ok.items()}
            | {str(status): _problem(status, refs) for status in _errors(op)},
        }
        if op.body:
            item["requestBody"] = {"required": True, "content": {JSON: {"schema": refs[op.body, "validation"]}}}
        if op.role is None:
            item["security"] = []
        paths.setdefault(path, {})[method.lower()] = item
    bearer = {"type": "http", "scheme": "bearer", "description": "An API key (sk_live_…, sk_test_…) or a JWT"}
    return {
        "openapi": "3.1.0",
        "info": {"title": "Decision Flows API", "version": version("decision-flows")},
        "paths": paths,
        "components": {"schemas": dict(sorted(schemas.items())), "securitySchemes": {"bearer": bearer}},
        "security": [{"bearer": []}],
    }


def _query(op: Operation, query_schemas: dict[type[BaseModel], JsonSchemaValue]) -> list[dict[str, Any]]:
    """A query value is a string or absent, never null: the query models' ``X | None`` means absent."""
    found: dict[str, dict[str, Any]] = {}
    for model in op.query:
        for name, schema in query_schemas[model]["properties"].items():
            required = all(name in query_schemas[other].get("required", ()) for other in op.query)
            found.setdefault(name, {"name": name, "in": "query", "required": required, "schema": _not_null(schema)})
    return list(found.values())


def _errors(op: Operation) -> list[int]:
    statuses = {*op.errors, *([400] if op.body or op.query else []), *([413, 415] if op.body else [])}
    # The gate of every authorized route: credential, tenant and role, rate limit, DynamoDB throttling.
    return sorted(statuses | ({401, 403, 429, 503} if op.role else set()))


def _success(status: int, models: tuple[type[BaseModel], ...], refs: dict[Any, Any]) -> dict[str, Any]:
    response: dict[str, Any] = {"description": HTTPStatus(status).phrase}
    if schemas := [refs[model, "serialization"] for model in models]:
        # anyOf, not oneOf: the query, not the body, says which one comes, and the views admit extra fields.
        response["content"] = {JSON: {"schema": schemas[0] if len(schemas) == 1 else {"anyOf": schemas}}}
    headers = {"ETag": {"description": 'With one flow: its rowVersion, e.g. "3"', "schema": STRING}}
    if status == HTTPStatus.CREATED:
        headers["Location"] = {"description": "The new flow's URL", "schema": STRING}
    return response | {"headers": headers} if views.FlowView in models else response


def _problem(status: int, refs: dict[Any, Any]) -> dict[str, Any]:
    content = {PROBLEM: {"schema": refs[Problem, "serialization"]}}
    if status == HTTPStatus.UNAUTHORIZED:
        content[JSON] = {"schema": refs[GatewayMessage, "serialization"]}
    response: dict[str, Any] = {"description": HTTPStatus(status).phrase, "content": content}
    if status in (HTTPStatus.TOO_MANY_REQUESTS, HTTPStatus.SERVICE_UNAVAILABLE):
        response["headers"] = {"Retry-After": {"description": "Seconds to wait", "schema": STRING}}
    return response
