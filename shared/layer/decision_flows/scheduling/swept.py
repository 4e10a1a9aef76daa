"""The Scheduler port where nothing needs waking: `make serve`'s local scheduler sweeps the store's due
jobs (the ``DueJobs`` index) every moment, so a job's DynamoDB write is all it needs."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from datetime import datetime

    from decision_flows.models.scheduled_job import ScheduledJob


class SweptFromStore:
    def put_schedule(self, job: ScheduledJob, run_at: datetime) -> None:
        """Nothing: the job's item lists it in the due index."""

    def delete_schedule(self, job: ScheduledJob) -> None:
        """Nothing: the job's item left the due index when it stopped waiting."""
