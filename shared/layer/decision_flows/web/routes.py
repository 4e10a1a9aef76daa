"""A route's promises, stated once beside its handler: method, path, minimum role, models, statuses,
headers (Idempotency-Key: the handler answers through ``Route.once``) and the metric it counts.

The handler registers and guards itself through its ``Route`` and reads its body and query through
it; the OpenAPI document of ``make serve`` and the role tests read the same objects from the
handler modules that template.yaml names. Adding a route is its handler plus its template event.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any, Literal, NamedTuple, NotRequired, TypedDict, Unpack

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2
from pydantic import BaseModel

from decision_flows.models.identity import Identity, Role
from decision_flows.observability import Metric, count
from decision_flows.web import inputs
from decision_flows.web.access import guard

Method = Literal["GET", "POST", "PUT", "DELETE"]
Header = Literal["If-Match", "Idempotency-Key", "If-None-Match"]
Bodies = Mapping[int, tuple[type[BaseModel], ...]]  # status -> body; several bodies: any one of them
IF_MATCH: tuple[Header, ...] = ("If-Match",)
IDEMPOTENT: tuple[Header, ...] = ("If-Match", "Idempotency-Key")
# A change to one flow at its rowVersion: 404 without it, 409 on a stale rowVersion, 422 by its rules.
WRITE_ERRORS = (404, 409, 422)


class Facts(TypedDict):
    """What a builder (``Route.get``, ``Route.post``…) takes by keyword, besides path and summary."""

    role: Role | None
    ok: Bodies
    errors: NotRequired[tuple[int, ...]]
    body: NotRequired[type[BaseModel] | None]
    query: NotRequired[tuple[type[BaseModel], ...]]
    headers: NotRequired[tuple[Header, ...]]
    dry_run: NotRequired[bool]
    metric: NotRequired[Metric | None]


class Route(NamedTuple):
    method: Method
    path: str
    summary: str
    role: Role | None  # the minimum role; None only where template.yaml puts no authorizer
    ok: Bodies
    errors: tuple[int, ...] = ()  # the route's own; the document adds 400, 413, 415 and the gate's
    body: type[BaseModel] | None = None
    query: tuple[type[BaseModel], ...] = ()  # the handler reads one of them, by what the query holds
    headers: tuple[Header, ...] = ()  # with Idempotency-Key, the handler answers through ``once``
    dry_run: bool = False  # "dryRun": true answers a preview (200, web.views.dry_run.DryRunView) instead
    metric: Metric | None = None  # the business event a success counts (a replay counts IdempotentReplays)

    @classmethod
    def get(cls, path: str, summary: str, **facts: Unpack[Facts]) -> Route:
        return cls("GET", path, summary, **facts)

    @classmethod
    def post(cls, path: str, summary: str, **facts: Unpack[Facts]) -> Route:
        return cls("POST", path, summary, **facts)

    @classmethod
    def put(cls, path: str, summary: str, **facts: Unpack[Facts]) -> Route:
        return cls("PUT", path, summary, **facts)

    @classmethod
    def delete(cls, path: str, summary: str, **facts: Unpack[Facts]) -> Route:
        return cls("DELETE", path, summary, **facts)

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
        identity = guard(event, self.role)
        if "Idempotency-Key" in self.headers:
            inputs.idempotency_key(event)  # a malformed key is 400 on every call, dry runs included
        return identity

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

    def counted(self, response: Response[str]) -> Response[str]:
        """``response``, with the route's business event counted."""
        if self.metric is None:
            raise TypeError(f"{self.method} {self.path} declares no metric")
        count(self.metric)
        return response

    def once(
        self, app: APIGatewayHttpResolver, caller: Identity, request: BaseModel, write: Callable[[], Response[str]]
    ) -> Response[str]:
        """``write``'s response, run once per Idempotency-Key (a retry gets the first response back);
        counted under the route's metric, if it has one, when it runs, not when it is replayed."""
        if "Idempotency-Key" not in self.headers:
            raise TypeError(f"{self.method} {self.path} does not declare the Idempotency-Key header")
        # Imported here: the idempotency store is for the writing functions only, not every one's init.
        from decision_flows.web.idempotency import idempotent

        def run() -> Response[str]:
            response = write()
            return response if self.metric is None else self.counted(response)

        return idempotent(app.current_event, caller, request, app.lambda_context, run)


def declared(module: object) -> list[Route]:
    """The routes a handler module states, in the order it states them; a handler that keeps them
    out of its init names the module that states them instead (``ROUTES_DECLARED_IN``)."""
    if isinstance(elsewhere := getattr(module, "ROUTES_DECLARED_IN", None), str):
        module = importlib.import_module(elsewhere)
    return [value for value in vars(module).values() if isinstance(value, Route)]
