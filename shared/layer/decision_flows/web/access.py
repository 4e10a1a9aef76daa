"""The gate every route passes: who is calling, within the tenant's rate limit, with the role."""

from __future__ import annotations

import time
from collections.abc import Callable

from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

from decision_flows.domain.errors import RateLimited
from decision_flows.models.identity import Identity, Role
from decision_flows.settings import settings
from decision_flows.web.identity import identify, require_role
from decision_flows.wiring import rate_limiter

# The rate limit's clock; tests set it to pin requests inside one window.
clock: Callable[[], float] = time.time


def guard(event: APIGatewayProxyEventV2, minimum: Role) -> Identity:
    """Identity first (401/403), then the rate limit (429: refused calls count too), then the role."""
    identity = identify(event)
    limit = settings().requests_per_minute
    if limit:
        wait = rate_limiter().admit(identity.tenant_id, limit, clock())
        if wait is not None:
            raise RateLimited(
                "RATE_LIMITED",
                f"Tenant {identity.tenant_id!r} made {limit} requests this minute; retry in {wait} s.",
                retry_after_seconds=wait,
            )
    require_role(identity, minimum)
    return identity
