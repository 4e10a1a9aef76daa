"""The throughput benchmark in a few seconds: every concurrency level ran requests of both mixes,
the server answered all of them as expected, and an answer that is not is counted where the
report shows it. No speed is asserted: figures are the benchmark's output."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from bench import report, throughput
from bench.throughput_clients import Cell, Tally, run_cell
from bench.throughput_report import markdown, payload
from tests.support.local_server import running_server

SEEDED = {"flows": 2, "versions_each": 1}


@pytest.fixture(scope="module")
def cells() -> list[Cell]:
    return throughput.measure(seconds=0.5, flows=SEEDED["flows"], versions=SEEDED["versions_each"])


def test_each_mix_ran_at_every_concurrency(cells: list[Cell]) -> None:
    ran = [(cell.mix, cell.concurrency) for cell in cells]
    assert ran == [(mix, clients) for mix in ("read", "write") for clients in throughput.CONCURRENCY]
    assert all(cell.requests > 0 for cell in cells)


def test_no_request_got_an_unexpected_answer(cells: list[Cell]) -> None:
    for cell in cells:
        assert cell.unexpected == 0, (cell.mix, cell.concurrency, cell.to_json())
        # one lock around every request: even 16 writers never meet a rowVersion conflict
        assert cell.conflicts == 0


def test_each_mix_sent_its_own_requests(cells: list[Cell]) -> None:
    labels: dict[str, set[str]] = {cell.mix: set() for cell in cells}
    for cell in cells:
        labels[cell.mix] |= set(cell.by_label())
    assert labels == {
        "read": {"GET one flow", "GET list", "GET versions", "GET one version"},
        "write": {"PUT draft", "POST publish"},
    }


def injected_cell() -> Cell:
    """A read cell whose one client saw a 500, a 429 and a 409 among its answers, and one request fail."""
    tally = Tally(
        latencies_ns={"GET list": [1_000_000] * 6},
        finished_at=[0.1, 0.2, 0.3, 0.6, 0.7, 0.8],
        statuses=Counter({200: 2, 201: 1, 409: 1, 429: 1, 500: 1}),
        failures=Counter({"ConnectionResetError": 1}),
    )
    return Cell("read", 1, 0.0, 1.0, [tally], 0.5, 0.2, 1.0)


def test_a_cell_counts_every_answer_neither_2xx_nor_409_and_every_failed_request_as_unexpected() -> None:
    figures = injected_cell().to_json()

    assert (figures["unexpected"], figures["conflicts_409"]) == (3, 1)  # the 500, the 429, the failed request
    assert figures["requests_per_second_by_half"] == [6.0, 6.0]  # 3 answers in each half second
    row = markdown(payload([figures], 1.0, 1.0, seeded=SEEDED, server_env=throughput.SERVER_ENV)).splitlines()[-1]
    assert "| 6 | **3** | 1 |" in row


def test_a_rate_limit_that_caps_a_cell_shows_as_unexpected_answers() -> None:
    # Given a server allowing 3 requests a minute, one of them spent seeding
    with running_server(RATE_LIMIT_PER_MINUTE="3") as server:
        flows = throughput.seed(server, flows=1, versions=0)

        # When a client reads for a moment
        cell = run_cell(server, flows, "read", 1, 0.3)

    # Then the two answered requests are 2xx, and every refusal after them is unexpected
    assert cell.statuses[200] == 2
    assert cell.statuses[429] == cell.unexpected > 0


def test_the_markdown_renders_from_the_saved_payload(cells: list[Cell]) -> None:
    results = payload([cell.to_json() for cell in cells], 0.5, 9.0, seeded=SEEDED, server_env=throughput.SERVER_ENV)
    saved = json.loads(json.dumps(results))  # as bench/results/throughput.json holds it

    lines = markdown(saved).splitlines()

    assert len([line for line in lines if line.startswith(("| read", "| write"))]) == len(cells)
    assert "RATE_LIMIT_PER_MINUTE=0 (0: rate limit off)" in lines[0]


def test_a_quick_run_prints_its_markdown_and_leaves_the_results_alone(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(throughput, "measure", lambda seconds: [injected_cell()])
    monkeypatch.setattr(report, "RESULTS", tmp_path / "results")

    exit_status = throughput.main(["--quick"])

    assert not (tmp_path / "results").exists()
    assert "| read: GET flow, list, versions, version | 1 |" in capsys.readouterr().out
    assert exit_status == 1  # the injected cell had unexpected answers
