"""The decision-flow use cases: what each request does to a flow, with no HTTP and no boto3.

Every write follows one pattern: load the flow once, check it (``flow_rules``), compute the whole
new state (a pure function of ``transitions``), then hand the previous and the new state to the
store, which writes it atomically on condition that the flow still has the rowVersion that was read.
So a racing writer gets 409 and nothing of its write lands.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from decision_flows.domain import flow_rules as rules
from decision_flows.domain import pipeline, transitions
from decision_flows.domain.clock import timestamp, utc_now
from decision_flows.domain.errors import StoreUnavailable, flow_key_not_found, flow_not_found, version_not_found
from decision_flows.domain.policy import approval_required
from decision_flows.domain.reads import flow_with_key
from decision_flows.domain.transitions import FlowChanges, Share
from decision_flows.models.flow import Flow, FlowAction, FlowStatus, PublishedVersion
from decision_flows.models.identity import Identity, Role
from decision_flows.models.page import Page
from decision_flows.models.scheduled_job import next_plan_job

_log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from decision_flows.domain.compare import ConfigDiff
    from decision_flows.domain.ports import FlowStore, Scheduler
    from decision_flows.models.draft_commands import CreateFlowRequest, UpdateFlowRequest
    from decision_flows.models.policy import Policy
    from decision_flows.models.publish_commands import PublishRequest
    from decision_flows.models.rollback_commands import RollbackRequest
    from decision_flows.models.rollout_commands import AbortRequest, PromoteRequest, RolloutRequest


@dataclass(frozen=True)
class Preview:
    """A dry run's answer: the flow the real call would return, what it would change, its warnings."""

    flow: Flow
    diff: ConfigDiff
    warnings: list[pipeline.ConfigProblem]


@dataclass(frozen=True)
class Plan:
    """A write, computed and checked, not yet made: the flow read, the flow to write (None: deleted) and,
    for a release, the version it appends; for a direct call the review policy can refuse, the policy
    read with the flow (None: not read)."""

    previous: Flow
    new: Flow | None
    version: PublishedVersion | None = None
    by: str = ""
    at: str = ""
    policy: Policy | None = None


def new_flow_id() -> str:
    return f"df_{secrets.token_hex(12)}"


