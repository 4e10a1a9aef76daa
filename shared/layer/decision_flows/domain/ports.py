"""What the domain needs from storage. The DynamoDB access layer implements each protocol.

Annotations only: a module that names a port imports it under TYPE_CHECKING, as building ``Protocol``
classes costs every cold start (about a millisecond); what a read returns is in ``domain.reads``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from datetime import datetime

    from decision_flows.domain.reads import FlowWithVersions, GatedFlow
    from decision_flows.domain.service import Plan
    from decision_flows.models.change import ChangeListing, ChangeRequest
    from decision_flows.models.flow import Flow, FlowStatus, PublishedVersion
    from decision_flows.models.history import ChangeEntry
    from decision_flows.models.live import LiveEntry
    from decision_flows.models.page import Page
    from decision_flows.models.policy import Policy
    from decision_flows.models.scheduled_job import ScheduledJob


class FlowStore(Protocol):
    def get_flow(self, tenant_id: str, flow_id: str) -> Flow | None: ...

    def get_flow_and_version(
        self, tenant_id: str, flow_id: str, version: int
    ) -> tuple[Flow | None, PublishedVersion | None]: ...

    def get_gated_flow(self, tenant_id: str, flow_id: str, version: int | None = None) -> GatedFlow: ...

    def get_version(self, tenant_id: str, flow_id: str, version: int) -> PublishedVersion | None: ...

    def get_flow_with_versions(
        self, tenant_id: str, flow_id: str, versions: Sequence[int], with_flow: bool
    ) -> FlowWithVersions: ...

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

    def delete_flow(self, previous: Flow, deleted_by: str, deleted_at: str) -> None: ...

    def key_owner(self, tenant_id: str, key: str) -> str | None: ...

    def purge_deleted_flow(self, tenant_id: str, flow_id: str) -> None: ...


class History(Protocol):
    def record(self, entry: ChangeEntry) -> None: ...

    def list_changes(self, tenant_id: str, flow_id: str, limit: int, page_cursor: str | None) -> Page[ChangeEntry]: ...

    def list_feed(
        self, tenant_id: str, since: datetime | None, limit: int, page_cursor: str | None
    ) -> Page[ChangeEntry]: ...


class LivePointers(Protocol):
    def get_live(self, tenant_id: str, key: str) -> LiveEntry | None: ...

    def put_live(self, entry: LiveEntry) -> bool: ...

    def release_live(self, tenant_id: str, key: str, flow_id: str, row_version: int) -> None: ...


class PolicyStore(Protocol):
    def get_policy(self, tenant_id: str) -> Policy: ...

    def save_policy(self, previous: Policy, new: Policy) -> None: ...


class ChangeStore(Protocol):
    def get_change(self, tenant_id: str, change_id: str) -> ChangeRequest | None: ...

    def create_change(self, change: ChangeRequest) -> None: ...

    def save_change(self, previous: ChangeRequest, new: ChangeRequest) -> None: ...

    def apply_change(self, plan: Plan, previous: ChangeRequest, new: ChangeRequest) -> None: ...

    def record_emergency(self, plan: Plan, change: ChangeRequest) -> None: ...

    def list_changes(self, listing: ChangeListing, limit: int, cursor: str | None) -> Page[ChangeRequest]: ...

    def list_unreviewed(self, tenant_id: str, limit: int, cursor: str | None) -> Page[ChangeRequest]: ...

    def cancel_open_changes(self, tenant_id: str, flow_id: str, cancelled_by: str, at: str) -> None: ...


class Scheduler(Protocol):
    """One one-time schedule per scheduled job (EventBridge Scheduler on AWS), named by the job. Both
    calls are idempotent: the job's DynamoDB write comes first and the firing checks the store, so a
    crash between the two leaves a schedule that fires into a no-op or a job the sweeper finds due,
    never a change applied twice or late."""

    def put_schedule(self, job: ScheduledJob, run_at: datetime) -> None:
        """Create the job's schedule, or replace it."""
        ...

    def delete_schedule(self, job: ScheduledJob) -> None:
        """Delete the job's schedule; none is no error."""
        ...


class DueJobs(Protocol):
    """Every tenant's jobs waiting for their time, read from the store (the sweeper's backstop to the
    Scheduler, and the whole of the local scheduler)."""

    def due_by(self, until: datetime) -> list[ScheduledJob]:
        """The jobs due at or before ``until``, soonest first; an unreadable one is left out."""
        ...
