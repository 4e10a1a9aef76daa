"""The checks a write makes before it changes a flow: each one passes or raises the contract's error.

Kept apart from the transitions (which assume the checks passed) so every refusal a route can give
is read in one place, in the order the service applies them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from decision_flows.domain.errors import (
    Conflict,
    FieldProblem,
    InvalidRequest,
    Unprocessable,
    row_version_mismatch,
)
from decision_flows.models.body_fields import MAX_OVERRIDE_BYTES
from decision_flows.models.flow import Flow, FlowStatus, PublishedVersion, Rollout

if TYPE_CHECKING:
    from decision_flows.models.draft_commands import UpdateFlowRequest
    from decision_flows.models.publish_commands import RolloutShare


def expected_row_version(in_body: int | None, if_match: int | None) -> int | None:
    """The rowVersion the caller expects, from the body or If-Match; 400 when both are sent and differ."""
    if in_body is not None and if_match is not None and in_body != if_match:
        raise InvalidRequest(
            "ROW_VERSION_AMBIGUOUS",
            f"The body's rowVersion {in_body} and the If-Match rowVersion {if_match} disagree.",
        )
    return in_body if in_body is not None else if_match


def check_row_version(flow: Flow, expected: int | None) -> None:
    if expected is not None and expected != flow.row_version:
        raise row_version_mismatch(expected, flow.row_version)


def check_current_version(flow: Flow, expected: int | None) -> None:
    if expected is not None and expected != flow.live_version:
        raise Conflict(
            "CURRENT_VERSION_MISMATCH",
            f"expectedCurrentVersion is {expected} but the live version is {flow.live_version}.",
        )


def check_no_nulls(request: UpdateFlowRequest, sent: set[str]) -> None:
    """Only description may be cleared with null; the other fields refuse it (400 VALIDATION_ERROR)."""
    # The request's own module, loaded already: imported here so that no other family's function loads it.
    from decision_flows.models.draft_commands import NOT_NULLABLE_ON_UPDATE

    nulls = [name for name in NOT_NULLABLE_ON_UPDATE if name in sent and getattr(request, name) is None]
    if nulls:
        problems = [FieldProblem(type(request).model_fields[n].alias or n, "may not be null") for n in nulls]
        raise InvalidRequest("VALIDATION_ERROR", "Some fields may not be null.", problems)


def check_can_become(flow: Flow, status: FlowStatus | None) -> None:
    """A flow becomes active only by a release: without a live version it has nothing to serve."""
    if status == FlowStatus.ACTIVE and flow.live_version is None:
        raise not_published()


def check_no_rollout(flow: Flow) -> None:
    """A release waits for a running rollout to be promoted or aborted."""
    if flow.rollout is not None:
        rollout = flow.rollout
        raise Conflict(
            "ROLLOUT_IN_PROGRESS",
            f"v{rollout.challenger_version} is being rolled out to {rollout.percent:g}% of subjects: promote or "
            "abort it before publishing again.",
        )


def check_can_stage(flow: Flow, staged: bool) -> None:
    """A staged rollout needs a live version to keep serving as the champion."""
    if staged and flow.live_version is None:
        raise Conflict("NOT_PUBLISHED", "A staged rollout needs a live version to stay the champion: publish first.")


def check_not_live(flow: Flow, target: PublishedVersion) -> None:
    """A rollback to the configuration already live (with no rollout to end) would change nothing."""
    if flow.live_config_hash == target.config_hash and flow.rollout is None:
        raise Conflict(
            "ALREADY_ACTIVE",
            f"The live version v{flow.live_version} already has the configuration of v{target.version}.",
        )


def check_overrides(include: list[str], exclude: list[str], at: str = "") -> None:
    """A subject is in one list at most, and the lists fit beside a 300 KB draft in the flow item (and
    keep the live pointer a small read); ``at`` prefixes the field paths (``rollout.`` on publish)."""
    both = sorted(set(include) & set(exclude))
    if both:
        listed = ", ".join(repr(subject) for subject in both[:5]) + (", ..." if len(both) > 5 else "")
        raise InvalidRequest(
            "VALIDATION_ERROR",
            "A subject cannot be both always and never served the challenger.",
            [FieldProblem(f"{at}exclude", f"{len(both)} subject(s) also in include: {listed}")],
        )
    size = sum(len(subject.encode()) for subject in (*include, *exclude))
    if size > MAX_OVERRIDE_BYTES:
        raise InvalidRequest(
            "VALIDATION_ERROR",
            "The override lists are too large.",
            [
                FieldProblem(
                    f"{at}include",
                    f"include and exclude hold {size} bytes of subjects together; the limit is {MAX_OVERRIDE_BYTES}",
                )
            ],
        )


def check_plan(share: RolloutShare) -> None:
    """A plan steps up: each step later than the one before and to a larger share than the one before
    (the rollout's own first); only the last may promote. 400 with every problem found."""
    problems: list[FieldProblem] = []
    delay, percent = None, share.percent
    for index, step in enumerate(share.plan or ()):
        where = f"rollout.plan.{index}"  # as the request's own validation names a field
        if delay is not None and step.delay <= delay:
            problems.append(FieldProblem(f"{where}.after", "must be later than the step before"))
        if step.percent is not None and step.percent <= percent:
            problems.append(FieldProblem(f"{where}.percent", f"must be more than the share before it ({percent:g})"))
        if step.promote and index != len(share.plan or ()) - 1:
            problems.append(FieldProblem(f"{where}.promote", "only the last step may promote"))
        delay, percent = step.delay, step.percent if step.percent is not None else percent
    if problems:
        raise InvalidRequest("VALIDATION_ERROR", "The rollout plan does not step up.", problems)


def check_active(flow: Flow) -> None:
    """A plan's step widens what an active flow serves: a paused or archived flow serves nothing, so
    its plan waits for nobody (the step suspends)."""
    if flow.status != FlowStatus.ACTIVE:
        detail = f"Decision flow {flow.id!r} is {flow.status.value}: a plan's step needs it active."
        raise Conflict("FLOW_NOT_ACTIVE", detail)


def running_rollout(flow: Flow) -> Rollout:
    """The flow's staged rollout, or 409 NO_ROLLOUT."""
    if flow.rollout is None:
        raise Conflict("NO_ROLLOUT", f"Decision flow {flow.id!r} has no staged rollout running.")
    return flow.rollout


def not_published() -> Unprocessable:
    return Unprocessable(
        "NOT_PUBLISHED",
        "A flow becomes active by publishing (or rolling back); it has no live version to serve yet.",
    )
