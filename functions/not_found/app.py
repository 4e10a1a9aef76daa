"""The $default route: problem details for every request no route of template.yaml takes (404, or
405 with Allow). Reads no DynamoDB and loads neither boto3 nor Powertools: an invocation costs little."""

from __future__ import annotations

import os
from typing import Any

from decision_flows.startup import modules_loaded

from decision_flows.web.unrouted import ROUTES_VARIABLE, answer, parse_routes

# Read at init: a missing or malformed variable fails the cold start, not every request.
ROUTES = parse_routes(os.environ[ROUTES_VARIABLE])


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return answer(event, ROUTES)


# Init ends here: the collector runs again (decision_flows/startup.py).
modules_loaded()
