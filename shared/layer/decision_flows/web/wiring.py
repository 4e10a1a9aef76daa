"""The objects a handler uses, built once per Lambda execution environment, on first use."""

from __future__ import annotations

import os
from functools import cache

from decision_flows.dal.client import dynamodb_client, store_settings
from decision_flows.dal.rate_limit import RateLimitRepository, requests_per_minute
from decision_flows.dal.repository import FlowRepository
from decision_flows.domain.service import FlowService


@cache
def flow_service() -> FlowService:
    return FlowService(FlowRepository(dynamodb_client(), store_settings().table_name))


@cache
def rate_limiter() -> RateLimitRepository:
    return RateLimitRepository(dynamodb_client(), os.environ["RATE_LIMIT_TABLE_NAME"])


def reset() -> None:
    """Forget every cached client and setting (tests and the local server switch stores)."""
    from decision_flows.web import idempotency

    flow_service.cache_clear()
    rate_limiter.cache_clear()
    requests_per_minute.cache_clear()
    dynamodb_client.cache_clear()
    store_settings.cache_clear()
    idempotency._runner.cache_clear()
