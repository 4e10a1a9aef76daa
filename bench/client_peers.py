"""Decisions per second on one core: decision-flows-client beside the peers' SDKs, each doing the same
sticky 30 % rollout locally, with a warm cache and distinct subjects (issue 23 point 6).

It runs in .venv-peers (`make bench-client` makes it: the peers' pinned SDKs and this repository's
client, never the dev venv), started by bench/client_decisions.py on one core, and prints its rows
as JSON. Every contender is timed on the same loop, ``for subject in slice: decide(subject)``, one
slice of distinct subjects per round, the contenders taking turns round by round, so that a busy
moment of the shared machine falls on all of them alike. Each contender's share of challengers is
counted afterwards, untimed, to show that it does the 30 % rollout it is credited with.

    python -m bench.client_peers --subjects 100000 --rounds 5 [--only client,rule]
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FLOW_ID, KEY, CHAMPION, CHALLENGER, PERCENT = "df_bench", "offers", 1, 2, 30


@dataclass(frozen=True)
class Contender:
    """``decide`` is what a runtime caller calls per decision; ``is_challenger`` reads its answer."""

    name: str
    decide: Callable[[str], Any]
    is_challenger: Callable[[Any], bool]


def state_answer() -> dict[str, Any]:
    """The /live/state answer the client holds: champion 1, challenger 2 at 30 %, no overrides."""
    return {
        "flowId": FLOW_ID,
        "key": KEY,
        "champion": {"version": CHAMPION, "publishedAt": "2026-12-01T00:00:00.000Z", "config": {"v": CHAMPION}},
        "challenger": {
            "version": CHALLENGER,
            "publishedAt": "2026-12-02T00:00:00.000Z",
            "config": {"v": CHALLENGER},
            "percent": PERCENT,
            "include": [],
            "exclude": [],
        },
    }


def live_client() -> Contender:
    """LiveClient.get with the state in memory (read once through an in-memory transport: the HTTP
    side is measured against the server by bench/client_decisions.py)."""
    from decision_flows_client import LiveClient
    from decision_flows_client.transport import Reply

    body = json.dumps(state_answer()).encode()
    client = LiveClient(
        "http://in-memory", "bench", "tenant-bench", transport=lambda url, headers, timeout: Reply(200, {}, body)
    )
    return Contender("decision-flows-client LiveClient.get", functools.partial(client.get, KEY), _role_is_challenger)


def contract_rule() -> Contender:
    """The contract's rule alone: the key's state from a dict, one sha256."""
    states = {KEY: (FLOW_ID, CHALLENGER, round(PERCENT * 100), CHAMPION, CHALLENGER)}
    sha256, from_bytes = hashlib.sha256, int.from_bytes

    def decide(subject: str) -> int:
        flow_id, version, basis_points, champion, challenger = states[KEY]
        digest = sha256(f"{flow_id}:{version}:{subject}".encode()).digest()
        return challenger if from_bytes(digest[:8], "big") % 10_000 < basis_points else champion

    return Contender("the contract's rule alone (sha256 + dict lookup)", decide, CHALLENGER.__eq__)


GROWTHBOOK_FEATURES = {
    KEY: {
        "defaultValue": CHAMPION,
        "rules": [
            {"force": CHALLENGER, "coverage": PERCENT / 100, "hashAttribute": "id", "seed": KEY, "hashVersion": 2}
        ],
    }
}


def growthbook_shared() -> Contender:
    from growthbook import GrowthBook

    book = GrowthBook(features=GROWTHBOOK_FEATURES)

    def decide(subject: str) -> Any:
        book.set_attributes({"id": subject})
        return book.eval_feature(KEY).value

    return Contender("GrowthBook 4.0, one shared instance", decide, CHALLENGER.__eq__)


def growthbook_per_request() -> Contender:
    from growthbook import GrowthBook

    def decide(subject: str) -> Any:
        return GrowthBook(attributes={"id": subject}, features=GROWTHBOOK_FEATURES).eval_feature(KEY).value

    return Contender("GrowthBook 4.0, an instance per request", decide, CHALLENGER.__eq__)


def launchdarkly() -> Contender:
    """The server SDK with its file data source (no connection) and events off: a flag whose
    fallthrough is a 70/30 percentage rollout."""
    from ldclient import Context, LDClient
    from ldclient.config import Config
    from ldclient.integrations import Files

    flag = {
        "key": KEY,
        "version": 1,
        "on": True,
        "salt": KEY,
        "variations": [CHAMPION, CHALLENGER],
        "offVariation": 0,
        "fallthrough": {
            "rollout": {"variations": [{"variation": 0, "weight": 70_000}, {"variation": 1, "weight": 30_000}]}
        },
        "targets": [],
        "rules": [],
        "prerequisites": [],
    }
    path = Path(tempfile.mkdtemp()) / "flags.json"
    path.write_text(json.dumps({"flags": {KEY: flag}}))
    config = Config("sdk-bench", update_processor_class=Files.new_data_source(paths=[str(path)]), send_events=False)
    client = LDClient(config, start_wait=5)
    assert client.is_initialized(), "the LaunchDarkly file data source did not load"
    create = Context.create

    def decide(subject: str) -> Any:
        return client.variation(KEY, create(subject), CHAMPION)

    return Contender("LaunchDarkly server SDK 9.20 (file data source)", decide, CHALLENGER.__eq__)


def unleash() -> Contender:
    """The client bootstrapped from a dict, no server (fetch_toggles=False), metrics and registration
    off: a flexibleRollout (the gradual rollout) of 30 % sticky on userId."""
    from UnleashClient import UnleashClient
    from UnleashClient.cache import FileCache

    cache = FileCache("decision-flows-bench", directory=tempfile.mkdtemp())
    strategy = {
        "name": "flexibleRollout",
        "parameters": {"rollout": str(PERCENT), "stickiness": "userId", "groupId": KEY},
    }
    cache.bootstrap_from_dict({"version": 1, "features": [{"name": KEY, "enabled": True, "strategies": [strategy]}]})
    client = UnleashClient(
        url="http://127.0.0.1:9", app_name="bench", disable_metrics=True, disable_registration=True, cache=cache
    )
    client.initialize_client(fetch_toggles=False)

    def decide(subject: str) -> Any:
        return client.is_enabled(KEY, {"userId": subject})

    return Contender("Unleash client 6.9 (bootstrapped, gradual rollout)", decide, bool)


def _role_is_challenger(decision: Any) -> bool:
    return bool(decision.role == "challenger")


CONTENDERS: dict[str, Callable[[], Contender]] = {
    "client": live_client,
    "growthbook-shared": growthbook_shared,
    "growthbook-per-request": growthbook_per_request,
    "launchdarkly": launchdarkly,
    "unleash": unleash,
    "rule": contract_rule,
}


def measure(names: list[str], subjects_per_round: int, rounds: int) -> list[dict[str, Any]]:
    """Decisions per second of each contender (median of its rounds) and its share of challengers."""
    contenders = [CONTENDERS[name]() for name in names]
    subjects = [f"subject-{number:08d}" for number in range(subjects_per_round * rounds)]
    for contender in contenders:  # warm: the first calls pay for lazy imports and caches
        for subject in subjects[:1_000]:
            contender.decide(subject)
    rates: dict[str, list[float]] = {contender.name: [] for contender in contenders}
    for round_number in range(rounds):
        batch = subjects[round_number * subjects_per_round : (round_number + 1) * subjects_per_round]
        for contender in contenders:
            decide = contender.decide
            started = time.perf_counter()
            for subject in batch:
                decide(subject)
            rates[contender.name].append(len(batch) / (time.perf_counter() - started))
    return [
        {
            "contender": contender.name,
            "decisions_per_second": round(statistics.median(rates[contender.name])),
            "challenger_share": round(
                sum(contender.is_challenger(contender.decide(subject)) for subject in subjects) / len(subjects), 4
            ),
            "subjects": len(subjects),
        }
        for contender in contenders
    ]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=100_000, help="distinct subjects per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--only", default=",".join(CONTENDERS), help="comma-separated: " + ", ".join(CONTENDERS))
    options = parser.parse_args(argv)
    rows = measure(options.only.split(","), options.subjects, options.rounds)
    print(json.dumps({"python": sys.version.split()[0], "rows": rows}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
