"""`make serve`'s scheduler: it sweeps the store's due jobs (ScheduleService.sweep) several times a
second, so a job fires within a second of its ``runAt``. It keeps nothing in memory: a restarted
server, or one against ``DYNAMODB_ENDPOINT_URL``, finds the pending jobs in the store."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from decision_flows.domain.schedules import Fired

log = logging.getLogger("decision_flows_local")
SWEEP_INTERVAL_SECONDS = 0.25  # an empty sweep is one Query of an empty index partition


class LocalScheduler:
    """Sweeps under the requests' ``lock`` (the embedded store is not atomic under threads) until stopped."""

    def __init__(
        self, sweep: Callable[[], Sequence[Fired]], lock: threading.Lock, interval: float = SWEEP_INTERVAL_SECONDS
    ) -> None:
        self._sweep, self._lock, self._interval = sweep, lock, interval

    def sweep_once(self) -> None:
        try:
            with self._lock:
                fired = self._sweep()
        except Exception:  # the thread lives on: a store down now may answer the next sweep
            log.exception("scheduler: the sweep failed; the next one retries")
            return
        for firing in fired:
            if firing.status is not None:
                log.info("scheduler: %s %s %s", firing.job.payload(), firing.status.value, firing.reason or "")

    def run(self, stop: threading.Event) -> None:
        while not stop.wait(self._interval):
            self.sweep_once()

    def start(self) -> threading.Event:
        """Run in a daemon thread; set the event to stop it."""
        stop = threading.Event()
        threading.Thread(target=self.run, args=(stop,), name="local-scheduler", daemon=True).start()
        return stop
