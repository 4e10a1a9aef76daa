"""DynamoDB refusals become domain errors by error code: throttling is 503, a transaction conflict
is retried and then 409, a failed condition is what its step says. A fake client plays DynamoDB."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from decision_flows.dal import writes
from decision_flows.dal.flows import FlowRepository, _flow_changed
from decision_flows.dal.store_errors import WriteStep
from decision_flows.domain.errors import Conflict, NotFound, StoreUnavailable
from tests.support.flows import a_flow


def client_error(code: str, **extra: Any) -> ClientError:
    response: Any = {"Error": {"Code": code, "Message": code}, **extra}
    return ClientError(response, "Operation")


class FakeClient:
    """Answers each call with the next scripted outcome: an exception to raise or a response."""

    def __init__(self, *outcomes: Any) -> None:
        self.outcomes = list(outcomes)
        self.calls: list[str] = []
        self.tokens: list[str | None] = []

    def __getattr__(self, operation: str) -> Any:
        def call(**params: Any) -> Any:
            self.calls.append(operation)
            self.tokens.append(params.get("ClientRequestToken"))
            outcome = self.outcomes.pop(0)
            if isinstance(outcome, Exception):
                raise outcome
            return outcome

        return call


def step(on_failed: Any = None) -> WriteStep:
    return WriteStep({"Put": {"Item": {}}}, on_failed or (lambda _: Conflict("STEP_FAILED", "step failed")))


@pytest.mark.parametrize(
    "code", ["ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"]
)
def test_throttled_reads_are_503(code: str) -> None:
    repository = FlowRepository(FakeClient(client_error(code)), "flows")  # type: ignore[arg-type]
    with pytest.raises(StoreUnavailable):
        repository.get_flow("tenant-a", "df_1")


def test_other_read_errors_are_not_disguised() -> None:
    repository = FlowRepository(FakeClient(client_error("ResourceNotFoundException")), "flows")  # type: ignore[arg-type]
    with pytest.raises(ClientError):
        repository.get_flow("tenant-a", "df_1")


def test_a_transaction_conflict_is_retried_until_it_goes_through() -> None:
    conflict = client_error(
        "TransactionCanceledException", CancellationReasons=[{"Code": "TransactionConflict"}, {"Code": "None"}]
    )
    client = FakeClient(conflict, {})
    writes.execute(client, "flows", [step(), step()])  # type: ignore[arg-type]
    assert client.calls == ["transact_write_items", "transact_write_items"]


def test_a_lasting_transaction_conflict_is_409() -> None:
    conflict = client_error("TransactionCanceledException", CancellationReasons=[{"Code": "TransactionConflict"}])
    client = FakeClient(*[conflict] * writes.TRANSACTION_ATTEMPTS)
    with pytest.raises(Conflict) as refused:
        writes.execute(client, "flows", [step(), step()])  # type: ignore[arg-type]
    assert refused.value.code == "TRANSACTION_CONFLICT"
    assert len(client.calls) == writes.TRANSACTION_ATTEMPTS


def test_a_failed_condition_is_the_error_its_step_names_with_the_old_item() -> None:
    seen: list[Any] = []

    def gone(old_item: Any) -> NotFound:
        seen.append(old_item)
        return NotFound("FLOW_NOT_FOUND", "gone")

    cancelled = client_error(
        "TransactionCanceledException",
        CancellationReasons=[{"Code": "None"}, {"Code": "ConditionalCheckFailed", "Item": {"rowVersion": {"N": "4"}}}],
    )
    with pytest.raises(NotFound):
        writes.execute(FakeClient(cancelled), "flows", [step(), step(gone)])  # type: ignore[arg-type]
    assert seen == [{"rowVersion": {"N": "4"}}]


def test_a_single_write_uses_no_transaction_and_maps_its_condition() -> None:
    client = FakeClient(client_error("ConditionalCheckFailedException"))
    with pytest.raises(Conflict) as refused:
        writes.execute(client, "flows", [step()])  # type: ignore[arg-type]
    assert refused.value.code == "STEP_FAILED"
    assert client.calls == ["put_item"]


def test_a_throttled_transaction_is_503() -> None:
    throttled = client_error("TransactionCanceledException", CancellationReasons=[{"Code": "ThrottlingError"}])
    with pytest.raises(StoreUnavailable):
        writes.execute(FakeClient(throttled), "flows", [step(), step()])  # type: ignore[arg-type]


def test_a_single_write_meeting_a_transaction_is_retried_then_409() -> None:
    client = FakeClient(*[client_error("TransactionConflictException")] * writes.TRANSACTION_ATTEMPTS)
    with pytest.raises(Conflict) as refused:
        writes.execute(client, "flows", [step()])  # type: ignore[arg-type]
    assert refused.value.code == "TRANSACTION_CONFLICT"
    assert client.calls == ["put_item"] * writes.TRANSACTION_ATTEMPTS


FLOW_KEY = {"PK": {"S": "T#tenant-a#F#df_1"}, "SK": {"S": "FLOW"}}


def flow_step(on_failed: Any) -> WriteStep:
    return WriteStep({"Update": {"Key": FLOW_KEY, "UpdateExpression": "SET a = :a"}}, on_failed)


def test_a_transaction_retried_after_a_conflict_carries_a_new_token() -> None:
    # Given a transaction cancelled by a conflict, then accepted
    conflict = client_error("TransactionCanceledException", CancellationReasons=[{"Code": "TransactionConflict"}])
    client = FakeClient(conflict, {})
    # When it is sent
    writes.execute(client, "flows", [step(), step()])  # type: ignore[arg-type]
    # Then the second attempt is a new request: what a token means after a cancellation is undocumented
    first, second = client.tokens
    assert first is not None
    assert first != second


def test_a_transaction_still_in_progress_is_sent_again_with_its_token() -> None:
    # Given a resend (by the SDK) of our transaction while its first attempt still runs, which then ends
    client = FakeClient(client_error("TransactionInProgressException"), {})
    # When it is sent, Then the same token goes again: DynamoDB answers it with the first attempt's outcome
    writes.execute(client, "flows", [step(), step()])  # type: ignore[arg-type]
    first, second = client.tokens
    assert first is not None
    assert first == second


def test_a_transaction_in_progress_past_every_attempt_is_503_not_a_refusal() -> None:
    # Given our own first attempt that keeps running: it may still land, so no 409 may say it did not
    client = FakeClient(*[client_error("TransactionInProgressException")] * writes.TRANSACTION_ATTEMPTS)
    with pytest.raises(StoreUnavailable) as refused:
        writes.execute(client, "flows", [step(), step()])  # type: ignore[arg-type]
    assert refused.value.code == "STORE_BUSY"
    assert client.calls == ["transact_write_items"] * writes.TRANSACTION_ATTEMPTS


PREVIOUS = a_flow(tenant_id="tenant-a", row_version=7)


@pytest.mark.parametrize(
    ("stored_write_id", "outcome"), [("ours", None), ("theirs", "ROW_VERSION_MISMATCH")], ids=["ours", "theirs"]
)
def test_a_token_held_for_other_parameters_is_what_a_re_read_of_the_item_shows(
    stored_write_id: str, outcome: str | None
) -> None:
    # Given a transaction whose token DynamoDB holds for other parameters, and the flow item as it is now
    item = {**FLOW_KEY, "rowVersion": {"N": "8"}, "writeId": {"S": stored_write_id}}
    client = FakeClient(client_error("IdempotentParameterMismatchException"), {"Item": item})
    steps = [flow_step(_flow_changed(PREVIOUS, "ours")), step()]

    # When it is sent, Then the item's writeId says whose write landed: ours is success, another's 409
    if outcome is None:
        writes.execute(client, "flows", steps)  # type: ignore[arg-type]
    else:
        with pytest.raises(Conflict) as refused:
            writes.execute(client, "flows", steps)  # type: ignore[arg-type]
        assert refused.value.code == outcome
    assert client.calls == ["transact_write_items", "get_item"]
