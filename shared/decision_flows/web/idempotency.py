"""``Idempotency-Key`` on create, publish and rollback, with Powertools' idempotency utility.

A retry with the same key and body gets the first response back and changes nothing; the same key
with another body is 422. The key is scoped by tenant and operation, so tenants cannot collide.
Powertools keeps an INPROGRESS lock while the first request runs and forgets the key if that
request fails, so a failed request can be retried with the same key.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import cache
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2
from pydantic import BaseModel

from decision_flows.dal.client import dynamodb_client
from decision_flows.domain.errors import Conflict, InvalidRequest, Unprocessable
from decision_flows.models.identity import Identity

IDEMPOTENCY_HEADER = "idempotency-key"
MAX_KEY_LENGTH = 255
RESPONSES_KEPT_SECONDS = 24 * 3600

Runner = Callable[..., dict[str, Any]]


def idempotent(
    event: APIGatewayProxyEventV2,
    identity: Identity,
    request: BaseModel,
    lambda_context: Any,
    produce: Callable[[], Response[str]],
) -> Response[str]:
    """Run ``produce`` once per (tenant, operation, Idempotency-Key); ``request`` is what must match.

    The validated request, not the raw body, is compared, so key order and whitespace do not matter.
    """
    key = event.headers.get(IDEMPOTENCY_HEADER)
    if key is None:
        return produce()
    if not 1 <= len(key) <= MAX_KEY_LENGTH or not key.isprintable():
        raise InvalidRequest(
            "INVALID_IDEMPOTENCY_KEY", f"Idempotency-Key must be 1-{MAX_KEY_LENGTH} printable characters."
        )
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
        IdempotencyValidationError,
    )

    runner, config = _runner()
    if hasattr(lambda_context, "get_remaining_time_in_millis"):
        config.register_lambda_context(lambda_context)
    record = {
        "tenantId": identity.tenant_id,
        "operation": type(request).__name__,
        "key": key,
        "body": request.model_dump(mode="json", by_alias=True),
    }
    try:
        stored = runner(request=record, produce=lambda: _storable(produce()))
    except IdempotencyValidationError:
        raise Unprocessable(
            "IDEMPOTENCY_KEY_REUSED", "This Idempotency-Key was already used with a different request body."
        ) from None
    except IdempotencyAlreadyInProgressError:
        raise Conflict("IDEMPOTENCY_IN_PROGRESS", "A request with this Idempotency-Key is still in progress.") from None
    return Response(stored["status"], stored["contentType"], stored["body"], stored["headers"])


def _storable(response: Response[str]) -> dict[str, Any]:
    return {
        "status": response.status_code,
        "contentType": response.headers.get("Content-Type"),
        "body": response.body,
        "headers": {name: value for name, value in response.headers.items() if name != "Content-Type"},
    }


@cache
def _runner() -> tuple[Runner, Any]:
    """Built on first use: the persistence layer creates a boto3 client, which import must not."""
    from aws_lambda_powertools.utilities.idempotency import (
        DynamoDBPersistenceLayer,
        IdempotencyConfig,
        idempotent_function,
    )

    persistence = DynamoDBPersistenceLayer(
        table_name=os.environ["IDEMPOTENCY_TABLE_NAME"], boto3_client=dynamodb_client()
    )
    config = IdempotencyConfig(
        event_key_jmespath="[tenantId, operation, key]",
        payload_validation_jmespath="body",
        expires_after_seconds=RESPONSES_KEPT_SECONDS,
        raise_on_no_idempotency_key=True,
    )

    @idempotent_function(data_keyword_argument="request", persistence_store=persistence, config=config)  # type: ignore[untyped-decorator]
    def run(request: dict[str, Any], produce: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        return produce()

    return run, config
