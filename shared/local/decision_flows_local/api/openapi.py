"""The API's OpenAPI 3.1 document, served by `make serve` at /openapi.json and as Swagger UI at /swagger.

Which routes exist, which function serves each and which need credentials is template.yaml's to say;
the rest (summary, minimum role, models, statuses, headers) is what each handler states in its
``Route`` (decision_flows.web.routes), and ``build`` refuses to run while the two disagree. Bodies are
the product's pydantic models: the document follows them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from http import HTTPStatus
from importlib.metadata import version
from typing import Any

from pydantic import BaseModel, Field
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaMode, JsonSchemaValue, models_json_schema
from pydantic_core import core_schema

from decision_flows.models import draft_commands, publish_commands, rollout_commands
from decision_flows.web.inputs import MAX_KEY_LENGTH
from decision_flows.web.routes import Route, declared
from decision_flows.web.views.dry_run import DryRunView
from decision_flows.web.views.flow_list import HealthView
from decision_flows.web.views.flows import FlowView
from decision_flows.web.views.live import LiveStateView, LiveView
from decision_flows_local import template
from decision_flows_local.dynamodb.stream_health import StreamConsumerStatus

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


class Health(HealthView):
    """The API is up. Local runs (`make serve`) add how their in-process stream consumer is doing."""

    stream_consumer: StreamConsumerStatus | None = None


# What the document says in place of a handler's body: make serve's health check says more.
LOCAL_BODIES: dict[type[BaseModel], type[BaseModel]] = {HealthView: Health}
# Nulls the models let through but the service refuses (400): the document says what the API accepts.
REFUSED_NULLS: dict[type[BaseModel], tuple[str, ...]] = {
    draft_commands.UpdateFlowRequest: draft_commands.NOT_NULLABLE_ON_UPDATE,
    rollout_commands.RolloutRequest: rollout_commands.ROLLOUT_SETTINGS,
    publish_commands.PlanStepRequest: publish_commands.PLAN_STEP_MOVES,
}
STRING = {"type": "string"}
# Runtime reads may be kept by a cache, which must ask again (If-None-Match) before using them.
NO_CACHE = {"description": "no-cache", "schema": STRING}
HEADERS: dict[str, dict[str, Any]] = {
    "X-Tenant-Id": {"required": True, "description": "The credential's tenant (403 otherwise)", "schema": STRING},
    "If-Match": {"description": 'The flow\'s ETag, e.g. "3": write only at that rowVersion (409)', "schema": STRING},
    "If-None-Match": {
        "description": 'An ETag of an earlier answer, e.g. "df_…:3": 304 with no body while it is still what is served',
        "schema": STRING,
    },
    "Idempotency-Key": {
        "description": "A retry with the same key and body gets the first response again (kept 24 h)",
        "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH},
    },
}


# Operations are tagged by route family: the path's segment after FLOWS, some grouped under one name.
TAG_OF_SEGMENT = {
    "": "flows",
    "publish": "releases",
    "rollback": "releases",
    "versions": "releases",
    "diff": "compare",
    "validate": "compare",
    "live": "runtime",
}
TAG_DESCRIPTIONS = {
    "flows": "List, read, create, edit and delete flows",
    "releases": "Publish versions, read them, roll back",
    "compare": "Diff two states of a flow; validate a config without storing it",
    "rollout": "Steer a staged rollout (champion/challenger)",
    "history": "Change history, written by the stream consumer",
    "runtime": "What runtime callers execute",
    "health": "Whether the API is up",
}


def tag_of(path: str) -> str:
    if not path.startswith(FLOWS):
        return path.rstrip("/").rsplit("/", 1)[-1]  # /api/v1/health: health
    segment = path.removeprefix(FLOWS).strip("/").split("/")[0]
    return TAG_OF_SEGMENT.get(segment, segment)


@dataclass(frozen=True)
class Declared:
    function: str  # the template function whose handler module states the route
    route: Route


class RouteMismatch(LookupError):
    """The handlers' routes and template.yaml's disagree: which exist, who serves them, who may call them."""


def declared_routes() -> dict[tuple[str, str], Declared]:
    """Every Route the handler modules of template.yaml's API functions state."""
    found: dict[tuple[str, str], Declared] = {}
    for function in sorted({route.function for route in template.path_routes()}):
        for route in declared(template.handler_module(function)):
            if route.key in found:
                raise RouteMismatch(
                    f"{route.method} {route.path} is stated by {found[route.key].function} and {function}"
                )
            found[route.key] = Declared(function, route)
    return found


