"""Which version a subject gets during a staged rollout: the contract's assignment, in one pure
function with the standard library only, so that the server's /live and a runtime client assigning
locally (decision-flows-client) compute the same answer.

Order (contract, "Runtime reads"): a subject in ``include`` gets the challenger; else one in
``exclude`` the champion; else the hash rule of "Staged rollout": the first 8 bytes of
sha256("<flowId>:<challengerVersion>:<subject>"), a big-endian integer, mod 10 000, below the share
in basis points (round(percent * 100)). No subject, no challenger: the champion.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

BUCKETS = 10_000


@dataclass(frozen=True, slots=True)
class Split:
    """A rollout as assignment sees it: the challenger of a flow, its share and its overrides."""

    flow_id: str
    challenger_version: int
    basis_points: int  # round(percent * 100): 0 to 9 999
    include: frozenset[str] = frozenset()
    exclude: frozenset[str] = frozenset()


def gets_challenger(split: Split | None, subject: str | None) -> bool:
    """Whether ``subject`` gets the challenger of ``split`` (None: no rollout runs)."""
    if split is None or subject is None:
        return False
    if subject in split.include:
        return True
    if subject in split.exclude:
        return False
    digest = hashlib.sha256(f"{split.flow_id}:{split.challenger_version}:{subject}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % BUCKETS < split.basis_points
