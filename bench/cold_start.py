"""Cold start of every function beside the floor, in a process like the Lambda runtime's.

Each sample is a fresh interpreter (bench/lambda_runtime.py) on `sam build`'s artifacts: Lambda's
init phase (import the handler, create its DynamoDB client) and then its first request, against a
moto server seeded here. The floor is `import boto3; boto3.client("dynamodb")` and one GetItem, in
the same run; samples go round-robin so that the machine's noise falls on every row alike. Also
measured: the share of each part (powertools, pydantic, our models and code) of one API function's
cold start, the cost of shipping no bytecode, and each function's deployment size.

    make bench-cold-start            # or: python -m bench.cold_start [samples]
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import report, stats
from bench.artifacts import deployment_sizes
from bench.cold_start_store import EventFiles, seeded_store
from bench.lambda_runtime import Sample, artifact, probe, runtime_versions
from decision_flows_local import template

HANDLER_INIT = """
import importlib
handler = getattr(importlib.import_module({module!r}), {attribute!r})
from decision_flows.dal.client import dynamodb_client
client = dynamodb_client()
"""
FIRST_REQUEST = """
class Context:
    function_name = "bench"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"
    aws_request_id = "bench"
    def get_remaining_time_in_millis(self):
        return 10_000
with open(sys.argv[1]) as file:
    result = handler(json.load(file), Context())
ok = {check}
"""
API_CHECK = '200 <= result["statusCode"] < 300'
CHECKS = {
    "AuthorizerFunction": 'result["isAuthorized"] is True and "authError" not in result["context"]',
    "StreamFunction": 'result == {"batchItemFailures": []}',
    "NotFoundFunction": 'result["statusCode"] == 405',
    # a firing whose request has no pending schedule: the function's init and one read of the request
    "ScheduleFunction": 'result == {"nothing": 1}',
}
FLOOR_INIT = 'import boto3\nclient = boto3.client("dynamodb", endpoint_url=os.environ["DYNAMODB_ENDPOINT_URL"])'
FLOOR_FIRST = """
client.get_item(TableName=os.environ["TABLE_NAME"], Key={"PK": {"S": "T#bench"}, "SK": {"S": "FLOW"}})
ok = True
"""
FLOOR = "floor"
# Each function's goals. Its init at most so many times the floor: 1.6 for the management API and the
# stream consumer (issue 22), 1.4 for the runtime read path and the authorizer in front of it (issue 23).
RATIO_GOAL = 1.6
RUNTIME_RATIO_GOALS = {"LiveFunction": 1.4, "AuthorizerFunction": 1.4}
# And our own share, its init beyond boto3, powertools and pydantic's names, at most this (issue 22).
OWN_SHARE_GOAL_MS = 30.0
PYDANTIC_NAMES = """
from pydantic import BaseModel, ConfigDict, Field, Strict, StrictBool, StringConstraints, TypeAdapter, ValidationError
from pydantic import field_serializer, field_validator, model_validator
from pydantic.alias_generators import to_camel
"""
# The libraries an API function loads before any code of ours: the floor, powertools' Logger and HTTP
# resolver, pydantic's names. A function's own share is its init beyond theirs, both measured in the
# same rounds, so that the machine's noise does not fall into the difference.
LIBRARIES = "libraries"
BASELINES = (FLOOR, LIBRARIES)  # the rows without goals
LIBRARY_PARTS = [
    ("boto3 and its DynamoDB client (the floor)", FLOOR_INIT),
    ("powertools Logger", "from aws_lambda_powertools import Logger\nLogger()"),
    (
        "powertools HTTP API resolver",
        "from aws_lambda_powertools.event_handler import APIGatewayHttpResolver\nAPIGatewayHttpResolver()",
    ),
    # `import pydantic` alone loads a lazy shell; the names the service's models use bring the rest.
    ("pydantic (what the models import, before any model)", PYDANTIC_NAMES),
]
LIBRARIES_INIT = "\n".join(code for _, code in LIBRARY_PARTS)
# A function's own share measured in one process: the libraries loaded first, with every other module
# of boto3, powertools, pydantic (and any library) that its handler imports, then the CPU time of
# importing the handler (its DynamoDB client is the floor's). The difference of two processes' wall
# clocks moves by ±10 ms between runs on a shared machine; this moves by about one.
OWN_SHARE_TAIL = """
import importlib
for library in {libraries!r}:
    importlib.import_module(library)
