"""template.yaml, read with SAM's own YAML loader: the tables, functions and routes the tests use.

Nothing here repeats the template: table definitions, handlers and routes all come from it.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cache, wraps
from pathlib import Path
from types import ModuleType
from typing import Any

from samtranslator.yaml_helper import yaml_parse

# shared/local/decision_flows_local/template.py -> the checkout that holds template.yaml
ROOT = Path(__file__).resolve().parents[3]
TEMPLATE = ROOT / "template.yaml"
# What CreateTable accepts of an AWS::DynamoDB::Table's properties; the rest is set by other calls.
_CREATE_TABLE_PROPERTIES = (
    "AttributeDefinitions",
    "KeySchema",
    "GlobalSecondaryIndexes",
    "BillingMode",
)


# An HttpApi event without Path and Method is the API's $default route: any method, any path no
# other route takes (SAM's rule).
DEFAULT_ROUTE, ANY_METHOD = "$default", "ANY"


@dataclass(frozen=True)
class TemplateRoute:
    method: str  # upper case; ANY_METHOD for any
    path: str  # DEFAULT_ROUTE for the $default route
    function: str
    authorizer: str | None = None
    event: str = ""  # the function's event name in the template, e.g. CreateFlow

    @property
    def route_key(self) -> str:
        """API Gateway's name for the route, which its events carry as ``routeKey``."""
        return DEFAULT_ROUTE if self.path == DEFAULT_ROUTE else f"{self.method} {self.path}"


@dataclass(frozen=True)
class Authorizer:
    function: str
    identity_headers: tuple[str, ...]


@cache
def template() -> dict[str, Any]:
    parsed: dict[str, Any] = yaml_parse(TEMPLATE.read_text())
    return parsed


def resources(kind: str) -> dict[str, dict[str, Any]]:
    return {name: body for name, body in template()["Resources"].items() if body["Type"] == kind}


def table_names() -> dict[str, str]:
    """Logical id -> table name. The tests name each table after its logical id."""
    return {logical_id: logical_id for logical_id in resources("AWS::DynamoDB::Table")}


