"""A process started the way the Lambda python3.13 runtime starts a function, for cold-start probes.

The runtime has the standard library and boto3, nothing else; the function's code is at /var/task
and its layer's at /opt/python, both read-only. Here: a virtual environment with boto3 only
(bench/.lambda-env, built once), `sam build`'s artifact folders on PYTHONPATH in that order, and
PYTHONDONTWRITEBYTECODE so that nothing compiled during a probe is cached for the next one: what is
not shipped as bytecode is compiled on every cold start, as on Lambda.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import venv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
ENV = ROOT / "bench" / ".lambda-env"
# What the runtime brings; bump the marker when this changes so old environments are rebuilt.
RUNTIME_PACKAGES = ["boto3"]
MARKER = ENV / "runtime-packages.json"
BUILD = ROOT / ".aws-sam" / "build"

# A fresh interpreter runs `init` (Lambda's init phase, which leaves its DynamoDB client in `client`)
# and then `first` (the first invocation, which sets `ok`); the probe prints one JSON line of timings
# (the first request's time in DynamoDB calls apart: here that is a moto server, not the code) and facts.
PROBE = """
import json, os, sys, time
started = time.perf_counter()
{init}
ready = time.perf_counter()
store = []
def call_started(**_):
    store.append(-time.perf_counter())
def call_ended(**_):
    store.append(time.perf_counter())
client.meta.events.register("before-call.dynamodb", call_started)
client.meta.events.register("after-call.dynamodb", call_ended)
{first}
done = time.perf_counter()
print(json.dumps({{
    "init_s": ready - started,
    "first_request_s": done - ready,
    "store_s": sum(store),
    "ok": ok,
    "xray_modules": sorted(name for name in sys.modules if name.startswith("aws_xray_sdk")),
    "measured_ms": globals().get("measured_ms"),
    "modules": sorted(sys.modules) if globals().get("list_modules") else [],
}}))
"""


@dataclass(frozen=True)
class Sample:
    init_s: float
    first_request_s: float
    store_s: float
    ok: bool
    xray_modules: list[str]
    measured_ms: float | None = None  # what the probe's own code measured, if it measures something
    modules: list[str] = field(default_factory=list)  # every module loaded, if the probe set list_modules


def python() -> Path:
    """The runtime's interpreter, building bench/.lambda-env when it is missing or stale."""
    interpreter = ENV / "bin" / "python"
    if not (MARKER.exists() and json.loads(MARKER.read_text()) == RUNTIME_PACKAGES):
        venv.create(ENV, with_pip=True, clear=True)
        install = [str(interpreter), "-m", "pip", "install", "--quiet", *RUNTIME_PACKAGES]
        subprocess.run(install, check=True)  # noqa: S603 (our own interpreter)
        MARKER.write_text(json.dumps(RUNTIME_PACKAGES))
    return interpreter


def artifact(logical_id: str) -> Path:
    """A resource's folder in `sam build`'s output; the layer's code is under its python/ folder."""
    folder = BUILD / logical_id
    if not folder.is_dir():
        raise SystemExit(f"{folder} is missing: run `make build` first")
    return folder / "python" if (folder / "python").is_dir() else folder


def probe(init: str, first: str, path: list[Path], environment: dict[str, str], argument: str = "") -> Sample:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": os.pathsep.join(str(folder) for folder in path),
        "PYTHONDONTWRITEBYTECODE": "1",
        "LANG": "C.UTF-8",
        **environment,
    }
    # -P and a neutral working directory: nothing of the repository is importable by accident.
    output = subprocess.run(  # noqa: S603 (our own interpreter and probe)
        [str(python()), "-P", "-c", PROBE.format(init=init, first=first), argument],
        cwd=tempfile.gettempdir(),
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if output.returncode != 0:
        raise RuntimeError(f"probe failed:\n{output.stderr[-3000:]}")
    fields: dict[str, Any] = json.loads(output.stdout.strip().splitlines()[-1])
    return Sample(**fields)


def runtime_versions() -> dict[str, str]:
    """The interpreter's and the runtime's boto3 versions, which the floor depends on."""
    code = "import platform, boto3, botocore; print(platform.python_version(), boto3.__version__, botocore.__version__)"
    versions = subprocess.run([str(python()), "-P", "-c", code], capture_output=True, text=True, check=True)  # noqa: S603
    python_version, boto3_version, botocore_version = versions.stdout.split()
    return {"python": python_version, "boto3": boto3_version, "botocore": botocore_version}
