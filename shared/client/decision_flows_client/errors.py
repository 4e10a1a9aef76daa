"""The package's errors: every one a DecisionFlowsError, so a caller can catch them all at once."""

from __future__ import annotations


class DecisionFlowsError(Exception):
    """What the client could not answer, with the service's HTTP status and problem ``code`` when it gave them."""

    def __init__(self, message: str, status: int | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


class FlowNotFoundError(DecisionFlowsError):
    """404: no active, published flow has the key (never published, paused, archived or deleted)."""


class AuthenticationError(DecisionFlowsError):
    """401: the API key is missing, unknown or revoked."""


class PermissionDeniedError(DecisionFlowsError):
    """403: the API key may not read this tenant's flows."""


class RequestRefusedError(DecisionFlowsError):
    """Another 4xx that retrying cannot cure, such as 400 for a malformed key."""


class ServiceUnavailableError(DecisionFlowsError):
    """The client holds nothing for the key and could not read it (timeout, 5xx, 429, no network)."""
