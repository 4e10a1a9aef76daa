"""Compare and validate: what changed between two states of a flow, and what a config's problems are.

Nothing here writes. A state is named by a ref: a version number, ``draft``, ``live``, or (during a
staged rollout) ``challenger``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from decision_flows.domain import lint, pipeline
from decision_flows.domain.errors import DomainError, NotFound, flow_not_found, version_not_found
from decision_flows.domain.pipeline import ConfigProblem, PipelineFacts
from decision_flows.models.flow import Flow, PublishedVersion
from decision_flows.models.identity import Identity

if TYPE_CHECKING:
    from collections.abc import Mapping

    from decision_flows.domain import config_diff
    from decision_flows.domain.ports import FlowStore

DRAFT, LIVE, CHALLENGER = "draft", "live", "challenger"


@dataclass(frozen=True)
class State:
    ref: str
    version: int | None  # the version the ref names; None for the draft (and for nothing live yet)
    config: dict[str, Any] | None  # None: nothing (what is live before a first publish)


@dataclass(frozen=True)
class ConfigDiff:
    flow_id: str
    old: State
    new: State
    identical: bool
    summary: config_diff.Summary
    patch: config_diff.Patch | None  # None when only the summary was asked for


@dataclass(frozen=True)
class Validation:
    facts: PipelineFacts
    errors: list[ConfigProblem]
    warnings: list[ConfigProblem]
    is_object: bool

    @property
    def valid(self) -> bool:
        return not self.errors

    @property
    def publishable(self) -> bool:
        return not self.blockers

    @property
    def blockers(self) -> list[DomainError]:
        """What publish would refuse this config with (422), in the order it checks."""
        if self.errors:
            return [pipeline.config_invalid(len(self.errors))]
        if self.facts.scoring_method is None:
            return [pipeline.scoring_method_missing()]
        return []


def compare(flow_id: str, old: State, new: State, with_patch: bool = True) -> ConfigDiff:
    # Imported here: the diff machinery (and python-json-patch's pointers) is for diffs, not validation.
    from decision_flows.domain import config_diff

    identical = _canonical(old.config) == _canonical(new.config)
    patch = (config_diff.json_patch(old.config, new.config) if not identical else []) if with_patch else None
    return ConfigDiff(flow_id, old, new, identical, config_diff.summarize(old.config, new.config), patch)


def validate(config: Any) -> Validation:
    """What PUT would refuse (422), then the lint warnings of a valid config; 413 as PUT when too large."""
    facts, errors = pipeline.config_problems(config)
    if not errors:
        pipeline.check_size(pipeline.canonical_json(config))
    return Validation(facts, errors, lint.warnings(config) if not errors else [], isinstance(config, dict))


def _canonical(config: dict[str, Any] | None) -> str | None:
    return None if config is None else pipeline.canonical_json(config)


def live_state(store: FlowStore, tenant_id: str, flow: Flow) -> State:
    """What is live: the draft when it has not moved on since (no read), else the live snapshot."""
    if flow.live_version is None:
        return State(LIVE, None, None)
    # Imported on use, here and for the challenger: domain.live is the runtime path's service, with its
    # caches and models, which validation never needs and the compare function's init need not load.
    from decision_flows.domain.live import version_config

    config = version_config(store, flow, flow.live_version, flow.live_config_hash)
    if config is None:
        raise flow_not_found(flow.id)
    return State(LIVE, flow.live_version, _config(config))


class CompareService:
    def __init__(self, store: FlowStore) -> None:
        self._store = store

    def diff(self, identity: Identity, flow_id: str, old_ref: str, new_ref: str, with_patch: bool) -> ConfigDiff:
        """One read of the flow (for ``draft``/``live``) or of the anchor, with the numbered versions'
        snapshots in the same BatchGetItem; one more only for ``live`` once the draft has moved on."""
        numbered = [int(ref) for ref in (old_ref, new_ref) if ref.isdigit()]
        with_flow = any(not ref.isdigit() for ref in (old_ref, new_ref))
        found = self._store.get_flow_with_versions(identity.tenant_id, flow_id, numbered, with_flow)
        if not found.exists:
            raise flow_not_found(flow_id)
        states = {ref: self._state(identity, flow_id, ref, found.flow, found.versions) for ref in (old_ref, new_ref)}
        return compare(flow_id, states[old_ref], states[new_ref], with_patch)

    def validate_draft(self, identity: Identity, flow_id: str) -> Validation:
        flow = self._store.get_flow(identity.tenant_id, flow_id)
        if flow is None:
            raise flow_not_found(flow_id)
        return validate(_config(flow.draft_config))

    def _state(
        self, identity: Identity, flow_id: str, ref: str, flow: Flow | None, versions: Mapping[int, PublishedVersion]
    ) -> State:
        if ref.isdigit():
            if int(ref) not in versions:
                raise version_not_found(flow_id, int(ref))
            return State(ref, int(ref), _config(versions[int(ref)].config))
        assert flow is not None, "draft and live are read with the flow"
        if ref == DRAFT:
            return State(DRAFT, None, _config(flow.draft_config))
        if ref == LIVE:
            if flow.live_version is None:
                raise NotFound("NOT_PUBLISHED", f"Decision flow {flow_id!r} has never been published: nothing is live.")
            if flow.live_version in versions and flow.draft_hash != flow.live_config_hash:
                return State(LIVE, flow.live_version, _config(versions[flow.live_version].config))
            return live_state(self._store, identity.tenant_id, flow)
        return self._challenger(identity, flow, versions)

    def _challenger(self, identity: Identity, flow: Flow, versions: Mapping[int, PublishedVersion]) -> State:
        """The running rollout's challenger: the draft while it has not moved on, else its snapshot."""
        rollout = flow.rollout
        if rollout is None:
            raise NotFound("NO_ROLLOUT", f"Decision flow {flow.id!r} has no staged rollout, so no challenger.")
        number = rollout.challenger_version
        read = versions.get(number)  # already read with the flow when the query also named it
        from decision_flows.domain.live import version_config

        config = read.config if read else version_config(self._store, flow, number, rollout.challenger_config_hash)
        if config is None:
            raise flow_not_found(flow.id)
        return State(CHALLENGER, number, _config(config))


def _config(stored: str | None) -> dict[str, Any]:
    assert stored is not None, "flows read by id and versions read by number carry their configs"
    config: dict[str, Any] = json.loads(stored)
    return config
