"""Reading the flows table's stream records: which change of which flow each one stands for.

Only two kinds of record mean something to the consumer: a write of a flow item (INSERT or MODIFY,
with both images) and the INSERT of a delete's tombstone, and
a write of the tenant's policy or of a change request. The rest (version items, key
reservations, counters, the flow item's own REMOVE, whose tombstone tells more) are skipped; the
event source mapping's filter keeps most of them from reaching the function at all.
"""

from __future__ import annotations

from typing import Any

from decision_flows.dal import items, key_schema
from decision_flows.domain.change_feed import Change, ChangeRequestWritten, FlowDeleted, FlowWritten, PolicyWritten


def change_of(record: dict[str, Any]) -> Change | None:
    data = record["dynamodb"]
    sort_key = data["Keys"]["SK"]["S"]
    event_name = record["eventName"]
    if sort_key == key_schema.FLOW_SK and event_name in ("INSERT", "MODIFY"):
        old = data.get("OldImage")
        return FlowWritten(
            event_id=record["eventID"],
            old=items.flow_from_item(old) if old else None,
            new=items.flow_from_item(data["NewImage"]),
        )
    if sort_key == key_schema.TOMBSTONE_SK and event_name == "INSERT":
        return FlowDeleted(event_id=record["eventID"], tombstone=items.tombstone_from_item(data["NewImage"]))
    if sort_key == key_schema.POLICY_SK and event_name in ("INSERT", "MODIFY"):
        # Imported here, as below: the review records' models load with the first of them, not at init.
        from decision_flows.dal.policies import policy_from_item

        old = data.get("OldImage")
        return PolicyWritten(
            event_id=record["eventID"],
            old=policy_from_item(old) if old else None,
            new=policy_from_item(data["NewImage"]),
        )
    if sort_key.startswith(key_schema.CHANGE_REQUEST_PREFIX) and event_name in ("INSERT", "MODIFY"):
        from decision_flows.dal.changes import change_from_item

        old = data.get("OldImage")
        return ChangeRequestWritten(
            event_id=record["eventID"],
            old=change_from_item(old) if old else None,
            new=change_from_item(data["NewImage"]),
        )
    return None