def create_tables(client: Any, existing: frozenset[str] = frozenset()) -> list[str]:
    """Create the template's tables that ``existing`` does not name; return the names created."""
    created = []
    for logical_id, body in resources("AWS::DynamoDB::Table").items():
        if logical_id in existing:
            continue
        properties = body["Properties"]
        client.create_table(
            TableName=logical_id,
            **{name: properties[name] for name in _CREATE_TABLE_PROPERTIES if name in properties},
            **_stream(properties),
        )
        client.get_waiter("table_exists").wait(TableName=logical_id, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
        if ttl := properties.get("TimeToLiveSpecification"):
            client.update_time_to_live(TableName=logical_id, TimeToLiveSpecification=ttl)
        created.append(logical_id)
    return created


def _stream(properties: dict[str, Any]) -> dict[str, Any]:
    """CloudFormation's StreamSpecification implies StreamEnabled; the API wants it spelled out."""
    if spec := properties.get("StreamSpecification"):
        return {"StreamSpecification": {"StreamEnabled": True, **spec}}
    return {}


def function_environment() -> dict[str, str]:
    """The Globals environment: a !Ref to a table becomes its local name, a !Ref to a parameter its
    default (e.g. RATE_LIMIT_PER_MINUTE); plus the plain strings a function sets for itself (e.g. the
    $default route's ROUTES), since the local runs hold every function in one process."""
    return {**_globals_environment(), **_functions_own_strings()}


def _functions_own_strings() -> dict[str, str]:
    found: dict[str, str] = {}
    for function, body in resources("AWS::Serverless::Function").items():
        variables = body["Properties"].get("Environment", {}).get("Variables", {})
        for name, value in variables.items():
            if not isinstance(value, str):
                continue  # a !Ref: a parameter with an empty default, set where the local runs need it
            if found.get(name, value) != value:
                raise ValueError(f"{function} sets {name} unlike another function: one process cannot hold both")
            found[name] = value
    return found


def _globals_environment() -> dict[str, str]:
    variables = template()["Globals"]["Function"]["Environment"]["Variables"]
    names = table_names()
    parameters = template().get("Parameters", {})
    resolved = {}
    for name, value in variables.items():
        if isinstance(value, dict) and "Ref" in value:
            ref = value["Ref"]
            value = names.get(ref, str(parameters.get(ref, {}).get("Default", "")) or None)
        if isinstance(value, str):
            resolved[name] = value
    return resolved


def routes() -> list[TemplateRoute]:
    found = []
    for function, body in resources("AWS::Serverless::Function").items():
        for name, event in body["Properties"].get("Events", {}).items():
            if event["Type"] != "HttpApi":
                continue
            properties = event["Properties"]
            api = template()["Resources"][properties["ApiId"]["Ref"]]["Properties"]
            authorizer = properties.get("Auth", {}).get("Authorizer", api.get("Auth", {}).get("DefaultAuthorizer"))
            authorizer = None if authorizer == "NONE" else authorizer
            method = str(properties.get("Method", ANY_METHOD)).upper()
            found.append(TemplateRoute(method, properties.get("Path", DEFAULT_ROUTE), function, authorizer, name))
    return found


def path_routes() -> list[TemplateRoute]:
    """Every route but $default: the API's operations, each a method on a path."""
    return [route for route in routes() if route.path != DEFAULT_ROUTE]


def authorizer(name: str) -> Authorizer:
    """An HTTP API Lambda authorizer: its function and the headers that are its identity sources."""
    for api in resources("AWS::Serverless::HttpApi").values():
        definition = api["Properties"].get("Auth", {}).get("Authorizers", {}).get(name)
        if definition:
            function = definition["FunctionArn"]["Fn::GetAtt"][0]
            return Authorizer(function, tuple(definition["Identity"]["Headers"]))
    raise LookupError(f"template.yaml has no authorizer {name}")


@cache
def handler_module(function: str) -> ModuleType:
    """Load a function's handler module from its CodeUri, as Lambda would (module ``app``)."""
    properties = resources("AWS::Serverless::Function")[function]["Properties"]
    module_name, _ = properties["Handler"].rsplit(".", 1)
    path = ROOT / properties["CodeUri"] / f"{module_name}.py"
    spec = importlib.util.spec_from_file_location(f"functions_{function}_{module_name}", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    with running_as(function):  # what its init does is the function's too
        spec.loader.exec_module(module)
    return module


_running_function: ContextVar[str | None] = ContextVar("running_function", default=None)


def running_function() -> str | None:
    """The template function whose handler this thread is running, if any (for whoever watches its
    calls, such as the tests that hold each function's DynamoDB calls against its IAM policies)."""
    return _running_function.get()


@contextmanager
def running_as(function: str) -> Iterator[None]:
    token = _running_function.set(function)
    try:
        yield
    finally:
        _running_function.reset(token)


def handler(function: str) -> Callable[[Any, Any], Any]:
    """The function's handler as Lambda would call it; ``running_function()`` names it meanwhile."""
    properties = resources("AWS::Serverless::Function")[function]["Properties"]
    entry: Callable[[Any, Any], Any] = getattr(handler_module(function), properties["Handler"].rsplit(".", 1)[1])

    @wraps(entry)
    def run(event: Any, context: Any) -> Any:
        with running_as(function):
            return entry(event, context)

    return run


@dataclass(frozen=True)
class StreamConsumer:
    """A DynamoDB stream event source mapping: which function reads which table's stream, and how."""

    function: str
    table: str
    batch_size: int
    maximum_retry_attempts: int
    starting_position: str


def stream_consumers() -> list[StreamConsumer]:
    found = []
    for function, body in resources("AWS::Serverless::Function").items():
        for event in body["Properties"].get("Events", {}).values():
            if event["Type"] != "DynamoDB":
                continue
            properties = event["Properties"]
            table, attribute = properties["Stream"]["Fn::GetAtt"]
            if attribute != "StreamArn":
                raise ValueError(f"{function}: a stream must be !GetAtt <table>.StreamArn")
            found.append(
                StreamConsumer(
                    function=function,
                    table=table,
                    batch_size=int(properties.get("BatchSize", 100)),
                    maximum_retry_attempts=int(properties.get("MaximumRetryAttempts", -1)),
                    starting_position=properties["StartingPosition"],
                )
            )
    return found
