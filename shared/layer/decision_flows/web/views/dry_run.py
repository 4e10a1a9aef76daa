"""The body of a dry run (publish and rollback with ``"dryRun": true``): the flow the call would
return, what it would change, its warnings. Apart from web.views.compare so that the compare
function, which answers no flow, does not build the flow views."""

from typing import Literal

from decision_flows.web.views.compare import DiffView, LazyBody, ProblemView
from decision_flows.web.views.flows import FlowView


class DryRunView(LazyBody):
    dry_run: Literal[True] = True
    flow: FlowView
    diff: DiffView  # from what is live to what the call would make live
    warnings: list[ProblemView]
