"""The runtime client's figures (issue 23 point 6; method and reading: docs/PERFORMANCE.md, "Runtime client").

1. Decisions per second on one core (``taskset -c 0`` where there is one), warm cache, distinct
   subjects, the same sticky 30 % rollout: decision-flows-client's ``LiveClient.get`` beside
   GrowthBook, LaunchDarkly's server SDK, Unleash and the contract's rule alone, in one run of
   bench/client_peers.py in .venv-peers (the peers' SDKs stay out of the dev venv).
2. Against `make serve`'s server (its own process, the in-process stream consumer, the embedded
   store): the requests a client makes for 10 000 decisions spread over some seconds, beside the
   number of max_age periods they span; and the time from a promote or a rollback (its 200) to the
   client's first answer with the new version, beside the time until /live/state itself shows it
   (the consumer's lag, which the client cannot beat).

    python -m bench.client_decisions            # into bench/results/ and docs/PERFORMANCE.md
    python -m bench.client_decisions --quick    # small, printed only
"""

from __future__ import annotations

import functools
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench import report
from bench.support import free_port
from decision_flows_client import DecisionFlowsError, LiveClient
from decision_flows_client.transport import Reply, urllib_get

ROOT = Path(__file__).resolve().parents[1]
PEERS_PYTHON = ROOT / ".venv-peers" / "bin" / "python"
API = "/api/v1/decision-flows"
TENANT, ADMIN_KEY, VIEWER_KEY = "tenant-bench", "sk_test_bench_admin", "sk_test_bench_viewer"
FLOW_KEY = "bench-offers"


class CountingTransport:
    """urllib's GET, counted: the requests a client makes."""

    def __init__(self) -> None:
        self.calls = 0
        self._lock = threading.Lock()

    def __call__(self, url: str, headers: Mapping[str, str], timeout: float) -> Reply:
        with self._lock:
            self.calls += 1
        return urllib_get(url, headers, timeout)


def peers(subjects: int, rounds: int, only: str | None = None) -> dict[str, Any]:
    """bench/client_peers.py's rows, run in ``python`` (the peers' venv) on core 0 when taskset exists."""
    python = str(PEERS_PYTHON) if only is None else sys.executable
    command = [python, "-m", "bench.client_peers", "--subjects", str(subjects), "--rounds", str(rounds)]
    command += ["--only", only] if only else []
    pinned = shutil.which("taskset") is not None
    if pinned:
        command = ["taskset", "-c", "0", *command]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True)  # noqa: S603 (our own)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return {**result, "one_core": pinned}


def requests_for_decisions(
    base_url: str, key: str, decisions: int = 10_000, max_age: float = 1.0, spread: float = 4.0
) -> dict[str, Any]:
    """``decisions`` calls of one client for distinct subjects, evenly over ``spread`` seconds."""
    transport = CountingTransport()
    client = LiveClient(base_url, VIEWER_KEY, TENANT, max_age=max_age, transport=transport)
    challengers = 0
    started = time.monotonic()
    for number in range(decisions):
        challengers += client.get(key, f"subject-{number}").role == "challenger"
        ahead = started + spread * number / decisions - time.monotonic()
        if ahead > 0:
            time.sleep(ahead)
    elapsed = time.monotonic() - started
    return {
        "decisions": decisions,
        "requests": transport.calls,
        "max_age_s": max_age,
        "elapsed_s": round(elapsed, 2),
        "max_age_periods": math.ceil(elapsed / max_age),
        "challenger_share": round(challengers / decisions, 4),
    }


def seconds_until(answered: Callable[[], bool], since: float, limit: float = 60.0) -> float:
    """Seconds from ``since`` (a monotonic time) until ``answered`` holds, polled every 5 ms."""
    while not answered():
        if time.monotonic() - since > limit:
            raise TimeoutError(f"not answered within {limit} s")
        time.sleep(0.005)
    return time.monotonic() - since


