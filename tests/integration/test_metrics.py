"""Business events become CloudWatch metrics: embedded metric format lines in the function's log.

Read as CloudWatch would read them: the JSON lines with an ``_aws`` member, in the namespace and
with the dimensions they declare.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from typing import Any

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

from decision_flows_local import template
from decision_flows_local.api.gateway import Api, LambdaContext
from decision_flows_local.dynamodb.streams import StreamPoller
from decision_flows_local.fixtures.samples import v2_config

NAMESPACE = os.environ["POWERTOOLS_METRICS_NAMESPACE"]


class Emitted:
    """The metrics the functions wrote since the last reading, by name and dimensions."""

    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self._capsys = capsys

    def read(self) -> Counter[tuple[str, tuple[tuple[str, str], ...]]]:
        counts: Counter[tuple[str, tuple[tuple[str, str], ...]]] = Counter()
        for line in self._capsys.readouterr().out.splitlines():
            document = _json(line)
            if not isinstance(document, dict) or "_aws" not in document:
                continue
            for directive in document["_aws"]["CloudWatchMetrics"]:
                assert directive["Namespace"] == NAMESPACE
                dimensions = tuple(
                    sorted((name, document[name]) for group in directive["Dimensions"] for name in group)
                )
                for metric in directive["Metrics"]:
                    assert metric["Unit"] == "Count"
                    values = document[metric["Name"]]
                    counts[(metric["Name"], dimensions)] += sum(values) if isinstance(values, list) else values
        return counts


def _json(line: str) -> Any:
    try:
        return json.loads(line)
    except ValueError:
        return None


SERVICE = (("service", os.environ["POWERTOOLS_SERVICE_NAME"]),)


def named(counts: Counter[tuple[str, tuple[tuple[str, str], ...]]], name: str) -> int:
    return sum(value for (metric, _), value in counts.items() if metric == name)


@pytest.fixture
def emitted(capsys: pytest.CaptureFixture[str]) -> Emitted:
    return Emitted(capsys)


def test_publishes_rollbacks_and_replays_are_counted_once_each(editor: Api, admin: Api, emitted: Emitted) -> None:
    # Given a flow
    flow = editor.create(key="welcome", name="Welcome", draftConfig=v2_config("a")).body
    emitted.read()

    # When it is published twice (the second retried with its Idempotency-Key) and rolled back
    editor.publish(id=flow["id"])
    editor.update(id=flow["id"], draftConfig=v2_config("b"))
    retry = {"Idempotency-Key": "publish-b"}
    for _ in range(2):
        assert editor.request("POST", "/publish", body={"id": flow["id"]}, headers=retry).status == 200
    assert admin.rollback(id=flow["id"], version=1).status == 200

    # Then two publishes, one replay and one rollback were counted, under the service's dimension
    counts = emitted.read()
    assert counts[("Publishes", SERVICE)] == 2
    assert counts[("IdempotentReplays", SERVICE)] == 1
    assert counts[("Rollbacks", SERVICE)] == 1


def test_conflicts_are_counted_by_code_and_rate_limits_as_such(
    editor: Api, emitted: Emitted, monkeypatch: pytest.MonkeyPatch
) -> None:
    from decision_flows import wiring

    # Given a flow published once
    flow = editor.create(key="welcome", name="Welcome", draftConfig=v2_config("a")).body
    editor.publish(id=flow["id"])
    emitted.read()

    # When writes are refused: a stale rowVersion, a taken key
    assert editor.update(id=flow["id"], name="late", rowVersion=1).status == 409
    assert editor.create(key="welcome", name="Again").status == 409

    # Then each 409 is counted under its code
    counts = emitted.read()
    assert counts[("Conflicts", (("Code", "ROW_VERSION_MISMATCH"), *SERVICE))] == 1
    assert counts[("Conflicts", (("Code", "KEY_TAKEN"), *SERVICE))] == 1

    # And when the tenant goes over its limit, the 429s are counted
    monkeypatch.setenv("RATE_LIMIT_PER_MINUTE", "1")
    wiring.reset()
    statuses = [editor.get(id=flow["id"]).status for _ in range(3)]
    assert statuses.count(429) >= 1
    assert named(emitted.read(), "RateLimited") == statuses.count(429)


def test_live_reads_and_stream_records_are_counted(admin: Api, stream: StreamPoller, emitted: Emitted) -> None:
    # Given a published flow whose stream records are waiting
    flow = admin.create(key="live", name="Live", draftConfig=v2_config()).body
    admin.publish(id=flow["id"])
    records = stream.read()
    emitted.read()

    # When the consumer has them, and /live is read twice
    assert stream.deliver(records) == []
    for _ in range(2):
        assert admin.live("live").status == 200

    # Then every record delivered was counted as processed, none as failed, and both reads
    counts = emitted.read()
    assert named(counts, "StreamRecordsProcessed") == len(records)
    assert named(counts, "StreamRecordsFailed") == 0
    assert named(counts, "LiveReads") == 2


def test_each_version_served_during_a_rollout_is_counted_with_its_role(
    admin: Api, stream: StreamPoller, emitted: Emitted
) -> None:
    # Given v1 live and v2 a challenger at 50 %
    flow = admin.create(key="split", name="Split", draftConfig=v2_config("a")).body
    admin.publish(id=flow["id"])
    admin.update(id=flow["id"], draftConfig=v2_config("b"))
    admin.publish(id=flow["id"], rollout={"percent": 50})
    stream.deliver()
    emitted.read()

    # When 40 subjects read /live
    roles = Counter(
        admin.request("GET", "/live", query={"key": "split", "subject": f"s{n}"}).body["role"] for n in range(40)
    )

    # Then each answer is counted under its flow, version and role
    counts = emitted.read()
    served = {dims: value for (name, dims), value in counts.items() if name == "LiveVersionServed"}
    by_role = {dict(dims)["Role"]: (dict(dims)["Version"], value) for dims, value in served.items()}
    assert by_role == {"champion": ("1", roles["champion"]), "challenger": ("2", roles["challenger"])}
    assert {dict(dims)["FlowId"] for dims in served} == {flow["id"]}


def test_a_record_the_consumer_fails_is_counted_as_failed(
    admin: Api, stream: StreamPoller, emitted: Emitted, monkeypatch: pytest.MonkeyPatch
) -> None:
    from decision_flows.dal.history import HistoryRepository

    # Given a flow's records, and a history that cannot be written
    admin.create(key="doomed", name="Doomed", draftConfig=v2_config())
    records = [record for record in stream.read() if record["dynamodb"]["Keys"]["SK"]["S"] == "FLOW"]

    def failing(self: HistoryRepository, entry: Any) -> None:
        raise RuntimeError("injected failure")

    monkeypatch.setattr(HistoryRepository, "record", failing)
    emitted.read()

    # When the consumer gets the flow's record, its batch's only one
    with pytest.raises(BatchProcessingError):  # a whole batch failed: Lambda retries it
        template.handler("StreamFunction")({"Records": records}, LambdaContext())

    # Then it is counted as failed
    assert len(records) == 1
    counts = emitted.read()
    assert (named(counts, "StreamRecordsFailed"), named(counts, "StreamRecordsProcessed")) == (1, 0)
