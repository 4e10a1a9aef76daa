"""The objects handlers use, built once per Lambda execution environment, on first use.

The flow repository, which every API function's service reads through, is imported with this module,
so that Lambda's init phase loads it; the others, the flow service too, are imported by their
builders, which keeps them out of the functions that never call them (bench/cold_start.py): the
history, live, compare and stream functions do not load the write rules, pipeline and request models.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from decision_flows.dal.client import dynamodb_client
from decision_flows.dal.flows import FlowRepository
from decision_flows.dal.rate_limit import RateLimitRepository
from decision_flows.dal.store_errors import unavailable
from decision_flows.once import built_once, forget_all
from decision_flows.settings import settings

# Validated at import: Lambda's init phase fails on a missing or malformed variable.
settings()

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

    from decision_flows.dal.changes import ChangeRepository
    from decision_flows.dal.due_jobs import DueJobRepository
    from decision_flows.dal.history import HistoryRepository
    from decision_flows.dal.live_pointers import LivePointerRepository
    from decision_flows.dal.policies import PolicyRepository
    from decision_flows.dal.probe import StoreProbe
    from decision_flows.dal.replay_configs import ReplayConfigs
    from decision_flows.domain.change_feed import ChangeFeed
    from decision_flows.domain.changes import ChangeService
    from decision_flows.domain.compare import CompareService
    from decision_flows.domain.errors import StoreUnavailable
    from decision_flows.domain.history import HistoryService
    from decision_flows.domain.live import LiveService
    from decision_flows.domain.plans import PlanService
    from decision_flows.domain.policy import PolicyService
    from decision_flows.domain.ports import Scheduler
    from decision_flows.domain.schedules import ScheduleService
    from decision_flows.domain.service import FlowService


@built_once
def flow_repository() -> FlowRepository:
    return FlowRepository(dynamodb_client(), settings().flows_table)


@built_once
def flow_service() -> FlowService:
    from decision_flows.domain.service import FlowService

    # The scheduler is looked up when a write moves a rollout plan: most writes never build it.
    return FlowService(flow_repository(), review_policy=True, scheduler=lambda: scheduler())


@built_once
def policy_repository() -> PolicyRepository:
    from decision_flows.dal.policies import PolicyRepository

    return PolicyRepository(dynamodb_client(), settings().flows_table)


@built_once
def change_repository() -> ChangeRepository:
    from decision_flows.dal.changes import ChangeRepository

    return ChangeRepository(dynamodb_client(), settings().flows_table)


@built_once
def change_service() -> ChangeService:
    from decision_flows.domain.changes import ChangeService

    return ChangeService(flow_service(), flow_repository(), change_repository(), policy_repository())


@built_once
def scheduler() -> Scheduler:
    """EventBridge Scheduler where its settings are (AWS); elsewhere the local scheduler sweeps the store."""
    target = settings().schedule_target
    if target is None:
        from decision_flows.scheduling.swept import SweptFromStore

        return SweptFromStore()
    from decision_flows.dal.client import scheduler_client
    from decision_flows.scheduling.eventbridge import EventBridgeScheduler

    return EventBridgeScheduler(target, scheduler_client)


@built_once
def due_jobs() -> DueJobRepository:
    from decision_flows.dal.due_jobs import DueJobRepository

    return DueJobRepository(dynamodb_client(), settings().flows_table)


@built_once
def schedule_service() -> ScheduleService:
    from decision_flows.domain.schedules import ScheduleService

    return ScheduleService(change_service(), change_repository(), scheduler(), due_jobs(), plans=plan_service())


@built_once
def plan_service() -> PlanService:
    from decision_flows.domain.plans import PlanService

    return PlanService(flow_service(), flow_repository())


@built_once
def policy_service() -> PolicyService:
    from decision_flows.domain.policy import PolicyService

    return PolicyService(policy_repository())


@built_once
def history_repository() -> HistoryRepository:
    from decision_flows.dal.history import HistoryRepository

    return HistoryRepository(dynamodb_client(), settings().changes_table)


@built_once
def live_pointers() -> LivePointerRepository:
    from decision_flows.dal.live_pointers import LivePointerRepository

    return LivePointerRepository(dynamodb_client(), settings().live_table, settings().flows_table)


@built_once
def history_service() -> HistoryService:
    from decision_flows.domain.history import HistoryService

    return HistoryService(history_repository(), flow_repository())


@built_once
def live_service() -> LiveService:
    from decision_flows.domain.live import LiveService

    return LiveService(live_pointers(), flow_repository())


@built_once
def compare_service() -> CompareService:
    from decision_flows.domain.compare import CompareService

    return CompareService(flow_repository())


@built_once
def change_feed() -> ChangeFeed:
    from decision_flows.domain.change_feed import ChangeFeed

    return ChangeFeed(history_repository(), live_pointers(), flow_repository(), change_repository())


@built_once
def store_probe() -> StoreProbe:
    from decision_flows.dal.probe import StoreProbe

    return StoreProbe(dynamodb_client(), settings().flows_table)


@built_once
def replay_configs() -> ReplayConfigs:
    from decision_flows.dal.replay_configs import ReplayConfigs

    return ReplayConfigs(dynamodb_client(), settings().idempotency_table)


@built_once
def rate_limiter() -> RateLimitRepository:
    return RateLimitRepository(dynamodb_client(), settings().rate_limit_table)


@built_once
def idempotency_store() -> DynamoDBPersistenceLayer:
    """Powertools' idempotency records; built on first use, as the persistence layer creates a boto3 client."""
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

    return DynamoDBPersistenceLayer(table_name=settings().idempotency_table, boto3_client=dynamodb_client())


def store_refusal(error: Exception) -> StoreUnavailable | None:
    """The 503 a DynamoDB error stands for, when it reaches a handler through Powertools (web imports no dal)."""
    return unavailable(error)


def reset() -> None:
    """Forget every cached client and setting (tests and the local server switch stores)."""
    forget_all()
    dynamodb_client.cache_clear()
    settings.cache_clear()
