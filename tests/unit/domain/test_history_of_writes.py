"""The history entry of each write FlowService makes: the action and versions the contract names."""

from __future__ import annotations

from decision_flows.domain.history import ConfigsChanged, change_entry
from decision_flows.domain.service import FlowService
from decision_flows.models.flow import FlowAction
from decision_flows.models.rollback_commands import RollbackRequest
from decision_flows.models.rollout_commands import AbortRequest, PromoteRequest, RolloutRequest
from decision_flows_local.fixtures.samples import v1_config
from tests.support.flow_service import ALICE, create, publish, update


def test_the_first_entry_is_created_and_every_later_one_names_its_write(service: FlowService) -> None:
    created = create(service)
    renamed = update(service, created, name="Renamed")

    assert change_entry("e1", None, created).action == FlowAction.CREATED
    entry = change_entry("e2", created, renamed)
    assert (entry.action, entry.changes) == (FlowAction.UPDATED, {"name": {"from": "Welcome", "to": "Renamed"}})


def test_a_rollback_during_a_rollout_names_the_rollout_it_ended(service: FlowService) -> None:
    # Given v1 live and v2 served to 10 % of subjects
    live = update(service, publish(service, create(service)), draftConfig=v1_config())
    started = publish(service, live, rollout={"percent": 10})

    # When v1 is restored (which ends the rollout), then the draft edited and published
    back = service.rollback(ALICE, RollbackRequest.model_validate({"id": started.id, "version": 1}), None)
    edited = update(service, back, draftConfig=v1_config("priority"))
    plain = publish(service, edited)

    # Then the rollback's entry names the ended rollout, and the plain publish's names none
    entry = change_entry("e3", started, back, ConfigsChanged(None, None))
    assert (entry.action, entry.from_version, entry.to_version, entry.restored_from) == (
        FlowAction.ROLLED_BACK,
        1,
        3,
        1,
    )
    assert entry.rollout_ended is not None
    assert entry.rollout_ended.model_dump() == {"challenger_version": 2, "basis_points": 1000}
    assert change_entry("e4", edited, plain).rollout_ended is None


def test_each_rollout_step_names_the_versions_it_moves_between_and_the_share(service: FlowService) -> None:
    # Given v1 live, then v2 started at 10 %, moved to 30 %, and promoted; then v3 started and aborted
    live = update(service, publish(service, create(service)), draftConfig=v1_config())
    started = publish(service, live, rollout={"percent": 10})
    moved = service.change_rollout(ALICE, RolloutRequest.model_validate({"id": live.id, "percent": 30}), None)
    promoted = service.promote(ALICE, PromoteRequest.model_validate({"id": live.id, "notes": "wins"}), None)
    third = publish(service, update(service, promoted, draftConfig=v1_config("priority")), rollout={"percent": 5})
    aborted = service.abort(ALICE, AbortRequest.model_validate({"id": live.id, "notes": "worse"}), None)

    # Then each entry says from which version to which, at what share, with the step's notes
    steps = [(live, started), (started, moved), (moved, promoted), (third, aborted)]
    entries = [change_entry(f"e{n}", old, new) for n, (old, new) in enumerate(steps)]
    assert [(e.action, e.from_version, e.to_version, e.basis_points, e.notes) for e in entries] == [
        (FlowAction.ROLLOUT_STARTED, 1, 2, 1000, None),
        (FlowAction.ROLLOUT_CHANGED, 1, 2, 3000, None),
        (FlowAction.ROLLOUT_PROMOTED, 1, 2, 3000, "wins"),
        (FlowAction.ROLLOUT_ABORTED, 3, 2, 500, "worse"),
    ]
