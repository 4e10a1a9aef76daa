"""Concurrency against `make serve`'s server: the real handlers over HTTP, on an embedded DynamoDB
whose requests are atomic (one lock per request), as DynamoDB's are.

Parallel publishes that retry on 409 land once each as contiguous versions; writers racing on one
rowVersion have exactly one winner; and a publish/rollback/update storm on one flow is checked
against a sequential replay of its successful writes on a model of the contract.
"""

from __future__ import annotations

import copy
import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import pytest

from decision_flows_local.fixtures.samples import v2_config
from tests.support.figures import Figures
from tests.support.local_server import Server, running_server
from tests.support.scale import scaled

pytestmark = pytest.mark.long

FLOWS = "/api/v1/decision-flows"
PUBLISH, ROLLBACK, VERSIONS = f"{FLOWS}/publish", f"{FLOWS}/rollback", f"{FLOWS}/versions"


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    """One server for the module, without the per-tenant rate limit (these tests send thousands of
    requests a minute on purpose)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RATE_LIMIT_PER_MINUTE", "0")
        with running_server() as started:
            yield started


def create_flow(server: Server, label: str, draft: dict[str, Any] | None = None) -> dict[str, Any]:
    body = {"key": f"{label}-{uuid.uuid4().hex[:8]}", "name": label, "draftConfig": draft or v2_config(label)}
    status, flow = server.call("POST", FLOWS, body=body)
    assert status == 201, flow
    created: dict[str, Any] = flow
    return created


def get_flow(server: Server, flow_id: str) -> dict[str, Any]:
    status, flow = server.call("GET", f"{FLOWS}?id={flow_id}")
    assert status == 200, flow
    found: dict[str, Any] = flow
    return found


def all_versions(server: Server, flow_id: str) -> list[dict[str, Any]]:
    """Every version summary, oldest first, following the route's cursor."""
    versions: list[dict[str, Any]] = []
    path = f"{VERSIONS}?id={flow_id}&limit=1000"
    while True:
        status, page = server.call("GET", path)
        assert status == 200, page
        versions += page["versions"]
        if not page["pagination"]["hasMore"]:
            return versions
        path = f"{VERSIONS}?id={flow_id}&limit=1000&cursor={quote(page['pagination']['nextCursor'])}"


def is_conflict(status: int, reply: Any, code: str = "ROW_VERSION_MISMATCH") -> bool:
    return status == 409 and isinstance(reply, dict) and reply.get("code") == code


# 1. Parallel publishes, each retrying on 409


@dataclass
class Landed:
    note: str
    attempts: int
    reply: dict[str, Any]


def test_parallel_publishes_retrying_on_conflict_land_once_each_as_contiguous_versions(
    server: Server, figures: Figures
) -> None:
    # Given a publishable flow and N publishers, each with a note of its own, released together
    n = scaled(12, 48)
    flow_id = create_flow(server, "parallel")["id"]
    start = threading.Barrier(n)

    def publisher(index: int) -> Landed:
        note = f"publisher-{index}"
        start.wait(timeout=30)
        # An attempt fails only when another publish lands between its GET and its POST, and each of
        # the other n-1 publishes lands once: n attempts are always enough.
        for attempt in range(1, n + 1):
            row_version = get_flow(server, flow_id)["rowVersion"]
            body = {"id": flow_id, "notes": note, "rowVersion": row_version}
            status, reply = server.call("POST", PUBLISH, body=body)
            if status == 200:
                assert reply["rowVersion"] == row_version + 1, reply
                return Landed(note, attempt, reply)
            assert is_conflict(status, reply), (status, reply)
        raise AssertionError(f"{note} did not land in {n} attempts")

    # When each publishes with the rowVersion of a fresh GET, retrying on 409 until it lands
    began = time.monotonic()
    with ThreadPoolExecutor(max_workers=n) as pool:
        landed = list(pool.map(publisher, range(n)))
    duration = time.monotonic() - began

    # Then every publisher landed exactly once, each at a version of its own
    attempts = sum(one.attempts for one in landed)
    conflicts = attempts - len(landed)
    live_versions = sorted(one.reply["liveVersion"] for one in landed)
    assert live_versions == list(range(1, n + 1))
    # Each pair of publishers costs at most one conflict (the first to land fails one attempt of the other)
    assert conflicts <= n * (n - 1) // 2
    # And the versions route lists exactly 1..n, no gap, no duplicate, each note once, where it landed
    versions = all_versions(server, flow_id)
    assert [v["version"] for v in versions] == list(range(1, n + 1))
    notes = Counter(v["notes"] for v in versions)
    assert notes == Counter(f"publisher-{index}" for index in range(n))
    assert {v["notes"]: v["version"] for v in versions} == {one.note: one.reply["liveVersion"] for one in landed}
    assert all("restoredFrom" not in v for v in versions)
    # And the flow itself counted every write once
    final = get_flow(server, flow_id)
    assert (final["liveVersion"], final["latestVersion"], final["rowVersion"]) == (n, n, 1 + n)
    assert [v["version"] for v in final["publishedVersions"]] == list(range(max(1, n - 19), n + 1))
    figures(
        n=n,
        successes=len(landed),
        attempts=attempts,
        conflicts=conflicts,
        conflict_rate=round(conflicts / attempts, 3),
        max_attempts_of_one=max(one.attempts for one in landed),
        duration_s=round(duration, 2),
    )


