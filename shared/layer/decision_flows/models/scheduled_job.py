"""What a schedule wakes up: a scheduled change request, or one step of a flow's rollout plan.

A NamedTuple (no pydantic): the firing function and the sweeper build one per schedule, and the
schedule's name and payload come from it alone, so creating, replacing and deleting are idempotent.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from decision_flows.models.flow import Flow

# EventBridge Scheduler names: 1-64 characters of [0-9A-Za-z_.-], unique within the schedule group.
_NAME_DIGEST_CHARACTERS = 48


class ScheduledJob(NamedTuple):
    """``change_id`` for a scheduled change request; ``flow_id``, ``challenger_version`` and ``step``
    (0-based index into ``rollout.plan``) for a plan step."""

    tenant_id: str
    change_id: str | None = None
    flow_id: str | None = None
    challenger_version: int | None = None
    step: int | None = None

    @classmethod
    def for_change(cls, tenant_id: str, change_id: str) -> ScheduledJob:
        return cls(tenant_id, change_id=change_id)

    @classmethod
    def for_plan_step(cls, tenant_id: str, flow_id: str, challenger_version: int, step: int) -> ScheduledJob:
        return cls(tenant_id, flow_id=flow_id, challenger_version=challenger_version, step=step)

    @property
    def is_plan_step(self) -> bool:
        return self.change_id is None

    @property
    def name(self) -> str:
        """The schedule's name: a digest, as tenant and flow ids are longer and freer than a name."""
        kind = "plan" if self.is_plan_step else "change"
        identity = "\x00".join(str(part) for part in self.payload().values())
        return f"{kind}-{hashlib.sha256(identity.encode()).hexdigest()[:_NAME_DIGEST_CHARACTERS]}"

    def payload(self) -> dict[str, Any]:
        """The schedule's input to the firing function (camelCase, as every wire format here)."""
        if self.is_plan_step:
            return {
                "tenantId": self.tenant_id,
                "flowId": self.flow_id,
                "challengerVersion": self.challenger_version,
                "step": self.step,
            }
        return {"tenantId": self.tenant_id, "changeId": self.change_id}

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> ScheduledJob:
        """The job a schedule's input names; KeyError or TypeError on anything else."""
        tenant_id = str(payload["tenantId"])
        if "changeId" in payload:
            return cls.for_change(tenant_id, str(payload["changeId"]))
        return cls.for_plan_step(
            tenant_id, str(payload["flowId"]), int(payload["challengerVersion"]), int(payload["step"])
        )


def next_plan_job(flow: Flow | None) -> tuple[ScheduledJob, datetime] | None:
    """The job of the flow's rollout plan's next pending step and its time: the one schedule a plan has."""
    rollout = flow.rollout if flow is not None else None
    index = rollout.next_step() if rollout is not None else None
    if flow is None or rollout is None or rollout.plan is None or index is None:
        return None
    job = ScheduledJob.for_plan_step(flow.tenant_id, flow.id, rollout.challenger_version, index)
    return job, datetime.fromisoformat(rollout.plan[index].run_at)
