"""The runtime path's answers, built without pydantic, are what the OpenAPI document's models say,
and its query rules are the management routes' (models.identifiers)."""

from __future__ import annotations

import json
from dataclasses import replace

from pydantic import TypeAdapter

from decision_flows.domain.runtime_reads import LivePointer, PublishedRef, Served, state_etag
from decision_flows.models.identifiers import FlowKey
from decision_flows.web import runtime
from decision_flows.web.queries import LiveQuery
from decision_flows.web.views.live import LiveStateView, LiveView
from decision_flows.web.views.runtime_bodies import live_body, state_body

CONFIG_A = json.dumps({"nodes": [{"id": "n1", "label": "Ünïcode ✓"}], "edges": []}, separators=(",", ":"))
CONFIG_B = json.dumps({"nodes": [], "edges": [], "weight": 0.25}, separators=(",", ":"))
POINTER = LivePointer(
    tenant_id="t",
    key="offers",
    flow_id="df_abc",
    champion=PublishedRef(1, "2026-11-28T00:00:00.000Z"),
    challenger=PublishedRef(2, "2026-11-28T01:00:00.000Z"),
    basis_points=1250,
    include=("qa-1",),
    exclude=('vip "quoted"',),
)


def test_a_live_body_is_the_live_views_with_the_config_as_stored() -> None:
    body = live_body(POINTER, Served(POINTER.challenger, "challenger"), CONFIG_B)  # type: ignore[arg-type]

    view = LiveView.model_validate_json(body)

    assert (view.flow_id, view.key, view.version, view.role) == ("df_abc", "offers", 2, "challenger")
    assert view.config == json.loads(CONFIG_B)
    assert view.to_json_dict() == json.loads(body)


def test_a_state_body_is_the_state_views_with_share_and_overrides() -> None:
    body = state_body(POINTER, CONFIG_A, CONFIG_B)

    view = LiveStateView.model_validate_json(body)

    assert view.to_json_dict() == json.loads(body)
    assert view.champion.config == json.loads(CONFIG_A)
    assert view.challenger is not None
    assert (view.challenger.percent, view.challenger.include, view.challenger.exclude) == (
        12.5,
        ["qa-1"],
        ['vip "quoted"'],
    )
    no_rollout = state_body(replace(POINTER, challenger=None), CONFIG_A, None)
    assert json.loads(no_rollout)["challenger"] is None


def test_the_state_etag_changes_with_anything_the_state_holds() -> None:
    variants = [
        POINTER,
        replace(POINTER, flow_id="df_other"),
        replace(POINTER, champion=PublishedRef(3, "2026-11-29T00:00:00.000Z")),
        replace(POINTER, challenger=None),
        replace(POINTER, basis_points=1251),
        replace(POINTER, include=()),
        replace(POINTER, exclude=("vip",)),
        replace(POINTER, include=("qa-1", "qa-2")),
        replace(POINTER, include=("qa-2", "qa-1")),
    ]
    tags = [state_etag(pointer) for pointer in variants]
    assert len(set(tags)) == len(variants)
    assert all(tag.startswith('"df_') and tag.endswith('"') for tag in tags)


def test_the_runtime_query_rules_are_the_models() -> None:
    # The key's pattern and lengths as FlowKey states them; the subject's as LiveQuery does
    key_schema = TypeAdapter(FlowKey).json_schema()
    assert (key_schema["pattern"], key_schema["maxLength"]) == (runtime.KEY_PATTERN, runtime.MAX_KEY_LENGTH)
    subject_schema = LiveQuery.model_json_schema()["properties"]["subject"]["anyOf"][0]
    assert subject_schema["maxLength"] == runtime.MAX_SUBJECT_LENGTH
