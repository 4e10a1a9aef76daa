"""A stored flow for tests that need one without a store: the fields a flow must have, and the
changes a test names."""

from __future__ import annotations

from decision_flows.models.flow import Flow, Rollout

NOW = "2026-11-22T12:00:00.000Z"


def a_flow(**changes: object) -> Flow:
    base = Flow(
        id="df_1",
        tenant_id="t",
        key="k",
        name="n",
        draft_config='{"a":1}',
        draft_hash="h1",
        created_at=NOW,
        updated_at=NOW,
        created_by="alice",
        updated_by="alice",
    )
    return base.model_copy(update=changes)


def a_rollout(**changes: object) -> Rollout:
    """v3 served to 10 % of subjects since NOW, started by alice."""
    base = Rollout(
        challenger_version=3,
        challenger_config_hash="h3",
        basis_points=1000,
        started_at=NOW,
        started_by="alice",
        updated_at=NOW,
    )
    return base.model_copy(update=changes)
