"""Runtime reads: the ETag a poll names, the contract's assignment, and what an instance keeps within
its byte budget."""

from __future__ import annotations

import hashlib
from dataclasses import replace

import pytest

from decision_flows.domain.byte_cache import ByteBoundedCache
from decision_flows.domain.runtime_reads import LivePointer, PublishedRef, assign
from decision_flows.web.inputs import matches

Configs = ByteBoundedCache[tuple[str, str, int]]
ETAG = '"df_1:3"'


@pytest.mark.parametrize(
    ("header", "matched"),
    [
        (None, False),
        ("", False),
        (ETAG, True),
        (f"W/{ETAG}", True),
        (f'"df_1:2", {ETAG}', True),
        ("*", True),
        ('"df_1:2"', False),
        ("df_1:3", False),  # an ETag is quoted
    ],
)
def test_if_none_match_names_the_served_version(header: str | None, matched: bool) -> None:
    assert matches(header, ETAG) is matched


def test_the_least_recently_read_configs_go_first_when_the_budget_is_spent() -> None:
    cache: Configs = ByteBoundedCache(max_bytes=10)
    cache.put(("t", "f", 1), "aaaa")
    cache.put(("t", "f", 2), "bbbb")
    assert cache.get(("t", "f", 1)) == "aaaa"  # read: now the most recent

    cache.put(("t", "f", 3), "cccc")

    assert (cache.get(("t", "f", 1)), cache.get(("t", "f", 2)), cache.get(("t", "f", 3))) == ("aaaa", None, "cccc")
    cache.put(("t", "f", 4), "x" * 11)  # larger than the whole budget: not kept, nothing dropped
    assert cache.get(("t", "f", 4)) is None
    assert cache.get(("t", "f", 3)) == "cccc"


def test_the_budget_counts_bytes_not_characters() -> None:
    cache: Configs = ByteBoundedCache(max_bytes=8)
    cache.put(("t", "f", 1), "\U0001f600")  # one character, four bytes
    cache.put(("t", "f", 2), "\U0001f600")
    cache.put(("t", "f", 3), "\U0001f600")  # twelve bytes: the first goes
    assert (cache.get(("t", "f", 1)), cache.get(("t", "f", 3))) == (None, "\U0001f600")


def test_versions_of_other_tenants_and_flows_are_kept_apart() -> None:
    cache: Configs = ByteBoundedCache()
    cache.put(("t1", "f", 1), "one")
    assert (cache.get(("t2", "f", 1)), cache.get(("t1", "g", 1))) == (None, None)


def entry_with_rollout(basis_points: int, include: tuple[str, ...] = (), exclude: tuple[str, ...] = ()) -> LivePointer:
    return LivePointer(
        tenant_id="t",
        key="offers",
        flow_id="df_abc",
        champion=PublishedRef(1, "2026-11-28T00:00:00.000Z"),
        challenger=PublishedRef(2, "2026-11-28T01:00:00.000Z"),
        basis_points=basis_points,
        include=include,
        exclude=exclude,
    )


