"""Field types the flow commands and the review bodies share, apart from both so that a function
parsing review bodies alone (ChangesFunction, PolicyFunction) defines none of the command bodies, and
a function parsing one family of commands defines none of the others' (publish and rollout both take
a challenger's share and its subjects)."""

import math
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, Field, PlainValidator, Strict, StringConstraints, WithJsonSchema

# Characters may take 4 bytes each: these caps keep a flow item (300 KB draft, 20 summaries with
# notes) well under DynamoDB's 400 KB item limit.
Description = Annotated[str, Strict(), StringConstraints(max_length=1000)]
Notes = Annotated[str, Strict(), StringConstraints(max_length=500)]
Counter = Annotated[int, Strict(), Field(ge=1)]


def _share(value: Any) -> float:
    """A JSON number from 0 to less than 100 with at most two decimals (not a string, not a boolean)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be a number")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("must be a number")
    # An int is taken exactly: JSON integers have no size limit, and one past 1e308 has no float.
    exact = Decimal(value) if isinstance(value, int) else Decimal(str(value))
    if not 0 <= exact < 100 or exact != exact.quantize(Decimal("0.01")):
        raise ValueError("must be at least 0 and less than 100, with at most two decimals")
    return float(value)


# A challenger's share of subjects, in percent; stored as basis points (round(percent * 100)). 0 serves
# the challenger to the rollout's include list only.
Percent = Annotated[
    float,
    PlainValidator(_share),
    WithJsonSchema({"type": "number", "minimum": 0, "exclusiveMaximum": 100, "multipleOf": 0.01}),
]

MAX_OVERRIDES = 100
# The subjects of include and exclude together, as UTF-8: 200 subjects of 160 bytes (a UUID is 36). They
# live in the flow item beside a 300 KB draft, under DynamoDB's 400 KB, and in the live pointer every
# runtime read gets (4 KB per read unit).
MAX_OVERRIDE_BYTES = 32 * 1024
# As long as GET /live's ``subject`` may be, so every subject a caller can ask about can be named.
Subject = Annotated[str, Strict(), StringConstraints(min_length=1, max_length=256)]


def _distinct(subjects: list[str]) -> list[str]:
    """A list of subjects is a set: a repeated subject counts once, and the order is the sorted one, so
    the same set is stored, compared and answered the same way however it was sent."""
    return sorted(set(subjects))


# Subjects a rollout always (include) or never (exclude) serves the challenger.
Subjects = Annotated[list[Subject], Field(max_length=MAX_OVERRIDES), AfterValidator(_distinct)]


def refuse_null(value: Any, instead: str = "leave the field out") -> Any:
    """An optional field that is sent has a value: null is refused, as the documents say (REFUSED_NULLS)."""
    if value is None:
        raise ValueError(f"may not be null: {instead}")
    return value
