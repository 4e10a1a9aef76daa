"""``Idempotency-Key`` on create, publish, rollback and the rollout steps, with Powertools' idempotency utility.

A retry with the same key and body gets the first response back and changes nothing; the same key
with another body is 422. The key is scoped by tenant and operation, so tenants cannot collide.
Powertools keeps an INPROGRESS lock while the first request runs and forgets the key if that
request fails, so a failed request can be retried with the same key.

A replay is the first response, byte for byte, with ``Idempotent-Replayed: true`` added, even after
the flow changed or was deleted: nothing is rebuilt from the flow. The response is kept whole in the
record when it fits; a flow with a draft near its 300 KB limit, JSON-escaped once more inside the
record, would not fit DynamoDB's 400 KB item, so its ``draftConfig`` is kept apart by content
(``dal.replay_configs``: one more PutItem then, and one GetItem on its replay) and put back in place.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2
from pydantic import BaseModel

from decision_flows.domain import pipeline
from decision_flows.domain.errors import Conflict, StoreUnavailable, Unprocessable
from decision_flows.models.identity import Identity
from decision_flows.observability import Metric, count, logger
from decision_flows.once import built_once
from decision_flows.web import inputs
from decision_flows.wiring import idempotency_store, replay_configs, store_refusal

RESPONSES_KEPT_SECONDS = 24 * 3600

REPLAYED_HEADER = "Idempotent-Replayed"
# What a record may hold of the response, as Powertools stores it (JSON, ASCII-escaped), leaving room
# for the record's other attributes under DynamoDB's 400 KB item limit.
INLINE_BYTES = 350 * 1024
# Configs kept apart outlive the records naming them (DynamoDB's TTL deletes lazily, never early).
CONFIGS_KEPT_SECONDS = RESPONSES_KEPT_SECONDS + 3600

Runner = Callable[..., dict[str, Any]]


def idempotent(
    event: APIGatewayProxyEventV2,
    identity: Identity,
    request: BaseModel,
    lambda_context: Any,
    produce: Callable[[], Response[str]],
) -> Response[str]:
    """Run ``produce`` once per (tenant, operation, Idempotency-Key); ``request`` and If-Match must match.

    The validated request, not the raw body, is compared, so key order and whitespace do not matter.
    """
    key = _key_of(event, request)
    if key is None:
        return produce()
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
        return _storable(response, identity.tenant_id)

    stored = _run_once(record, lambda_context, produce_and_keep, landed=lambda: bool(first_run))
    if first_run:
        return first_run[0]
    return _replayed(stored, identity.tenant_id)


def _key_of(event: APIGatewayProxyEventV2, request: BaseModel) -> str | None:
    """The request's Idempotency-Key, if it sent one (400 unless well formed)."""
    key = inputs.idempotency_key(event)
    if key is None:
        return None
    draft = getattr(request, "draft_config", None)
    if draft is not None:
        # Refused as without the header (422), before the payload is serialised for its hash:
        # pydantic's serialiser gives up near 255 levels with a ValueError, a 500.
        pipeline.check_depth(draft)
    return key


def _run_once(
    record: dict[str, Any], lambda_context: Any, produce: Callable[[], dict[str, Any]], landed: Callable[[], bool]
) -> dict[str, Any]:
    """The stored first response (``{}`` when ``produce`` ran now: ``landed()``), Powertools' refusals
    as problems: 422 for another body under the key, 409 while the first request runs, 503."""
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
        IdempotencyPersistenceLayerError,
        IdempotencyValidationError,
    )

    runner, config = _runner()
    config.register_lambda_context(lambda_context)
    try:
        stored: dict[str, Any] = runner(request=record, produce=produce)
    except StoreUnavailable:
        if landed():  # the write landed, keeping its draft apart failed: answer it, as below
            logger.warning("Idempotency-Key response not stored: its draftConfig could not be kept")
            return {}
        raise
    except IdempotencyValidationError:
        raise Unprocessable(
            "IDEMPOTENCY_KEY_REUSED", "This Idempotency-Key was already used with a different request body."
        ) from None
    except IdempotencyAlreadyInProgressError:
        raise Conflict("IDEMPOTENCY_IN_PROGRESS", "A request with this Idempotency-Key is still in progress.") from None
    except IdempotencyPersistenceLayerError as error:
        if landed():
            # The write landed and only storing its response failed: answer it. A 503 would invite a
            # retry, which meets the INPROGRESS record (409) until it expires and then writes again.
            logger.warning("Idempotency-Key response not stored", exc_info=error)
            return {}
        refusal = _store_refusal(error)
        if refusal is None:
            raise
        raise refusal from error
    return stored


