"""The service's clock and its wire format for instants, apart from the service.

The authorizer and the API-key tooling stamp times too; importing them from here keeps ``FlowService``,
the pipeline validator and the request models out of their init.
"""

from datetime import UTC, datetime


def utc_now() -> datetime:
    return datetime.now(UTC)


def timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
