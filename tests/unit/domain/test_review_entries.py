"""The history entries of the review policy and of change requests, as pure functions of what was stored."""

from __future__ import annotations

from decision_flows.domain.history import change_request_entry, policy_entry
from decision_flows.models.change import ChangeBase, ChangeRequest, EmergencyRecord, Schedule
from decision_flows.models.change_terms import ChangeAction, ChangeState, ScheduleStatus
from decision_flows.models.flow import FlowAction
from decision_flows.models.policy import Policy

AT = "2026-12-06T10:00:00.000Z"


def stored_policy(row_version: int, **settings: object) -> Policy:
    return Policy.model_validate(
        {"tenantId": "tenant-a", "rowVersion": row_version, "updatedAt": AT, "updatedBy": "admin", **settings}
    )


def request(state: ChangeState, event: FlowAction) -> ChangeRequest:
    return ChangeRequest(
        change_id="cr_019a0000000000000001_df_1",
        tenant_id="tenant-a",
        flow_id="df_1",
        action=ChangeAction.PUBLISH,
        params="{}",
        state=state,
        author="alice",
        created_at=AT,
        expires_at="2026-12-13T10:00:00.000Z",
        base=ChangeBase(live_version=1),
        content_hash="sha256:x",
        required=1,
        row_version=2,
        last_event=event,
        last_actor="bob",
        updated_at=AT,
        last_comment="looks right",
    )


def test_the_first_policy_is_compared_with_the_defaults() -> None:
    entry = policy_entry("e1", None, stored_policy(1, required=2))

    assert (entry.flow_id, entry.action, entry.actor, entry.row_version) == ("policy", "policy_changed", "admin", 1)
    assert entry.changes == {"approvals.required": {"from": 0, "to": 2}}


def test_a_later_policy_lists_only_what_changed() -> None:
    before = stored_policy(1, required=2)
    after = stored_policy(2, required=2, emergencyEnabled=False, allowSelfApproval=True)

    entry = policy_entry("e2", before, after)

    assert entry.changes == {
        "approvals.allowSelfApproval": {"from": False, "to": True},
        "emergency.enabled": {"from": True, "to": False},
    }


def test_a_review_is_an_entry_of_its_request_with_its_comment() -> None:
    entry = change_request_entry("e3", request(ChangeState.APPROVED, FlowAction.CHANGE_APPROVED))

    assert entry is not None
    assert (entry.action, entry.actor, entry.change_id, entry.flow_id) == (
        "change_approved",
        "bob",
        "cr_019a0000000000000001_df_1",
        "df_1",
    )
    assert (entry.comment, entry.row_version) == ("looks right", 2)


def test_an_applied_request_leaves_the_entry_to_the_flows_own_write() -> None:
    assert change_request_entry("e4", request(ChangeState.APPLIED, FlowAction.CHANGE_APPROVED)) is None


def test_an_emergency_leaves_its_creation_to_the_flows_write_and_its_later_approvals_to_its_own() -> None:
    # Given an emergency change, applied as it was requested
    emergency = request(ChangeState.APPLIED, FlowAction.CHANGE_REQUESTED).model_copy(
        update={"emergency": EmergencyRecord(reason="outage")}
    )
    approved = emergency.model_copy(update={"last_event": FlowAction.CHANGE_APPROVED})

    # Then its request has no entry of its own, and an approval after it does
    assert change_request_entry("e7", emergency) is None
    entry = change_request_entry("e8", approved)
    assert entry is not None
    assert (entry.action, entry.actor, entry.change_id) == ("change_approved", "bob", emergency.change_id)


def test_a_suspended_schedules_entry_says_why() -> None:
    suspended = Schedule(run_at=AT, status=ScheduleStatus.SUSPENDED, scheduled_by="bob", reason="CHANGE_STALE")
    scheduled = request(ChangeState.APPROVED, FlowAction.SCHEDULE_SUSPENDED).model_copy(update={"schedule": suspended})

    entry = change_request_entry("e5", scheduled)

    assert entry is not None
    assert (entry.action, entry.reason) == ("schedule_suspended", "CHANGE_STALE")
    # and an entry of another event of the same request carries no reason
    approved = scheduled.model_copy(update={"last_event": FlowAction.CHANGE_APPROVED})
    assert (again := change_request_entry("e6", approved)) is not None
    assert again.reason is None
