"""What a function's init does: its handler module loaded in a fresh interpreter, as Lambda does."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from functools import cache

from decision_flows_local import template

PROBE = """
import gc, json, runpy, sys
runpy.run_path({handler!r}, run_name='app')
{after_init}
import dataclasses
defined = [
    f"{{name}}.{{value.__qualname__}}"
    for name, module in list(sys.modules.items()) if name.startswith("decision_flows")
    for value in vars(module).values()
    if isinstance(value, type) and value.__module__ == name and dataclasses.is_dataclass(value)
]
print(json.dumps({{
    "modules": list(sys.modules),
    "collecting": gc.isenabled(),
    "frozen": gc.get_freeze_count(),
    "dataclasses": sorted(defined),
}}))
"""


@dataclass(frozen=True)
class FunctionInit:
    modules: frozenset[str]  # what sys.modules holds once init is done
    collecting: bool  # whether the cyclic garbage collector runs again after init
    frozen: int  # objects init left frozen out of later collections (decision_flows/startup.py)
    dataclasses: tuple[str, ...]  # ours that init defined, as module.Class


@cache
def init_of(function: str, with_client: bool = False, with_flow_service: bool = False) -> FunctionInit:
    """``function``'s (template.yaml's) init: its handler imported and, ``with_client``, its DynamoDB
    client made (as a function's first request would make it); ``with_flow_service``, its flow service
    built too (as a writing function's first request builds it, with the client)."""
    properties = template.resources("AWS::Serverless::Function")[function]["Properties"]
    handler = template.ROOT / properties["CodeUri"] / "app.py"
    after_init = [
        "from decision_flows.dal.client import dynamodb_client\ndynamodb_client()" if with_client else "",
        "from decision_flows.wiring import flow_service\nflow_service()" if with_flow_service else "",
    ]
    layer = str(template.ROOT / "shared" / "layer")
    environment = template.function_environment() | {"AWS_DEFAULT_REGION": "us-east-1", "PYTHONPATH": layer}
    loaded = subprocess.run(  # noqa: S603 (this interpreter, our own probe)
        [sys.executable, "-c", PROBE.format(handler=str(handler), after_init="\n".join(after_init))],
        capture_output=True,
        text=True,
        env=environment,
        check=True,
    )
    state = json.loads(loaded.stdout.splitlines()[-1])
    return FunctionInit(frozenset(state["modules"]), state["collecting"], state["frozen"], tuple(state["dataclasses"]))


def modules_loaded_by(function: str, with_client: bool = False, with_flow_service: bool = False) -> frozenset[str]:
    return init_of(function, with_client, with_flow_service).modules
