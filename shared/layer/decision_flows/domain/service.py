"""The decision-flow use cases: what each request does to a flow, with no HTTP and no boto3.

Every write follows one pattern: read the flow once, decide the whole new state here, then hand
the previous and the new state to the store, which writes it atomically on condition that the
flow still has the rowVersion that was read. So a racing writer gets 409 and nothing of its
write lands.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from decision_flows.domain import pipeline
from decision_flows.domain.clock import timestamp, utc_now
from decision_flows.domain.errors import (
    Conflict,
    FieldProblem,
    InvalidRequest,
    Unprocessable,
    flow_key_not_found,
    flow_not_found,
    row_version_mismatch,
    version_not_found,
)
from decision_flows.domain.store import FlowStore, flow_with_key
from decision_flows.models.flow import (
    PUBLISHED_VERSIONS_ON_FLOW,
    Flow,
    FlowAction,
    FlowStatus,
    PublishedVersion,
    Rollout,
    VersionSummary,
)
from decision_flows.models.identity import Identity
from decision_flows.models.page import Page
from decision_flows.models.requests import (
    NOT_NULLABLE_ON_UPDATE,
    AbortRequest,
    CreateFlowRequest,
    PromoteRequest,
    PublishRequest,
    RollbackRequest,
    RolloutRequest,
    UpdateFlowRequest,
)

if TYPE_CHECKING:
    from decision_flows.domain.compare import ConfigDiff


@dataclass(frozen=True)
class Preview:
    """A dry run's answer: the flow the real call would return, what it would change, its warnings."""

    flow: Flow
    diff: ConfigDiff
    warnings: list[pipeline.ConfigProblem]


def new_flow_id() -> str:
    return f"df_{secrets.token_hex(12)}"


