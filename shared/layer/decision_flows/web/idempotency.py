"""``Idempotency-Key`` on create, publish and rollback, with Powertools' idempotency utility.

A retry with the same key and body gets the first response back and changes nothing; the same key
with another body is 422. The key is scoped by tenant and operation, so tenants cannot collide.
Powertools keeps an INPROGRESS lock while the first request runs and forgets the key if that
request fails, so a failed request can be retried with the same key.

The stored response leaves out ``draftConfig``: a config near its 300 KB limit, JSON-escaped once
more inside the record, would not fit DynamoDB's 400 KB item. A replay puts it back from where it
came from (the request itself, or the published snapshot), which each route says with ``restore``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2
from pydantic import BaseModel

from decision_flows.dal.client import dynamodb_client
from decision_flows.dal.errors import unavailable
from decision_flows.domain.errors import Conflict, InvalidRequest, Unprocessable
from decision_flows.models.identity import Identity
from decision_flows.observability import count, logger
from decision_flows.settings import settings

IDEMPOTENCY_HEADER = "idempotency-key"
MAX_KEY_LENGTH = 255
RESPONSES_KEPT_SECONDS = 24 * 3600

Runner = Callable[..., dict[str, Any]]


ConfigSource = Callable[[dict[str, Any]], Any]


def idempotent(
    event: APIGatewayProxyEventV2,
    identity: Identity,
    request: BaseModel,
    lambda_context: Any,
    produce: Callable[[], Response[str]],
    restore_config: ConfigSource,
) -> Response[str]:
    """Run ``produce`` once per (tenant, operation, Idempotency-Key); ``request`` and If-Match must match.

    The validated request, not the raw body, is compared, so key order and whitespace do not matter.
    ``restore_config`` gives a replayed response's ``draftConfig`` back from the response body.
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
        IdempotencyPersistenceLayerError,
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
        "ifMatch": event.headers.get("if-match"),
    }
    first_run: list[Response[str]] = []

    def produce_and_keep() -> dict[str, Any]:
        response = produce()
        first_run.append(response)
        return _storable(response)

    try:
        stored = runner(request=record, produce=produce_and_keep)
    except IdempotencyValidationError:
        raise Unprocessable(
            "IDEMPOTENCY_KEY_REUSED", "This Idempotency-Key was already used with a different request body."
        ) from None
    except IdempotencyAlreadyInProgressError:
        raise Conflict("IDEMPOTENCY_IN_PROGRESS", "A request with this Idempotency-Key is still in progress.") from None
    except IdempotencyPersistenceLayerError as error:
        if first_run:
            # The write landed and only storing its response failed: answer it. A 503 would invite a
            # retry, which meets the INPROGRESS record (409) until it expires and then writes again.
            logger.warning("Idempotency-Key response not stored", exc_info=error)
            return first_run[0]
        cause = error.__cause__
        refusal = unavailable(cause) if isinstance(cause, Exception) else None
        if refusal is None:
            raise
        raise refusal from error
    if first_run:
        return first_run[0]
    count("IdempotentReplays")
    body = json.loads(stored["body"])
    if stored.get("configOmitted"):
        body["draftConfig"] = restore_config(body)
    return Response(stored["status"], stored["contentType"], json.dumps(body, ensure_ascii=False), stored["headers"])


def _storable(response: Response[str]) -> dict[str, Any]:
    body = json.loads(response.body or "null")
    omitted = isinstance(body, dict) and body.pop("draftConfig", None) is not None
    return {
        "status": response.status_code,
        "contentType": response.headers.get("Content-Type"),
        "body": json.dumps(body, ensure_ascii=False),
        "configOmitted": omitted,
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

    persistence = DynamoDBPersistenceLayer(table_name=settings().idempotency_table, boto3_client=dynamodb_client())
    config = IdempotencyConfig(
        event_key_jmespath="[tenantId, operation, key]",
        payload_validation_jmespath="[body, ifMatch]",
        expires_after_seconds=RESPONSES_KEPT_SECONDS,
        raise_on_no_idempotency_key=True,
    )

    @idempotent_function(data_keyword_argument="request", persistence_store=persistence, config=config)  # type: ignore[untyped-decorator]
    def run(request: dict[str, Any], produce: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        return produce()

    return run, config
