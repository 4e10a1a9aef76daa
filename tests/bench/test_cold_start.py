"""The cold-start report and the probes' store (the probes themselves need `sam build`'s output;
`make bench` runs them)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench.cold_start import FLOOR, PARTS, markdown

ROOT = Path(__file__).resolve().parents[2]


def row(function: str, init_ms: float, ratio: float, meets_goal: bool) -> dict[str, Any]:
    return {
        "function": function,
        "init_ms": init_ms,
        "init_p90_ms": init_ms + 5,
        "init_ratio": ratio,
        "meets_goal": meets_goal,
        "first_request_code_ms": 4.0,
        "first_request_calls_ms": 12.0,
        "xray_modules": [],
    }


def test_the_table_marks_each_function_against_the_goal_and_lists_every_part() -> None:
    # Given a run where one function is within 1.4 times the floor and one is not
    payload = {
        "samples": 3,
        "goal_ratio": 1.4,
        "runtime": {"python": "3.13.0", "boto3": "1.0", "botocore": "1.0"},
        "rows": [
            row(FLOOR, 280.0, 1.0, True),
            row("LiveFunction", 380.0, 1.36, True),
            row("PublishFunction", 490.0, 1.75, False),
        ],
        "parts_of": "PublishFunction",
        "parts": [{"part": label, "ms": 10.0, "cumulative_ms": 10.0 * (k + 1)} for k, (label, _) in enumerate(PARTS)],
        "init_without_bytecode_ms": 860.0,
    }

    # When it is rendered
    text = markdown(payload)

    # Then each function has its verdict, the floor none, and the parts and the bytecode line are there
    lines = {line.split(" | ")[0].strip("| "): line for line in text.splitlines() if line.startswith("| ")}
    assert "| pass |" in lines["LiveFunction"]
    assert "| **fail** |" in lines["PublishFunction"]
    assert "| — |" in lines[FLOOR]
    # and our own share is its init beyond the parts up to pydantic (the fourth part: 40 ms here)
    assert "| 1.75 | 450.0 |" in lines["PublishFunction"]
    assert all(label in lines for label, _ in PARTS)
    assert "sources only" in text
    assert "860.0 ms" in text
    assert "X-Ray SDK modules loaded (tracing off; the service has no in-process tracer): none." in text


def test_the_probes_store_is_seeded_from_a_clean_environment(tmp_path: Path) -> None:
    # Given a process with none of the functions' variables (the benchmark sets them itself)
    script = (
        "from bench.cold_start_store import seeded_store\n"
        "from bench.cold_start import functions\n"
        "with seeded_store(1) as (events, environment):\n"
        "    missing = [name for name in functions() if (name, 0) not in events.files]\n"
        "    print(missing, environment['TABLE_NAME'])\n"
    )
    clean = {"PATH": os.environ["PATH"], "HOME": str(tmp_path)}

    # When it seeds the cold-start probes' store
    done = subprocess.run(  # noqa: S603 (our interpreter, our script)
        [sys.executable, "-c", script], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=120
    )

    # Then the store is there, with an event for every function of the template
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[] FlowsTable"
