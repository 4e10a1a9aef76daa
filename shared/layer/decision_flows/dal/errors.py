"""One place that turns DynamoDB's errors into domain errors, by error code, never by message text."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from decision_flows.domain.errors import DomainError, StoreUnavailable

Item = dict[str, Any]
ConditionFailure = Callable[[Item | None], DomainError]

THROTTLING_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "ThrottlingError",
        "ProvisionedThroughputExceeded",
    }
)


@dataclass(frozen=True)
class WriteStep:
    """One item of an atomic write, and what its failed condition means to the caller."""

    operation: dict[str, dict[str, Any]]
    on_condition_failed: ConditionFailure


class TransactionConflict(Exception):
    """Another transaction touched one of our items at the same moment; safe to retry as is."""


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def store_unavailable() -> StoreUnavailable:
    return StoreUnavailable("STORE_BUSY", "The data store is throttling requests; retry shortly.")


def call(client: Any, operation: str, **params: Any) -> Any:
    """One DynamoDB call; throttling beyond the SDK's retries becomes 503, other errors stay as they are."""
    try:
        return getattr(client, operation)(**params)
    except ClientError as error:
        if error_code(error) in THROTTLING_CODES:
            raise store_unavailable() from error
        raise


def translate_write_error(error: ClientError, steps: list[WriteStep]) -> Exception:
    """The domain error a failed single write or transaction stands for (or the error itself)."""
    code = error_code(error)
    if code == "ConditionalCheckFailedException":
        return steps[0].on_condition_failed(error.response.get("Item"))  # type: ignore[arg-type]
    if code == "TransactionCanceledException":
        reasons: list[dict[str, Any]] = error.response.get("CancellationReasons", [])  # type: ignore[assignment]
        return _translate_cancellation(reasons, steps, error)
    if code == "TransactionConflictException":
        # A single write that met another transaction on the same item: as retryable as in a transaction.
        return TransactionConflict()
    if code in THROTTLING_CODES:
        return store_unavailable()
    return error


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
