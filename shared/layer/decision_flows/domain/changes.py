"""Change requests ("four eyes"): a gated call frozen at creation, reviewed, then applied at most once.

Creating one plans the call as a dry run would (the same checks, so the same 404, 409 and 422) and
records what the flow served then (``base``). Reviews bind to ``contentHash``. Applying plans the call
again on the flow as it is, refuses it for good (``blocked``, CHANGE_STALE) when the base moved, and
otherwise writes the flow and marks the request applied in one transaction, each guarded by the
rowVersion read: of racing applies exactly one lands.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, NoReturn

from pydantic import BaseModel, ValidationError

from decision_flows.domain.clock import timestamp, utc_now
from decision_flows.domain.errors import Conflict, FieldProblem, Forbidden, InvalidRequest, NotFound, Unprocessable
from decision_flows.domain.service import FlowService, Plan
from decision_flows.models.change import (
    Blocked,
    ChangeBase,
    ChangeListing,
    ChangeRequest,
    EmergencyRecord,
    Review,
    Schedule,
)
from decision_flows.models.change_terms import EXPIRES_AFTER_DAYS, ChangeAction, ChangeState
from decision_flows.models.draft_commands import UpdateFlowRequest
from decision_flows.models.flow import AppliedChange, EmergencyNote, Flow, FlowAction
from decision_flows.models.identity import Identity, Role
from decision_flows.models.page import Page
from decision_flows.models.policy import Policy
from decision_flows.models.publish_commands import PublishRequest
from decision_flows.models.review_commands import ApproveRequest, NewChangeRequest, RejectRequest
from decision_flows.models.rollback_commands import RollbackRequest
from decision_flows.models.rollout_commands import AbortRequest, PromoteRequest, RolloutRequest

if TYPE_CHECKING:
    from decision_flows.domain.ports import ChangeStore, FlowStore, PolicyStore

# The body each action's direct call takes (delete takes none).
DIRECT_BODIES: dict[ChangeAction, type[BaseModel]] = {
    ChangeAction.PUBLISH: PublishRequest,
    ChangeAction.ROLLBACK: RollbackRequest,
    ChangeAction.ROLLOUT: RolloutRequest,
    ChangeAction.PROMOTE: PromoteRequest,
    ChangeAction.ABORT: AbortRequest,
    ChangeAction.UPDATE: UpdateFlowRequest,
}
# Not part of what a request freezes: the flow it names is its own field, and it is applied at its base;
# an emergency is a direct call's own (a request is the way with review).
NOT_PARAMS = ("id", "rowVersion", "dryRun", "emergency")
# Room in a request's item for what it gathers later: title, description, up to five reviews' comments.
REVIEW_BYTES = 16 * 1024


def role_for(action: ChangeAction) -> Role:
    """The role the direct call needs, which making or applying its request needs too."""
    return Role.ADMIN if action == ChangeAction.ROLLBACK else Role.EDITOR


def change_not_found(change_id: str) -> NotFound:
    return NotFound("CHANGE_NOT_FOUND", f"Change request {change_id!r} does not exist.")


def not_pending(change: ChangeRequest, state: ChangeState, wanted: str = "pending") -> Conflict:
    return Conflict("CHANGE_NOT_PENDING", f"Change request {change.change_id!r} is {state.value}, not {wanted}.")


def change_stale(detail: str) -> Conflict:
    return Conflict("CHANGE_STALE", detail)


def direct_request(action: ChangeAction, flow_id: str, params: dict[str, Any]) -> BaseModel | None:
    """The direct call's body from a request's ``params`` (400 VALIDATION_ERROR as the call would be)."""
    given = [name for name in NOT_PARAMS if name in params]
    if given:
        problems = [FieldProblem(f"params.{name}", "is not part of a change request") for name in given]
        raise InvalidRequest("VALIDATION_ERROR", "params takes the direct call's body without these.", problems)
    model = DIRECT_BODIES.get(action)
    if model is None:
        if params:
            raise InvalidRequest("VALIDATION_ERROR", "A delete takes no params.", [FieldProblem("params", "not {}")])
        return None
    try:
        return model.model_validate({**params, "id": flow_id})
    except ValidationError as error:
        problems = [
            FieldProblem("params." + ".".join(str(part) for part in problem["loc"]), problem["msg"])
            for problem in error.errors(include_url=False)
        ]
        raise InvalidRequest("VALIDATION_ERROR", "params is not a valid body of the direct call.", problems) from None


def base_of(flow: Flow) -> ChangeBase:
    rollout = flow.rollout
    return ChangeBase(
        live_version=flow.live_version,
        challenger_version=rollout.challenger_version if rollout else None,
        basis_points=rollout.basis_points if rollout else None,
    )


def counted_approvals(change: ChangeRequest, policy: Policy) -> list[str]:
    """The approvals the policy counts now: the author's own only when it allows self-approval."""
    return [a.by for a in change.approvals if policy.allow_self_approval or a.by != change.author]


