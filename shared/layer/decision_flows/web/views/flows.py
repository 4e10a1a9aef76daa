"""Response bodies of the flows, built from the stored models (the flow listing's and the health
check's are web.views.flow_list, the version listing's web.views.versions: only the functions that
answer them define them)."""

import json
from typing import TYPE_CHECKING, Any, Self

from decision_flows.models.flow import Flow, FlowStatus, Rollout, VersionSummary
from decision_flows.web.views.body import ResponseBody, Timestamp, left_out_when_none
from decision_flows.web.views.plan_steps import PlanStepView

if TYPE_CHECKING:
    from decision_flows.web.routes import Bodies


class VersionSummaryView(ResponseBody):
    """``restoredFrom`` appears only on versions a rollback created, as the contract writes it."""

    version: int
    published_at: Timestamp
    published_by: str
    notes: str | None
    restored_from: int | None = left_out_when_none()

    @classmethod
    def of(cls, summary: VersionSummary) -> Self:
        return cls(**cls.fields_of(summary))


class RolloutView(ResponseBody):
    challenger_version: int
    percent: float
    include: list[str]  # subjects always served the challenger (sorted, distinct; [] when none)
    exclude: list[str]  # subjects never served it
    started_at: Timestamp
    started_by: str
    updated_at: Timestamp
    plan: list[PlanStepView] | None = left_out_when_none()  # a planned rollout's steps, with their states

    @classmethod
    def of(cls, rollout: Rollout | None) -> Self | None:
        if rollout is None:
            return None
        return cls(
            percent=rollout.percent,
            plan=PlanStepView.all_of(rollout.plan),
            **cls.fields_of(rollout, exclude=frozenset({"percent", "plan"})),
        )


class FlowView(ResponseBody):
    """The flow record. ``draftConfig`` and ``publishedVersions`` are left out where the route says so."""

    id: str
    tenant_id: str
    key: str
    name: str
    description: str | None
    status: FlowStatus
    auto_assembly: bool
    draft_config: dict[str, Any] | None = left_out_when_none()
    published_versions: list[VersionSummaryView] | None = left_out_when_none()
    live_version: int | None
    latest_version: int | None
    has_unpublished_changes: bool
    row_version: int
    created_at: Timestamp
    updated_at: Timestamp
    created_by: str
    updated_by: str
    rollout: RolloutView | None  # a staged rollout's challenger and share, while one runs

    @classmethod
    def of(cls, flow: Flow, *, with_config: bool = True, with_versions: bool = True) -> Self:
        return cls(
            **cls.fields_of(flow, exclude=frozenset({"draft_config", "published_versions", "rollout"})),
            rollout=RolloutView.of(flow.rollout),
            draft_config=json.loads(flow.draft_config) if with_config and flow.draft_config else None,
            published_versions=[VersionSummaryView.of(v) for v in flow.published_versions] if with_versions else None,
        )


# What a route that answers one flow declares (``Route``'s ``ok``). Here rather than in web.routes, which
# every function loads: the history and compare functions never answer a flow, nor build these views.
FLOW: "Bodies" = {200: (FlowView,)}
