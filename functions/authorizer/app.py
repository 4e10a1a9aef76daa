"""The HTTP API's Lambda authorizer (REQUEST, payload 2.0, simple responses).

Identity sources are Authorization and X-Tenant-Id, so API Gateway caches one decision per
credential and tenant. A refused credential is let through with ``authError`` in the context and
no identity: the handler then answers 401 or 403 as RFC 9457 problem details (an HTTP API's own
denial is a bare 403 with no way to say 401). Handlers admit nobody without an identity.

A key that could not be looked up (DynamoDB throttling or unreachable) is neither: it is let through
as ``STORE_BUSY`` with the time of the decision, and the handler answers 503 with ``Retry-After`` up
to when API Gateway's cached decision expires (an HTTP API caches every answer for the same time).
"""

from __future__ import annotations

import os
import time
from functools import cache
from typing import TYPE_CHECKING, Any

from decision_flows.startup import modules_loaded

from decision_flows.dal.client import dynamodb_client
from decision_flows.dal.key_grants import KeyGrants
from decision_flows.domain.authentication import AuthFailure, authenticate
from decision_flows.domain.tokens import JwtSettings, JwtVerifier
from decision_flows.environment import table_name
from decision_flows.observability import logger

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

# No pydantic on this path (it runs before every uncached request: docs/PERFORMANCE.md). Read at init,
# so a missing or malformed variable fails the cold start.
API_KEYS_TABLE = table_name("API_KEYS_TABLE_NAME")


@cache
def api_keys() -> KeyGrants:
    return KeyGrants(dynamodb_client(), API_KEYS_TABLE)


@cache
def jwt_verifier() -> JwtVerifier:
    return JwtVerifier(JwtSettings.from_environment(os.environ))


# Built at init too: a JWKS without its issuer or audience fails the cold start, not every request.
jwt_verifier()


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    headers = {name.lower(): value for name, value in (event.get("headers") or {}).items()}
    result = authenticate(headers.get("authorization"), headers.get("x-tenant-id"), api_keys(), jwt_verifier())
    if result.identity is None:
        logger.info("credential refused", extra={"failure": result.failure})
        refusal: dict[str, str | int] = {"authError": str(result.failure)}
        if result.failure == AuthFailure.STORE_BUSY:  # when the gateway's cached copy of it expires matters
            refusal["decidedAt"] = int(time.time())
        return {"isAuthorized": True, "context": refusal}
    identity = result.identity
    return {
        "isAuthorized": True,
        "context": {
            "tenantId": identity.tenant_id,
            "role": identity.role.name.lower(),
            "principal": identity.principal,
        },
    }


# Init ends here: the collector runs again (decision_flows/startup.py).
modules_loaded()
