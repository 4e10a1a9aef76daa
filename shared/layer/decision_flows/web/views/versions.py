"""Response bodies of a flow's published versions: the listing, and one version with its snapshot."""

import json
from typing import Any, Self

from decision_flows.models.flow import PublishedVersion
from decision_flows.web.views.body import PaginationView, ResponseBody
from decision_flows.web.views.flows import VersionSummaryView


class PipelineSummaryView(ResponseBody):
    node_count: int | None
    scoring_method: str | None


class VersionListItemView(VersionSummaryView):
    summary: PipelineSummaryView

    @classmethod
    def of_version(cls, version: PublishedVersion) -> Self:
        return cls(
            **cls.fields_of(version, exclude=frozenset({"summary"})),
            summary=PipelineSummaryView(**PipelineSummaryView.fields_of(version)),
        )


class VersionListView(ResponseBody):
    flow_id: str
    versions: list[VersionListItemView]
    pagination: PaginationView


class VersionDetailView(VersionSummaryView):
    flow_id: str
    config_snapshot: dict[str, Any]

    @classmethod
    def of_version(cls, flow_id: str, version: PublishedVersion) -> Self:
        if version.config is None:
            raise ValueError("a version detail needs the version's snapshot")
        return cls(
            **cls.fields_of(version, exclude=frozenset({"flow_id", "config_snapshot"})),
            flow_id=flow_id,
            config_snapshot=json.loads(version.config),
        )