def switch_times(client: LiveClient, key: str, write: Callable[[], int], shown: Callable[[], int]) -> dict[str, float]:
    """From the end of ``write`` (its 200; it returns the version it made live): the seconds until
    ``client`` answers that version, and, polled in parallel, until ``shown`` (the service's own view) does."""
    client.get(key)  # the client holds the state from before the switch
    version = write()
    written = time.monotonic()
    state: list[float] = []
    poller = threading.Thread(target=lambda: state.append(seconds_until(lambda: shown() == version, written)))
    poller.start()
    answered = seconds_until(lambda: client.get(key).version == version, written)
    poller.join()
    return {"client_s": round(answered, 3), "state_s": round(state[0], 3)}


def call(base_url: str, method: str, path: str, body: dict[str, Any] | None = None, key: str = ADMIN_KEY) -> Any:
    """One request of the bench's admin (or viewer): its JSON, or an error with the problem's text."""
    headers = {"Authorization": f"Bearer {key}", "X-Tenant-Id": TENANT, "Content-Type": "application/json"}
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base_url + API + path, data=data, method=method, headers=headers)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (loopback)
            return json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        with error:
            problem = json.loads(error.read() or b"{}")
        raise RuntimeError(f"{method} {path.split('?')[0]} answered {error.code} {problem.get('code', '')}") from error


def state_version(base_url: str, key: str) -> tuple[int, int | None]:
    """The champion's and challenger's versions /live/state shows now (no client, no cache)."""
    answer = call(base_url, "GET", f"/live/state?key={key}", key=VIEWER_KEY)
    challenger = answer["challenger"]
    return answer["champion"]["version"], challenger["version"] if challenger else None


def switches(base_url: str, key: str, flow_id: str, max_age: float, rounds: int) -> list[dict[str, Any]]:
    """Per round: a challenger published at 30 %, promoted, then version 1 rolled back to; for each
    switch, the seconds until a client's answer and until /live/state shows it."""
    rows: list[dict[str, Any]] = []

    def champion() -> int:
        return state_version(base_url, key)[0]

    def challenger_shown(version: int) -> Callable[[], bool]:
        return lambda: state_version(base_url, key)[1] == version

    for round_number in range(rounds):
        call(base_url, "PUT", "", {"id": flow_id, "draftConfig": _config(f"round-{round_number}")})
        flow = call(base_url, "POST", "/publish", {"id": flow_id, "rollout": {"percent": 30}})
        challenger = flow["rollout"]["challengerVersion"]
        seconds_until(challenger_shown(challenger), time.monotonic())
        for switch, path, body in (
            ("promote", "/rollout/promote", {"id": flow_id}),
            ("rollback", "/rollback", {"id": flow_id, "version": 1}),  # live: a new version, a copy of 1
        ):
            client = LiveClient(base_url, VIEWER_KEY, TENANT, max_age=max_age)
            write = functools.partial(live_version_after, base_url, path, body)
            rows.append({"switch": switch, **switch_times(client, key, write, champion)})
    return rows


def live_version_after(base_url: str, path: str, body: dict[str, Any]) -> int:
    """POST ``body`` to ``path``: the flow's live version after it."""
    return int(call(base_url, "POST", path, body)["liveVersion"])


def _config(label: str = "bench") -> dict[str, Any]:
    from decision_flows_local.fixtures.samples import v2_config

    return v2_config(label)


@contextmanager
def local_server() -> Iterator[str]:
    """`make serve`'s server in its own process on a free port, with the bench's keys."""
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("TABLE_NAME", "DYNAMODB_"))}
    environment |= {"PORT": str(port), "LOCAL_API_KEYS": f"{ADMIN_KEY}={TENANT}:admin,{VIEWER_KEY}={TENANT}:viewer"}
    process = subprocess.Popen(
        [sys.executable, "-m", "decision_flows_local.api.server"],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    banner: list[str] = []
    for line in process.stdout:
        banner.append(line)
        if line.startswith("ready in"):
            break
    else:
        raise RuntimeError("the local server did not start:\n" + "".join(banner))
    threading.Thread(target=process.stdout.read, daemon=True).start()  # keep its pipe drained
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=30)


