"""The objects handlers use, built once per Lambda execution environment, on first use.

The flow repository and service, which most functions use, are imported with this module, so
that Lambda's init phase loads them; the others are imported by their builders, which keeps them out
of the functions that never call them (bench/cold_start.py).
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from decision_flows.dal.client import dynamodb_client
from decision_flows.dal.rate_limit import RateLimitRepository
from decision_flows.dal.repository import FlowRepository
from decision_flows.domain.service import FlowService
from decision_flows.settings import settings

# Validated at import: Lambda's init phase fails on a missing or malformed variable.
settings()

if TYPE_CHECKING:
    from decision_flows.dal.changes import ChangeLogRepository
    from decision_flows.dal.live import LiveRepository
    from decision_flows.dal.probe import StoreProbe
    from decision_flows.dal.replay_configs import ReplayConfigs
    from decision_flows.domain.change_feed import ChangeFeed
    from decision_flows.domain.compare import CompareService
    from decision_flows.domain.history import HistoryService
    from decision_flows.domain.live import LiveService


@cache
def flow_repository() -> FlowRepository:
    return FlowRepository(dynamodb_client(), settings().flows_table)


@cache
def flow_service() -> FlowService:
    return FlowService(flow_repository())


@cache
def change_log() -> ChangeLogRepository:
    from decision_flows.dal.changes import ChangeLogRepository

    return ChangeLogRepository(dynamodb_client(), settings().changes_table)


@cache
def live_cache() -> LiveRepository:
    from decision_flows.dal.live import LiveRepository

    return LiveRepository(dynamodb_client(), settings().live_table, settings().flows_table)


@cache
def history_service() -> HistoryService:
    from decision_flows.domain.history import HistoryService

    return HistoryService(change_log(), flow_repository())


@cache
def live_service() -> LiveService:
    from decision_flows.domain.live import LiveService

    return LiveService(live_cache(), flow_repository())


@cache
def compare_service() -> CompareService:
    from decision_flows.domain.compare import CompareService

    return CompareService(flow_repository())


@cache
def change_feed() -> ChangeFeed:
    from decision_flows.domain.change_feed import ChangeFeed

    return ChangeFeed(change_log(), live_cache(), flow_repository())


@cache
def store_probe() -> StoreProbe:
    from decision_flows.dal.probe import StoreProbe

    return StoreProbe(dynamodb_client(), settings().flows_table)


@cache
def replay_configs() -> ReplayConfigs:
    from decision_flows.dal.replay_configs import ReplayConfigs

    return ReplayConfigs(dynamodb_client(), settings().idempotency_table)


@cache
def rate_limiter() -> RateLimitRepository:
    return RateLimitRepository(dynamodb_client(), settings().rate_limit_table)


def reset() -> None:
    """Forget every cached client and setting (tests and the local server switch stores)."""
    from decision_flows.web import idempotency

    built_once = (flow_repository, flow_service, compare_service, change_log, live_cache, history_service, live_service)
    for built in (*built_once, change_feed):
        built.cache_clear()
    rate_limiter.cache_clear()
    store_probe.cache_clear()
    replay_configs.cache_clear()
    dynamodb_client.cache_clear()
    settings.cache_clear()
    idempotency._runner.cache_clear()