def new_change_id(made_at: datetime, flow_id: str) -> str:
    """``cr_<creation time, ms, 12 hex><8 random hex>_<flowId>`` (models.change_terms.ChangeId)."""
    return f"cr_{int(made_at.timestamp() * 1000):012x}{secrets.token_hex(4)}_{flow_id}"


class ChangeService:
    def __init__(  # noqa: PLR0913 (the ports it composes, and the two things tests fix: clock and ids)
        self,
        flows: FlowService,
        flow_store: FlowStore,
        changes: ChangeStore,
        policies: PolicyStore,
        clock: Callable[[], datetime] = utc_now,
        new_id: Callable[[datetime, str], str] = new_change_id,
    ) -> None:
        self._flows = flows
        self._flow_store = flow_store
        self._changes = changes
        self._policies = policies
        self._clock = clock
        self._new_id = new_id

    # Reads

    def get(self, identity: Identity, change_id: str) -> ChangeRequest:
        change = self._changes.get_change(identity.tenant_id, change_id)
        if change is None:
            raise change_not_found(change_id)
        return change

    def list(
        self, identity: Identity, flow_id: str, state: ChangeState | None, limit: int, cursor: str | None
    ) -> Page[ChangeRequest]:
        return self._changes.list_changes(ChangeListing(identity.tenant_id, flow_id, state, self._now()), limit, cursor)

    def list_unreviewed(self, identity: Identity, limit: int, cursor: str | None) -> Page[ChangeRequest]:
        """The tenant's emergency requests awaiting review, across its flows, newest first."""
        return self._changes.list_unreviewed(identity.tenant_id, limit, cursor)

    def now(self) -> str:
        return self._now()

    # Writes

    def create(self, identity: Identity, body: NewChangeRequest) -> ChangeRequest:
        direct = direct_request(body.action, body.flow_id, body.params)
        self.check_role(identity, body.action)
        plan = self._plan(identity, body.flow_id, direct, None)
        if plan.new is plan.previous:
            raise Unprocessable("NOTHING_TO_CHANGE", "The call would change nothing: there is nothing to review.")
        policy = self._policies.get_policy(identity.tenant_id)
        moment = self._clock()
        made = _made(identity, moment, plan, body.action, body.params)
        change = ChangeRequest(
            **made,
            change_id=self._new_id(moment, body.flow_id),
            flow_id=body.flow_id,
            title=body.title,
            description=body.description,
            state=ChangeState.APPROVED if policy.required == 0 else ChangeState.PENDING,
            diff_summary=self._diff_summary(plan, made["params"]),
            required=policy.required,
        )
        self._changes.create_change(change)
        return change

    def approve(self, identity: Identity, body: ApproveRequest) -> ChangeRequest:
        change = self.get(identity, body.change_id)
        state = change.state_at(self._now())
        if state != ChangeState.PENDING and not _awaits_review(change):
            raise not_pending(change, state, "pending or an emergency change awaiting review")
        if body.content_hash != change.content_hash:
            raise Conflict(
                "CONTENT_MISMATCH",
                f"contentHash {body.content_hash!r} is not the request's ({change.content_hash}): "
                "review the request as it is.",
            )
        policy = self._policies.get_policy(identity.tenant_id)
        if identity.principal == change.author and not policy.allow_self_approval:
            raise Forbidden("SELF_APPROVAL_FORBIDDEN", "The author of a change request may not approve it.")
        _check_not_reviewed(change, identity)
        approvals = [*change.approvals, Review(by=identity.principal, at=self._now(), comment=body.comment)]
        approved = len(approvals) >= change.approvals_needed
        if change.emergency is not None:  # applied already: the approvals review it afterwards
            outcome: dict[str, Any] = {"emergency": change.emergency.model_copy(update={"reviewed": approved})}
        else:
            outcome = {"state": ChangeState.APPROVED if approved else ChangeState.PENDING}
        new = self.stamped(change, identity, FlowAction.CHANGE_APPROVED, body.comment, approvals=approvals, **outcome)
        self._changes.save_change(change, new)
        return new

    def reject(self, identity: Identity, body: RejectRequest) -> ChangeRequest:
        """One rejection is a veto, of a pending or an approved request (not yet applied)."""
        change = self.get(identity, body.change_id)
        state = change.state_at(self._now())
        if state not in (ChangeState.PENDING, ChangeState.APPROVED):
            raise not_pending(change, state, "pending or approved")
        if identity.principal == change.author:
            raise Forbidden("SELF_REJECTION_FORBIDDEN", "The author withdraws a request with POST /changes/cancel.")
        _check_not_reviewed(change, identity)
        rejections = [*change.rejections, Review(by=identity.principal, at=self._now(), comment=body.comment)]
        new = self.stamped(
            change,
            identity,
            FlowAction.CHANGE_REJECTED,
            body.comment,
            rejections=rejections,
            state=ChangeState.REJECTED,
            schedule=change.schedule and change.schedule.ended(),
        )
        self._changes.save_change(change, new)
        return new

    def cancel(self, identity: Identity, change_id: str) -> ChangeRequest:
        change = self.get(identity, change_id)
        if identity.principal != change.author and identity.role < Role.ADMIN:
            raise Forbidden("INSUFFICIENT_ROLE", "Only the author of a change request or an admin may cancel it.")
        state = change.state_at(self._now())
        if state not in (ChangeState.PENDING, ChangeState.APPROVED):
            raise not_pending(change, state, "pending or approved")
        new = self.stamped(
            change,
            identity,
            FlowAction.CHANGE_CANCELLED,
            None,
            state=ChangeState.CANCELLED,
            cancelled_by=identity.principal,
            schedule=change.schedule and change.schedule.ended(),
        )
        self._changes.save_change(change, new)
        return new

    def apply(self, identity: Identity, change_id: str) -> tuple[ChangeRequest, Flow]:
        change = self.get(identity, change_id)
        self.check_role(identity, change.action)
        if change.schedule_pending:
            assert change.schedule is not None
            raise Conflict(
                "SCHEDULE_PENDING",
                f"The request is scheduled to apply at {change.schedule.run_at}: "
                "unschedule it with POST /api/v1/decision-flows/changes/unschedule to apply it now.",
            )
        return self.apply_checked(identity, change, block_when_stale=True)

    def apply_checked(
        self, identity: Identity, change: ChangeRequest, *, block_when_stale: bool, schedule: Schedule | None = None
    ) -> tuple[ChangeRequest, Flow]:
        """Every check of a manual apply, then the write. A manual apply blocks a request whose base
        moved for good; a schedule's firing changes nothing but its schedule (``block_when_stale``
        False). ``schedule`` is what the applied request holds (a firing's: done)."""
        if change.blocked is not None:
            raise change_stale(change.blocked.detail)
        state = change.state_at(self._now())
        if state != ChangeState.APPROVED:
            raise not_pending(change, state, "approved")
        policy = self._policies.get_policy(identity.tenant_id)
        approved_by = counted_approvals(change, policy)
        if len(approved_by) < policy.required:
            raise Conflict(
                "APPROVAL_REQUIRED",
                f"The policy now requires {policy.required} approval(s); this request holds {len(approved_by)}: "
                "have it approved with POST /api/v1/decision-flows/changes/approve.",
            )
        direct = direct_request(change.action, change.flow_id, json.loads(change.params))
        try:
            plan = self._plan(identity, change.flow_id, direct, change.config)
        except Conflict as refused:  # the flow no longer allows the call: its base moved
            self._stale(change, identity, refused.detail, block_when_stale)
        if base_of(plan.previous) != change.base:
            self._stale(change, identity, _moved(change.base, base_of(plan.previous)), block_when_stale)
        applied = AppliedChange(change_id=change.change_id, author=change.author, approved_by=approved_by)
        if plan.new is not None:
            plan = Plan(plan.previous, plan.new.model_copy(update={"last_change": applied}), plan.version)
        now = self._now()
        result: dict[str, Any] = {"version": plan.version.version} if plan.version is not None else {}
        if plan.new is not None and plan.version is None and plan.new.live_version != plan.previous.live_version:
            result = {"version": plan.new.live_version}
        new = change.model_copy(
            update={
                "state": ChangeState.APPLIED,
                "applied_at": now,
                "applied_by": identity.principal,
                "result": result,
                "row_version": change.row_version + 1,
                "last_actor": identity.principal,
                "updated_at": now,
                "last_comment": None,
                "schedule": schedule if schedule is not None else change.schedule,
            }
        )
        self._changes.apply_change(plan, change, new)
        self._flows.follow_plan(plan.previous, plan.new)
        return new, plan.new if plan.new is not None else plan.previous

    def emergency(self, identity: Identity, direct: RollbackRequest | AbortRequest, if_match: int | None) -> Flow:
        """An admin's rollback or abort made at once, past the review policy when the policy opens the
        emergency path, and recorded as a request already applied that reviewers approve afterwards:
        the flow's write and the request's creation are one transaction."""
        assert direct.emergency is not None, "an emergency call carries its reason"
        if identity.role < Role.ADMIN:
            raise Forbidden("INSUFFICIENT_ROLE", "An emergency change needs the admin role.")
        if isinstance(direct, RollbackRequest):
            action = ChangeAction.ROLLBACK
            plan = self._flows.plan_rollback(identity, direct, if_match, with_policy=True)
        else:
            action = ChangeAction.ABORT
            plan = self._flows.plan_abort(identity, direct, if_match, with_policy=True)
        policy = plan.policy if plan.policy is not None else self._policies.get_policy(identity.tenant_id)
        if not policy.emergency_enabled:
            raise Forbidden("EMERGENCY_DISABLED", "The tenant's policy closes the emergency path: request the change.")
        assert plan.new is not None, "a rollback or an abort writes the flow"
        note = EmergencyNote(reason=direct.emergency.reason, incident=direct.emergency.incident)
        moment = self._clock()
        change_id = self._new_id(moment, direct.id)
        params = direct.model_dump(mode="json", by_alias=True, exclude_unset=True, exclude=set(_NOT_FIELDS))
        made = _made(identity, moment, plan, action, params)
        applied = AppliedChange(change_id=change_id, author=identity.principal, approved_by=[], emergency=note)
        flow = plan.new.model_copy(update={"last_change": applied})
        plan = Plan(plan.previous, flow, plan.version)
        change = ChangeRequest(
            **made,
            change_id=change_id,
            flow_id=direct.id,
            title=f"Emergency {action.value}",
            state=ChangeState.APPLIED,
            required=policy.required,
            applied_at=made["created_at"],
            applied_by=identity.principal,
            result={"version": plan.version.version} if plan.version is not None else {},
            emergency=EmergencyRecord(**note.model_dump()),
        )
        self._changes.record_emergency(plan, change)
        self._flows.follow_plan(plan.previous, flow)
        return flow

    # Helpers

    def _plan(self, identity: Identity, flow_id: str, direct: BaseModel | None, config: str | None) -> Plan:
        """The direct call planned (no write): ``config`` is a publish's captured draft."""
        flows = self._flows
        if isinstance(direct, PublishRequest):
            return flows.plan_publish(identity, direct, None, config)
        if isinstance(direct, RollbackRequest):
            return flows.plan_rollback(identity, direct, None)
        if isinstance(direct, RolloutRequest):
            return flows.plan_rollout(identity, direct, None)
        if isinstance(direct, PromoteRequest):
            return flows.plan_promote(identity, direct, None)
        if isinstance(direct, AbortRequest):
            return flows.plan_abort(identity, direct, None)
        if isinstance(direct, UpdateFlowRequest):
            return flows.plan_update(identity, direct, None)
        return flows.plan_delete(identity, flow_id, None)

    def _diff_summary(self, plan: Plan, params: str) -> str | None:
        """A release's dry-run diff summary: what is live now against what the release makes live, cut
        (``truncated``) to what fits the request's item beside its config and params."""
        if plan.version is None or plan.version.config is None:
            return None
        from decision_flows.domain.history import config_changes
        from decision_flows.domain.live import version_config

        flow = plan.previous
        live = (
            None
            if flow.live_version is None
            else version_config(self._flow_store, flow, flow.live_version, flow.live_config_hash)
        )
        beside = len(plan.version.config.encode()) + len(params.encode()) + REVIEW_BYTES
        return json.dumps(config_changes(live, plan.version.config, beside))

    def _stale(self, change: ChangeRequest, identity: Identity, detail: str, block: bool) -> NoReturn:
        """The request can never apply (its base moved): blocked for good when ``block``, then 409
        CHANGE_STALE."""
        if not block:
            raise change_stale(detail)
        blocked = Blocked(code="CHANGE_STALE", detail=detail)
        new = self.stamped(change, identity, FlowAction.CHANGE_BLOCKED, None, blocked=blocked)
        self._changes.save_change(change, new)
        raise change_stale(detail)

    def check_role(self, identity: Identity, action: ChangeAction) -> None:
        needed = role_for(action)
        if identity.role < needed:
            raise Forbidden("INSUFFICIENT_ROLE", f"A {action.value} request needs the {needed.name.lower()} role.")

    def stamped(
        self, change: ChangeRequest, identity: Identity, event: FlowAction, comment: str | None, **changes: Any
    ) -> ChangeRequest:
        stamps = {
            "row_version": change.row_version + 1,
            "last_event": event,
            "last_actor": identity.principal,
            "updated_at": self._now(),
            "last_comment": comment,
        }
        return change.model_copy(update={**changes, **stamps})

    def _now(self) -> str:
        return timestamp(self._clock())