# 2. K writers racing on one rowVersion


def test_of_k_writers_racing_on_one_row_version_exactly_one_wins(server: Server, figures: Figures) -> None:
    # Given a flow, and K racers per round: all renaming it, all publishing it, or half and half
    k, rounds = scaled(8, 32), scaled(6, 30)
    flow_id = create_flow(server, "race")["id"]
    wins: Counter[str] = Counter()
    published: list[str] = []
    began = time.monotonic()
    with ThreadPoolExecutor(max_workers=k) as pool:
        for round_ in range(rounds):
            before = get_flow(server, flow_id)
            row_version = before["rowVersion"]
            barrier = threading.Barrier(k)
            renames = [round_ % 3 == 0 or (round_ % 3 == 2 and index % 2 == 0) for index in range(k)]

            def racer(
                index: int,
                round_: int = round_,
                row_version: int = row_version,
                barrier: threading.Barrier = barrier,
                renames: list[bool] = renames,
            ) -> tuple[int, int, Any]:
                tag = f"round-{round_}-racer-{index}"
                body: dict[str, Any] = {"id": flow_id, "rowVersion": row_version}
                if renames[index]:
                    method, path, body["name"] = "PUT", FLOWS, tag
                else:
                    method, path, body["notes"] = "POST", PUBLISH, tag
                barrier.wait(timeout=30)
                status, reply = server.call(method, path, body=body)
                return index, status, reply

            # When all of them write at once, every one with the rowVersion they all read
            results = list(pool.map(racer, range(k)))

            # Then exactly one wins, and every other one is 409 ROW_VERSION_MISMATCH
            winners = [(index, reply) for index, status, reply in results if 200 <= status < 300]
            assert len(winners) == 1, [(index, status) for index, status, _ in results]
            losers = [(status, reply) for _, status, reply in results if not 200 <= status < 300]
            assert len(losers) == k - 1
            assert all(is_conflict(status, reply) for status, reply in losers), losers
            # And the flow is exactly the winner's write: one rowVersion on, nothing of any loser
            winner, reply = winners[0]
            after = get_flow(server, flow_id)
            tag = f"round-{round_}-racer-{winner}"
            assert reply["rowVersion"] == after["rowVersion"] == row_version + 1
            if renames[winner]:
                wins["rename"] += 1
                assert after["name"] == tag
                assert after["latestVersion"] == before["latestVersion"]
            else:
                wins["publish"] += 1
                published.append(tag)
                assert after["name"] == before["name"]
                assert after["latestVersion"] == (before["latestVersion"] or 0) + 1
                assert after["publishedVersions"][-1]["notes"] == tag
            assert view(after) == view(reply)
    duration = time.monotonic() - began

    # And across all rounds, only the winning publishes left versions
    versions = all_versions(server, flow_id)
    assert [(v["version"], v["notes"]) for v in versions] == list(enumerate(published, start=1))
    final = get_flow(server, flow_id)
    assert final["rowVersion"] == 1 + rounds
    attempts = k * rounds
    figures(
        k=k,
        rounds=rounds,
        attempts=attempts,
        conflicts=attempts - rounds,
        conflict_rate=round((attempts - rounds) / attempts, 3),
        winning_renames=wins["rename"],
        winning_publishes=wins["publish"],
        duration_s=round(duration, 2),
    )


# 3. A mixed storm on one flow, checked against a sequential replay


