"""Response bodies of the contract, built from the stored models."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from decision_flows.models.changes import ChangeEntry, LiveEntry
from decision_flows.models.flow import Flow, FlowAction, FlowStatus, PublishedVersion, Rollout, VersionSummary
from decision_flows.models.page import Page

# ISO 8601 UTC with milliseconds and Z (the contract's timestamps): RFC 3339 date-time in the document.
Timestamp = Annotated[str, Field(json_schema_extra={"format": "date-time"})]


def left_out_when_none() -> Any:
    """A field that the response leaves out, rather than sending null, when it has no value."""
    return Field(default=None, exclude_if=lambda value: value is None)


class ResponseBody(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)

    def to_json_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)

    @classmethod
    def fields_of(cls, source: object, *, exclude: frozenset[str] = frozenset()) -> dict[str, Any]:
        """The values of ``source``'s attributes that this view has a field of the same name for."""
        return {
            name: getattr(source, name) for name in cls.model_fields if name not in exclude and hasattr(source, name)
        }


class HealthView(ResponseBody):
    """The API is up and DynamoDB answers (without credentials; 503 STORE_BUSY when the store does not)."""

    status: Literal["ok"] = "ok"


class VersionSummaryView(ResponseBody):
    """``restoredFrom`` appears only on versions a rollback created, as the contract writes it."""

    version: int
    published_at: Timestamp
    published_by: str
    notes: str | None
    restored_from: int | None = left_out_when_none()

    @classmethod
    def of(cls, summary: VersionSummary) -> VersionSummaryView:
        return cls(**cls.fields_of(summary))


class PipelineSummaryView(ResponseBody):
    node_count: int | None
    scoring_method: str | None


class VersionListItemView(VersionSummaryView):
    summary: PipelineSummaryView

    @classmethod
    def of_version(cls, version: PublishedVersion) -> VersionListItemView:
        return cls(
            **cls.fields_of(version, exclude=frozenset({"summary"})),
            summary=PipelineSummaryView(**PipelineSummaryView.fields_of(version)),
        )


class RolloutView(ResponseBody):
    challenger_version: int
    percent: float
    started_at: Timestamp
    started_by: str
    updated_at: Timestamp

    @classmethod
    def of(cls, rollout: Rollout | None) -> RolloutView | None:
        if rollout is None:
            return None
        return cls(percent=rollout.percent, **cls.fields_of(rollout, exclude=frozenset({"percent"})))


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
    def of(cls, flow: Flow, *, with_config: bool = True, with_versions: bool = True) -> FlowView:
        return cls(
            **cls.fields_of(flow, exclude=frozenset({"draft_config", "published_versions", "rollout"})),
            rollout=RolloutView.of(flow.rollout),
            draft_config=json.loads(flow.draft_config) if with_config and flow.draft_config else None,
            published_versions=[VersionSummaryView.of(v) for v in flow.published_versions] if with_versions else None,
        )


class PaginationView(ResponseBody):
    total: int | None = left_out_when_none()
    limit: int
    has_more: bool
    next_cursor: str | None

    @classmethod
    def of(cls, page: Page[Any], limit: int) -> PaginationView:
        return cls(total=page.total, limit=limit, has_more=page.next_cursor is not None, next_cursor=page.next_cursor)


class FlowListView(ResponseBody):
    data: list[FlowView]
    pagination: PaginationView


class VersionListView(ResponseBody):
    flow_id: str
    versions: list[VersionListItemView]
    pagination: PaginationView


class VersionDetailView(VersionSummaryView):
    flow_id: str
    config_snapshot: dict[str, Any]

    @classmethod
    def of_version(cls, flow_id: str, version: PublishedVersion) -> VersionDetailView:
        if version.config is None:
            raise ValueError("a version detail needs the version's snapshot")
        return cls(
            **cls.fields_of(version, exclude=frozenset({"flow_id", "config_snapshot"})),
            flow_id=flow_id,
            config_snapshot=json.loads(version.config),
        )


class EndedRolloutView(ResponseBody):
    challenger_version: int
    percent: float


class ChangeEntryView(ResponseBody):
    event_id: str
    flow_id: str
    action: FlowAction
    actor: str
    at: Timestamp
    row_version: int
    from_version: int | None = left_out_when_none()
    to_version: int | None = left_out_when_none()
    restored_from: int | None = left_out_when_none()
    changes: dict[str, dict[str, Any]] | None = left_out_when_none()
    previous_draft: dict[str, Any] | None = left_out_when_none()
    config_changes: dict[str, Any] | None = left_out_when_none()  # the diff summary (see GET /diff)
    percent: float | None = left_out_when_none()  # rollout entries: the challenger's share
    notes: str | None = left_out_when_none()  # a promote's or abort's notes
    rollout_ended: EndedRolloutView | None = left_out_when_none()  # a rollback during a rollout

    @classmethod
    def of(cls, entry: ChangeEntry) -> ChangeEntryView:
        ended = entry.rollout_ended
        return cls(
            **cls.fields_of(entry, exclude=frozenset({"previous_draft", "percent", "rollout_ended"})),
            previous_draft=json.loads(entry.previous_draft) if entry.previous_draft else None,
            percent=entry.basis_points / 100 if entry.basis_points is not None else None,
            rollout_ended=EndedRolloutView(
                challenger_version=ended.challenger_version, percent=ended.basis_points / 100
            )
            if ended
            else None,
        )


class HistoryView(ResponseBody):
    flow_id: str
    data: list[ChangeEntryView]
    pagination: PaginationView


class LiveView(ResponseBody):
    flow_id: str
    key: str
    version: int
    published_at: Timestamp
    config: dict[str, Any]
    role: Literal["champion", "challenger"]  # without a staged rollout, always the champion

    @classmethod
    def of(cls, entry: LiveEntry, version: int, published_at: str, role: str, config: str) -> LiveView:
        return cls.model_validate(
            {
                "flowId": entry.flow_id,
                "key": entry.key,
                "version": version,
                "publishedAt": published_at,
                "role": role,
                "config": json.loads(config),
            }
        )