class FlowService:
    def __init__(
        self,
        store: FlowStore,
        review_policy: bool = False,
        clock: Callable[[], datetime] = utc_now,
        new_id: Callable[[], str] = new_flow_id,
        scheduler: Callable[[], Scheduler] | None = None,
    ) -> None:
        """With ``review_policy``, a direct call that may change what an active flow serves reads the
        tenant's policy with the flow (the same round trip) and is refused while the policy asks for
        review; without, every tenant has the default policy: no call needs review. The ``plan_*``
        methods read no policy unless asked (``with_policy``): a change request's apply reads its own.
        ``scheduler`` builds the scheduler the first time a write starts, moves or ends a rollout plan
        (without, plans get no schedules: the sweep finds their steps)."""
        self._store = store
        self._review_policy = review_policy
        self._clock = clock
        self._new_id = new_id
        self._scheduler = scheduler

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

    # Writes: load, check, transition, save

    def create(self, identity: Identity, request: CreateFlowRequest) -> Flow:
        if request.status == FlowStatus.ACTIVE:
            raise rules.not_published()
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
        plan = self.plan_update(identity, request, if_match, with_policy=self._review_policy)
        if plan.new is plan.previous:
            return plan.previous
        if plan.new is not None and (plan.new.status, plan.new.key) != (plan.previous.status, plan.previous.key):
            self._check_unreviewed(plan, "a change of an active flow's status or key")
        return self.write(plan)

    def plan_update(
        self, identity: Identity, request: UpdateFlowRequest, if_match: int | None, *, with_policy: bool = False
    ) -> Plan:
        """Applies whichever fields were sent, so its changes are gathered by name (``_edits``); none that
        differ plan no write (``new is previous``). Only a PUT that sends a status or key can need
        review, so only such a PUT reads the policy (a draft edit keeps its single GetItem)."""
        sent = request.model_fields_set - {"id", "row_version"}
        rules.check_no_nulls(request, sent)
        expected = rules.expected_row_version(request.row_version, if_match)
        flow, policy = self._load_for_write(identity, request.id, expected, with_policy and bool(sent & _GATED_FIELDS))
        changes = _edits(flow, request, sent)
        if not changes:
            return Plan(flow, flow)
        rules.check_can_become(flow, changes.get("status"))
        return Plan(flow, transitions.edited(flow, identity, self._now(), changes), policy=policy)

    def delete(self, identity: Identity, flow_id: str, if_match: int | None) -> None:
        plan = self.plan_delete(identity, flow_id, if_match, with_policy=self._review_policy)
        self._check_unreviewed(plan, "deleting an active flow")
        self.write(plan)

    def plan_delete(self, identity: Identity, flow_id: str, if_match: int | None, *, with_policy: bool = False) -> Plan:
        flow, policy = self._load_for_write(identity, flow_id, if_match, with_policy)
        return Plan(flow, None, by=identity.principal, at=self._now(), policy=policy)

    def publish(self, identity: Identity, request: PublishRequest, if_match: int | None) -> Flow:
        plan = self.plan_publish(identity, request, if_match, with_policy=self._review_policy)
        self._check_unreviewed(plan, "POST /publish")
        return self.write(plan)

    def rollback(self, identity: Identity, request: RollbackRequest, if_match: int | None) -> Flow:
        plan = self.plan_rollback(identity, request, if_match, with_policy=self._review_policy)
        self._check_unreviewed(plan, "POST /rollback")
        return self.write(plan)

    def write(self, plan: Plan) -> Flow:
        """Make a planned write: one conditional write or transaction at the rowVersion read."""
        if plan.new is None:
            self._store.delete_flow(plan.previous, plan.by, plan.at)
            self.follow_plan(plan.previous, None)
            return plan.previous
        if plan.version is not None:
            self._store.publish_version(plan.previous, plan.new, plan.version)
        else:
            self._store.save_flow(plan.previous, plan.new)
        self.follow_plan(plan.previous, plan.new)
        return plan.new

    def follow_plan(self, previous: Flow, new: Flow | None) -> None:
        """After a write (never before: the firing reads the flow, whatever the scheduler holds), the
        schedule of the plan's next pending step: put when the write started the plan or applied a
        step, deleted when it ended the plan (cancelled, suspended, done, or the flow deleted)."""
        before, after = next_plan_job(previous), next_plan_job(new)
        if before == after or self._scheduler is None:
            return
        scheduler = self._scheduler()
        try:
            if before is not None and (after is None or before[0] != after[0]):
                scheduler.delete_schedule(before[0])
            if after is not None:
                scheduler.put_schedule(*after)
        except StoreUnavailable:
            # The write has landed: answering 503 would invite a retry that the new state refuses. The
            # sweep fires a step whose schedule is missing (within about a minute of its runAt), and a
            # schedule left behind fires into a no-op.
            _log.warning("the rollout plan's schedule was not updated", exc_info=True)

    def preview_publish(self, identity: Identity, request: PublishRequest, if_match: int | None) -> Preview:
        """What publish would do, refused exactly as it would be (the same planning), with nothing
        written: the flow it would return, the diff from live to the draft, and the draft's warnings."""
        return self._preview(identity, self.plan_publish(identity, request, if_match), None)

    def preview_rollback(self, identity: Identity, request: RollbackRequest, if_match: int | None) -> Preview:
        """What rollback would do, as ``preview_publish`` tells of a publish: the diff from live to the
        version it restores."""
        plan = self.plan_rollback(identity, request, if_match)
        return self._preview(identity, plan, request.version)

    def _preview(self, identity: Identity, plan: Plan, named: int | None) -> Preview:
        """A release's plan as a dry run answers it: the config it would make live (the draft, or
        published version ``named``) against what is live now."""
        from decision_flows.domain import compare, lint  # only a dry run loads the diff machinery

        ref = compare.DRAFT if named is None else str(named)
        assert plan.new is not None, "a release writes the flow"
        assert plan.version is not None, "a release appends a version"
        assert plan.version.config is not None, "a release carries its config"
        config = json.loads(plan.version.config)
        live = compare.live_state(self._store, identity.tenant_id, plan.previous)
        diff = compare.compare(plan.previous.id, live, compare.State(ref, named, config))
        return Preview(plan.new, diff, lint.warnings(config))

    def plan_publish(
        self,
        identity: Identity,
        request: PublishRequest,
        if_match: int | None,
        config: str | None = None,
        *,
        with_policy: bool = False,
    ) -> Plan:
        """``config``: a change request's captured draft, published in place of the draft as it is now."""
        if request.rollout is not None:
            rules.check_overrides(request.rollout.include, request.rollout.exclude, at="rollout.")
            rules.check_plan(request.rollout)
        expected = rules.expected_row_version(request.row_version, if_match)
        flow, policy = self._load_for_write(identity, request.id, expected, with_policy)
        rules.check_no_rollout(flow)
        rules.check_current_version(flow, request.expected_current_version)
        rules.check_can_stage(flow, request.rollout is not None)
        assert flow.draft_config is not None, "a flow read by id carries its draft"
        released = flow.draft_config if config is None else config
        facts = pipeline.validate_config(json.loads(released))
        pipeline.require_scoring_method(facts)
        version = transitions.next_version(
            flow,
            identity,
            self._now(),
            notes=request.notes,
            node_count=facts.node_count,
            scoring_method=facts.scoring_method,
            config_hash=flow.draft_hash if config is None else pipeline.config_hash(released),
            config=released,
        )
        if request.rollout is not None:
            share = Share(_basis_points(request.rollout.percent), request.rollout.include, request.rollout.exclude)
            new = transitions.rollout_started(flow, identity, version, share, request.rollout.plan)
            return Plan(flow, new, version, policy=policy)
        return Plan(flow, transitions.went_live(flow, identity, version, FlowAction.PUBLISHED), version, policy=policy)

    def plan_rollback(
        self, identity: Identity, request: RollbackRequest, if_match: int | None, *, with_policy: bool = False
    ) -> Plan:
        """The flow and the target's snapshot in one read (the policy too, ``with_policy``)."""
        policy: Policy | None = None
        if with_policy:
            read = self._store.get_gated_flow(identity.tenant_id, request.id, request.version)
            flow, target, policy = read.flow, read.version, read.policy
        else:
            flow, target = self._store.get_flow_and_version(identity.tenant_id, request.id, request.version)
        if flow is None:
            raise flow_not_found(request.id)
        rules.check_row_version(flow, rules.expected_row_version(request.row_version, if_match))
        if target is None:
            raise version_not_found(request.id, request.version)
        rules.check_current_version(flow, request.expected_current_version)
        rules.check_not_live(flow, target)
        prefix = f"Rollback to v{target.version}"
        version = transitions.next_version(
            flow,
            identity,
            self._now(),
            notes=f"{prefix}: {request.notes}" if request.notes else prefix,
            restored_from=target.version,
            node_count=target.node_count,
            scoring_method=target.scoring_method,
            config_hash=target.config_hash,
            config=target.config,
        )
        return Plan(
            flow, transitions.went_live(flow, identity, version, FlowAction.ROLLED_BACK), version, policy=policy
        )

    # Staged rollouts: each one conditional write of the flow, guarded like any other

    def change_rollout(self, identity: Identity, request: RolloutRequest, if_match: int | None) -> Flow:
        """The fields sent replace the stored ones; a change to what is stored already writes nothing
        (as PUT), so it leaves no history entry and does not move the live pointer."""
        plan = self.plan_rollout(identity, request, if_match, with_policy=self._review_policy)
        if plan.new is plan.previous:
            return plan.previous
        self._check_unreviewed(plan, "POST /rollout")
        return self.write(plan)

    def plan_rollout(
        self, identity: Identity, request: RolloutRequest, if_match: int | None, *, with_policy: bool = False
    ) -> Plan:
        flow, policy = self._load_rollout(identity, request, if_match, with_policy)
        stored = Share.of(rules.running_rollout(flow))
        share = Share(
            stored.basis_points if request.percent is None else _basis_points(request.percent),
            stored.include if request.include is None else request.include,
            stored.exclude if request.exclude is None else request.exclude,
        )
        rules.check_overrides(share.include, share.exclude)
        if share == stored:
            return Plan(flow, flow)
        return Plan(flow, transitions.rollout_changed(flow, identity, self._now(), share), policy=policy)

    def promote(self, identity: Identity, request: PromoteRequest, if_match: int | None) -> Flow:
        plan = self.plan_promote(identity, request, if_match, with_policy=self._review_policy)
        self._check_unreviewed(plan, "POST /rollout/promote")
        return self.write(plan)

    def plan_promote(
        self, identity: Identity, request: PromoteRequest, if_match: int | None, *, with_policy: bool = False
    ) -> Plan:
        flow, policy = self._load_rollout(identity, request, if_match, with_policy)
        return Plan(flow, transitions.promoted(flow, identity, self._now(), request.notes), policy=policy)

    def abort(self, identity: Identity, request: AbortRequest, if_match: int | None) -> Flow:
        plan = self.plan_abort(identity, request, if_match, with_policy=self._review_policy)
        self._check_unreviewed(plan, "POST /rollout/abort")
        return self.write(plan)

    def plan_abort(
        self, identity: Identity, request: AbortRequest, if_match: int | None, *, with_policy: bool = False
    ) -> Plan:
        flow, policy = self._load_rollout(identity, request, if_match, with_policy)
        return Plan(flow, transitions.aborted(flow, identity, self._now(), request.notes), policy=policy)

    def plan_step(self, flow: Flow, step: int) -> Plan:
        """A rollout plan's ``step`` as the manual call makes it (POST /rollout with its percent, or
        /rollout/promote), with the checks that still apply to an approved plan, on the flow read,
        made by the rollout's starter; no review: the plan was approved with its publish."""
        rollout = rules.running_rollout(flow)
        rules.check_active(flow)
        assert rollout.plan is not None, "a plan's job names a flow with a plan"
        planned = rollout.plan[step]
        by = _plan_actor(flow, rollout.started_by)
        if planned.promote:
            return Plan(flow, transitions.promoted(flow, by, self._now(), None, step))
        assert planned.basis_points is not None, "a step that does not promote moves the share"
        share = Share(planned.basis_points, rollout.include, rollout.exclude)
        return Plan(flow, transitions.rollout_changed(flow, by, self._now(), share, step))

    def plan_suspension(self, flow: Flow, step: int, reason: str) -> Plan:
        """The plan's ``step`` and the rest suspended with ``reason`` (the refusal's code, or MISSED)."""
        by = _plan_actor(flow, rules.running_rollout(flow).started_by)
        return Plan(flow, transitions.plan_suspended(flow, by, self._now(), step, reason))

    def _load_rollout(
        self,
        identity: Identity,
        request: RolloutRequest | PromoteRequest | AbortRequest,
        if_match: int | None,
        with_policy: bool,
    ) -> tuple[Flow, Policy | None]:
        """The flow with a running rollout, checked in the contract's order: rowVersion (409), a rollout
        running (409 NO_ROLLOUT), then expectedCurrentVersion (409)."""
        expected = rules.expected_row_version(request.row_version, if_match)
        flow, policy = self._load_for_write(identity, request.id, expected, with_policy)
        rules.running_rollout(flow)
        rules.check_current_version(flow, request.expected_current_version)
        return flow, policy

    # Helpers

    def _check_unreviewed(self, plan: Plan, call: str) -> None:
        """409 APPROVAL_REQUIRED for a direct call that would change what an active flow serves, when the
        tenant's policy (read with the flow) asks for review: after every other check, so the refusal
        is the one the call would otherwise succeed with."""
        if plan.policy is not None and plan.previous.status == FlowStatus.ACTIVE:
            approval_required(plan.policy, call)

    def _now(self) -> str:
        """The write's one timestamp (a release shares it with the version it publishes)."""
        return timestamp(self._clock())

    def _load(self, identity: Identity, flow_id: str) -> Flow:
        flow = self._store.get_flow(identity.tenant_id, flow_id)
        if flow is None:
            raise flow_not_found(flow_id)
        return flow

    def _load_for_write(
        self, identity: Identity, flow_id: str, expected_row_version: int | None, with_policy: bool
    ) -> tuple[Flow, Policy | None]:
        """The flow, at the rowVersion expected; ``with_policy``, the tenant's policy from the same read."""
        if with_policy:
            read = self._store.get_gated_flow(identity.tenant_id, flow_id)
            flow, policy = read.flow, read.policy
        else:
            flow, policy = self._store.get_flow(identity.tenant_id, flow_id), None
        if flow is None:
            raise flow_not_found(flow_id)
        rules.check_row_version(flow, expected_row_version)
        return flow, policy


