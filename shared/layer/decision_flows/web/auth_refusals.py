"""The refusal a request gets when the authorizer refused its credential (``authError`` in the
authorizer's context): it lets such requests through so that they get problem details, 401, 403 or
503, rather than an HTTP API's bare 403. Standard library only, for the $default route's function too.

A key that could not be looked up (``STORE_BUSY``) comes with the time of the decision: API Gateway
serves that cached decision until it expires, so the 503's ``Retry-After`` counts down to then."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from decision_flows.domain.errors import DomainError, Forbidden, Unauthenticated, store_busy_at_authentication

# template.yaml's ReauthorizeEvery: how long API Gateway keeps an authorizer's answer (a test holds
# the two equal).
AUTHORIZER_CACHE_SECONDS = 60
# The clock the cached decision's age is read with; tests set it.
clock: Callable[[], float] = time.time


def tenant_mismatch() -> Forbidden:
    return Forbidden("TENANT_MISMATCH", "The credential does not belong to the tenant in X-Tenant-Id.")


def refusal(auth_error: str, decided_at: object = None) -> DomainError:
    if auth_error == "STORE_BUSY":
        return store_busy_at_authentication(_until_decision_expires(decided_at))
    if auth_error == "TENANT_MISMATCH":
        return tenant_mismatch()
    return Unauthenticated("UNAUTHENTICATED", "The credential is missing, unknown, revoked or expired.")


def _until_decision_expires(decided_at: object) -> int:
    """Seconds until API Gateway asks the authorizer again: retrying sooner meets the cached refusal."""
    try:
        remaining = int(str(decided_at)) + AUTHORIZER_CACHE_SECONDS - clock()
    except ValueError:
        remaining = AUTHORIZER_CACHE_SECONDS
    return max(1, min(AUTHORIZER_CACHE_SECONDS, math.ceil(remaining)))
