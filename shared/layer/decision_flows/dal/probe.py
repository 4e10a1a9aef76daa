"""Whether DynamoDB answers, for the health check: one cheap read, remembered for a few seconds.

The probe reads a key no item has (every item's key starts with its tenant, ``T#``), eventually
consistent and projected to nothing: half a read unit. Its answer is kept per instance for
``REMEMBER_SECONDS``, so a flood of the public health route costs at most one read per instance that
often, and a store that stopped answering is not asked again at every probe either.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from decision_flows.dal.store_errors import call
from decision_flows.domain.errors import StoreUnavailable

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

REMEMBER_SECONDS = 5.0
PROBE_KEY = {"PK": {"S": "HEALTH"}, "SK": {"S": "PROBE"}}


class StoreProbe:
    def __init__(self, client: DynamoDBClient, table_name: str, clock: Callable[[], float] = time.monotonic) -> None:
        self._client = client
        self._table = table_name
        self._clock = clock
        self._asked_at: float | None = None
        self._refusal: StoreUnavailable | None = None

    def check(self) -> None:
        """Return when the store answered the last probe (at most ``REMEMBER_SECONDS`` ago, else now);
        raise StoreUnavailable (503) when it did not."""
        now = self._clock()
        if self._asked_at is None or now - self._asked_at >= REMEMBER_SECONDS:
            self._refusal = self._ask()
            self._asked_at = now
        if self._refusal is not None:
            # Without its last traceback: one raised again and again would keep every request's frames.
            raise self._refusal.with_traceback(None)

    def _ask(self) -> StoreUnavailable | None:
        try:
            call(self._client.get_item, TableName=self._table, Key=PROBE_KEY, ProjectionExpression="PK")
        except StoreUnavailable as refusal:
            return refusal
        return None
