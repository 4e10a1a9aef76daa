"""Domain errors: what went wrong, in the contract's vocabulary, with no HTTP in sight.

Each error carries a stable ``code`` (the contract's UPPER_SNAKE identifier). The web layer maps
error classes to HTTP statuses in one place (``decision_flows.web.problems``).
"""

from __future__ import annotations

from typing import NamedTuple


class FieldProblem(NamedTuple):
    """One field-level problem, reported in a problem document's ``errors`` list."""

    field: str
    message: str


class DomainError(Exception):
    # Plain classes, not dataclasses: every function defines them at init (decision_flows/startup.py).
    def __init__(self, code: str, detail: str, errors: list[FieldProblem] | None = None) -> None:
        super().__init__(code, detail)
        self.code = code
        self.detail = detail
        self.errors = errors if errors is not None else []

    def __str__(self) -> str:
        return f"{self.code}: {self.detail}"

    def __repr__(self) -> str:  # what a failing test or a %r log shows: every field, as the dataclass did
        fields = ", ".join(f"{name}={value!r}" for name, value in vars(self).items())
        return f"{type(self).__name__}({fields})"


class NotFound(DomainError):
    """The thing asked for does not exist for this tenant."""


class Conflict(DomainError):
    """The request is valid but the stored state does not allow it (409)."""


class InvalidRequest(DomainError):
    """The request is malformed: wrong types, bad cursor, bad limit (400)."""


class Unprocessable(DomainError):
    """The request is well formed but its content is semantically invalid (422)."""


class PayloadTooLarge(DomainError):
    """A config exceeds the size the service stores (413)."""


class Forbidden(DomainError):
    """The caller's role or tenant does not allow this (403)."""


class Unauthenticated(DomainError):
    """No identity reached the handler (401)."""


class RateLimited(DomainError):
    """The tenant used up its requests for this window (429)."""

    def __init__(self, code: str, detail: str, *, retry_after_seconds: int = 60) -> None:
        super().__init__(code, detail)
        self.retry_after_seconds = retry_after_seconds


class StoreUnavailable(DomainError):
    """DynamoDB throttled us, or failed or could not be reached, beyond the SDK's retries (503)."""

    def __init__(self, code: str, detail: str, *, retry_after_seconds: int = 1) -> None:
        super().__init__(code, detail)
        self.retry_after_seconds = retry_after_seconds


def store_busy_at_authentication(retry_after_seconds: int) -> StoreUnavailable:
    return StoreUnavailable(
        "STORE_BUSY",
        "The data store did not answer when the credential was checked; retry after the time Retry-After gives.",
        retry_after_seconds=retry_after_seconds,
    )


def flow_not_found(flow_id: str) -> NotFound:
    return NotFound("FLOW_NOT_FOUND", f"Decision flow {flow_id!r} does not exist.")


def flow_key_not_found(key: str) -> NotFound:
    return NotFound("FLOW_NOT_FOUND", f"No decision flow of this tenant has the key {key!r}.")


def version_not_found(flow_id: str, version: int) -> NotFound:
    return NotFound("VERSION_NOT_FOUND", f"Decision flow {flow_id!r} has no published version {version}.")


def row_version_mismatch(expected: int, actual: int | None = None) -> Conflict:
    if actual is None:
        detail = f"The flow changed since rowVersion {expected}; read it again and retry."
    else:
        detail = f"rowVersion {expected} does not match the stored rowVersion {actual}."
    return Conflict("ROW_VERSION_MISMATCH", detail)


def key_taken(key: str) -> Conflict:
    return Conflict("KEY_TAKEN", f"Another decision flow of this tenant already uses key {key!r}.")