own_started = time.process_time()
importlib.import_module({module!r})
measured_ms = (time.process_time() - own_started) * 1000
"""
OURS = ("decision_flows", "app", "__main__")
# The parts of one API function's init, each step adding one to the previous ones.
PARTS_OF = "PublishFunction"
PARTS = [
    *LIBRARY_PARTS,
    (
        "the service's pydantic models (defined at import, most built on first use)",
        "import decision_flows.models.publish_commands, decision_flows.web.views.flows, decision_flows.web.queries",
    ),
    ("the handler and the rest of decision_flows", HANDLER_INIT),
]


def functions() -> dict[str, str]:
    """Logical id → handler (`module.attribute`) of every function in template.yaml."""
    return {
        name: spec["Properties"]["Handler"] for name, spec in template.resources("AWS::Serverless::Function").items()
    }


def handler_init(handler: str) -> str:
    module, attribute = handler.rsplit(".", 1)
    return HANDLER_INIT.format(module=module, attribute=attribute)


def ratio_goal(function: str) -> float:
    return RUNTIME_RATIO_GOALS.get(function, RATIO_GOAL)


def seconds_to_ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def cold_starts(samples: int, events: EventFiles, environment: dict[str, str]) -> dict[str, list[Sample]]:
    layer = artifact("SharedLayer")

    def floor(_: int) -> Sample:
        return probe(FLOOR_INIT, FLOOR_FIRST, [], environment)

    def libraries(_: int) -> Sample:
        return probe(LIBRARIES_INIT, FLOOR_FIRST, [layer], environment)

    def function(name: str, handler: str) -> Callable[[int], Sample]:
        init, first = handler_init(handler), FIRST_REQUEST.format(check=CHECKS.get(name, API_CHECK))
        return lambda i: probe(init, first, [artifact(name), layer], environment, str(events.of(name, i)))

    runs = {FLOOR: floor, LIBRARIES: libraries} | {
        name: function(name, handler) for name, handler in functions().items()
    }
    for run in runs.values():  # warm the page cache; not counted
        run(samples)
    results: dict[str, list[Sample]] = {name: [] for name in runs}
    for i in range(samples):
        for name, run in runs.items():
            sample = run(i)
            if not sample.ok:
                raise SystemExit(f"{name}'s first request failed in sample {i}")
            results[name].append(sample)
    return results


def own_shares(samples: int, environment: dict[str, str]) -> dict[str, float]:
    """Each function's handler import after the libraries, in one process: median CPU ms."""
    layer = artifact("SharedLayer")
    codes = {}
    for name, handler in functions().items():
        module, path = handler.rsplit(".", 1)[0], [artifact(name), layer]
        listing = f"{LIBRARIES_INIT}\nimport importlib\nimportlib.import_module({module!r})\nlist_modules = True"
        loaded = probe(listing, "ok = True", path, environment).modules
        libraries = [m for m in loaded if m.split(".")[0] not in OURS]
        codes[name] = (LIBRARIES_INIT + OWN_SHARE_TAIL.format(libraries=libraries, module=module), path)
    times: dict[str, list[float]] = {name: [] for name in functions()}
    for _ in range(samples):
        for name, (code, path) in codes.items():
            measured = probe(code, "ok = True", path, environment).measured_ms
            times[name].append(float("nan") if measured is None else measured)
    return {name: round(stats.median(t), 1) for name, t in times.items()}


def parts(samples: int, environment: dict[str, str]) -> list[dict[str, Any]]:
    path = [artifact(PARTS_OF), artifact("SharedLayer")]
    steps = [code if code != HANDLER_INIT else handler_init(functions()[PARTS_OF]) for _, code in PARTS]
    cumulative = ["\n".join(steps[: k + 1]) for k in range(len(steps))]
    times: list[list[float]] = [[] for _ in steps]
    for _ in range(samples):
        for k, code in enumerate(cumulative):
            times[k].append(probe(code, "ok = True", path, environment).init_s)
    medians = [seconds_to_ms(stats.median(t)) for t in times]
    return [
        {"part": label, "ms": round(medians[k] - (medians[k - 1] if k else 0.0), 1), "cumulative_ms": medians[k]}
        for k, (label, _) in enumerate(PARTS)
    ]


def without_bytecode(samples: int, environment: dict[str, str]) -> float:
    """PARTS_OF's init with the layer as SAM's python builder shipped it: sources only."""
    with tempfile.TemporaryDirectory() as scratch:
        layer = Path(scratch) / "python"
        shutil.copytree(artifact("SharedLayer"), layer, ignore=shutil.ignore_patterns("__pycache__"))
        init = handler_init(functions()[PARTS_OF])
        runs = [probe(init, "ok = True", [artifact(PARTS_OF), layer], environment) for _ in range(samples)]
        return seconds_to_ms(stats.median([run.init_s for run in runs]))


