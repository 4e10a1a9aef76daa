"""decision-flows-client: the Decision Flows runtime client (standard library only).

from decision_flows_client import LiveClient

client = LiveClient("https://api.example.com", api_key="sk_live_…", tenant="acme")
decision = client.get("checkout-offers", subject="customer-42")
decision.version, decision.role, decision.config, decision.stale_seconds
"""

from __future__ import annotations

from decision_flows_client.client import LiveClient, __version__
from decision_flows_client.errors import (
    AuthenticationError,
    DecisionFlowsError,
    FlowNotFoundError,
    PermissionDeniedError,
    RequestRefusedError,
    ServiceUnavailableError,
)
from decision_flows_client.state import Decision, LiveState, MalformedStateError

__all__ = [
    "AuthenticationError",
    "Decision",
    "DecisionFlowsError",
    "FlowNotFoundError",
    "LiveClient",
    "LiveState",
    "MalformedStateError",
    "PermissionDeniedError",
    "RequestRefusedError",
    "ServiceUnavailableError",
    "__version__",
]
