"""One place that turns DynamoDB's errors into domain errors, by error code, never by message text."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as StoreConnectionError

from decision_flows.domain.errors import StoreUnavailable

Item = dict[str, Any]
# What a refused condition means: the domain error to raise, or AlreadyApplied.
ConditionFailure = Callable[[Item | None], Exception]

THROTTLING_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "ThrottlingError",
        "ProvisionedThroughputExceeded",
    }
)


# What reaching a store that does not answer looks like once the SDK's retries are spent.
UNREACHABLE = (StoreConnectionError, HTTPClientError)
SERVER_ERROR_STATUS = 500


class WriteStep(NamedTuple):
    """One item of an atomic write, and what its failed condition means to the caller."""

    operation: dict[str, dict[str, Any]]
    on_condition_failed: ConditionFailure


class AlreadyApplied(Exception):
    """The refused write is our own earlier attempt, which landed: the SDK resent it after its answer
    was lost, and the item already holds exactly the state the write was to produce."""


class TransactionConflict(Exception):
    """Another transaction touched one of our items at the same moment; safe to retry as is."""


class TokenMismatch(Exception):
    """DynamoDB holds our ClientRequestToken for other parameters: only a re-read of the item says
    what happened (writes.execute); never a 500."""


class TransactionInProgress(Exception):
    """Our own transaction with this token is still running (the SDK resent it): send it again later."""


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def store_unavailable() -> StoreUnavailable:
    return StoreUnavailable("STORE_BUSY", "The data store is throttling requests; retry shortly.")


def store_failed() -> StoreUnavailable:
    return StoreUnavailable("STORE_BUSY", "The data store did not answer; retry shortly.")


def unavailable(error: Exception) -> StoreUnavailable | None:
    """The 503 a failure stands for once the SDK has retried it: throttling, DynamoDB's own 5xx, or no
    connection (a timed-out write may have landed: its rowVersion condition makes a client's retry safe)."""
    if isinstance(error, ClientError):
        if error_code(error) in THROTTLING_CODES:
            return store_unavailable()
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        return store_failed() if status >= SERVER_ERROR_STATUS else None
    return store_failed() if isinstance(error, UNREACHABLE) else None


def call[**P, R](operation: Callable[P, R], *args: P.args, **params: P.kwargs) -> R:
    """One DynamoDB call, ``operation`` being the client's own method (so mypy checks the request
    against botocore's shapes); a store that throttles or fails beyond the SDK's retries becomes 503,
    other errors stay as they are."""
    try:
        return operation(*args, **params)
    except (ClientError, *UNREACHABLE) as error:
        if (refusal := unavailable(error)) is not None:
            raise refusal from error
        raise


def translate_write_error(error: Exception, steps: list[WriteStep]) -> Exception:
    """The domain error a failed single write or transaction stands for (or the error itself)."""
    if not isinstance(error, ClientError):
        return unavailable(error) or error
    code = error_code(error)
    if code == "ConditionalCheckFailedException":
        return steps[0].on_condition_failed(error.response.get("Item"))  # type: ignore[arg-type]
    if code == "TransactionCanceledException":
        reasons: list[dict[str, Any]] = error.response.get("CancellationReasons", [])  # type: ignore[assignment]
        return _translate_cancellation(reasons, steps, error)
    if code == "TransactionConflictException":
        # A single write that met another transaction on the same item: as retryable as in a transaction.
        return TransactionConflict()
    if code == "IdempotentParameterMismatchException":
        return TokenMismatch()
    if code == "TransactionInProgressException":
        return TransactionInProgress()
    return unavailable(error) or error


def _translate_cancellation(reasons: list[dict[str, Any]], steps: list[WriteStep], error: ClientError) -> Exception:
    codes = [str(reason.get("Code") or "None") for reason in reasons]
    for step, reason, code in zip(steps, reasons, codes, strict=False):
        if code == "ConditionalCheckFailed":
            return step.on_condition_failed(reason.get("Item"))
    if "TransactionConflict" in codes:
        return TransactionConflict()
    if THROTTLING_CODES.intersection(codes):
        return store_unavailable()
    return error
