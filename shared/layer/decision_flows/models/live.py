"""The live pointer: which version runtime callers of a key get (the live table's item)."""

from __future__ import annotations

from pydantic import Field

from decision_flows.models.flow import StoredModel


class LiveEntry(StoredModel):
    """Which version runtime callers of one tenant's key get, as of the flow's ``row_version``: a small
    pointer (under 4 KB, half a read unit, unless a rollout names long override lists), never the
    config, which the version's immutable snapshot holds and a function instance keeps once read.

    ``served`` is false for a flow that is not active (or never published): a remembered refusal, so
    a late record of an older, active state cannot bring it back. (Entries written before pointers
    carried the config too; it is ignored.)
    """

    tenant_id: str
    key: str
    flow_id: str
    row_version: int
    served: bool
    version: int | None = None
    published_at: str | None = None
    # During a staged rollout: the challenger, and its share of subjects in basis points.
    challenger_version: int | None = None
    challenger_published_at: str | None = None
    basis_points: int | None = None
    # The rollout's overrides: subjects that always (include) or never (exclude) get the challenger.
    include: list[str] = Field(default_factory=list)
    exclude: list[str] = Field(default_factory=list)
