"""FlowService driven as a caller would, against any FlowStore: one admin, a clock that always moves."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any

from decision_flows.domain.service import FlowService
from decision_flows.models.draft_commands import CreateFlowRequest, UpdateFlowRequest
from decision_flows.models.flow import Flow
from decision_flows.models.identity import Identity, Role
from decision_flows.models.publish_commands import PublishRequest
from decision_flows.models.rollback_commands import RollbackRequest
from decision_flows_local.fixtures.samples import v2_config

ALICE = Identity(tenant_id="tenant-a", role=Role.ADMIN, principal="alice")


class Clock:
    """A millisecond later on every reading, so that every write has its own timestamp."""

    def __init__(self) -> None:
        self._ticks = count()

    def __call__(self) -> datetime:
        return datetime(2026, 11, 28, tzinfo=UTC) + timedelta(milliseconds=next(self._ticks))


def create(service: FlowService, key: str = "welcome", **fields: Any) -> Flow:
    body = {"key": key, "name": key.title(), "draftConfig": v2_config(key), **fields}
    return service.create(ALICE, CreateFlowRequest.model_validate(body))


def update(service: FlowService, flow: Flow, if_match: int | None = None, **fields: Any) -> Flow:
    return service.update(ALICE, UpdateFlowRequest.model_validate({"id": flow.id, **fields}), if_match)


def publish(service: FlowService, flow: Flow, **fields: Any) -> Flow:
    return service.publish(ALICE, PublishRequest.model_validate({"id": flow.id, **fields}), None)


def rollback(service: FlowService, flow: Flow, version: int, **fields: Any) -> Flow:
    return service.rollback(ALICE, RollbackRequest.model_validate({"id": flow.id, "version": version, **fields}), None)
