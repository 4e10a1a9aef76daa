"""GET /api/v1/decision-flows/live?key=&subject= (the config runtime callers execute) and
GET /api/v1/decision-flows/live/state?key= (a key's whole live state), from the key's live pointer.

The runtime read path (web.runtime): one small read per request, configs and answers from memory once
this instance has built them, its own per-second budget, no DynamoDB write. It loads neither pydantic
nor the HTTP resolver at init; the routes' declarations, which the OpenAPI document reads, are in
ROUTES_DECLARED_IN, which this function never imports.
"""

from __future__ import annotations

from typing import Any

from decision_flows.startup import modules_loaded

from decision_flows import runtime_wiring
from decision_flows.observability import instrumented
from decision_flows.web import runtime

ROUTES_DECLARED_IN = "decision_flows.web.live_routes"
# Validated at import: Lambda's init phase fails on a missing or malformed variable.
runtime_wiring.settings()


def _answer(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return runtime.answer(
        event, runtime_wiring.runtime_reads(), runtime_wiring.runtime_budget(), runtime_wiring.response_bodies()
    )


lambda_handler = instrumented(_answer)

# Init ends here: the collector runs again (decision_flows/startup.py).
modules_loaded()
