"""Cold start of each function, against the floor, in an environment like the Lambda runtime.

The Lambda python3.13 runtime has boto3 and nothing else. This builds such an environment once
(bench/.lambda-env: boto3 plus the layer's requirements, and the authorizer's own), then starts a
fresh interpreter per sample that imports the handler module the way Lambda does (the function's
folder and the layer's folder on sys.path) and creates its DynamoDB client. The floor is
`import boto3; boto3.client("dynamodb")` in the same environment and run. Prints a table and
writes bench/results/cold_start.json and .md.

    make bench-cold-start            # or: python bench/cold_start.py [samples]
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENV = ROOT / "bench" / ".lambda-env"
RESULTS = ROOT / "bench" / "results"
LAYER = ROOT / "shared" / "layer"
FUNCTIONS = sorted(path.name for path in (ROOT / "functions").iterdir() if (path / "app.py").exists())

# One sample: the time from a bare interpreter to a handler ready to serve its first request.
PROBE = """
import sys, time
started = time.perf_counter()
{body}
print(time.perf_counter() - started)
"""
HANDLER = """
import importlib
app = importlib.import_module("app")
from decision_flows.dal.client import dynamodb_client
dynamodb_client()
"""
FLOOR = """
import boto3
boto3.client("dynamodb")
"""


def python() -> Path:
    interpreter = ENV / "bin" / "python"
    if not interpreter.exists():
        venv.create(ENV, with_pip=True)
        requirements = [LAYER / "requirements.txt", ROOT / "functions" / "authorizer" / "requirements.txt"]
        pip = [str(interpreter), "-m", "pip", "install", "--quiet", "boto3"]
        subprocess.run([*pip, *(arg for path in requirements for arg in ("-r", str(path)))], check=True)  # noqa: S603
    return interpreter


def sample(interpreter: Path, body: str, path: list[Path]) -> float:
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": os.pathsep.join(str(p) for p in path),
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "TABLE_NAME": "FlowsTable",
        "POWERTOOLS_SERVICE_NAME": "decision-flows",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "PYTHONDONTWRITEBYTECODE": "",
    }
    output = subprocess.run(  # noqa: S603 (our own interpreter and probe)
        [str(interpreter), "-c", PROBE.format(body=body)], env=environment, capture_output=True, text=True, check=True
    )
    return float(output.stdout.strip().splitlines()[-1])


def main(samples: int) -> int:
    interpreter = python()
    sample(interpreter, FLOOR, [])  # warm the bytecode caches once, as a deployed package has them
    results = {"floor": sorted(sample(interpreter, FLOOR, []) for _ in range(samples))}
    for function in FUNCTIONS:
        path = [ROOT / "functions" / function, LAYER]
        sample(interpreter, HANDLER, path)
        results[function] = sorted(sample(interpreter, HANDLER, path) for _ in range(samples))
    floor = statistics.median(results["floor"])
    rows = [
        {
            "function": name,
            "median_ms": round(statistics.median(times) * 1000, 1),
            "p90_ms": round(times[int(len(times) * 0.9) - 1] * 1000, 1),
            "ratio_to_floor": round(statistics.median(times) / floor, 2),
        }
        for name, times in results.items()
    ]
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "cold_start.json").write_text(json.dumps({"samples": samples, "rows": rows}, indent=2) + "\n")
    table = ["| function | median ms | p90 ms | ratio to floor |", "|---|---|---|---|"]
    table += [f"| {r['function']} | {r['median_ms']} | {r['p90_ms']} | {r['ratio_to_floor']} |" for r in rows]
    (RESULTS / "cold_start.md").write_text("\n".join(table) + "\n")
    print("\n".join(table))
    return 0


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 15))
