"""What every request body shares: the contract's camelCase names, unknown fields refused, frozen."""

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class RequestBody(BaseModel):
    # Built on first use, not at import: a function parses one or two of these bodies, and building the
    # others' validators would be the larger share of its cold start (bench/cold_start.py).
    model_config = ConfigDict(alias_generator=to_camel, extra="forbid", frozen=True, defer_build=True)
