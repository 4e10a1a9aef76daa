"""What a function's init imports: its handler module loaded in a fresh interpreter, as Lambda does."""

from __future__ import annotations

import subprocess
import sys

from decision_flows_local import template


def modules_loaded_by(function: str, with_client: bool = False) -> set[str]:
    """The modules in ``sys.modules`` once ``function``'s handler (template.yaml's) is imported, and,
    ``with_client``, its DynamoDB client made (as a function's first request would make it)."""
    properties = template.resources("AWS::Serverless::Function")[function]["Properties"]
    handler = template.ROOT / properties["CodeUri"] / "app.py"
    client = "from decision_flows.dal.client import dynamodb_client\ndynamodb_client()\n" if with_client else ""
    probe = f"import runpy, sys\nrunpy.run_path({str(handler)!r}, run_name='app')\n{client}print(*sys.modules)"
    layer = str(template.ROOT / "shared" / "layer")
    environment = template.function_environment() | {"AWS_DEFAULT_REGION": "us-east-1", "PYTHONPATH": layer}
    loaded = subprocess.run(  # noqa: S603 (this interpreter, our own probe)
        [sys.executable, "-c", probe], capture_output=True, text=True, env=environment, check=True
    )
    return set(loaded.stdout.split())