class FlowService:
    def __init__(
        self,
        store: FlowStore,
        clock: Callable[[], datetime] = utc_now,
        new_id: Callable[[], str] = new_flow_id,
    ) -> None:
        self._store = store
        self._clock = clock
        self._new_id = new_id

    # Reads

    def get(self, identity: Identity, flow_id: str) -> Flow:
        return self._load(identity, flow_id)

    def get_by_key(self, identity: Identity, key: str) -> Flow:
        flow = flow_with_key(self._store, identity.tenant_id, key)
        if flow is None:
            raise flow_key_not_found(key)
        return flow

    def list(self, identity: Identity, status: FlowStatus | None, limit: int, cursor: str | None) -> Page[Flow]:
        return self._store.list_flows(identity.tenant_id, status, limit, cursor)

    def versions(self, identity: Identity, flow_id: str, limit: int, cursor: str | None) -> Page[PublishedVersion]:
        page = self._store.list_versions(identity.tenant_id, flow_id, limit, cursor)
        if page is None:
            raise flow_not_found(flow_id)
        return page

    def version(self, identity: Identity, flow_id: str, version: int) -> PublishedVersion:
        found = self._store.get_version(identity.tenant_id, flow_id, version)
        if found is not None:
            return found
        if self._store.flow_exists(identity.tenant_id, flow_id):
            raise version_not_found(flow_id, version)
        raise flow_not_found(flow_id)

    # Writes

    def create(self, identity: Identity, request: CreateFlowRequest) -> Flow:
        if request.status == FlowStatus.ACTIVE:
            raise _not_published()
        config = pipeline.DEFAULT_DRAFT_CONFIG if request.draft_config is None else request.draft_config
        draft, draft_hash = checked_draft(config)
        now = timestamp(self._clock())
        flow = Flow(
            id=self._new_id(),
            tenant_id=identity.tenant_id,
            key=request.key,
            name=request.name,
            description=request.description,
            status=request.status,
            auto_assembly=request.auto_assembly,
            draft_config=draft,
            draft_hash=draft_hash,
            created_at=now,
            updated_at=now,
            created_by=identity.principal,
            updated_by=identity.principal,
            last_action=FlowAction.CREATED,
        )
        self._store.create_flow(flow)
        return flow

    def update(self, identity: Identity, request: UpdateFlowRequest, if_match: int | None) -> Flow:
        sent = request.model_fields_set - {"id", "row_version"}
        nulls = [name for name in NOT_NULLABLE_ON_UPDATE if name in sent and getattr(request, name) is None]
        if nulls:
            problems = [FieldProblem(UpdateFlowRequest.model_fields[n].alias or n, "may not be null") for n in nulls]
            raise InvalidRequest("VALIDATION_ERROR", "Some fields may not be null.", problems)
        flow = self._load_for_write(identity, request.id, _expected_row_version(request.row_version, if_match))
        changes: dict[str, Any] = {name: getattr(request, name) for name in sent}
        if "draft_config" in changes:
            changes["draft_config"], changes["draft_hash"] = checked_draft(changes["draft_config"])
        changes = {name: value for name, value in changes.items() if getattr(flow, name) != value}
        if not changes:
            return flow
        if changes.get("status") == FlowStatus.ACTIVE and flow.live_version is None:
            raise _not_published()
        only_status = set(changes) == {"status"}
        updated = self._next(identity, flow, FlowAction.STATUS_CHANGED if only_status else FlowAction.UPDATED, changes)
        self._store.save_flow(flow, updated)
        return updated

    def delete(self, identity: Identity, flow_id: str, if_match: int | None) -> None:
        flow = self._load_for_write(identity, flow_id, if_match)
        self._store.delete_flow(flow, identity.principal, timestamp(self._clock()))

    def publish(self, identity: Identity, request: PublishRequest, if_match: int | None) -> Flow:
        flow, released, version = self._plan_publish(identity, request, if_match)
        self._store.publish_version(flow, released, version)
        return released

    def rollback(self, identity: Identity, request: RollbackRequest, if_match: int | None) -> Flow:
        flow, released, version = self._plan_rollback(identity, request, if_match)
        self._store.publish_version(flow, released, version)
        return released

    def preview(self, identity: Identity, request: PublishRequest | RollbackRequest, if_match: int | None) -> Preview:
        """What publish or rollback would do, refused exactly as they would be (the same planning), with
        nothing written: the flow it would return, the diff from live to the new live config, and
        that config's warnings."""
        from decision_flows.domain import compare, lint  # only a dry run loads the diff machinery

        if isinstance(request, PublishRequest):
            flow, released, version = self._plan_publish(identity, request, if_match)
            ref, named = compare.DRAFT, None
        else:
            flow, released, version = self._plan_rollback(identity, request, if_match)
            ref, named = str(request.version), request.version
        assert version.config is not None, "a release carries its config"
        config = json.loads(version.config)
        live = compare.live_state(self._store, identity.tenant_id, flow)
        diff = compare.compare(flow.id, live, compare.State(ref, named, config))
        return Preview(released, diff, lint.warnings(config))

    def _plan_publish(
        self, identity: Identity, request: PublishRequest, if_match: int | None
    ) -> tuple[Flow, Flow, PublishedVersion]:
        flow = self._load_for_write(identity, request.id, _expected_row_version(request.row_version, if_match))
        if flow.rollout is not None:
            raise _rollout_in_progress(flow.rollout)
        _check_current_version(flow, request.expected_current_version)
        if request.rollout is not None and flow.live_version is None:
            raise Conflict(
                "NOT_PUBLISHED", "A staged rollout needs a live version to stay the champion: publish first."
            )
        assert flow.draft_config is not None, "a flow read by id carries its draft"
        facts = pipeline.validate_config(json.loads(flow.draft_config))
        pipeline.require_scoring_method(facts)
        return self._released(
            identity,
            flow,
            FlowAction.ROLLOUT_STARTED if request.rollout else FlowAction.PUBLISHED,
            share=_basis_points(request.rollout.percent) if request.rollout else None,
            notes=request.notes,
            node_count=facts.node_count,
            scoring_method=facts.scoring_method,
            config_hash=flow.draft_hash,
            config=flow.draft_config,
        )

    def _plan_rollback(
        self, identity: Identity, request: RollbackRequest, if_match: int | None
    ) -> tuple[Flow, Flow, PublishedVersion]:
        flow, target = self._store.get_flow_and_version(identity.tenant_id, request.id, request.version)
        if flow is None:
            raise flow_not_found(request.id)
        _check_row_version(flow, _expected_row_version(request.row_version, if_match))
        if target is None:
            raise version_not_found(request.id, request.version)
        _check_current_version(flow, request.expected_current_version)
        if flow.live_config_hash == target.config_hash and flow.rollout is None:
            raise Conflict(
                "ALREADY_ACTIVE",
                f"The live version v{flow.live_version} already has the configuration of v{target.version}.",
            )
        prefix = f"Rollback to v{target.version}"
        return self._released(
            identity,
            flow,
            FlowAction.ROLLED_BACK,
            notes=f"{prefix}: {request.notes}" if request.notes else prefix,
            restored_from=target.version,
            node_count=target.node_count,
            scoring_method=target.scoring_method,
            config_hash=target.config_hash,
            config=target.config,
        )

    # Staged rollouts: each one conditional write of the flow, guarded like any other

    def change_rollout(self, identity: Identity, request: RolloutRequest, if_match: int | None) -> Flow:
        flow, rollout = self._rollout_of(identity, request.id, request.row_version, if_match)
        _check_current_version(flow, request.expected_current_version)
        now = timestamp(self._clock())
        changed = rollout.model_copy(update={"basis_points": _basis_points(request.percent), "updated_at": now})
        return self._save(flow, self._next(identity, flow, FlowAction.ROLLOUT_CHANGED, {"rollout": changed}, now))

    def promote(self, identity: Identity, request: PromoteRequest, if_match: int | None) -> Flow:
        """The challenger becomes live for everyone (no new version), and the rollout ends."""
        flow, rollout = self._rollout_of(identity, request.id, request.row_version, if_match)
        _check_current_version(flow, request.expected_current_version)
        changes = {
            "live_version": rollout.challenger_version,
            "live_config_hash": rollout.challenger_config_hash,
            "rollout": None,
            "last_notes": request.notes,
        }
        return self._save(flow, self._next(identity, flow, FlowAction.ROLLOUT_PROMOTED, changes))

    def abort(self, identity: Identity, request: AbortRequest, if_match: int | None) -> Flow:
        """Everyone gets the champion again; the challenger stays in the version history."""
        flow, _ = self._rollout_of(identity, request.id, request.row_version, if_match)
        _check_current_version(flow, request.expected_current_version)
        changes = {"rollout": None, "last_notes": request.notes}
        return self._save(flow, self._next(identity, flow, FlowAction.ROLLOUT_ABORTED, changes))

    def _rollout_of(
        self, identity: Identity, flow_id: str, in_body: int | None, if_match: int | None
    ) -> tuple[Flow, Rollout]:
        flow = self._load_for_write(identity, flow_id, _expected_row_version(in_body, if_match))
        if flow.rollout is None:
            raise Conflict("NO_ROLLOUT", f"Decision flow {flow_id!r} has no staged rollout running.")
        return flow, flow.rollout

    def _save(self, flow: Flow, new: Flow) -> Flow:
        self._store.save_flow(flow, new)
        return new

    # Helpers

    def _load(self, identity: Identity, flow_id: str) -> Flow:
        flow = self._store.get_flow(identity.tenant_id, flow_id)
        if flow is None:
            raise flow_not_found(flow_id)
        return flow

    def _load_for_write(self, identity: Identity, flow_id: str, expected_row_version: int | None) -> Flow:
        flow = self._load(identity, flow_id)
        _check_row_version(flow, expected_row_version)
        return flow

    def _next(
        self, identity: Identity, flow: Flow, action: FlowAction, changes: dict[str, Any], now: str | None = None
    ) -> Flow:
        """The flow after one write: every write bumps rowVersion and stamps who and when (``now``:
        the write's one timestamp, shared with the version it publishes)."""
        return flow.model_copy(
            update={
                "last_notes": None,
                **changes,
                "row_version": flow.row_version + 1,
                "updated_at": now or timestamp(self._clock()),
                "updated_by": identity.principal,
                "last_action": action,
            }
        )

    def _released(
        self, identity: Identity, flow: Flow, action: FlowAction, share: int | None = None, **content: Any
    ) -> tuple[Flow, Flow, PublishedVersion]:
        """The flow as read, the flow with the next version (``content``) appended and live, and that
        version: what the store writes in one atomic write."""
        now = timestamp(self._clock())
        version = PublishedVersion(
            version=(flow.latest_version or 0) + 1, published_at=now, published_by=identity.principal, **content
        )
        if share is None:
            return flow, self._go_live(identity, flow, version, action, now), version
        rollout = Rollout(
            challenger_version=version.version,
            challenger_config_hash=version.config_hash,
            basis_points=share,
            started_at=now,
            started_by=identity.principal,
            updated_at=now,
        )
        summaries = [*flow.published_versions, _summary(version)][-PUBLISHED_VERSIONS_ON_FLOW:]
        changes = {
            "latest_version": version.version,
            "published_versions": summaries,
            "status": FlowStatus.ACTIVE,
            "rollout": rollout,
        }
        return flow, self._next(identity, flow, action, changes, now), version

    def _go_live(self, identity: Identity, flow: Flow, version: PublishedVersion, action: FlowAction, now: str) -> Flow:
        """The flow with ``version`` live for everyone: a release ends any staged rollout."""
        summary = _summary(version)
        return self._next(
            identity,
            flow,
            action,
            now=now,
            changes={
                "draft_config": version.config,
                "draft_hash": version.config_hash,
                "live_version": version.version,
                "latest_version": version.version,
                "live_config_hash": version.config_hash,
                "status": FlowStatus.ACTIVE,
                "published_versions": [*flow.published_versions, summary][-PUBLISHED_VERSIONS_ON_FLOW:],
                "rollout": None,
            },
        )


