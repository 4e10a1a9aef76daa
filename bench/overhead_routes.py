"""The routes the overhead benchmark measures: each with the one request its samples repeat, the
real function that serves it, and the floor's handler for it (bench/baseline/)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bench.baseline import handlers as baseline
from bench.inprocess_store import Seeded
from bench.support import BASE
from decision_flows_local import gateway, template
from tests.support.configs import v2_config

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


@dataclass(frozen=True)
class Route:
    name: str
    method: str
    path: str
    baseline: Handler
    query: dict[str, str] | None = None
    body: dict[str, Any] | None = None

    @property
    def writes(self) -> bool:
        return self.method != "GET"

    def event(self, caller: gateway.Caller) -> dict[str, Any]:
        """The event API Gateway sends once the authorizer has admitted ``caller``."""
        return gateway.build_event(self.method, self.path, caller=caller, query=self.query, body=self.body)

    def real_handler(self) -> Handler:
        handler: Handler = template.handler(gateway.function_for(self.method, self.path))
        return handler


def routes(flow: Seeded) -> list[Route]:
    """The routes a user calls most, on the seeded flow."""
    flow_id = flow.flow_id
    edited = v2_config("edited", extra_nodes=8)
    return [
        Route("GET one flow", "GET", BASE, baseline.get_flow, {"id": flow_id}),
        Route("GET list", "GET", BASE, baseline.list_flows),
        Route(
            "GET versions (page of 20)",
            "GET",
            f"{BASE}/versions",
            baseline.list_versions,
            {"id": flow_id, "limit": "20"},
        ),
        Route("GET one version", "GET", f"{BASE}/versions", baseline.get_version, {"id": flow_id, "version": "12"}),
        Route("GET history", "GET", f"{BASE}/history", baseline.history, {"id": flow_id}),
        Route("GET live", "GET", f"{BASE}/live", baseline.live, {"key": flow.key}),
        Route("PUT update draft", "PUT", BASE, baseline.update_draft, body={"id": flow_id, "draftConfig": edited}),
        # Publishing an unchanged draft is allowed: every sample publishes the same draft as the next version.
        Route("POST publish", "POST", f"{BASE}/publish", baseline.publish, body={"id": flow_id, "notes": "bench"}),
        # Version 1 is never the live one here, so no sample is refused as ALREADY_ACTIVE.
        Route("POST rollback", "POST", f"{BASE}/rollback", baseline.rollback, body={"id": flow_id, "version": 1}),
    ]