def _store_refusal(error: Exception) -> StoreUnavailable | None:
    """The store's refusal (503) when DynamoDB refused the persistence layer's call."""
    cause = error.__cause__
    return store_refusal(cause) if isinstance(cause, Exception) else None


def _replayed(stored: dict[str, Any], tenant_id: str) -> Response[str]:
    """The first response again, marked as a replay, its kept-apart ``draftConfig`` back in place."""
    count(Metric.IDEMPOTENT_REPLAYS)
    body = stored["body"]
    if digest := stored.get("draftConfigRef"):
        body = _with_kept_config(body, tenant_id, digest)
    return Response(stored["status"], stored["contentType"], body, stored["headers"] | {REPLAYED_HEADER: "true"})


def _storable(response: Response[str], tenant_id: str) -> dict[str, Any]:
    """What the record keeps of ``response``: all of it, unless that would not fit; then its
    ``draftConfig`` is kept apart and named by hash (``draftConfigRef``), its place left null."""
    stored: dict[str, Any] = {
        "status": response.status_code,
        "contentType": response.headers.get("Content-Type"),
        "body": response.body or "",
        "headers": {name: value for name, value in response.headers.items() if name != "Content-Type"},
    }
    if len(json.dumps(stored)) <= INLINE_BYTES:
        return stored
    body = json.loads(response.body or "null")
    if not isinstance(body, dict) or not isinstance(body.get("draftConfig"), dict):
        return stored  # nothing to keep apart: Powertools refuses it, and the first response is answered
    canonical = pipeline.canonical_json(body["draftConfig"])
    body["draftConfig"] = None
    until = int(time.time()) + CONFIGS_KEPT_SECONDS
    digest = replay_configs().keep(tenant_id, canonical, until)
    return stored | {"body": json.dumps(body, ensure_ascii=False), "draftConfigRef": digest}


def _with_kept_config(body: str, tenant_id: str, digest: str) -> str:
    """The first response's body again: its kept ``draftConfig`` back in its place. (The flow view's
    config is the parsed canonical JSON, so parsing and dumping as ``json_response`` did gives the
    same bytes.)"""
    config = replay_configs().get(tenant_id, digest)
    if config is None:  # expired or never stored: cannot happen before the record itself expires
        raise StoreUnavailable("STORE_BUSY", "The remembered response could not be read; retry shortly.")
    document = json.loads(body)
    document["draftConfig"] = json.loads(config)
    return json.dumps(document, ensure_ascii=False)


@built_once
def _runner() -> tuple[Runner, Any]:
    """Built on first use, as its persistence layer is."""
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function

    config = IdempotencyConfig(
        event_key_jmespath="[tenantId, operation, key]",
        payload_validation_jmespath="[body, ifMatch]",
        expires_after_seconds=RESPONSES_KEPT_SECONDS,
        raise_on_no_idempotency_key=True,
    )

    @idempotent_function(data_keyword_argument="request", persistence_store=idempotency_store(), config=config)  # type: ignore[untyped-decorator]
    def run(request: dict[str, Any], produce: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        return produce()

    return run, config