def check(routes: list[template.TemplateRoute], stated: dict[tuple[str, str], Declared]) -> None:
    """The $default route is no operation (it answers 404 and 405), so no handler states it."""
    routed = {(route.method, route.path): route for route in routes if route.path != template.DEFAULT_ROUTE}
    problems = [
        f"template.yaml routes {m} {p} to {routed[m, p].function}, whose handler states no Route for it"
        for m, p in routed.keys() - stated.keys()
    ]
    problems += [
        f"{stated[m, p].function}'s handler states {m} {p}, which template.yaml does not route"
        for m, p in stated.keys() - routed.keys()
    ]
    for key in routed.keys() & stated.keys():
        route, declaration = routed[key], stated[key]
        if route.function != declaration.function:
            problems.append(
                f"{key[0]} {key[1]}: template.yaml routes it to {route.function}, {declaration.function} states it"
            )
        if (route.authorizer is None) != (declaration.route.role is None):
            role = declaration.route.role.name.lower() if declaration.route.role else None
            problems.append(f"{key[0]} {key[1]}: role {role} but authorizer {route.authorizer}")
    if problems:
        raise RouteMismatch("; ".join(sorted(problems)))


@cache
def operations() -> dict[tuple[str, str], Route]:
    """The API's routes, as their handlers state them, once checked against template.yaml."""
    stated = declared_routes()
    check(template.routes(), stated)
    return {key: declaration.route for key, declaration in stated.items()}


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
    operation_id = {(route.method, route.path): route.event for route in template.path_routes()}
    ops = operations().values()
    wanted: list[tuple[type[BaseModel], JsonSchemaMode]] = [(op.body, "validation") for op in ops if op.body]
    wanted += [(model, "validation") for op in ops for model in op.query]
    wanted += [(_documented(model), "serialization") for op in ops for models in _ok(op).values() for model in models]
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
    for (method, path), op in operations().items():
        headers = (("X-Tenant-Id",) if op.role else ()) + op.headers
        item: dict[str, Any] = {
            "operationId": operation_id[method, path],
            "tags": [tag_of(path)],
            "summary": op.summary,
            "description": f"Minimum role: {op.role.name.lower()}." if op.role else "No credentials.",
            "parameters": _query(op, query_schemas) + [{"name": h, "in": "header", **HEADERS[h]} for h in headers],
            "responses": {str(status): _success(status, models, refs) for status, models in _ok(op).items()}
            | {str(status): _problem(status, refs) for status in _errors(op)},
        }
        if op.body:
            item["requestBody"] = {"required": True, "content": {JSON: {"schema": refs[op.body, "validation"]}}}
        if op.role is None:
            item["security"] = []
        paths.setdefault(path, {})[method.lower()] = item
    bearer = {"type": "http", "scheme": "bearer", "description": "An API key (sk_live_…, sk_test_…) or a JWT"}
    tags = sorted({tag for item in paths.values() for operation in item.values() for tag in operation["tags"]})
    return {
        "openapi": "3.1.0",
        "info": {"title": "Decision Flows API", "version": version("decision-flows")},
        "tags": [
            {"name": tag, **({"description": TAG_DESCRIPTIONS[tag]} if tag in TAG_DESCRIPTIONS else {})} for tag in tags
        ],
        "paths": paths,
        "components": {"schemas": dict(sorted(schemas.items())), "securitySchemes": {"bearer": bearer}},
        "security": [{"bearer": []}],
    }


