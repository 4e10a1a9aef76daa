"""DynamoDB refusals become domain errors by error code: throttling is 503, a transaction conflict
is retried and then 409, a failed condition is what its step says. A fake client plays DynamoDB."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from decision_flows.dal import writes
from decision_flows.dal.errors import AlreadyApplied, WriteStep
from decision_flows.dal.repository import FlowRepository
from decision_flows.domain.errors import Conflict, NotFound, StoreUnavailable


def client_error(code: str, **extra: Any) -> ClientError:
    response: Any = {"Error": {"Code": code, "Message": code}, **extra}
    return ClientError(response, "Operation")


class FakeClient:
    """Answers each call with the next scripted outcome: an exception to raise or a response."""

    def __init__(self, *outcomes: Any) -> None:
        self.outcomes = list(outcomes)
        self.calls: list[str] = []

    def __getattr__(self, operation: str) -> Any:
        def call(**_: Any) -> Any:
            self.calls.append(operation)
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


@pytest.mark.parametrize("code", ["IdempotentParameterMismatchException", "TransactionInProgressException"])
def test_a_refused_token_is_what_a_re_read_of_the_item_shows_never_a_500(code: str) -> None:
    # Given a transaction whose token DynamoDB refuses, and an item another writer moved on
    seen: list[Any] = []

    def moved_on(item: Any) -> Conflict:
        seen.append(item)
        return Conflict("ROW_VERSION_MISMATCH", "moved on")

    other_writers_item = {**FLOW_KEY, "rowVersion": {"N": "8"}, "writeId": {"S": "theirs"}}
    client = FakeClient(client_error(code), {"Item": other_writers_item})

    # When it is sent
    with pytest.raises(Conflict) as refused:
        writes.execute(client, "flows", [flow_step(moved_on), step()], "a-token")  # type: ignore[arg-type]

    # Then the first step's item was read once, and its answer is the step's own 409
    assert refused.value.code == "ROW_VERSION_MISMATCH"
    assert client.calls == ["transact_write_items", "get_item"]
    assert seen == [other_writers_item]


def test_a_refused_token_whose_item_shows_our_write_is_success() -> None:
    # Given a resend refused while our first attempt was in flight, and that attempt landed
    client = FakeClient(
        client_error("TransactionInProgressException"), {"Item": {**FLOW_KEY, "writeId": {"S": "ours"}}}
    )

    # When it is sent, Then the write succeeds without another attempt
    writes.execute(client, "flows", [flow_step(lambda _: AlreadyApplied()), step()], "ours")  # type: ignore[arg-type]
    assert client.calls == ["transact_write_items", "get_item"]