CONFIGS = [v2_config(f"storm-{index}") for index in range(4)]
NAMES = ["storm-a", "storm-b", "storm-c"]
STATUSES = ["paused", "active"]
KINDS = ["publish"] * 3 + ["rollback"] * 3 + ["draft"] * 2 + ["name", "status"]
UPDATE_FIELDS = {"draft": "draftConfig", "name": "name", "status": "status"}
UPDATE_VALUES: dict[str, list[Any]] = {"draft": CONFIGS, "name": NAMES, "status": STATUSES}


@dataclass
class Version:
    number: int
    config: dict[str, Any]
    notes: str | None
    restored_from: int | None


@dataclass
class FlowModel:
    """The contract's flow, one write at a time: what a sequential run of the writes must leave."""

    name: str
    draft: dict[str, Any]
    status: str
    row_version: int
    versions: list[Version] = field(default_factory=list)
    live: int | None = None

    def config_of(self, version: int | None) -> dict[str, Any] | None:
        return None if version is None else self.versions[version - 1].config

    def apply(self, kind: str, body: dict[str, Any]) -> bool:
        """Apply one request; False when the contract writes nothing for it (an unchanged update,
        or a rollback to the live configuration: ALREADY_ACTIVE)."""
        if kind == "publish":
            self._release(self.draft, body.get("notes"), None)
        elif kind == "rollback":
            target = body["version"]
            if self.config_of(target) == self.config_of(self.live):
                return False
            notes = f"Rollback to v{target}: {body['notes']}" if body.get("notes") else f"Rollback to v{target}"
            self._release(self.versions[target - 1].config, notes, target)
        else:
            value = body[UPDATE_FIELDS[kind]]
            attribute = {"draft": "draft", "name": "name", "status": "status"}[kind]
            if getattr(self, attribute) == value:
                return False
            setattr(self, attribute, copy.deepcopy(value))
            self.row_version += 1
        return True

    def _release(self, config: dict[str, Any], notes: str | None, restored_from: int | None) -> None:
        number = len(self.versions) + 1
        self.versions.append(Version(number, copy.deepcopy(config), notes, restored_from))
        self.draft, self.live, self.status = copy.deepcopy(config), number, "active"
        self.row_version += 1

    def view(self) -> dict[str, Any]:
        latest = self.versions[-20:]
        return {
            "name": self.name,
            "draftConfig": self.draft,
            "status": self.status,
            "rowVersion": self.row_version,
            "liveVersion": self.live,
            "latestVersion": len(self.versions) or None,
            "hasUnpublishedChanges": self.draft != self.config_of(self.live),
            "publishedVersions": [(v.number, v.notes, v.restored_from) for v in latest],
        }


def view(flow: dict[str, Any]) -> dict[str, Any]:
    """The fields of a flow response that the model predicts."""
    return {
        "name": flow["name"],
        "draftConfig": flow["draftConfig"],
        "status": flow["status"],
        "rowVersion": flow["rowVersion"],
        "liveVersion": flow["liveVersion"],
        "latestVersion": flow["latestVersion"],
        "hasUnpublishedChanges": flow["hasUnpublishedChanges"],
        "publishedVersions": [(v["version"], v["notes"], v.get("restoredFrom")) for v in flow["publishedVersions"]],
    }


@dataclass
class Op:
    worker: int
    kind: str
    body: dict[str, Any]
    base: int  # the rowVersion it was sent with (read by the worker's GET just before)
    started: float
    ended: float
    status: int
    reply: Any

    @property
    def succeeded(self) -> bool:
        return 200 <= self.status < 300

    @property
    def wrote(self) -> bool:
        return self.succeeded and self.reply["rowVersion"] != self.base


def storm(server: Server, flow_id: str, worker: int, operations: int, seed: int) -> list[Op]:
    """One worker: random publish, rollback, draft/name/status update, each on a fresh GET's rowVersion."""
    rng = random.Random(seed)  # noqa: S311 (test data, not a secret)
    ops: list[Op] = []
    for number in range(operations):
        flow = get_flow(server, flow_id)
        kind = rng.choice(KINDS)
        body: dict[str, Any] = {"id": flow_id, "rowVersion": flow["rowVersion"]}
        method, path = "PUT", FLOWS
        if kind == "publish":
            method, path, body["notes"] = "POST", PUBLISH, f"w{worker}-{number}"
        elif kind == "rollback":
            method, path = "POST", ROLLBACK
            body |= {"version": rng.randint(1, flow["latestVersion"]), "notes": f"w{worker}-{number}"}
        else:
            body[UPDATE_FIELDS[kind]] = rng.choice(UPDATE_VALUES[kind])
        started = time.monotonic()
        status, reply = server.call(method, path, body=body)
        ops.append(Op(worker, kind, body, flow["rowVersion"], started, time.monotonic(), status, reply))
    return ops


