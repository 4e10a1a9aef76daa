"""Response bodies of the runtime reads: the version a key serves (/live), its whole state (/live/state).

The OpenAPI document's statement of them; the runtime path builds the same fields without pydantic
(web.views.runtime_bodies, held equal by tests/unit/web/test_runtime_bodies.py)."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import Field

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


class StateVersionView(ResponseBody):
    version: int
    published_at: Timestamp
    config: dict[str, Any]


class ChallengerStateView(StateVersionView):
    percent: Annotated[float, Field(ge=0, lt=100)]
    include: list[str]  # always the challenger
    exclude: list[str]  # never the challenger (include wins)


class LiveStateView(ResponseBody):
    flow_id: str
    key: str
    champion: StateVersionView
    challenger: ChallengerStateView | None  # null without a staged rollout
