"""`make invoke FUNCTION=<logical id> EVENT=events/<file>.json`: `sam local invoke` without Docker.

Runs one function of template.yaml with one event, against the embedded DynamoDB (empty: events
that name a flow answer 404) or the one ``DYNAMODB_ENDPOINT_URL`` names, and prints its result.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: python -m decision_flows_local.api.invoke <FunctionLogicalId> <event.json>", file=sys.stderr)
        return 2
    function, event_path = args
    from decision_flows_local import template
    from decision_flows_local.api.gateway import LambdaContext
    from decision_flows_local.api.server import configure_environment
    from decision_flows_local.dynamodb.embedded import LocalStore

    functions = template.resources("AWS::Serverless::Function")
    if function not in functions:
        print(f"error: template.yaml has no function {function!r}; it has {', '.join(functions)}", file=sys.stderr)
        return 2
    try:
        event = json.loads(Path(event_path).read_text())
    except (OSError, ValueError) as error:
        print(f"error: cannot read the event {event_path}: {error}", file=sys.stderr)
        return 2
    endpoint = os.environ.get("DYNAMODB_ENDPOINT_URL") or None
    configure_environment()
    store = LocalStore(endpoint)
    store.start()
    try:
        result = template.handler(function)(event, LambdaContext())
    finally:
        store.stop()
    print(json.dumps(result, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
