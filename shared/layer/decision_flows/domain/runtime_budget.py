"""Runtime reads' own budget: requests per tenant per second, counted in this instance's memory.

No write per request (the management limit's counter is a DynamoDB item): each instance counts
alone, so a tenant gets up to the limit from every warm instance serving it (docs/OPERATIONS.md).
Windows are whole seconds of the clock; a refused request counts too, so a caller that keeps
hammering stays refused until the window turns.
"""

from __future__ import annotations

WINDOW_SECONDS = 1


class RuntimeBudget:
    def __init__(self, per_second: int) -> None:
        if per_second < 1:
            raise ValueError("a budget admits at least one request a second (0 means no budget at all)")
        self._per_second = per_second
        self._window = -1
        self._counts: dict[str, int] = {}

    def admit(self, tenant_id: str, now: float) -> int | None:
        """Count one request; None when admitted, else the whole seconds until the window turns."""
        window = int(now) // WINDOW_SECONDS
        if window != self._window:  # forget the last window's tenants: memory stays bounded
            self._window = window
            self._counts = {}
        count = self._counts.get(tenant_id, 0) + 1
        self._counts[tenant_id] = count
        return None if count <= self._per_second else WINDOW_SECONDS
