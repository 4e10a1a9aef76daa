"""The refusals of flow_rules as a caller reads them: the problem's class (its status), its code, a
detail to read, each field problem's path and message, and the bounds each check draws."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from decision_flows.domain import flow_rules
from decision_flows.domain.errors import Conflict, DomainError, InvalidRequest, Unprocessable
from decision_flows.models.body_fields import MAX_OVERRIDE_BYTES
from decision_flows.models.draft_commands import UpdateFlowRequest
from decision_flows.models.flow import FlowStatus, PublishedVersion
from decision_flows.models.publish_commands import RolloutShare
from tests.support.flows import NOW, a_flow, a_rollout

LIVE = a_flow(status=FlowStatus.ACTIVE, live_version=2, latest_version=3, live_config_hash="h2", row_version=7)
LIVE_V2 = PublishedVersion(version=2, published_at=NOW, published_by="alice", config_hash="h2")


def update_nulling_the_name() -> None:
    flow_rules.check_no_nulls(UpdateFlowRequest.model_validate({"id": "df_1", "name": None}), {"name"})


def plan_of(percent: float, *steps: dict[str, object]) -> RolloutShare:
    """A rollout share with ``steps``; a step without ``percent`` promotes."""
    planned = [step if "percent" in step else {**step, "promote": True} for step in steps]
    return RolloutShare.model_validate({"percent": percent, "plan": planned})


def check_an_unordered_plan() -> None:
    # Promoting first, then going back in time, to the share it started at: each kind of problem once.
    flow_rules.check_plan(plan_of(10, {"after": "PT2H"}, {"after": "PT1H", "percent": 10}))


REFUSALS: dict[str, tuple[Callable[[], object], type[DomainError], str]] = {
    "rowVersion in body and If-Match disagree": (
        lambda: flow_rules.expected_row_version(3, 4),
        InvalidRequest,
        "ROW_VERSION_AMBIGUOUS",
    ),
    "stale rowVersion": (lambda: flow_rules.check_row_version(LIVE, 6), Conflict, "ROW_VERSION_MISMATCH"),
    "stale expectedCurrentVersion": (
        lambda: flow_rules.check_current_version(LIVE, 1),
        Conflict,
        "CURRENT_VERSION_MISMATCH",
    ),
    "a field nulled": (update_nulling_the_name, InvalidRequest, "VALIDATION_ERROR"),
    "active without a live version": (
        lambda: flow_rules.check_can_become(a_flow(), FlowStatus.ACTIVE),
        Unprocessable,
        "NOT_PUBLISHED",
    ),
    "a release during a rollout": (
        lambda: flow_rules.check_no_rollout(LIVE.model_copy(update={"rollout": a_rollout()})),
        Conflict,
        "ROLLOUT_IN_PROGRESS",
    ),
    "staged without a live version": (lambda: flow_rules.check_can_stage(a_flow(), True), Conflict, "NOT_PUBLISHED"),
    "rollback to what is live": (lambda: flow_rules.check_not_live(LIVE, LIVE_V2), Conflict, "ALREADY_ACTIVE"),
    "a subject in both lists": (
        lambda: flow_rules.check_overrides(["a"], ["a"]),
        InvalidRequest,
        "VALIDATION_ERROR",
    ),
    "override lists too large": (
        lambda: flow_rules.check_overrides(["x" * MAX_OVERRIDE_BYTES], ["y"]),
        InvalidRequest,
        "VALIDATION_ERROR",
    ),
    "a plan that does not step up": (check_an_unordered_plan, InvalidRequest, "VALIDATION_ERROR"),
    "no rollout to step": (lambda: flow_rules.running_rollout(LIVE), Conflict, "NO_ROLLOUT"),
}


@pytest.mark.parametrize("refusal", REFUSALS.values(), ids=REFUSALS.keys())
def test_every_refusal_has_its_status_code_and_a_detail_and_messages_to_read(
    refusal: tuple[Callable[[], object], type[DomainError], str],
) -> None:
    check, problem, code = refusal

    # When the check refuses
    with pytest.raises(problem) as refused:
        check()

    # Then the problem document has the contract's code, a detail, and a message for every field
    assert refused.value.code == code
    assert isinstance(refused.value.detail, str)
    assert refused.value.detail
    assert all(isinstance(error.message, str) and error.message for error in refused.value.errors)


def test_a_stale_row_version_names_the_one_sent_and_the_one_stored() -> None:
    # Given a flow at rowVersion 7, when a write expects 6
    with pytest.raises(Conflict) as refused:
        flow_rules.check_row_version(LIVE, 6)

    # Then the detail tells the caller what it sent and what to read again
    assert "rowVersion 6" in refused.value.detail
    assert "rowVersion 7" in refused.value.detail


def test_a_plan_is_refused_with_every_step_out_of_order_by_field() -> None:
    # When a plan promoting first, then going back in time, to the share it started at is checked
    with pytest.raises(InvalidRequest) as refused:
        check_an_unordered_plan()

    # Then each problem names its field
    assert [error.field for error in refused.value.errors] == [
        "rollout.plan.0.promote",
        "rollout.plan.1.after",
        "rollout.plan.1.percent",
    ]


def test_a_step_must_exceed_the_step_before_it_not_only_the_start() -> None:
    # Given a plan from 10 % up to 30 %, then down to 20 %
    share = plan_of(10, {"after": "PT1H", "percent": 30}, {"after": "PT2H", "percent": 20})

    # When it is checked, then the second step is refused against the first one's share
    with pytest.raises(InvalidRequest) as refused:
        flow_rules.check_plan(share)
    assert [(error.field, "30" in error.message) for error in refused.value.errors] == [
        ("rollout.plan.1.percent", True)
    ]
    # and one stepping up each time passes
    flow_rules.check_plan(plan_of(10, {"after": "PT1H", "percent": 30}, {"after": "PT2H", "percent": 40}))


def test_a_subject_in_both_lists_is_named_up_to_five_of_them() -> None:
    five, six = [f"s{n}" for n in range(1, 6)], [f"s{n}" for n in range(1, 7)]

    with pytest.raises(InvalidRequest) as five_shared:
        flow_rules.check_overrides(five, five, at="rollout.")
    with pytest.raises(InvalidRequest) as six_shared:
        flow_rules.check_overrides(six, six)

    ((field, message),) = five_shared.value.errors
    assert field == "rollout.exclude"
    assert message.startswith("5 subject(s)")
    assert message.endswith("'s5'")  # all of them, nothing left out
    ((field, message),) = six_shared.value.errors
    assert field == "exclude"
    assert message.startswith("6 subject(s)")
    assert "'s5'" in message
    assert "'s6'" not in message
    assert message.endswith(", ...")


def test_the_override_lists_may_hold_exactly_the_limit_together() -> None:
    # Given lists holding MAX_OVERRIDE_BYTES of subjects together, then one byte more
    half = "x" * (MAX_OVERRIDE_BYTES // 2)
    at_limit = (["i" + half[1:]], ["e" + half[1:]])

    # Then the first pass, and the second is refused at the include field
    flow_rules.check_overrides(*at_limit, at="rollout.")
    with pytest.raises(InvalidRequest) as refused:
        flow_rules.check_overrides(at_limit[0], [at_limit[1][0] + "e"], at="rollout.")
    assert [error.field for error in refused.value.errors] == ["rollout.include"]