def against_the_server(decisions: int, spread: float, switch_rounds: int, max_age: float) -> dict[str, Any]:
    """The requests of a client during a 30 % rollout, then the switches (see the module's docstring)."""
    with local_server() as base_url:
        flow_id = call(base_url, "POST", "", {"key": FLOW_KEY, "name": "Bench offers", "draftConfig": _config()})["id"]
        call(base_url, "POST", "/publish", {"id": flow_id})
        try:
            seconds_until(lambda: state_version(base_url, FLOW_KEY)[0] == 1, time.monotonic(), limit=30)
        except (RuntimeError, DecisionFlowsError) as error:
            return {"not_measured": f"the server has no /live/state yet: {error}"}
        call(base_url, "PUT", "", {"id": flow_id, "draftConfig": _config("rollout")})
        call(base_url, "POST", "/publish", {"id": flow_id, "rollout": {"percent": 30}})
        seconds_until(lambda: state_version(base_url, FLOW_KEY)[1] == 2, time.monotonic())
        requests = requests_for_decisions(base_url, FLOW_KEY, decisions, max_age=max_age, spread=spread)
        call(base_url, "POST", "/rollout/abort", {"id": flow_id})
        return {"requests": requests, "switches": switches(base_url, FLOW_KEY, flow_id, max_age, switch_rounds)}


def markdown(decided: dict[str, Any], served: dict[str, Any]) -> str:
    rows = decided["rows"]
    rule = next(row["decisions_per_second"] for row in rows if row["contender"].startswith("the contract's rule"))
    ours = next(row["decisions_per_second"] for row in rows if row["contender"].startswith("decision-flows-client"))
    peer_rates = [
        row["decisions_per_second"] for row in rows if not row["contender"].startswith(("the contract", "decision"))
    ]
    against_peers = f", {ours / max(peer_rates):.1f}x the fastest peer" if peer_rates else ""
    table = report.markdown_table(
        ["contender (same sticky 30 % rollout)", "decisions/s", "vs the rule alone", "challenger share"],
        [
            [
                row["contender"],
                f"{row['decisions_per_second']:,}",
                f"{row['decisions_per_second'] / rule:.2f}x",
                f"{row['challenger_share']:.1%}",
            ]
            for row in rows
        ],
    )
    core = "one core (taskset -c 0)" if decided["one_core"] else "no taskset: not pinned"
    lines = [
        f"Decisions per second, Python {decided['python']}, {core}, {rows[0]['subjects']:,} distinct subjects "
        f"(median of rounds). The client: {ours:,}/s, {ours / rule:.2f}x the rule alone{against_peers} "
        "(goals: at least 1/3 of the rule alone, ahead of the fastest peer).",
        "",
        table,
        "",
    ]
    if "not_measured" in served:
        return "\n".join([*lines, f"Against the server: not measured ({served['not_measured']})."])
    counted = served["requests"]
    lines += [
        f"Requests for {counted['decisions']:,} decisions of distinct subjects over {counted['elapsed_s']} s, "
        f"during a 30 % rollout ({counted['challenger_share']:.1%} got the challenger), at max_age "
        f"{counted['max_age_s']} s: {counted['requests']} ({counted['max_age_periods']} max_age periods).",
        "",
        report.markdown_table(
            ["switch", "client answers (s, median / max)", "/live/state shows it (s, median / max)"],
            [_switch_row(name, served["switches"]) for name in ("promote", "rollback")],
        ),
    ]
    return "\n".join(lines)


def _switch_row(name: str, switches: list[dict[str, Any]]) -> list[str]:
    client = [row["client_s"] for row in switches if row["switch"] == name]
    state = [row["state_s"] for row in switches if row["switch"] == name]
    return [
        name,
        f"{statistics.median(client):.2f} / {max(client):.2f}",
        f"{statistics.median(state):.2f} / {max(state):.2f}",
    ]


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    decided = peers(subjects=10_000 if quick else 100_000, rounds=3 if quick else 7)
    served = against_the_server(10_000, spread=2.0 if quick else 10.0, switch_rounds=1 if quick else 3, max_age=2.0)
    report.finish("client_decisions", {"decisions": decided, "server": served}, markdown(decided, served), quick)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