def contract_assignment(subject: str, percent: float) -> bool:
    """The contract's formula, written out apart from the service's."""
    digest = hashlib.sha256(f"df_abc:2:{subject}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % 10000 < round(percent * 100)


@pytest.mark.parametrize("percent", [0.01, 12.5, 50, 99.99])
def test_assignment_is_the_contracts_formula_for_thousands_of_subjects(percent: float) -> None:
    entry = entry_with_rollout(round(percent * 100))
    for n in range(5000):
        subject = f"customer-{n}"
        assigned = assign(entry, subject)
        expected = contract_assignment(subject, percent)
        assert (assigned.ref.version, assigned.role) == ((2, "challenger") if expected else (1, "champion")), subject


@pytest.mark.parametrize("percent", [1, 10, 33.33, 50, 90])
def test_the_challengers_share_of_100_000_subjects_is_within_half_a_point(percent: float) -> None:
    entry = entry_with_rollout(round(percent * 100))
    share = sum(assign(entry, f"subject-{n}").role == "challenger" for n in range(100_000)) / 1000
    assert abs(share - percent) <= 0.5, share


def test_without_a_subject_or_a_rollout_everyone_gets_the_champion() -> None:
    assert assign(entry_with_rollout(9999), None).role == "champion"
    plain = replace(entry_with_rollout(5000), challenger=None)
    assert {assign(plain, f"s{n}").ref.version for n in range(100)} == {1}


@pytest.mark.parametrize(
    "header",
    [f'{ETAG},"df_1:2"', f'"df_1:2",{ETAG}', f'W/{ETAG} , "x"'],
    ids=["first-no-space", "last-no-space", "weak-first"],
)
def test_if_none_match_finds_the_tag_anywhere_in_a_list(header: str) -> None:
    assert matches(header, ETAG)


def test_after_evictions_the_budget_still_counts_every_kept_config() -> None:
    # Given a budget of 10 bytes filled, then spilt twice
    cache: Configs = ByteBoundedCache(max_bytes=10)
    for number, config in enumerate(["aaaa", "bbbb", "cc", "dddd", "eeee"]):
        cache.put(("t", "f", number), config)

    # Then what is kept is the most recent that fits in 10 bytes, exactly up to the budget
    kept = [cache.get(("t", "f", number)) for number in range(5)]
    assert kept == [None, None, "cc", "dddd", "eeee"]
    cache.put(("t", "f", 5), "f")  # 11 bytes: the oldest goes
    assert [cache.get(("t", "f", number)) for number in (2, 3, 5)] == [None, "dddd", "f"]


def test_a_config_that_fills_the_budget_exactly_is_kept() -> None:
    cache: Configs = ByteBoundedCache(max_bytes=4)
    cache.put(("t", "f", 1), "abcd")
    assert cache.get(("t", "f", 1)) == "abcd"


def contract_reading(pointer: LivePointer, subject: str) -> str:
    """The contract's "Overrides" paragraph read plainly: challenger if S is in include; else champion
    if in exclude; else the hash rule of Staged rollout."""
    if subject in pointer.include:
        return "challenger"
    if subject in pointer.exclude:
        return "champion"
    return "challenger" if contract_assignment(subject, pointer.basis_points / 100) else "champion"


@pytest.mark.parametrize("percent", [0, 0.01, 30, 99.99])
def test_assignment_with_overrides_is_the_contracts_for_thousands_of_subjects(percent: float) -> None:
    # Given overrides that name subjects on both sides of the hash rule, one of them in both lists
    subjects = [f"customer-{n}" for n in range(4000)]
    include = (*subjects[::97], "qa-1")
    exclude = tuple(subjects[::89])  # customer-0 is in both: include wins
    pointer = entry_with_rollout(round(percent * 100), include, exclude)

    # Then every subject gets what the contract's order says
    for subject in [*subjects, "qa-1"]:
        assert assign(pointer, subject).role == contract_reading(pointer, subject), subject


def test_at_zero_percent_only_the_included_subjects_get_the_challenger() -> None:
    pointer = entry_with_rollout(0, include=("qa-1", "qa-2"))
    challengers = {
        s for s in ["qa-1", "qa-2", *(f"c{n}" for n in range(2000))] if assign(pointer, s).role == "challenger"
    }
    assert challengers == {"qa-1", "qa-2"}


def test_an_excluded_subject_keeps_the_champion_even_where_the_hash_would_pick_the_challenger() -> None:
    hashed_in = next(f"c{n}" for n in range(1000) if contract_assignment(f"c{n}", 50))
    assert assign(entry_with_rollout(5000), hashed_in).role == "challenger"
    assert assign(entry_with_rollout(5000, exclude=(hashed_in,)), hashed_in).role == "champion"