def _made(
    identity: Identity, moment: datetime, plan: Plan, action: ChangeAction, params: dict[str, Any]
) -> dict[str, Any]:
    """What a request holds from its making: by whom and when, its base, and the content it binds."""
    config = plan.version.config if plan.version is not None else None
    content = {"action": action.value, "params": params, "config": _parsed(config)}
    now = timestamp(moment)
    return {
        "tenant_id": identity.tenant_id,
        "action": action,
        "params": _canonical(params),
        "author": identity.principal,
        "created_at": now,
        "expires_at": timestamp(moment + timedelta(days=EXPIRES_AFTER_DAYS)),
        "base": base_of(plan.previous),
        "content_hash": "sha256:" + hashlib.sha256(_canonical(content).encode()).hexdigest(),
        "config": config,
        "last_actor": identity.principal,
        "updated_at": now,
    }


# The direct call's fields that are not its request's params (NOT_PARAMS by field name).
_NOT_FIELDS = ("id", "row_version", "dry_run", "emergency")


def _awaits_review(change: ChangeRequest) -> bool:
    return change.emergency is not None and not change.emergency.reviewed


def _check_not_reviewed(change: ChangeRequest, identity: Identity) -> None:
    if any(review.by == identity.principal for review in (*change.approvals, *change.rejections)):
        raise Conflict("ALREADY_REVIEWED", f"{identity.principal} has already reviewed this change request.")


def _moved(base: ChangeBase, now: ChangeBase) -> str:
    return (
        f"The flow moved since the request was made: live version {base.live_version} → {now.live_version}, "
        f"challenger {base.challenger_version} → {now.challenger_version}, "
        f"share {base.basis_points} → {now.basis_points} basis points."
    )


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _parsed(config: str | None) -> Any:
    return None if config is None else json.loads(config)