def summary_rows(
    results: dict[str, list[Sample]], sizes: dict[str, dict[str, float]], own: dict[str, float]
) -> list[dict[str, Any]]:
    """One row per run: its init against the floor, its own share (``own``: measured in one process;
    and the difference of its init and the libraries'), its first request, its size."""
    floor_init = stats.median([s.init_s for s in results[FLOOR]])
    libraries_init = stats.median([s.init_s for s in results[LIBRARIES]])
    rows = []
    for name, runs in results.items():
        init = [s.init_s for s in runs]
        own_share_ms = own.get(name)
        rows.append(
            {
                "function": name,
                "init_ms": seconds_to_ms(stats.median(init)),
                "init_p90_ms": seconds_to_ms(stats.percentile(init, 0.9)),
                "init_ratio": round(stats.median(init) / floor_init, 2),
                "ratio_goal": ratio_goal(name),
                "own_share_ms": own_share_ms,
                "own_share_wall_ms": seconds_to_ms(stats.median(init) - libraries_init),
                "meets_ratio_goal": stats.median(init) / floor_init <= ratio_goal(name),
                "meets_own_share_goal": own_share_ms is not None and own_share_ms <= OWN_SHARE_GOAL_MS,
                # The first request apart from its DynamoDB calls (HTTP, moto and parsing): the
                # calls differ per route and are moto's cost here, not the code's.
                "first_request_code_ms": seconds_to_ms(stats.median([s.first_request_s - s.store_s for s in runs])),
                "first_request_calls_ms": seconds_to_ms(stats.median([s.store_s for s in runs])),
                "xray_modules": sorted({m for s in runs for m in s.xray_modules}),
                **sizes.get(name, {}),
            }
        )
    return rows


def main(samples: int) -> int:
    with seeded_store(samples + 1) as (events, environment):
        results = cold_starts(samples, events, environment)
        own = own_shares(samples, environment)
        shares = parts(samples, environment)
        sourced_ms = without_bytecode(max(3, samples // 3), environment)
    rows = summary_rows(results, deployment_sizes(list(functions())), own)
    payload = {
        "samples": samples,
        "own_share_goal_ms": OWN_SHARE_GOAL_MS,
        "runtime": runtime_versions(),
        "rows": rows,
        "parts_of": PARTS_OF,
        "parts": shares,
        "init_without_bytecode_ms": sourced_ms,
    }
    report.write("cold_start", payload, markdown(payload))
    return 0


def verdict(row: dict[str, Any]) -> str:
    """Both goals met, or which one is missed."""
    missed = [
        goal
        for goal, met in (("ratio", row["meets_ratio_goal"]), ("own share", row["meets_own_share_goal"]))
        if not met
    ]
    return "pass" if not missed else f"**fail**: {', '.join(missed)}"


def markdown(payload: dict[str, Any]) -> str:
    rows = payload["rows"]
    table = report.markdown_table(
        [
            "function",
            "init ms (p90)",
            "init ÷ floor (goal)",
            f"beyond boto3, powertools, pydantic ms: in one process (across) (goal ≤ {payload['own_share_goal_ms']:g})",
            "goals",
            "first request: code ms",
            "its DynamoDB calls ms",
            "zip MB",
            "unzipped MB",
        ],
        [
            [
                r["function"],
                f"{r['init_ms']} ({r['init_p90_ms']})",
                r["init_ratio"] if r["function"] in BASELINES else f"{r['init_ratio']} (≤ {r['ratio_goal']})",
                "—" if r["function"] in BASELINES else f"{r['own_share_ms']} ({r['own_share_wall_ms']})",
                "—" if r["function"] in BASELINES else verdict(r),
                r["first_request_code_ms"],
                r["first_request_calls_ms"],
                r.get("zip_mb", "—"),
                r.get("unzipped_mb", "—"),
            ]
            for r in rows
        ],
    )
    parts = report.markdown_table(
        ["part (each added to the ones above)", "ms", "cumulative ms"],
        [[p["part"], p["ms"], p["cumulative_ms"]] for p in payload["parts"]],
    )
    traced = sorted({m for r in rows for m in r["xray_modules"]})
    runtime = ", ".join(f"{name} {version}" for name, version in payload["runtime"].items())
    return "\n\n".join(
        [
            f"**Cold start**: median of {payload['samples']} fresh processes per function in a Lambda-like runtime "
            f'({runtime}), on `sam build`\'s artifacts, the floor being `import boto3; boto3.client("dynamodb")`; '
            "the page cache is warm (a new Lambda VM may also read its files from disk). A first request's "
            "DynamoDB calls (HTTP to a moto server, moto, parsing) are apart from its code. Sizes are code + layer. "
            "Beyond boto3, powertools and pydantic, our own share: in one process, the CPU time of importing "
            "the handler once the libraries are loaded (the floor, powertools' Logger and HTTP resolver, "
            "pydantic's names: the parts below up to those); across processes, in brackets, the init less "
            "the libraries row's, measured in the same rounds (it moves by ±10 ms between runs on a shared "
            "machine). Goals: the share in one process at most "
            f"{payload['own_share_goal_ms']:g} ms, and the init at most {RATIO_GOAL} times the floor, "
            f"{' and '.join(sorted(RUNTIME_RATIO_GOALS))} {min(RUNTIME_RATIO_GOALS.values())} times.",
            table,
            f"Where {payload['parts_of']}'s init goes:",
            parts,
            f"With a layer of sources only (SAM's python builder), {payload['parts_of']}'s init was "
            f"{payload['init_without_bytecode_ms']} ms. X-Ray SDK modules loaded (tracing off; the service has "
            "no in-process tracer): " + (", ".join(traced) if traced else "none") + ".",
        ]
    )


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 15))
