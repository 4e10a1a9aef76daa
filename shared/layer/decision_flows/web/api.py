"""What every handler shares: the resolver with problem details wired in, and its Lambda entry point."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

from decision_flows.observability import Handler, instrumented
from decision_flows.web import problems

__all__ = ["entrypoint", "new_resolver"]


def new_resolver() -> APIGatewayHttpResolver:
    app = APIGatewayHttpResolver()
    problems.register(app)
    return app


def entrypoint(app: APIGatewayHttpResolver) -> Handler:
    """The function's ``lambda_handler``: ``app`` resolves the event (observability.instrumented)."""

    def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return app.resolve(event, context)

    return instrumented(lambda_handler)
