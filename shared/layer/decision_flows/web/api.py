"""What every handler shares: the resolver with problem details wired in, the logger and metrics."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

from decision_flows.observability import logger, publish_metrics
from decision_flows.web import problems

__all__ = ["logger", "new_resolver", "publish_metrics"]


def new_resolver() -> APIGatewayHttpResolver:
    app = APIGatewayHttpResolver()
    problems.register(app)
    return app
