"""The runtime client's benchmark, small: it measures what it says it does (bench/client_decisions.py,
bench/client_peers.py; the full run, with the peers' SDKs and `make serve`, is `make bench-client`).
How fast is never checked here."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bench import client_decisions, client_peers
from decision_flows_client import LiveClient
from tests.client.fake_service import FakeLiveService, state_answer


@pytest.fixture
def service() -> Iterator[FakeLiveService]:
    """A /live/state that takes the bench's viewer credentials."""
    with FakeLiveService(client_decisions.VIEWER_KEY, client_decisions.TENANT).running() as running:
        running.publish(state_answer("offers", 3, challenger=4, percent=30))
        yield running


def test_every_contender_is_timed_on_distinct_subjects_doing_the_30_percent_rollout() -> None:
    rows = client_peers.measure(["client", "rule"], subjects_per_round=2_000, rounds=2)

    assert [row["subjects"] for row in rows] == [4_000, 4_000]
    assert all(row["decisions_per_second"] > 0 for row in rows)
    # the client and the rule alone assign the very same subjects, about 30 % of them
    assert rows[0]["challenger_share"] == rows[1]["challenger_share"]
    assert 0.27 < rows[0]["challenger_share"] < 0.33


def test_the_peers_run_is_read_back_from_its_own_process() -> None:
    # In the dev venv, with the contenders it has (the peers' SDKs live in .venv-peers)
    decided = client_decisions.peers(subjects=500, rounds=1, only="client,rule")

    assert [row["contender"] for row in decided["rows"]] == [
        "decision-flows-client LiveClient.get",
        "the contract's rule alone (sha256 + dict lookup)",
    ]
    assert "| decision-flows-client LiveClient.get |" in client_decisions.markdown(decided, {"not_measured": "x"})


def test_requests_are_counted_against_the_max_age_periods_they_span(service: FakeLiveService) -> None:
    counted = client_decisions.requests_for_decisions(service.base_url, "offers", 300, max_age=0.05, spread=0.3)

    assert counted["requests"] == len(service.requests_for("offers"))
    assert 1 <= counted["requests"] <= counted["max_age_periods"] + 1
    assert counted["max_age_periods"] >= 6
    assert 0.2 < counted["challenger_share"] < 0.4  # the fake's 30 % rollout, decided by the client


def test_a_switch_is_timed_until_the_client_answers_the_new_version(service: FakeLiveService) -> None:
    client = LiveClient(service.base_url, client_decisions.VIEWER_KEY, client_decisions.TENANT, max_age=0.05)

    def promote() -> int:
        service.publish(state_answer("offers", 4))
        return 4

    def shown() -> int:
        return int(service.states["offers"]["champion"]["version"])

    times = client_decisions.switch_times(client, "offers", promote, shown)

    assert set(times) == {"client_s", "state_s"}
    assert client.get("offers").version == 4
    assert len(service.requests_for("offers")) >= 2  # it read version 3 first, then refreshed to 4


def test_the_table_gives_the_ratio_to_the_rule_and_the_server_figures() -> None:
    decided = {
        "python": "3.13.0",
        "one_core": True,
        "rows": [
            {
                "contender": "decision-flows-client LiveClient.get",
                "decisions_per_second": 500_000,
                "challenger_share": 0.3,
                "subjects": 10,
            },
            {"contender": "GrowthBook 4.0", "decisions_per_second": 250_000, "challenger_share": 0.3, "subjects": 10},
            {
                "contender": "the contract's rule alone (sha256 + dict lookup)",
                "decisions_per_second": 1_000_000,
                "challenger_share": 0.3,
                "subjects": 10,
            },
        ],
    }
    served = {
        "requests": {
            "decisions": 10_000,
            "requests": 3,
            "max_age_s": 2.0,
            "elapsed_s": 4.1,
            "max_age_periods": 3,
            "challenger_share": 0.3,
        },
        "switches": [
            {"switch": "promote", "client_s": 2.5, "state_s": 0.5},
            {"switch": "rollback", "client_s": 1.5, "state_s": 0.25},
        ],
    }

    text = client_decisions.markdown(decided, served)

    assert "| decision-flows-client LiveClient.get | 500,000 | 0.50x | 30.0% |" in text
    assert "The client: 500,000/s, 0.50x the rule alone, 2.0x the fastest peer (goals" in text
    assert "10,000 decisions of distinct subjects over 4.1 s" in text
    assert "(30.0% got the challenger), at max_age 2.0 s: 3 (3 max_age periods)" in text
    assert "| promote | 2.50 / 2.50 | 0.50 / 0.50 |" in text
