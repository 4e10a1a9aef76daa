"""The flows table's DynamoDB Streams consumer: change history, live entries, purging deleted flows.

Records are processed one by one with partial batch failures: a record that fails is reported in
``batchItemFailures`` and Lambda retries from it, while the records before it stay done.
"""

from __future__ import annotations

from typing import Any

from decision_flows.startup import modules_loaded

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from decision_flows.dal.stream import change_of
from decision_flows.observability import Metric, count, logger, publish_metrics
from decision_flows.wiring import change_feed

processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


def record_handler(record: DynamoDBRecord) -> None:
    change = change_of(record.raw_event)
    if change is not None:
        change_feed().apply(change)


@publish_metrics
@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        response = process_partial_response(event, record_handler, processor, context)
    except BatchProcessingError:  # every record failed: Lambda retries the whole batch
        count(Metric.STREAM_RECORDS_FAILED, len(event.get("Records", [])))
        raise
    failed = {failure["itemIdentifier"] for failure in response["batchItemFailures"]}
    records = event.get("Records", [])
    # Lambda resends from the first failure on: only the records before it are done.
    done = next((i for i, r in enumerate(records) if r["dynamodb"]["SequenceNumber"] in failed), len(records))
    count(Metric.STREAM_RECORDS_PROCESSED, done)
    count(Metric.STREAM_RECORDS_FAILED, len(failed))
    return dict(response)


# Init ends here: the collector runs again (decision_flows/startup.py).
modules_loaded()
