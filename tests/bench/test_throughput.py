"""The throughput benchmark in a few seconds: every concurrency level ran requests of both mixes and
the server answered all of them as expected. No speed is asserted: figures are the benchmark's output."""

from __future__ import annotations

import pytest

from bench import throughput


@pytest.fixture(scope="module")
def cells() -> list[throughput.Cell]:
    return throughput.measure(seconds=0.5, flows=2, versions=1)


def test_each_mix_ran_at_every_concurrency(cells: list[throughput.Cell]) -> None:
    ran = [(cell.mix, cell.concurrency) for cell in cells]
    assert ran == [(mix, clients) for mix in ("read", "write") for clients in throughput.CONCURRENCY]
    assert all(cell.requests > 0 for cell in cells)


def test_no_request_got_an_unexpected_answer(cells: list[throughput.Cell]) -> None:
    for cell in cells:
        assert cell.unexpected == 0, (cell.mix, cell.concurrency, cell.to_json())
        # one lock around every request: even 16 writers never meet a rowVersion conflict
        assert cell.conflicts == 0


def test_each_mix_sent_its_own_requests(cells: list[throughput.Cell]) -> None:
    labels: dict[str, set[str]] = {cell.mix: set() for cell in cells}
    for cell in cells:
        labels[cell.mix] |= set(cell.by_label())
    assert labels == {
        "read": {"GET one flow", "GET list", "GET versions", "GET one version"},
        "write": {"PUT draft", "POST publish"},
    }


def test_the_rate_limit_is_off_so_it_cannot_cap_the_figures(cells: list[throughput.Cell]) -> None:
    assert throughput.SERVER_ENV["RATE_LIMIT_PER_MINUTE"] == "0"
    assert not any(cell.statuses[429] for cell in cells)
