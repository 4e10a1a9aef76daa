"""The HTTP API's Lambda authorizer (REQUEST, payload 2.0, simple responses).

Identity sources are Authorization and X-Tenant-Id, so API Gateway caches one decision per
credential and tenant. A refused credential is let through with ``authError`` in the context and
no identity: the handler then answers 401 or 403 as RFC 9457 problem details (an HTTP API's own
denial is a bare 403 with no way to say 401). Handlers admit nobody without an identity.
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from decision_flows.dal.api_keys import ApiKeyRepository
from decision_flows.dal.client import dynamodb_client
from decision_flows.domain.authentication import authenticate
from decision_flows.domain.tokens import JwtSettings, JwtVerifier
from decision_flows.settings import settings

logger = Logger()
settings()  # validated at init: a missing or malformed variable fails the cold start


@cache
def api_keys() -> ApiKeyRepository:
    return ApiKeyRepository(dynamodb_client(), settings().api_keys_table)


@cache
def jwt_verifier() -> JwtVerifier:
    return JwtVerifier(JwtSettings.model_validate({k: v for k, v in os.environ.items() if v}))


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    headers = {name.lower(): value for name, value in (event.get("headers") or {}).items()}
    result = authenticate(headers.get("authorization"), headers.get("x-tenant-id"), api_keys(), jwt_verifier())
    if result.identity is None:
        logger.info("credential refused", extra={"failure": result.failure})
        return {"isAuthorized": True, "context": {"authError": str(result.failure)}}
    identity = result.identity
    return {
        "isAuthorized": True,
        "context": {
            "tenantId": identity.tenant_id,
            "role": identity.role.name.lower(),
            "principal": identity.principal,
        },
    }