def _ok(op: Route) -> dict[int, tuple[type[BaseModel], ...]]:
    """The route's answers; a route that takes ``"dryRun": true`` may also answer its preview."""
    return {**op.ok, 200: (*op.ok[200], DryRunView)} if op.dry_run else dict(op.ok)


def _documented(model: type[BaseModel]) -> type[BaseModel]:
    return LOCAL_BODIES.get(model, model)


def _query(op: Route, query_schemas: dict[type[BaseModel], JsonSchemaValue]) -> list[dict[str, Any]]:
    """A query value is a string or absent, never null: the query models' ``X | None`` means absent."""
    found: dict[str, dict[str, Any]] = {}
    for model in op.query:
        for name, schema in query_schemas[model]["properties"].items():
            required = all(name in query_schemas[other].get("required", ()) for other in op.query)
            found.setdefault(name, {"name": name, "in": "query", "required": required, "schema": _not_null(schema)})
    return list(found.values())


def _errors(op: Route) -> list[int]:
    statuses = {*op.errors, *([400] if op.body or op.query else []), *([413, 415] if op.body else [])}
    # The gate of every authorized route: credential, tenant and role, rate limit, DynamoDB throttling.
    return sorted(statuses | ({401, 403, 429, 503} if op.role else set()))


def _success(status: int, models: tuple[type[BaseModel], ...], refs: dict[Any, Any]) -> dict[str, Any]:
    response: dict[str, Any] = {"description": HTTPStatus(status).phrase}
    if schemas := [refs[_documented(model), "serialization"] for model in models]:
        # anyOf, not oneOf: the query, not the body, says which one comes, and the views admit extra fields.
        response["content"] = {JSON: {"schema": schemas[0] if len(schemas) == 1 else {"anyOf": schemas}}}
    if FlowView in models:
        headers = {"ETag": {"description": 'With one flow: its rowVersion, e.g. "3"', "schema": STRING}}
        if status == HTTPStatus.CREATED:
            headers["Location"] = {"description": "The new flow's URL", "schema": STRING}
        return response | {"headers": headers}
    if LiveStateView in models:
        state = {"description": 'The whole live state, e.g. "df_…:3:4:2500:1f0c…" (docs/API.md)', "schema": STRING}
        return response | {"headers": {"ETag": state, "Cache-Control": NO_CACHE}}
    if LiveView in models or status == HTTPStatus.NOT_MODIFIED:
        what = "The ETag the request named, still current" if status == HTTPStatus.NOT_MODIFIED else None
        served = {"description": what or 'The flow and version served, e.g. "df_…:3"', "schema": STRING}
        return response | {"headers": {"ETag": served, "Cache-Control": NO_CACHE}}
    return response


def _problem(status: int, refs: dict[Any, Any]) -> dict[str, Any]:
    content = {PROBLEM: {"schema": refs[Problem, "serialization"]}}
    description = HTTPStatus(status).phrase
    if status == HTTPStatus.UNAUTHORIZED:
        # A client generator reads one media type of a response, whichever it meets first: each must
        # admit both bodies, or a generated client crashes on the gateway's own 401.
        either = {"oneOf": [refs[Problem, "serialization"], refs[GatewayMessage, "serialization"]]}
        content = {PROBLEM: {"schema": either}, JSON: {"schema": either}}
        description += (
            ": problem details (application/problem+json), or API Gateway's own"
            ' {"message": "Unauthorized"} (application/json) when Authorization or X-Tenant-Id is missing'
        )
    response: dict[str, Any] = {"description": description, "content": content}
    if status in (HTTPStatus.TOO_MANY_REQUESTS, HTTPStatus.SERVICE_UNAVAILABLE):
        response["headers"] = {"Retry-After": {"description": "Seconds to wait", "schema": STRING}}
    if status == HTTPStatus.UNAUTHORIZED:
        challenge = {"description": "Bearer, on the handlers' problem details (not the gateway's own)"}
        response["headers"] = {"WWW-Authenticate": {**challenge, "schema": STRING}}
    return response
