"""Response body of the live read: the version a key serves."""

from __future__ import annotations

import json
from typing import Any, Literal

from decision_flows.models.live import LiveEntry
from decision_flows.web.views.body import ResponseBody, Timestamp


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
