"""The single-table key schema. Every key starts with the tenant, so no query can cross tenants.

    PK                      SK                  item
    T#<t>#F#<flowId>        FLOW                the flow: draft, counters, latest 20 summaries
    T#<t>#F#<flowId>        VER#                versions anchor: exists exactly while the flow does
    T#<t>#F#<flowId>        VER#<n:010d>        version summary (small; what /versions lists)
    T#<t>#F#<flowId>        SNAP#<n:010d>       version snapshot (summary + configSnapshot)
    T#<t>#F#<flowId>        TOMBSTONE           who deleted the flow; the consumer removes the rest
    T#<t>#KEY#<key>         KEY                 key reservation: makes `key` unique per tenant
    T#<t>                   COUNTERS            flow counts per status, for pagination.total
    T#<t>                   POLICY              the tenant's review policy (absent: the defaults)
    T#<t>#F#<flowId>        CR#<changeId>       a change request of the flow (a publish's holds its config)

The list index ``ByStatus`` keys flows by ``GSI1PK = T#<t>#FLOWS`` and
``GSI1SK = <status rank>#<inverted updatedAt ms>#<flowId>``: status order first, newest first.
Summaries and snapshots are separate items so that listing versions never reads snapshot bytes.

The change-history table keys a flow's entries ``PK = T#<t>#F#<flowId>``, ``SK = RV#<rowVersion:010d>``
(one entry per write, in write order), and the live table keys entries by ``PK = T#<t>#KEY#<key>``.
Every history entry also carries ``FeedPK = T#<t>#FEED`` and ``FeedSK = <at, UTC, ms>#<eventId>``,
the keys of the sparse index ``ByTenantTime``: the tenant feed, across flows, in time order (the stream
record's eventId breaks ties and makes the key unique).

An emergency change request awaiting review also carries ``UnreviewedPK = T#<t>#UNREVIEWED`` and
``UnreviewedSK = <changeId>`` (the id starts with its creation time), the keys of the sparse index
``Unreviewed`` of the flows table: the tenant's unreviewed emergencies across flows, newest first.

An item with a job waiting for its time (a change request with a pending schedule; a flow whose
rollout plan has a pending step: its next one) carries ``DuePK = DUE``, ``DueSK = <runAt, UTC,
ms>#<job name>`` and ``dueJob`` (the job's payload), the keys of the sparse index ``DueJobs`` of the
flows table: every tenant's waiting jobs, soonest first, which the sweeper and the local scheduler
read (one partition: schedules are written far more rarely than its 1 000 writes a second).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the runtime read path builds keys without loading the flow models (pydantic)
    from decision_flows.models.flow import FlowStatus
    from decision_flows.models.scheduled_job import ScheduledJob

FLOW_SK = "FLOW"
VERSIONS_PREFIX = "VER#"
VERSIONS_ANCHOR_SK = VERSIONS_PREFIX
KEY_SK = "KEY"
TOMBSTONE_SK = "TOMBSTONE"
CHANGE_PREFIX = "RV#"
COUNTERS_SK = "COUNTERS"
POLICY_SK = "POLICY"
CHANGE_REQUEST_PREFIX = "CR#"
LIST_INDEX = "ByStatus"
FEED_INDEX = "ByTenantTime"
UNREVIEWED_INDEX = "Unreviewed"
DUE_INDEX = "DueJobs"
DUE_PK = "DUE"

# By FlowStatus value (a StrEnum: its members look these up).
STATUS_RANK = {"active": 1, "draft": 2, "paused": 3, "archived": 4}
_MAX_EPOCH_MS = 10**13 - 1


def flow_pk(tenant_id: str, flow_id: str) -> str:
    return f"T#{tenant_id}#F#{flow_id}"


def version_sk(version: int) -> str:
    return f"{VERSIONS_PREFIX}{version:010d}"


def snapshot_sk(version: int) -> str:
    return f"SNAP#{version:010d}"


def change_sk(row_version: int) -> str:
    return f"{CHANGE_PREFIX}{row_version:010d}"


def change_request_sk(change_id: str) -> str:
    return f"{CHANGE_REQUEST_PREFIX}{change_id}"


def key_reservation_pk(tenant_id: str, key: str) -> str:
    return f"T#{tenant_id}#KEY#{key}"


def tenant_pk(tenant_id: str) -> str:
    return f"T#{tenant_id}"


def feed_pk(tenant_id: str) -> str:
    return f"T#{tenant_id}#FEED"


def unreviewed_pk(tenant_id: str) -> str:
    return f"T#{tenant_id}#UNREVIEWED"


def feed_instant(moment: datetime) -> str:
    """An instant as the feed's sort key spells it: UTC to the millisecond (cut, not rounded), fixed
    width, so that string order is time order. Without an offset it is UTC already."""
    utc = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return utc.replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


def feed_sk(at: str, event_id: str) -> str:
    return f"{feed_instant(datetime.fromisoformat(at))}#{event_id}"


def feed_lower_bound(since: datetime) -> str:
    """The least feed sort key of an entry at or after ``since``: entries are stamped to the millisecond,
    so a ``since`` between two milliseconds starts at the later one."""
    return feed_instant(since + timedelta(microseconds=-since.microsecond % 1000))


def due_attributes(run_at: datetime, job: ScheduledJob) -> dict[str, Any]:
    """The attributes that list an item's waiting job in the ``DueJobs`` index (plain values)."""
    return {"DuePK": DUE_PK, "DueSK": f"{feed_instant(run_at)}#{job.name}", "dueJob": job.payload()}


def due_upper_bound(until: datetime) -> str:
    """The greatest ``DueSK`` of a job due at ``until`` (names are digits, letters and dashes)."""
    return f"{feed_instant(until)}#~"


def of_tenant(pk: str, tenant_id: str) -> bool:
    """Whether a partition key is one of the tenant's items (every key starts with the tenant)."""
    own = tenant_pk(tenant_id)
    return pk == own or pk.startswith(own + "#")


def list_pk(tenant_id: str) -> str:
    return f"T#{tenant_id}#FLOWS"


def status_prefix(status: FlowStatus) -> str:
    return f"{STATUS_RANK[status]}#"


def list_sk(status: FlowStatus, updated_at: str, flow_id: str) -> str:
    epoch_ms = int(datetime.fromisoformat(updated_at).timestamp() * 1000)
    return f"{status_prefix(status)}{_MAX_EPOCH_MS - epoch_ms:013d}#{flow_id}"


def key(pk: str, sk: str) -> dict[str, dict[str, str]]:
    return {"PK": {"S": pk}, "SK": {"S": sk}}
