"""How a flow and a version are named in requests, in bodies and in query strings alike.

Apart from the request bodies so that a read route's query models do not build every body model.
"""

from typing import Annotated

from pydantic import Field, Strict, StringConstraints

FlowKey = Annotated[str, Strict(), StringConstraints(min_length=1, max_length=255, pattern=r"^[A-Za-z0-9._-]+$")]
FlowId = Annotated[str, Strict(), StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
# A version number becomes a sort key (SNAP#<n>), and DynamoDB refuses a sort key over 1024 bytes even
# on a read: beyond 18 digits (as /diff's refs) no version can exist, so the number is refused here (400).
MAX_VERSION = 10**18 - 1
VERSION_RANGE = Field(ge=-MAX_VERSION, le=MAX_VERSION)