# The fields of a PUT whose change the review policy can refuse (an active flow's status or key).
_GATED_FIELDS = frozenset({"status", "key"})


def checked_draft(config: Any) -> tuple[str, str]:
    """Validate a draft config; return its canonical JSON and hash."""
    pipeline.validate_config(config)
    canonical = pipeline.canonical_json(config)
    pipeline.check_size(canonical)
    return canonical, pipeline.config_hash(canonical)


def _edits(flow: Flow, request: UpdateFlowRequest, sent: set[str]) -> FlowChanges:
    """The sent fields that differ from the flow, the draft canonicalised and hashed."""
    changes: dict[str, Any] = {name: getattr(request, name) for name in sent}
    if "draft_config" in changes:
        changes["draft_config"], changes["draft_hash"] = checked_draft(changes["draft_config"])
    # The names are UpdateFlowRequest's own fields, each a Flow field of the same type (see test_transitions).
    return cast("FlowChanges", {name: value for name, value in changes.items() if getattr(flow, name) != value})


def _plan_actor(flow: Flow, principal: str) -> Identity:
    """Who a plan's step acts as: the rollout's starter (the plan was theirs)."""
    return Identity(flow.tenant_id, Role.EDITOR, principal)


def _basis_points(percent: float) -> int:
    return round(percent * 100)
