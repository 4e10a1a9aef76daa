"""Field types the flow commands and the review bodies share, apart from both so that a function
parsing review bodies alone (ChangesFunction, PolicyFunction) defines none of the nine command bodies."""

from typing import Annotated

from pydantic import Field, Strict, StringConstraints

# Characters may take 4 bytes each: these caps keep a flow item (300 KB draft, 20 summaries with
# notes) well under DynamoDB's 400 KB item limit.
Description = Annotated[str, Strict(), StringConstraints(max_length=1000)]
Notes = Annotated[str, Strict(), StringConstraints(max_length=500)]
Counter = Annotated[int, Strict(), Field(ge=1)]
