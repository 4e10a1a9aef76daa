"""GET /live and GET /live/state over the HTTP API's payload 2.0 event, with the standard library
(and the one Logger and Metrics): no HTTP resolver, no pydantic, so that the function serving them
starts near the bare boto3 floor (bench/cold_start.py). The gate is the management routes' gate
(identity 401/403, then a limit 429, then the role) with the runtime reads' own budget in place of
the per-minute limit; refusals are the same problem details (web.problem_details).

An answer's body is built once per state and kept (``bodies``): a warm read of a 300 KB config costs
what a 2 KB one costs, its pointer's GetItem and a lookup.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from typing import Any

from decision_flows.domain.byte_cache import ByteBoundedCache
from decision_flows.domain.errors import DomainError, FieldProblem, InvalidRequest, RateLimited
from decision_flows.domain.runtime_budget import RuntimeBudget
from decision_flows.domain.runtime_reads import (
    LivePointer,
    RuntimeReads,
    assign,
    live_etag,
    not_served,
    state_etag,
)
from decision_flows.models.identity import Identity, Role
from decision_flows.observability import Metric, count, count_refusal, count_served
from decision_flows.web.caller import caller_of, lower_cased, require_role
from decision_flows.web.etags import matches
from decision_flows.web.problem_details import PROBLEM_CONTENT_TYPE, problem_document, route_not_found
from decision_flows.web.views.runtime_bodies import live_body, state_body

LIVE_PATH = "/api/v1/decision-flows/live"
STATE_PATH = "/api/v1/decision-flows/live/state"
# As models.identifiers.FlowKey and web.queries.LiveQuery state them (a unit test holds them equal).
KEY_PATTERN = r"^[A-Za-z0-9._-]+$"
MAX_KEY_LENGTH, MAX_SUBJECT_LENGTH = 255, 256
_KEY = re.compile(KEY_PATTERN)
# Every answer of these routes may change at any moment: a cache must ask again (with If-None-Match).
CACHE_CONTROL = "no-cache"
JSON = "application/json"

# The runtime budget's clock; tests set it to pin requests inside one window.
clock: Callable[[], float] = time.time
Bodies = ByteBoundedCache[tuple[str | int, ...]]


def answer(
    event: Mapping[str, Any], reads: RuntimeReads, budget: RuntimeBudget | None, bodies: Bodies
) -> dict[str, Any]:
    """The Lambda proxy result (payload 2.0) of a runtime read."""
    try:
        headers = lower_cased(event.get("headers"))
        path = event.get("rawPath")
        if path not in (LIVE_PATH, STATE_PATH):
            raise route_not_found()
        caller = admit(event, headers, budget)
        query: Mapping[str, str] = event.get("queryStringParameters") or {}
        key = _key(query)
        pointer = reads.pointer(caller.tenant_id, key)
        if path == LIVE_PATH:
            return _live(pointer, _subject(query), headers, reads, bodies)
        return _state(pointer, headers, reads, bodies)
    except DomainError as error:
        status, problem_headers, body = problem_document(error)
        count_refusal(status, error.code)
        return result(status, body, {"Content-Type": PROBLEM_CONTENT_TYPE, **problem_headers})


def admit(event: Mapping[str, Any], headers: Mapping[str, str], budget: RuntimeBudget | None) -> Identity:
    """Identity first (401/403), then the runtime budget (429: refused calls count too), then the role."""
    caller = caller_of(event, headers)
    if budget is not None and (wait := budget.admit(caller.tenant_id, clock())) is not None:
        raise RateLimited(
            "RATE_LIMITED",
            f"Tenant {caller.tenant_id!r} is over its runtime reads a second; retry in {wait} s.",
            retry_after_seconds=wait,
        )
    require_role(caller, Role.VIEWER)
    return caller


def _live(
    pointer: LivePointer, subject: str | None, headers: Mapping[str, str], reads: RuntimeReads, bodies: Bodies
) -> dict[str, Any]:
    served = assign(pointer, subject)
    etag = live_etag(pointer, served)
    count(Metric.LIVE_READS)
    count_served(pointer.flow_id, served.ref.version, served.role)
    if matches(headers.get("if-none-match"), etag):
        return not_modified(etag)
    cached = ("live", pointer.tenant_id, pointer.key, pointer.flow_id, served.ref.version, served.role)
    body = bodies.get(cached)
    if body is None:
        body = live_body(pointer, served, reads.config(pointer, served.ref.version))
        bodies.put(cached, body)
    return ok(body, etag)


def _state(pointer: LivePointer, headers: Mapping[str, str], reads: RuntimeReads, bodies: Bodies) -> dict[str, Any]:
    etag = state_etag(pointer)
    count(Metric.LIVE_READS)
    if matches(headers.get("if-none-match"), etag):
        return not_modified(etag)
    cached = ("state", pointer.tenant_id, pointer.key, etag)
    body = bodies.get(cached)
    if body is None:
        if pointer.champion is None:  # RuntimeReads.pointer answers served pointers only
            raise not_served(pointer.key)
        challenger = reads.config(pointer, pointer.challenger.version) if pointer.challenger else None
        body = state_body(pointer, reads.config(pointer, pointer.champion.version), challenger)
        bodies.put(cached, body)
    return ok(body, etag)


def _key(query: Mapping[str, str]) -> str:
    key = query.get("key")
    if key is None:
        raise _invalid("key", "Field required")
    _check_length("key", key, MAX_KEY_LENGTH)
    if not _KEY.fullmatch(key):
        raise _invalid("key", f"String should match pattern '{KEY_PATTERN}'")
    return key


def _subject(query: Mapping[str, str]) -> str | None:
    subject = query.get("subject")
    if subject is not None:
        _check_length("subject", subject, MAX_SUBJECT_LENGTH)
    return subject


def _check_length(field: str, value: str, most: int) -> None:
    if not value:
        raise _invalid(field, "String should have at least 1 character")
    if len(value) > most:
        raise _invalid(field, f"String should have at most {most} characters")


def _invalid(field: str, message: str) -> InvalidRequest:
    return InvalidRequest("VALIDATION_ERROR", "The query is not valid.", [FieldProblem(field, message)])


def result(status: int, body: str, headers: dict[str, str]) -> dict[str, Any]:
    return {"statusCode": status, "body": body, "isBase64Encoded": False, "headers": headers, "cookies": []}


def ok(body: str, etag: str) -> dict[str, Any]:
    return result(200, body, {"Content-Type": JSON, "ETag": etag, "Cache-Control": CACHE_CONTROL})


def not_modified(etag: str) -> dict[str, Any]:
    return result(304, "", {"ETag": etag, "Cache-Control": CACHE_CONTROL})