def checked_draft(config: Any) -> tuple[str, str]:
    """Validate a draft config; return its canonical JSON and hash."""
    pipeline.validate_config(config)
    canonical = pipeline.canonical_json(config)
    pipeline.check_size(canonical)
    return canonical, pipeline.config_hash(canonical)


def _summary(version: PublishedVersion) -> VersionSummary:
    return VersionSummary.model_validate(version.model_dump(include=set(VersionSummary.model_fields)))


def _basis_points(percent: float) -> int:
    return round(percent * 100)


def _rollout_in_progress(rollout: Rollout) -> Conflict:
    return Conflict(
        "ROLLOUT_IN_PROGRESS",
        f"v{rollout.challenger_version} is being rolled out to {rollout.percent:g}% of subjects: promote or abort it "
        "before publishing again.",
    )


def _expected_row_version(in_body: int | None, if_match: int | None) -> int | None:
    if in_body is not None and if_match is not None and in_body != if_match:
        raise InvalidRequest(
            "ROW_VERSION_AMBIGUOUS",
            f"The body's rowVersion {in_body} and the If-Match rowVersion {if_match} disagree.",
        )
    return in_body if in_body is not None else if_match


def _check_row_version(flow: Flow, expected: int | None) -> None:
    if expected is not None and expected != flow.row_version:
        raise row_version_mismatch(expected, flow.row_version)


def _check_current_version(flow: Flow, expected: int | None) -> None:
    if expected is not None and expected != flow.live_version:
        raise Conflict(
            "CURRENT_VERSION_MISMATCH",
            f"expectedCurrentVersion is {expected} but the live version is {flow.live_version}.",
        )


def _not_published() -> Unprocessable:
    return Unprocessable(
        "NOT_PUBLISHED",
        "A flow becomes active by publishing (or rolling back); it has no live version to serve yet.",
    )
