"""The cold-start report and the probes' store (the probes themselves need `sam build`'s output;
`make bench` runs them)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench.cold_start import FLOOR, OWN_SHARE_GOAL_MS, PARTS, libraries_ms, markdown, ratio_goal

ROOT = Path(__file__).resolve().parents[2]


def row(function: str, init_ms: float, ratio: float, own_share_ms: float) -> dict[str, Any]:
    return {
        "function": function,
        "init_ms": init_ms,
        "init_p90_ms": init_ms + 5,
        "init_ratio": ratio,
        "ratio_goal": ratio_goal(function),
        "own_share_ms": own_share_ms,
        "meets_ratio_goal": ratio <= ratio_goal(function),
        "meets_own_share_goal": own_share_ms <= OWN_SHARE_GOAL_MS,
        "first_request_code_ms": 4.0,
        "first_request_calls_ms": 12.0,
        "xray_modules": [],
    }


def test_each_function_has_its_own_ratio_goal_and_the_same_own_share_goal() -> None:
    # The management API and the stream consumer: 1.6 (issue 22); the runtime read path and its
    # authorizer: 1.4 (issue 23); everyone's own share beyond the libraries: 30 ms
    assert [ratio_goal(name) for name in ("PublishFunction", "StreamFunction")] == [1.6, 1.6]
    assert [ratio_goal(name) for name in ("LiveFunction", "AuthorizerFunction")] == [1.4, 1.4]
    assert OWN_SHARE_GOAL_MS == 30.0


def test_the_libraries_are_the_parts_up_to_pydantics_names() -> None:
    shares = [{"part": label, "ms": 10.0, "cumulative_ms": 10.0 * (k + 1)} for k, (label, _) in enumerate(PARTS)]
    assert libraries_ms(shares) == 40.0


def test_the_table_marks_each_function_against_its_goals_and_lists_every_part() -> None:
    # Given a run where the live function meets its goals, one management function misses its ratio
    # though within 1.4, and another misses both
    payload = {
        "samples": 3,
        "own_share_goal_ms": 30.0,
        "runtime": {"python": "3.13.0", "boto3": "1.0", "botocore": "1.0"},
        "rows": [
            row(FLOOR, 280.0, 1.0, 240.0),
            row("LiveFunction", 380.0, 1.36, 12.0),
            row("RollbackFunction", 440.0, 1.58, 35.5),
            row("PublishFunction", 490.0, 1.75, 45.0),
        ],
        "parts_of": "PublishFunction",
        "parts": [{"part": label, "ms": 10.0, "cumulative_ms": 10.0 * (k + 1)} for k, (label, _) in enumerate(PARTS)],
        "init_without_bytecode_ms": 860.0,
    }

    # When it is rendered
    text = markdown(payload)

    # Then each function has its own goals and verdict, the floor none, and the parts and the bytecode line are there
    lines = {line.split(" | ")[0].strip("| "): line for line in text.splitlines() if line.startswith("| ")}
    assert "| 1.36 (≤ 1.4) | 12.0 | pass |" in lines["LiveFunction"]
    assert "| 1.58 (≤ 1.6) | 35.5 | **fail**: own share |" in lines["RollbackFunction"]
    assert "| 1.75 (≤ 1.6) | 45.0 | **fail**: ratio, own share |" in lines["PublishFunction"]
    assert "| 1.0 | — | — |" in lines[FLOOR]
    assert "(goal ≤ 30)" in text
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
