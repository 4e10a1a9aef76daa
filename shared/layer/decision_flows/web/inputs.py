"""Turning an HTTP request's body, query and headers into the pydantic models the domain takes."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2
from pydantic import BaseModel, ValidationError

from decision_flows.domain.errors import FieldProblem, InvalidRequest, PayloadTooLarge
from decision_flows.web.etags import matches as matches  # the management routes' name for it
from decision_flows.web.problems import UnsupportedMediaType

# Room for a config at its 300 KB limit plus the body's other fields and JSON escaping.
MAX_BODY_BYTES = 1024 * 1024


def raw_body(event: APIGatewayProxyEventV2) -> bytes:
    body = event.body or ""
    if event.is_base64_encoded:
        try:
            return base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise InvalidRequest("MALFORMED_BODY", "The body is not valid base64.") from None
    return body.encode()


def body[M: BaseModel](event: APIGatewayProxyEventV2, model: type[M]) -> M:
    """The body as ``model``, after the media-type, size and syntax checks.

    Parsed with ``json.loads`` and validated as Python data: pydantic's JSON mode lets a field's own
    snake_case name through ``extra="forbid"`` unreported (pydantic 2.13), so ``row_version`` would be
    silently ignored instead of refused.
    """
    media_type = (event.headers.get("content-type") or "").split(";")[0].strip().lower()
    if media_type != "application/json":
        raise UnsupportedMediaType("UNSUPPORTED_MEDIA_TYPE", "Send the body as Content-Type: application/json.")
    raw = raw_body(event)
    if len(raw) > MAX_BODY_BYTES:
        raise PayloadTooLarge("BODY_TOO_LARGE", f"The body is {len(raw)} bytes; the limit is {MAX_BODY_BYTES}.")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):  # ValueError covers JSONDecodeError, bad UTF-8 and huge integers
        raise InvalidRequest("MALFORMED_JSON", "The body is not valid JSON.") from None
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise InvalidRequest("VALIDATION_ERROR", "The request body is not valid.", field_problems(error)) from None


def parse[M: BaseModel](model: type[M], data: Any) -> M:
    """Validate query parameters into ``model``; every problem becomes one entry of a 400's ``errors``."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise InvalidRequest("VALIDATION_ERROR", "The query is not valid.", field_problems(error)) from None


def field_problems(error: ValidationError) -> list[FieldProblem]:
    return [
        FieldProblem(".".join(str(part) for part in problem["loc"]) or "body", problem["msg"])
        for problem in error.errors(include_url=False)
    ]


def query(event: APIGatewayProxyEventV2) -> dict[str, str]:
    return dict(event.query_string_parameters or {})


IDEMPOTENCY_HEADER = "idempotency-key"
MAX_KEY_LENGTH = 255


def idempotency_key(event: APIGatewayProxyEventV2) -> str | None:
    """The request's Idempotency-Key, if it sent one: 400 unless it is 1-255 printable characters
    (also on a dry run, which ignores it: the header is refused as the API documents it)."""
    key = event.headers.get(IDEMPOTENCY_HEADER)
    if key is not None and not (1 <= len(key) <= MAX_KEY_LENGTH and key.isprintable()):
        raise InvalidRequest(
            "INVALID_IDEMPOTENCY_KEY", f"Idempotency-Key must be 1-{MAX_KEY_LENGTH} printable characters."
        )
    return key


def if_match(event: APIGatewayProxyEventV2) -> int | None:
    """The rowVersion an If-Match header names: ``"3"`` (our ETag) or ``*`` (any).

    If-Match compares strongly (RFC 9110 section 13.1.1), so a weak tag (``W/"3"``) never matches and
    is refused rather than read as ``"3"``; an unquoted ``3`` is no entity-tag at all (section 8.8.3)
    and is refused too, so a client's mistake is named instead of guessed at.
    """
    value = (event.headers.get("if-match") or "").strip()
    if not value or value == "*":
        return None
    if value.startswith("W/"):
        raise InvalidRequest("INVALID_IF_MATCH", 'If-Match compares strongly: send the ETag without W/, such as "3".')
    tag = value[1:-1] if len(value) > 1 and value[0] == value[-1] == '"' else ""
    # isascii: str.isdigit() also accepts digits like "²" that int() refuses; 18 digits fit a Number.
    if not (tag.isascii() and tag.isdigit() and len(tag) <= 18) or int(tag) < 1:
        raise InvalidRequest("INVALID_IF_MATCH", 'If-Match must be an ETag of this API, such as "3".')
    return int(tag)
