"""Change history: the entry each change of a flow leaves, derived from its state before and after.

Pure functions of the stored models, so the consumer's behaviour is testable without a stream.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, NamedTuple

from decision_flows.domain.errors import flow_not_found
from decision_flows.models.flow import Flow, FlowAction, PlanStep, ScheduleStatus
from decision_flows.models.history import ChangeEntry, FlowTombstone
from decision_flows.models.identity import Identity
from decision_flows.models.page import Page

if TYPE_CHECKING:
    from datetime import datetime

    from decision_flows.domain.ports import FlowStore, History
    from decision_flows.models.change import ChangeRequest
    from decision_flows.models.policy import Policy

# Fields whose before/after an `updated` or `status_changed` entry lists (stored names -> contract names).
TRACKED_FIELDS = {
    "key": "key",
    "name": "name",
    "description": "description",
    "status": "status",
    "auto_assembly": "autoAssembly",
    "draft_hash": "draftConfig",
}
RELEASES = (FlowAction.PUBLISHED, FlowAction.ROLLED_BACK)
ROLLOUT_STEPS = (
    FlowAction.ROLLOUT_STARTED,
    FlowAction.ROLLOUT_CHANGED,
    FlowAction.ROLLOUT_PROMOTED,
    FlowAction.ROLLOUT_ABORTED,
)
# DynamoDB's item limit, less room for the entry's own attributes, keys and their names.
ENTRY_BYTES = 400 * 1024 - 8 * 1024
# The most items an entry's summary lists of each kind (GET /diff has them all). Each is a DynamoDB map,
# which the consumer serialises for ~20 µs (and moto as much again) and every history page reads back:
# uncapped, a draft edit replacing 6 000 edges cost the consumer 0.4 s once the diff was linear (4 ms
# without edges), 71 ms at 500, 39 ms at 100 (docs/PERFORMANCE.md, "Diff cost").
LISTED_CHANGES = 100


class ConfigsChanged(NamedTuple):
    """The configs a release or rollout step moved between (None: nothing was live yet)."""

    before: str | None
    after: str | None


def change_entry(event_id: str, old: Flow | None, new: Flow, configs: ConfigsChanged | None = None) -> ChangeEntry:
    """The entry for one write of a flow (``old`` is None when the write created it). A release's or
    rollout step's ``configChanges`` needs ``configs``: without them (a snapshot was gone) it is left out."""
    fields: dict[str, Any] = {
        "event_id": event_id,
        "flow_id": new.id,
        "tenant_id": new.tenant_id,
        "action": FlowAction.CREATED if old is None else new.last_action,
        "actor": new.updated_by,
        "at": new.updated_at,
        "row_version": new.row_version,
    }
    if old is None:
        return ChangeEntry(**fields)
    if new.last_change is not None:
        fields.update(new.last_change.model_dump())
    fields.update(_plan_fields(new))
    if new.last_action in RELEASES:
        fields["from_version"] = old.live_version
        fields["to_version"] = new.live_version
        fields["restored_from"] = new.published_versions[-1].restored_from if new.published_versions else None
        if old.rollout is not None and new.rollout is None:  # a rollback during a rollout ends it
            fields["rollout_ended"] = old.rollout.model_dump(include={"challenger_version", "basis_points"})
    elif new.last_action in ROLLOUT_STEPS:
        fields.update(_rollout_fields(old, new))
    elif new.last_action != FlowAction.SCHEDULE_SUSPENDED:  # a plan's step: its step and reason say it all
        fields["changes"] = changed_fields(old, new)
    # An unpublished draft exists nowhere else once overwritten: keep it (never for a published one,
    # whose snapshot already holds it).
    if old.has_unpublished_changes and new.draft_hash != old.draft_hash:
        fields["previous_draft"] = old.draft_config
    beside = _bytes_of(fields.get("previous_draft"), *fields.get("include", ()), *fields.get("exclude", ()))
    if (new.last_action in RELEASES or new.last_action in ROLLOUT_STEPS) and configs is not None:
        fields["config_changes"] = config_changes(configs.before, configs.after, beside)
    elif new.last_action == FlowAction.UPDATED and new.draft_hash != old.draft_hash:
        fields["config_changes"] = config_changes(old.draft_config, new.draft_config, beside)
    return ChangeEntry(**fields)


