"""The jobs waiting for their time, every tenant's: the sparse index ``DueJobs`` of the flows table
(key_schema), which the sweeper and the local scheduler read. A change request with a pending schedule
and a flow with a pending plan step are listed alike, by the ``dueJob`` payload they carry.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from decision_flows.dal import items, key_schema
from decision_flows.dal.store_errors import call
from decision_flows.models.scheduled_job import ScheduledJob
from decision_flows.observability import logger

if TYPE_CHECKING:
    from datetime import datetime

    from mypy_boto3_dynamodb import DynamoDBClient


class DueJobRepository:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def due_by(self, until: datetime) -> list[ScheduledJob]:
        """The jobs due at or before ``until``, soonest first: one Query of the index per 1 MB of them
        (eventually consistent, as any index: a job scheduled a moment ago may be listed a moment later,
        and one fired a moment ago listed once more, which its firing finds done)."""
        params: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": key_schema.DUE_INDEX,
            "KeyConditionExpression": "DuePK = :due AND DueSK <= :until",
            "ExpressionAttributeValues": {
                ":due": {"S": key_schema.DUE_PK},
                ":until": {"S": key_schema.due_upper_bound(until)},
            },
            "ProjectionExpression": "dueJob, DueSK",
        }
        jobs: list[ScheduledJob] = []
        while True:
            response = call(self._client.query, **params)
            jobs.extend(job for item in response.get("Items", []) if (job := _job_of(item)) is not None)
            if "LastEvaluatedKey" not in response:
                return jobs
            params["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def _job_of(item: items.Item) -> ScheduledJob | None:
    """The item's job, or None (logged) for a payload no job reads: one bad item must not stop the
    sweep of every other tenant's jobs."""
    attributes = items.from_wire(item)
    try:
        return ScheduledJob.from_payload(attributes["dueJob"])
    except (KeyError, TypeError, ValueError) as error:
        logger.warning("due job is unreadable", extra={"dueSK": attributes.get("DueSK"), "problem": repr(error)})
        return None
