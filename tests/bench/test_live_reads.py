"""The warm runtime reads benchmark on a small run: it measures each read at each size, warm, and
judges the growth (bench/live_reads.py; the full run is `make bench`). How fast is never checked here."""

from __future__ import annotations

from bench.live_reads import READS, markdown, measure


def test_each_read_is_measured_warm_at_each_size() -> None:
    rows = measure((2_000, 20_000), requests=3)

    assert [(row["read"], row["config_bytes"] > 15_000) for row in rows] == [
        (read, large) for large in (False, True) for read in READS
    ]
    for row in rows:
        assert row["cpu_ms"] > 0
        # 304s have no body; a state holds both versions' configs
        assert row["body_bytes"] == 0 if "304" in row["read"] else row["body_bytes"] >= row["config_bytes"]
    text = markdown(rows, requests=3)
    assert "÷ smallest config" in text
    assert text.count("| GET /live/state (200) |") == 2
