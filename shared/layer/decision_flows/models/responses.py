"""Response bodies of the contract, built from the stored models."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, model_serializer
from pydantic.alias_generators import to_camel

from decision_flows.models.flow import Flow, FlowStatus, PublishedVersion, VersionSummary


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


class VersionSummaryView(ResponseBody):
    """``restoredFrom`` appears only on versions a rollback created, as the contract writes it."""

    version: int
    published_at: str
    published_by: str
    notes: str | None
    restored_from: int | None = None

    @model_serializer(mode="wrap")
    def _omit_absent_restored_from(self, handler: Any) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        if data.get("restoredFrom") is None:
            data.pop("restoredFrom", None)
        return data

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


class FlowView(ResponseBody):
    """The flow record. ``draftConfig`` and ``publishedVersions`` are left out where the route says so."""

    id: str
    tenant_id: str
    key: str
    name: str
    description: str | None
    status: FlowStatus
    auto_assembly: bool
    draft_config: dict[str, Any] | None = None
    published_versions: list[VersionSummaryView] | None = None
    live_version: int | None
    latest_version: int | None
    has_unpublished_changes: bool
    row_version: int
    created_at: str
    updated_at: str
    created_by: str
    updated_by: str

    @model_serializer(mode="wrap")
    def _omit_left_out(self, handler: Any) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        for optional in ("draftConfig", "publishedVersions"):
            if data.get(optional) is None:
                data.pop(optional, None)
        return data

    @classmethod
    def of(cls, flow: Flow, *, with_config: bool = True, with_versions: bool = True) -> FlowView:
        return cls(
            **cls.fields_of(flow, exclude=frozenset({"draft_config", "published_versions"})),
            draft_config=json.loads(flow.draft_config) if with_config and flow.draft_config else None,
            published_versions=[VersionSummaryView.of(v) for v in flow.published_versions] if with_versions else None,
        )


class PaginationView(ResponseBody):
    total: int | None = None
    limit: int
    has_more: bool
    next_cursor: str | None

    @model_serializer(mode="wrap")
    def _omit_absent_total(self, handler: Any) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        if data.get("total") is None:
            data.pop("total", None)
        return data


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
