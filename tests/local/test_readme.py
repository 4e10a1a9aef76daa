"""The API walkthrough (docs/API.md, linked from the README) runs as written, in order, against a
plain `make serve`.

The only change made to the text is the port (the test's server has a free one). Each curl fails
the run on an error answer (``--fail-with-body``, added by a wrapper, not written into the doc).
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from tests.support.local_server import running_server

API_DOC = Path(__file__).resolve().parents[2] / "docs" / "API.md"
WALKTHROUGH = re.compile(r"<!-- readme-walkthrough:start -->\n```bash\n(.*?)```\n<!-- readme-walkthrough:end -->", re.S)
REVIEW = re.compile(r"<!-- review-walkthrough:start -->\n```bash\n(.*?)```\n<!-- review-walkthrough:end -->", re.S)
SCHEDULE = re.compile(
    r"<!-- schedule-walkthrough:start -->\n```bash\n(.*?)```\n<!-- schedule-walkthrough:end -->", re.S
)
# The review section's keys, as docs/API.md tells a reader to start make serve for it.
REVIEW_KEYS = "sk_test_admin_a=tenant-a:admin,sk_test_alice=tenant-a:editor,sk_test_bobby=tenant-a:editor"
STRICT_CURL = 'curl() { command curl --fail-with-body --show-error "$@"; }\n'


def run_walkthrough(script: str, port: str) -> str:
    """The walkthrough in bash, each command in turn; its output, once every request succeeded."""
    result = subprocess.run(  # noqa: S603 (bash with the doc's own text, against loopback)
        ["/bin/bash", "-euo", "pipefail", "-c", STRICT_CURL + script.replace("127.0.0.1:3000", f"127.0.0.1:{port}")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr + result.stdout
    return result.stdout


def test_the_api_walkthrough_runs_verbatim_against_a_plain_make_serve_twice() -> None:
    # Given the documented walkthrough, and make serve as a newcomer starts it (no LOCAL_API_KEYS)
    (script,) = WALKTHROUGH.findall(API_DOC.read_text())
    with running_server(LOCAL_API_KEYS="") as server:
        port = server.base.rsplit(":", 1)[1]

        # When it runs, and then runs again on the same server (as a reader trying it twice would)
        outputs = [run_walkthrough(script, port) for _ in range(2)]

    # Then every request of both runs succeeded, and each run's answers are the walkthrough's story
    for output in outputs:
        assert_tells_the_story(output)


def assert_tells_the_story(output: str) -> None:
    assert '"scoringMethod": {"from": "propensity", "to": "scorecard"}' in output  # the diff before v2
    assert '"dryRun": true' in output  # the dry run of v2's publish
    assert '"code": "RANK_BEFORE_SCORE"' in output  # validate's warning
    assert '"restoredFrom": 1' in output  # the rollback's version 3
    assert '"action": "rolled_back"' in output  # history, after the consumer ran
    assert re.search(r'"version": 3, "publishedAt": "[^"]+", "config"', output)  # /live serves v3
    assert '"role": "' in output  # /live with a subject during the rollout
    assert '"rollout": {"challengerVersion": 4, "percent": 50' in output  # the share widened
    assert '"liveVersion": 4' in output  # promoted
    assert output.splitlines()[-1].startswith('{"status": "ok"')  # health, last


def test_the_review_walkthrough_runs_verbatim_after_the_walkthroughs_first_lines() -> None:
    # Given the walkthrough's first lines (its variables and helper), the review section, and make serve
    # started with the two editors' keys the section names
    (script,) = WALKTHROUGH.findall(API_DOC.read_text())
    preamble = script[: script.index("# create (editor)")]
    (review,) = REVIEW.findall(API_DOC.read_text())
    with running_server(LOCAL_API_KEYS=REVIEW_KEYS) as server:
        # When a reader runs it
        output = run_walkthrough(preamble + review, server.base.rsplit(":", 1)[1])

    # Then every request succeeded: one editor asked, the other approved, the author applied, and the
    # feed tells it; the policy is back to no review
    assert '"state": "approved"' in output
    assert re.search(r'"state": "applied".*"liveVersion": 2', output)
    # and the admin's emergency rollback was approved afterwards
    emergency = '"emergency": {"reason": "checkout errors spiking", "incident": "INC-42", "reviewed": true}'
    assert emergency in output
    for action in ("change_requested", "change_approved", "policy_changed", "rolled_back"):
        assert f'"action": "{action}"' in output
    assert output.splitlines()[-1].startswith('{"approvals": {"required": 0')


def test_the_schedule_walkthrough_runs_verbatim_after_the_walkthroughs_first_lines() -> None:
    # Given the walkthrough's first lines, the schedule section, and a plain make serve
    (script,) = WALKTHROUGH.findall(API_DOC.read_text())
    preamble = script[: script.index("# create (editor)")]
    (schedules,) = SCHEDULE.findall(API_DOC.read_text())
    with running_server(LOCAL_API_KEYS="") as server:
        # When a reader runs it
        output = run_walkthrough(preamble + schedules, server.base.rsplit(":", 1)[1])

    # Then the request was scheduled and unscheduled, the plan shown, and its cancellation recorded
    assert re.search(r'"schedule": \{"runAt": "[^"]+", "status": "pending"', output)
    assert '"schedule": null' in output
    assert re.search(r'"plan": \[\{"after": "PT1H", "percent": 25(\.0)?, "runAt": "[^"]+", "status": "pending"', output)
    for action in ("plan_cancelled", "rollout_aborted"):
        assert f'"action": "{action}"' in output