def test_a_mixed_storm_on_one_flow_equals_a_sequential_replay_of_its_successful_writes(
    server: Server, figures: Figures
) -> None:
    # Given a flow published once (so that there is a version to roll back to)
    workers, per_worker, seed = scaled(6, 16), scaled(40, 60), 7
    created = create_flow(server, "storm", CONFIGS[0])
    flow_id = created["id"]
    model = FlowModel(name=created["name"], draft=CONFIGS[0], status=created["status"], row_version=1)
    status, first = server.call("POST", PUBLISH, body={"id": flow_id, "notes": "setup", "rowVersion": 1})
    assert status == 200, first
    assert model.apply("publish", {"notes": "setup"})
    assert view(first) == model.view()

    # When the workers publish, roll back to random versions and update draft, name or status at once
    began = time.monotonic()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        batches = pool.map(lambda w: storm(server, flow_id, w, per_worker, seed * 1000 + w), range(workers))
        ops = [op for batch in batches for op in batch]
    duration = time.monotonic() - began

    # Then every refusal is a rowVersion conflict, or ALREADY_ACTIVE for a rollback
    refused = [op for op in ops if not op.succeeded]
    mismatches = [op for op in refused if is_conflict(op.status, op.reply)]
    already_active = [
        op for op in refused if op.kind == "rollback" and is_conflict(op.status, op.reply, "ALREADY_ACTIVE")
    ]
    assert len(mismatches) + len(already_active) == len(refused), [
        (op.kind, op.status, op.reply) for op in refused if op not in mismatches and op not in already_active
    ]

    # And the successful writes form one chain: each is based on the rowVersion the previous one left
    writes = sorted((op for op in ops if op.wrote), key=lambda op: int(op.reply["rowVersion"]))
    assert all(op.reply["rowVersion"] == op.base + 1 for op in writes)
    final_row_version = get_flow(server, flow_id)["rowVersion"]
    assert [op.reply["rowVersion"] for op in writes] == list(range(3, final_row_version + 1))
    # ... an order that respects real time: no write precedes one that had finished before it was sent
    latest_start = 0.0
    for op in writes:
        latest_start = max(latest_start, op.started)
        assert latest_start < op.ended

    # And replaying that chain one write at a time on the model gives every write's response
    states = {model.row_version: model.view()}
    for op in writes:
        assert model.row_version == op.base
        assert model.apply(op.kind, op.body), f"the model writes nothing for {op.kind} {op.body}"
        assert view(op.reply) == model.view(), (op.kind, op.body)
        states[model.row_version] = model.view()
    # ... the responses that wrote nothing are the state they were based on (updates that change nothing)
    no_ops = [op for op in ops if op.succeeded and not op.wrote]
    assert all(op.kind in UPDATE_FIELDS and view(op.reply) == states[op.base] for op in no_ops)
    # ... an ALREADY_ACTIVE rollback asked, at its rowVersion, for the live configuration
    for op in already_active:
        live = states[op.base]["liveVersion"]
        assert model.config_of(op.body["version"]) == model.config_of(live), op.body
    assert all(op.base < final_row_version for op in mismatches)

    # And the server's final flow, versions and snapshots are the replay's
    assert view(get_flow(server, flow_id)) == model.view()
    versions = all_versions(server, flow_id)
    assert [(v["version"], v["notes"], v.get("restoredFrom")) for v in versions] == [
        (v.number, v.notes, v.restored_from) for v in model.versions
    ]
    for version in model.versions:
        status, snapshot = server.call("GET", f"{VERSIONS}?id={flow_id}&version={version.number}")
        assert (status, snapshot["configSnapshot"]) == (200, version.config)
    figures(
        workers=workers,
        ops=len(ops),
        writes=len(writes),
        no_op_updates=len(no_ops),
        row_version_conflicts=len(mismatches),
        already_active=len(already_active),
        conflict_rate=round(len(mismatches) / len(ops), 3),
        versions=len(model.versions),
        kinds_written=dict(Counter(op.kind for op in writes)),
        duration_s=round(duration, 2),
    )


# 4. Staged rollouts: promote, abort and rollback racing, and how soon /live follows them


