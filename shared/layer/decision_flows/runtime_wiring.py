"""The runtime read path's objects (functions/live), built once per execution environment, with the
standard library and boto3 only: the pydantic models and the flow service load only when a pointer
is missing and must be rebuilt from its flow (``wiring``, on first use).

Its settings are read and validated at import, so a malformed variable fails the cold start.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from decision_flows.dal.client import dynamodb_client
from decision_flows.dal.live_reads import LiveReads, pointer_from_item
from decision_flows.domain.byte_cache import CACHE_BYTES, ByteBoundedCache
from decision_flows.domain.runtime_budget import RuntimeBudget
from decision_flows.domain.runtime_reads import LivePointer, RuntimeReads
from decision_flows.environment import table_name, whole_number
from decision_flows.once import built_once

RUNTIME_LIMIT_VARIABLE = "RUNTIME_RATE_LIMIT_PER_SECOND"
DEFAULT_RUNTIME_READS_PER_SECOND = 1000


@dataclass(frozen=True)
class RuntimeSettings:
    live_table: str
    flows_table: str
    reads_per_second: int  # per tenant and instance; 0: no budget


def read_settings(environment: Mapping[str, str]) -> RuntimeSettings:
    """The live path's variables (template.yaml), or ValueError naming the one that is wrong."""
    return RuntimeSettings(
        table_name("LIVE_TABLE_NAME", environment),
        table_name("TABLE_NAME", environment),
        whole_number(RUNTIME_LIMIT_VARIABLE, environment, DEFAULT_RUNTIME_READS_PER_SECOND),
    )


@built_once
def settings() -> RuntimeSettings:
    return read_settings(os.environ)


@built_once
def runtime_reads() -> RuntimeReads:
    reader = LiveReads(dynamodb_client(), settings().live_table, settings().flows_table)
    return RuntimeReads(reader, rebuilt_pointer, ByteBoundedCache(CACHE_BYTES // 2))


@built_once
def response_bodies() -> ByteBoundedCache[tuple[str | int, ...]]:
    return ByteBoundedCache(CACHE_BYTES // 2)


@built_once
def runtime_budget() -> RuntimeBudget | None:
    per_second = settings().reads_per_second
    return RuntimeBudget(per_second) if per_second else None


def rebuilt_pointer(tenant_id: str, key: str) -> tuple[LivePointer, dict[int, str]] | None:
    """A pointer the consumer has not written, from the flow, and kept (the flow service's models, loaded here)."""
    from decision_flows import wiring
    from decision_flows.dal import items

    rebuilt = wiring.live_service().rebuild(tenant_id, key)
    if rebuilt is None:
        return None
    entry, configs = rebuilt
    return pointer_from_item(items.to_wire(items.live_attributes(entry))), configs
