"""What the domain needs from storage. The DynamoDB access layer is the implementation."""

from __future__ import annotations

from typing import Protocol

from decision_flows.models.flow import Flow, FlowStatus, PublishedVersion
from decision_flows.models.page import Page


class FlowStore(Protocol):
    def get_flow(self, tenant_id: str, flow_id: str) -> Flow | None: ...

    def get_flow_and_version(
        self, tenant_id: str, flow_id: str, version: int
    ) -> tuple[Flow | None, PublishedVersion | None]: ...

    def get_version(self, tenant_id: str, flow_id: str, version: int) -> PublishedVersion | None: ...

    def flow_exists(self, tenant_id: str, flow_id: str) -> bool: ...

    def list_versions(
        self, tenant_id: str, flow_id: str, limit: int, page_cursor: str | None
    ) -> Page[PublishedVersion] | None: ...

    def list_flows(
        self, tenant_id: str, status: FlowStatus | None, limit: int, page_cursor: str | None
    ) -> Page[Flow]: ...

    def create_flow(self, flow: Flow) -> None: ...

    def save_flow(self, previous: Flow, new: Flow) -> None: ...

    def publish_version(self, previous: Flow, new: Flow, version: PublishedVersion) -> None: ...

    def delete_flow(self, previous: Flow) -> None: ...