def with_challenger(server: Server, label: str) -> dict[str, Any]:
    """A flow with v1 live and v2 (another scoring method) published as the challenger at 50 %."""
    flow = create_flow(server, label)
    assert server.call("POST", PUBLISH, body={"id": flow["id"]})[0] == 200
    draft = v2_config(f"{label}-2", method="scorecard")
    assert server.call("PUT", FLOWS, body={"id": flow["id"], "draftConfig": draft})[0] == 200
    status, started = server.call("POST", PUBLISH, body={"id": flow["id"], "rollout": {"percent": 50}})
    assert status == 200, started
    challenged: dict[str, Any] = started
    return challenged


def test_promote_abort_and_rollback_racing_on_a_rollout_have_exactly_one_winner(server: Server) -> None:
    for round_ in range(scaled(6, 30)):
        # Given a rollout, and three writers that all read it at the same rowVersion
        flow = with_challenger(server, f"contest-{round_}")
        read = {"id": flow["id"], "rowVersion": flow["rowVersion"]}
        writes = [
            (f"{FLOWS}/rollout/promote", read),
            (f"{FLOWS}/rollout/abort", read),
            (ROLLBACK, read | {"version": 1}),
        ]
        barrier = threading.Barrier(len(writes))

        def racer(write: tuple[str, dict[str, Any]], barrier: threading.Barrier = barrier) -> tuple[str, int, Any]:
            barrier.wait(timeout=30)
            status, reply = server.call("POST", write[0], body=write[1])
            return write[0], status, reply

        # When they write together
        with ThreadPoolExecutor(max_workers=len(writes)) as pool:
            results = list(pool.map(racer, writes))

        # Then exactly one lands; the others are refused with 409 and leave nothing
        winners = [(path, reply) for path, status, reply in results if status == 200]
        assert len(winners) == 1, [(path, status, reply.get("code")) for path, status, reply in results]
        refused = [reply.get("code") for _, status, reply in results if status != 200]
        assert refused == ["ROW_VERSION_MISMATCH"] * 2, refused
        after = get_flow(server, flow["id"])
        assert after["rollout"] is None
        assert after["rowVersion"] == flow["rowVersion"] + 1
        assert (
            after["liveVersion"]
            == {f"{FLOWS}/rollout/promote": 2, f"{FLOWS}/rollout/abort": 1, ROLLBACK: 3}[winners[0][0]]
        )


def test_live_follows_a_promote_and_an_abort_within_a_second(server: Server, figures: Figures) -> None:
    # Given a rollout at 50 %, and one subject served the champion and one the challenger
    flow = with_challenger(server, "switch")
    key = quote(flow["key"])

    def served(subject: str) -> int:
        status, reply = server.call("GET", f"{FLOWS}/live?key={key}&subject={subject}")
        assert status == 200, reply
        version: int = reply["version"]
        return version

    def seconds_until(subject: str, version: int) -> float:
        began = time.monotonic()
        while served(subject) != version:
            assert time.monotonic() - began < 5, f"/live still serves the old version to {subject}"
            time.sleep(0.02)
        return time.monotonic() - began

    began = time.monotonic()
    while {served(f"c{n}") for n in range(40)} != {1, 2}:  # the consumer has caught up with the publish
        assert time.monotonic() - began < 5, "/live never served the challenger"
        time.sleep(0.02)
    on_champion = next(f"c{n}" for n in range(40) if served(f"c{n}") == 1)

    # When the challenger is promoted, then the champion's subjects get it within a second
    assert server.call("POST", f"{FLOWS}/rollout/promote", body={"id": flow["id"]})[0] == 200
    promote_seconds = seconds_until(on_champion, 2)
    assert promote_seconds < 1

    # And when a new rollout is aborted, everyone is back on the champion within a second
    assert server.call("PUT", FLOWS, body={"id": flow["id"], "draftConfig": v2_config("switch-3")})[0] == 200
    assert server.call("POST", PUBLISH, body={"id": flow["id"], "rollout": {"percent": 99.99}})[0] == 200
    on_challenger = next(f"c{n}" for n in range(200) if served(f"c{n}") == 3)
    assert server.call("POST", f"{FLOWS}/rollout/abort", body={"id": flow["id"]})[0] == 200
    abort_seconds = seconds_until(on_challenger, 2)
    assert abort_seconds < 1
    figures(promote_seconds=round(promote_seconds, 3), abort_seconds=round(abort_seconds, 3))