def _plan_fields(new: Flow) -> dict[str, Any]:
    """A write of a rollout plan's step: which step, and a suspension's reason."""
    if new.last_plan_step is None:
        return {}
    planned = new.rollout.plan if new.rollout is not None else None
    suspended = new.last_action == FlowAction.SCHEDULE_SUSPENDED and planned is not None
    reason = planned[new.last_plan_step].reason if suspended and planned is not None else None
    return {"plan_step": new.last_plan_step, "reason": reason}


def config_changes(before: str | None, after: str | None, beside: int = 0) -> dict[str, Any]:
    """The diff's summary from ``before`` to ``after``, each list (a changed node's paths too) cut to
    ``LISTED_CHANGES`` items, then to what fits the entry beside ``beside`` bytes of its other fields
    (a kept draft, override lists; the longest lists lose their tail first); ``truncated`` says so."""
    from decision_flows.domain.config_diff import summarize  # the consumer's records only

    document = summarize(_parsed(before), _parsed(after)).as_document()
    budget = ENTRY_BYTES - beside
    lists = [document["nodes"][k] for k in ("added", "removed", "changed")]
    lists += [document["edges"][k] for k in ("added", "removed")] + list(document["stages"].values())
    for listed in [*lists, *(node["paths"] for node in document["nodes"]["changed"])]:
        if len(listed) > LISTED_CHANGES:
            del listed[LISTED_CHANGES:]
            document["truncated"] = True
    while len(json.dumps(document, ensure_ascii=False).encode()) > budget and any(lists):
        longest = max(lists, key=len)
        del longest[len(longest) // 2 :]
        document["truncated"] = True
    return document


def _bytes_of(*texts: str | None) -> int:
    return sum(len(text.encode()) for text in texts if text)


def _parsed(config: str | None) -> dict[str, Any] | None:
    return None if config is None else dict(json.loads(config))


def _rollout_fields(old: Flow, new: Flow) -> dict[str, Any]:
    """fromVersion → toVersion of a rollout step: champion → challenger while it runs (with the share),
    the old champion → the new live one on promote, the challenger → the champion on abort."""
    rollout = new.rollout or old.rollout
    assert rollout is not None, "a rollout step has a rollout before or after it"
    share = {"basis_points": rollout.basis_points}  # while it runs, or when it ended
    if new.last_action == FlowAction.ROLLOUT_ABORTED:
        ended = {"from_version": rollout.challenger_version, "to_version": old.live_version, "notes": new.last_notes}
        return ended | share
    if new.last_action == FlowAction.ROLLOUT_PROMOTED:
        return {"from_version": old.live_version, "to_version": new.live_version, "notes": new.last_notes} | share
    # A start or a change: the overrides it left too, so a change of the lists alone shows what it did.
    overrides = {"include": rollout.include, "exclude": rollout.exclude}
    return {"from_version": new.live_version, "to_version": rollout.challenger_version} | share | overrides


def plan_cancelled_entry(event_id: str, old: Flow | None, new: Flow) -> ChangeEntry | None:
    """The second entry of a write that cancelled a rollout plan's pending steps (a manual rollout step,
    promote, abort or rollback, also as a change request or an emergency): the steps it cancelled."""
    planned = old.rollout.plan if old is not None and old.rollout is not None else None
    if old is None or planned is None:
        return None
    kept = new.rollout.plan if new.rollout is not None and new.rollout.plan is not None else None
    cancelled = [
        (kept[index] if kept is not None else step.model_copy(update={"status": ScheduleStatus.CANCELLED}))
        for index, step in enumerate(planned)
        if step.status == ScheduleStatus.PENDING
        and index != new.last_plan_step
        and (kept is None or kept[index].status == ScheduleStatus.CANCELLED)
    ]
    if new.last_action == FlowAction.SCHEDULE_SUSPENDED or not cancelled:
        return None
    return _plan_cancelled(event_id, new.id, new.tenant_id, new.updated_by, new.updated_at, new.row_version, cancelled)


def deletion_entries(event_id: str, tombstone: FlowTombstone) -> list[ChangeEntry]:
    """A delete's entry, and the plan_cancelled entry of the rollout plan steps it cancelled."""
    entries = [deletion_entry(event_id, tombstone)]
    if steps := tombstone.cancelled_steps:
        gone = tombstone
        by, at = gone.deleted_by, gone.deleted_at
        entries.append(_plan_cancelled(event_id, gone.flow_id, gone.tenant_id, by, at, gone.row_version, steps))
    return entries


def _plan_cancelled(  # noqa: PLR0913 (an entry's fields)
    event_id: str, flow_id: str, tenant_id: str, actor: str, at: str, row_version: int, steps: list[PlanStep]
) -> ChangeEntry:
    return ChangeEntry(
        event_id=f"{event_id}#plan",  # the feed's sort key breaks ties with it: unique beside its write's
        flow_id=flow_id,
        tenant_id=tenant_id,
        action=FlowAction.PLAN_CANCELLED,
        actor=actor,
        at=at,
        row_version=row_version,
        steps=steps,
    )


def deletion_entry(event_id: str, tombstone: FlowTombstone) -> ChangeEntry:
    return ChangeEntry(
        event_id=event_id,
        flow_id=tombstone.flow_id,
        tenant_id=tombstone.tenant_id,
        action=FlowAction.DELETED,
        actor=tombstone.deleted_by,
        at=tombstone.deleted_at,
        row_version=tombstone.row_version,
        from_version=tombstone.live_version,
    )


def policy_entry(event_id: str, old: Policy | None, new: Policy) -> ChangeEntry:
    """A change of the tenant's policy, in the tenant feed under the flow id ``policy``; ``changes``
    compares it with the defaults when it is the first one stored."""
    from decision_flows.models.policy import POLICY_HISTORY_ID, Policy  # the consumer's records only

    before = (old or Policy(tenant_id=new.tenant_id)).settings()
    after = new.settings()
    assert new.updated_by is not None, "a stored policy says who stored it"
    assert new.updated_at is not None, "and when"
    return ChangeEntry(
        event_id=event_id,
        flow_id=POLICY_HISTORY_ID,
        tenant_id=new.tenant_id,
        action=FlowAction.POLICY_CHANGED,
        actor=new.updated_by,
        at=new.updated_at,
        row_version=new.row_version,
        changes={name: {"from": before[name], "to": after[name]} for name in after if before[name] != after[name]},
    )


def change_request_entry(event_id: str, change: ChangeRequest) -> ChangeEntry | None:
    """A change request's event (requested, approved, …), under the request's own id: none for its
    application (an emergency's creation included), whose entry is the flow's own write (it names the
    request)."""
    from decision_flows.models.change_terms import ChangeState  # the consumer's records only

    # An emergency change's approvals come after it was applied: they are entries like any review.
    if change.state == ChangeState.APPLIED and not (
        change.emergency is not None and change.last_event == FlowAction.CHANGE_APPROVED
    ):
        return None
    # Why a schedule was suspended (the refusal's code, or MISSED): what its reader acts on.
    suspended = change.schedule if change.last_event == FlowAction.SCHEDULE_SUSPENDED else None
    return ChangeEntry(
        event_id=event_id,
        flow_id=change.flow_id,
        tenant_id=change.tenant_id,
        action=change.last_event,
        actor=change.last_actor,
        at=change.updated_at,
        row_version=change.row_version,
        change_id=change.change_id,
        comment=change.last_comment,
        reason=suspended.reason if suspended else None,
    )


def changed_fields(old: Flow, new: Flow) -> dict[str, dict[str, Any]]:
    changes = {}
    for stored, contract in TRACKED_FIELDS.items():
        before, after = getattr(old, stored), getattr(new, stored)
        if before != after:
            changes[contract] = {"from": before, "to": after}
    return changes


class HistoryService:
    def __init__(self, history: History, flows: FlowStore) -> None:
        self._history = history
        self._flows = flows

    def history(self, identity: Identity, flow_id: str, limit: int, cursor: str | None) -> Page[ChangeEntry]:
        """Newest first. History outlives its flow, so only a flow with neither is 404; a flow whose
        first entry the consumer has not written yet has an empty history."""
        page = self._history.list_changes(identity.tenant_id, flow_id, limit, cursor)
        if not page.items and cursor is None and not self._flows.flow_exists(identity.tenant_id, flow_id):
            raise flow_not_found(flow_id)
        return page

    def feed(self, identity: Identity, since: datetime | None, limit: int, cursor: str | None) -> Page[ChangeEntry]:
        """The tenant feed: every entry of every flow of the caller's tenant, deleted flows' included,
        newest first, at or after ``since``. One read of at most a page, however long the history."""
        return self._history.list_feed(identity.tenant_id, since, limit, cursor)
