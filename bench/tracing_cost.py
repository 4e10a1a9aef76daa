"""What `Tracing: Active` costs a cold start when the function has no in-process tracer.

With Active tracing, Lambda gives each invocation a sampled trace header (`_X_AMZN_TRACE_ID`, with
`Sampled=1`) and the X-Ray daemon's address and context-missing setting. The service has no tracer
(`POWERTOOLS_TRACE_DISABLED`, no aws-xray-sdk), so in its process that environment is all that
changes: Powertools' Logger adds the trace id to each line and botocore adds the header to each
DynamoDB request. This measures that part, on the cold-start probe of bench/cold_start.py, each
sample a fresh Lambda-like process, traced and untraced alternating. What the platform does outside
the process (the daemon it runs beside the function, the segments it sends) cannot be measured
here; docs/PERFORMANCE.md, "Tracing", says what AWS documents of it.

    make build && .venv/bin/python -m bench.tracing_cost [samples]
"""

from __future__ import annotations

import json
import sys

from bench import stats
from bench.cold_start import API_CHECK, CHECKS, FIRST_REQUEST, functions, handler_init, seconds_to_ms
from bench.cold_start_store import seeded_store
from bench.lambda_runtime import Sample, artifact, probe

# Read-only routes on one shared flow: one event serves every sample of both arms.
MEASURED = ("AuthorizerFunction", "ListFlowsFunction", "LiveFunction")
# Untraced without any trace header (Lambda may pass an unsampled one), so that the difference is an
# upper bound; botocore adds the header only where AWS_LAMBDA_FUNCTION_NAME says it runs in Lambda.
UNTRACED = {"AWS_LAMBDA_FUNCTION_NAME": "bench"}
TRACED = {
    "AWS_LAMBDA_FUNCTION_NAME": "bench",
    "_X_AMZN_TRACE_ID": "Root=1-67891233-abcdef012345678912345678;Parent=53995c3f42cd8ad8;Sampled=1",
    "AWS_XRAY_DAEMON_ADDRESS": "169.254.79.129:2000",
    "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
}


def main(samples: int) -> int:
    handlers = functions()
    layer = artifact("SharedLayer")
    arms: dict[str, dict[str, list[Sample]]] = {name: {"untraced": [], "traced": []} for name in MEASURED}
    with seeded_store(1) as (events, environment):
        for i in range(samples + 1):
            for name in MEASURED:
                init = handler_init(handlers[name])
                first = FIRST_REQUEST.format(check=CHECKS.get(name, API_CHECK))
                event = str(events.of(name, 0))
                for arm, extra in (("untraced", UNTRACED), ("traced", TRACED))[:: 1 if i % 2 else -1]:
                    sample = probe(init, first, [artifact(name), layer], {**environment, **extra}, event)
                    if not sample.ok:
                        raise SystemExit(f"{name} ({arm}) failed its first request in sample {i}")
                    if i:  # sample 0 warms the page cache
                        arms[name][arm].append(sample)
    rows = []
    for name, runs in arms.items():
        untraced, traced = runs["untraced"], runs["traced"]
        rows.append(
            {
                "function": name,
                "init_ms": [seconds_to_ms(stats.median([s.init_s for s in arm])) for arm in (untraced, traced)],
                "first_request_code_ms": [
                    seconds_to_ms(stats.median([s.first_request_s - s.store_s for s in arm]))
                    for arm in (untraced, traced)
                ],
                "xray_modules": sorted({m for s in untraced + traced for m in s.xray_modules}),
            }
        )
    print(json.dumps({"samples": samples, "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 15))
