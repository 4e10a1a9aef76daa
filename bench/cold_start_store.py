"""The store and the first requests of the cold-start probes.

A moto server on loopback (the probes are other processes), tables from template.yaml, seeded through
the real handlers in this process. Every probe's first request must succeed as a caller's would, so
writes get a flow of their own per sample (a second rollback to the same version is 409
ALREADY_ACTIVE), and the stream consumer gets a record nobody delivered yet.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

from bench.support import BASE, REGION, TENANT, environment, fake_aws_environment, free_port
from decision_flows.settings import settings
from decision_flows_local import template
from decision_flows_local.api.gateway import Api, Caller, build_event
from decision_flows_local.dynamodb.embedded import drop_stream_records, install_rules
from decision_flows_local.dynamodb.streams import StreamPoller

ROOT = Path(__file__).resolve().parents[1]
CALLER = Caller(TENANT, "admin", "bench@tenant-bench.example")
# A realistic draft: the one the sample create event carries.
DRAFT = json.loads(json.loads((ROOT / "events" / "create-flow.json").read_text())["body"])["draftConfig"]
SECOND_DRAFT = {**DRAFT, "nodes": [*DRAFT["nodes"][:-1], {**DRAFT["nodes"][-1], "config": {"top": 3}}]}


@dataclass
class EventFiles:
    """Event files per function and sample: reads share one flow, writes have one each."""

    folder: Path
    files: dict[tuple[str, int], Path] = field(default_factory=dict)

    def add(self, function: str, sample: int, event: dict[str, Any]) -> None:
        path = self.folder / f"{function}-{sample}.json"
        path.write_text(json.dumps(event, default=str))
        self.files[function, sample] = path

    def of(self, function: str, sample: int) -> Path:
        return self.files[function, sample]


def created(api: Api, key: str) -> dict[str, Any]:
    response = api.create(key=key, name=f"Bench {key}", draftConfig=DRAFT)
    assert response.status == 201, response.body
    flow: dict[str, Any] = response.body
    return flow


def published_twice(api: Api, key: str) -> dict[str, Any]:
    """A flow with versions 1 and 2, whose configs differ (2 is live)."""
    flow = created(api, key)
    assert api.publish(id=flow["id"], notes="first").status == 200
    assert api.update(id=flow["id"], draftConfig=SECOND_DRAFT).status == 200
    assert api.publish(id=flow["id"], notes="second").status == 200
    return flow


def api_event(method: str, path: str, query: dict[str, str] | None = None, body: Any = None) -> dict[str, Any]:
    return build_event(method, BASE + path, caller=CALLER, query=query, body=body)


def authorizer_event(plaintext_key: str) -> dict[str, Any]:
    event = build_event("GET", BASE, caller=None, headers={"authorization": f"Bearer {plaintext_key}"})
    event["headers"]["x-tenant-id"] = TENANT
    return {
        **event,
        "type": "REQUEST",
        "routeArn": f"arn:aws:execute-api:{REGION}:123456789012:local/$default/GET{BASE}",
        "identitySource": [f"Bearer {plaintext_key}", TENANT],
    }


def api_key() -> str:
    from decision_flows.dal.api_keys import ApiKeyRepository
    from decision_flows.dal.client import dynamodb_client
    from decision_flows.domain.api_keys import new_api_key
    from decision_flows.domain.clock import utc_now
    from decision_flows.models.identity import Role

    plaintext, key = new_api_key(TENANT, Role.ADMIN, "bench", "test", utc_now())
    ApiKeyRepository(dynamodb_client(), settings().api_keys_table).put(key)
    return plaintext


def write_events(events: EventFiles, samples: int, api: Api, stream: StreamPoller) -> None:
    shared = published_twice(api, "bench-shared")
    stream.deliver()  # the live entry of the shared flow exists, as it would minutes after a publish
    plaintext = api_key()
    for i in range(samples):
        events.add("ListFlowsFunction", i, api_event("GET", "", {"id": shared["id"]}))
        events.add("VersionsFunction", i, api_event("GET", "/versions", {"id": shared["id"], "version": "1"}))
        events.add("HistoryFunction", i, api_event("GET", "/history", {"id": shared["id"]}))
        events.add("LiveFunction", i, api_event("GET", "/live", {"key": shared["key"]}))
        events.add("CompareFunction", i, api_event("GET", "/diff", {"id": shared["id"], "from": "1", "to": "2"}))
        events.add("AuthorizerFunction", i, authorizer_event(plaintext))
        events.add("NotFoundFunction", i, api_event("PATCH", ""))
        events.add("PolicyFunction", i, api_event("GET", "/policy"))
        own = {
            name: published_twice(api, f"bench-{name.lower()}-{i}")
            for name in ("drafts", "publish", "rollback", "changes", "schedules")
        }
        events.add(
            "ChangesFunction",
            i,
            api_event("POST", "/changes", body={"flowId": own["changes"]["id"], "action": "publish", "params": {}}),
        )
        unscheduled = api.request(
            "POST", "/changes", body={"flowId": own["schedules"]["id"], "action": "publish", "params": {}}
        )
        events.add("ScheduleFunction", i, {"tenantId": TENANT, "changeId": unscheduled.body["changeId"]})
        events.add("DraftsFunction", i, api_event("PUT", "", body={"id": own["drafts"]["id"], "name": f"Renamed {i}"}))
        events.add("PublishFunction", i, api_event("POST", "/publish", body={"id": own["publish"]["id"]}))
        events.add(
            "RollbackFunction", i, api_event("POST", "/rollback", body={"id": own["rollback"]["id"], "version": 1})
        )
        rolling = published_twice(api, f"bench-rollout-{i}")
        api.update(id=rolling["id"], draftConfig={**DRAFT, "stages": {"ranking": {"top": i}}})
        assert api.publish(id=rolling["id"], rollout={"percent": 10}).status == 200
        events.add("RolloutFunction", i, api_event("POST", "/rollout", body={"id": rolling["id"], "percent": 20}))
        # The newest change of one of this sample's flows, never delivered: the consumer does real work.
        flow_changes = [record for record in stream.read() if record["dynamodb"]["Keys"]["SK"]["S"] == "FLOW"]
        events.add("StreamFunction", i, {"Records": flow_changes[-1:]})


@contextmanager
def seeded_store(samples: int) -> Iterator[tuple[EventFiles, dict[str, str]]]:
    """Yield the event files and the environment of the probes (template's Globals, endpoint)."""
    from moto.server import ThreadedMotoServer

    # The server runs in this process: the embedded store's transactions (a journal, not moto's copy of
    # every table per transaction, which made seeding slower than the SDK's timeout as the tables grew)
    # and DynamoDB's rules (a resent transaction's token is a success, not a refused condition).
    install_rules()
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    # Seeding is not rate limited; the probes count their request as a caller's would, under a
    # limit they do not reach.
    seeding = {**fake_aws_environment(), "DYNAMODB_ENDPOINT_URL": endpoint}
    try:
        with environment({**seeding, "RATE_LIMIT_PER_MINUTE": "0", "POWERTOOLS_METRICS_DISABLED": "true"}):
            # Imported here: the functions' code validates its settings (this environment) on import.
            from decision_flows import wiring
            from decision_flows.dal.client import dynamodb_client

            wiring.reset()
            try:
                template.create_tables(dynamodb_client())
                with TemporaryDirectory() as folder:
                    events = EventFiles(Path(folder))
                    write_events(events, samples, Api(CALLER), StreamPoller.for_template(dynamodb_client()))
                    # The records the stream probes need are in their event files; moto would otherwise
                    # copy all of them in every transaction of the write probes' first requests.
                    drop_stream_records(template.table_names()[template.stream_consumers()[0].table])
                    yield events, {**seeding, "RATE_LIMIT_PER_MINUTE": "1000000"}
            finally:
                wiring.reset()
    finally:
        server.stop()
