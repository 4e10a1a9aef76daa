"""``python -m decision_flows_local.api.openapi_json``: the OpenAPI document on stdout, as make serve serves
it at /openapi.json (for tools that read a file, such as the generated-client check)."""

from __future__ import annotations

import json

from decision_flows_local.api.server import configure_environment


def main() -> None:
    configure_environment()  # before the handlers load: they read their settings on import
    from decision_flows_local.api import openapi

    print(json.dumps(openapi.build(), indent=2))


if __name__ == "__main__":
    main()
