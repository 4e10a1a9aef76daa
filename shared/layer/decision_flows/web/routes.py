"""A route's promises, stated once beside its handler: method, path, minimum role, models, statuses.

The handler registers and guards itself through its ``Route`` and reads its body and query through
it; the OpenAPI document of ``make serve`` and the role tests read the same objects from the
handler modules that template.yaml names. Adding a route is its handler plus its template event.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2
from pydantic import BaseModel

from decision_flows.models.identity import Identity, Role
from decision_flows.web import inputs
from decision_flows.web.access import guard
from decision_flows.web.views.flows import FlowView

Method = Literal["GET", "POST", "PUT", "DELETE"]
Header = Literal["If-Match", "Idempotency-Key", "If-None-Match"]
IF_MATCH: tuple[Header, ...] = ("If-Match",)
IDEMPOTENT: tuple[Header, ...] = ("If-Match", "Idempotency-Key")


@dataclass(frozen=True)
class Route:
    method: Method
    path: str
    summary: str
    role: Role | None  # the minimum role; None only where template.yaml puts no authorizer
    ok: Mapping[int, tuple[type[BaseModel], ...]]  # status -> body; several bodies: any one of them
    errors: tuple[int, ...] = ()  # the route's own; the document adds 400, 413, 415 and the gate's
    body: type[BaseModel] | None = None
    query: tuple[type[BaseModel], ...] = ()  # the handler reads one of them, by what the query holds
    headers: tuple[Header, ...] = ()
    dry_run: bool = False  # "dryRun": true answers a preview (200, web.views.compare.DryRunView) instead

    @property
    def key(self) -> tuple[str, str]:
        return self.method, self.path

    def handles(self, app: APIGatewayHttpResolver) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Register the decorated function as this route's handler on ``app``."""
        return app.route(self.path, method=self.method)

    def admit(self, event: APIGatewayProxyEventV2) -> Identity:
        """The caller, once identified, within the rate limit and at least of this route's role."""
        if self.role is None:
            raise TypeError(f"{self.method} {self.path} takes no credentials: there is no one to admit")
        return guard(event, self.role)

    def read_body[M: BaseModel](self, event: APIGatewayProxyEventV2, model: type[M]) -> M:
        if model is not self.body:
            declared_body = self.body.__name__ if self.body else "no body"
            raise TypeError(f"{self.method} {self.path} declares {declared_body}, not {model.__name__}")
        return inputs.body(event, model)

    def if_match(self, event: APIGatewayProxyEventV2) -> int | None:
        """The rowVersion the caller's If-Match names, if any (None: write at whatever rowVersion)."""
        if "If-Match" not in self.headers:
            raise TypeError(f"{self.method} {self.path} does not declare the If-Match header")
        return inputs.if_match(event)

    def header(self, event: APIGatewayProxyEventV2, name: Header) -> str | None:
        """A request header the route declares (API Gateway hands them over lower-cased)."""
        if name not in self.headers:
            raise TypeError(f"{self.method} {self.path} does not declare the {name} header")
        return event.headers.get(name.lower())

    def read_query[M: BaseModel](self, event: APIGatewayProxyEventV2, model: type[M]) -> M:
        if model not in self.query:
            raise TypeError(f"{self.method} {self.path} does not declare the query {model.__name__}")
        return inputs.parse(model, inputs.query(event))


def reading(path: str, summary: str, role: Role, bodies: tuple[type[BaseModel], ...], *query: type[BaseModel]) -> Route:
    """A GET of what its query names: 404 when that does not exist."""
    return Route("GET", path, summary, role, {200: bodies}, (404,), query=query)


def changing(
    method: Method,
    path: str,
    summary: str,
    role: Role,
    body: type[BaseModel],
    headers: tuple[Header, ...],
    *,
    dry_run: bool = False,
) -> Route:
    """A change to one flow at its rowVersion, answered with the flow: 404 without it, 409 on a stale
    rowVersion, 422 by the flow's rules. With ``dry_run``, ``"dryRun": true`` answers a preview instead."""
    ok: dict[int, tuple[type[BaseModel], ...]] = {200: (FlowView,)}
    return Route(method, path, summary, role, ok, (404, 409, 422), body=body, headers=headers, dry_run=dry_run)


def declared(module: object) -> list[Route]:
    """The routes a handler module states, in the order it states them."""
    return [value for value in vars(module).values() if isinstance(value, Route)]
