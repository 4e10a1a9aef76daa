"""LiveFunction's init (issue 23: at most 1.4x the bare boto3 floor) loads neither pydantic nor the
powertools HTTP resolver, nor the flow service: the runtime read path is the standard library, boto3
and the one Logger and Metrics. (bench/cold_start.py times it; this holds what it loads.)"""

from __future__ import annotations

import json
import subprocess
import sys

from decision_flows_local import template

HEAVY = ["aws_lambda_powertools.event_handler", "decision_flows.domain.service", "decision_flows.wiring", "pydantic"]


def test_the_live_functions_init_loads_no_pydantic_resolver_or_flow_service() -> None:
    # Given LiveFunction's handler module, loaded in a fresh interpreter as Lambda's init would, with
    # its DynamoDB client made
    properties = template.resources("AWS::Serverless::Function")["LiveFunction"]["Properties"]
    handler = template.ROOT / properties["CodeUri"] / "app.py"
    probe = (
        "import importlib.util, json, sys\n"
        f"spec = importlib.util.spec_from_file_location('app', {str(handler)!r})\n"
        "spec.loader.exec_module(importlib.util.module_from_spec(spec))\n"
        "from decision_flows.dal.client import dynamodb_client\n"
        "dynamodb_client()\n"
        f"print(json.dumps(sorted(h for h in {HEAVY!r} if h in sys.modules)))"
    )
    environment = {
        **template.function_environment(),
        "AWS_DEFAULT_REGION": "us-east-1",
        "PYTHONPATH": str(template.ROOT / "shared" / "layer"),
    }
    # When it is imported / Then none of the heavy modules came with it
    loaded = subprocess.run(  # noqa: S603 (this interpreter, our own probe)
        [sys.executable, "-c", probe], capture_output=True, text=True, env=environment, check=True
    )
    assert json.loads(loaded.stdout) == []
