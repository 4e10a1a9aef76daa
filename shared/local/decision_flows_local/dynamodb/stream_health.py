"""How the local stream consumer is doing: what `/api/v1/health` reports as ``streamConsumer``."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from decision_flows.web.views.body import Timestamp

log = logging.getLogger("decision_flows_local.dynamodb.streams")
# Behind by more than this, or failing, is not keeping up: many polls' worth at the 0.2 s interval.
KEEPING_UP_SECONDS = 5.0


class StreamLastError(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True)

    at: Timestamp
    message: str


class StreamConsumerStatus(BaseModel):
    """The in-process stream consumer of a local run, as ``/api/v1/health`` reports it."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True)

    function: str = Field(description="The template function the records go to.")
    keeping_up: bool = Field(description=f"Not failing, and caught up within the last {KEEPING_UP_SECONDS:g} s.")
    lag_seconds: float = Field(description="Seconds since every record written before then had been delivered.")
    records_delivered: int
    records_given_up: int = Field(description="Records the consumer kept failing until its retries ran out.")
    consecutive_failures: int = Field(description="Polls failed in a row; 0 once one succeeds.")
    last_error: StreamLastError | None = Field(description="The latest failed poll, kept after a recovery.")


@dataclass
class ConsumerHealth:
    """The poller's counters; ``failed`` and ``succeeded`` also say so in the log, once per cause."""

    started_at: float
    caught_up_at: float | None = None
    records_delivered: int = 0
    records_given_up: int = 0
    consecutive_failures: int = 0
    last_error: StreamLastError | None = None
    logged_causes: set[str] = field(default_factory=set, repr=False)

    def failed(self, error: Exception, now: float) -> None:
        self.consecutive_failures += 1
        cause = f"{type(error).__name__}: {error}"
        moment = datetime.fromtimestamp(now, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        self.last_error = StreamLastError(at=moment, message=cause)
        if cause not in self.logged_causes:  # once per cause, not once per retry
            log.error("stream poll failed (retrying with backoff): %s", cause, exc_info=error)
            self.logged_causes.add(cause)

    def succeeded(self, poll_started: float) -> None:
        if self.consecutive_failures:
            log.warning("stream poll recovered after %d failed attempts", self.consecutive_failures)
        self.consecutive_failures = 0
        self.logged_causes.clear()
        self.caught_up_at = poll_started

    def status(self, function: str, now: float) -> StreamConsumerStatus:
        lag = now - (self.caught_up_at if self.caught_up_at is not None else self.started_at)
        return StreamConsumerStatus(
            function=function,
            keeping_up=self.consecutive_failures == 0 and lag <= KEEPING_UP_SECONDS,
            lag_seconds=round(max(lag, 0.0), 3),
            records_delivered=self.records_delivered,
            records_given_up=self.records_given_up,
            consecutive_failures=self.consecutive_failures,
            last_error=self.last_error,
        )
