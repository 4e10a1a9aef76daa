"""What the service's code costs per request: the real handlers against a hand-written floor (issue 8).

For each route a user calls most (bench/overhead_routes.py), the API Gateway payload-2.0 event is
built once, as the local gateway builds it after the authorizer ran, and handed to the function's
``lambda_handler``; the floor (bench/baseline/) gets the same event and makes the same DynamoDB calls
with a plain boto3 client. Both run in one process on one in-process moto store, alternating, every
write put back untimed (bench/overhead_sampling.py). A route is reported only when both sides made
the same calls with the same requests and gave the same answers, sample by sample
(bench/overhead_compare.py). Goal: real at most 1.3 times the baseline (ratio of medians), judged
with the store; the verdict without it is reported beside it (bench/overhead_report.py). Writes
bench/results/overhead.json and .md; ``--quick`` only prints the Markdown.

    python -m bench.overhead [--samples 200] [--warmup 20] [--profile-rounds 100] [--quick] [--gc-paused]
"""

from __future__ import annotations

import argparse
import sys

from bench import report
from bench.overhead_report import markdown, payload
from bench.overhead_sampling import measure

PROFILE_ROUNDS = 100
QUICK = {"samples": 15, "warmup": 3, "profile_rounds": 10}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.overhead", description="Per-request overhead.")
    parser.add_argument("--samples", type=int, default=200, help="samples per side and route (default 200)")
    parser.add_argument("--warmup", type=int, default=20, help="rounds run before sampling (default 20)")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a smoke run (15 samples after 3 warm-up rounds, 10 profiled), printed only: bench/results/ is kept",
    )
    parser.add_argument("--gc-paused", action="store_true", help="no garbage collection inside a timed call")
    parser.add_argument(
        "--profile-rounds",
        type=int,
        default=PROFILE_ROUNDS,
        help=f"requests cProfiled per side and route against an instant store (default {PROFILE_ROUNDS}; 0: none)",
    )
    args = parser.parse_args(argv)
    sizes = (
        QUICK if args.quick else {"samples": args.samples, "warmup": args.warmup, "profile_rounds": args.profile_rounds}
    )
    run = measure(sizes["samples"], sizes["warmup"], gc_paused=args.gc_paused, profile_rounds=sizes["profile_rounds"])
    results = payload(run)
    if args.quick:  # a smoke run leaves the last full run's results in place
        print(markdown(results))
    else:
        report.write("overhead", results, markdown(results))
    return 0 if all(result.reported for result in run.results) else 1


if __name__ == "__main__":
    sys.exit(main())
