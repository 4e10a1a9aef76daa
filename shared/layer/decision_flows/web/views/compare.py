"""Response bodies of compare and validate: the diff and the validation report (a dry run's is web.views.dry_run)."""

from typing import TYPE_CHECKING, Any, Literal, Self

from pydantic import ConfigDict, Field

from decision_flows.web.views.body import ResponseBody, left_out_when_none

if TYPE_CHECKING:  # annotations: the views load no domain logic
    from decision_flows.domain.compare import ConfigDiff, Validation
    from decision_flows.domain.config_diff import Summary
    from decision_flows.domain.pipeline import ConfigProblem


class LazyBody(ResponseBody):
    """Built on first use, not at import: publish and rollback import these for their dry runs and
    their route's statement, and most of their cold starts never answer one."""

    model_config = ConfigDict(defer_build=True)


# Three plain classes rather than one generic: each parametrisation of a pydantic generic is one more
# class for every cold start of the compare function to build.
class FormatChange(LazyBody):
    """The config formats of the two states."""

    from_: Literal["v1", "v2"] | None = Field(alias="from")
    to: Literal["v1", "v2"] | None


class ScoringMethodChange(LazyBody):
    """The scoring methods of the two states (null: none configured)."""

    from_: str | None = Field(alias="from")
    to: str | None


class NodeCountChange(LazyBody):
    """The v2 node counts of the two states (null: a v1 config)."""

    from_: int | None = Field(alias="from")
    to: int | None


class NodeView(LazyBody):
    id: str
    type: str


class ChangedNodeView(NodeView):
    paths: list[str]  # RFC 6901 pointers inside the node


class NodeChangesView(LazyBody):
    added: list[NodeView]
    removed: list[NodeView]
    changed: list[ChangedNodeView]


class EdgeView(LazyBody):
    source: str
    target: str


class EdgeChangesView(LazyBody):
    added: list[EdgeView]
    removed: list[EdgeView]


class StageChangesView(LazyBody):
    added: list[str]
    removed: list[str]
    changed: list[str]


class DiffSummaryView(LazyBody):
    format: FormatChange
    nodes: NodeChangesView
    edges: EdgeChangesView
    stages: StageChangesView
    scoring_method: ScoringMethodChange
    node_count: NodeCountChange

    truncated: bool | None = left_out_when_none()  # in history only: lists cut to fit the entry

    @classmethod
    def of(cls, summary: "Summary") -> Self:
        return cls.model_validate(summary.as_document())


class StateView(LazyBody):
    ref: str  # a version number as a string, "draft", "live" or "challenger"
    version: int | None  # the version the ref names; null for the draft


class DiffView(LazyBody):
    flow_id: str
    from_: StateView = Field(alias="from")
    to: StateView
    identical: bool
    summary: DiffSummaryView
    patch: list[dict[str, Any]] | None = left_out_when_none()  # left out with include=summary

    @classmethod
    def of(cls, diff: "ConfigDiff") -> Self:
        return cls(
            flow_id=diff.flow_id,
            **{"from": StateView(ref=diff.old.ref, version=diff.old.version)},
            to=StateView(ref=diff.new.ref, version=diff.new.version),
            identical=diff.identical,
            summary=DiffSummaryView.of(diff.summary),
            patch=diff.patch,
        )


class ProblemView(LazyBody):
    code: str
    path: str  # an RFC 6901 pointer into the config
    message: str

    @classmethod
    def of(cls, problem: "ConfigProblem") -> Self:
        return cls(code=problem.code, path=problem.pointer(), message=problem.message)


class PipelineFactsView(LazyBody):
    node_count: int | None
    scoring_method: str | None


class BlockerView(LazyBody):
    code: str
    message: str


class ValidationView(LazyBody):
    valid: bool
    publishable: bool
    blockers: list[BlockerView]  # why publish would refuse it; empty when publishable
    format: Literal["v1", "v2"] | None  # null when the config is not even a JSON object
    errors: list[ProblemView]
    warnings: list[ProblemView]
    summary: PipelineFactsView

    @classmethod
    def of(cls, validation: "Validation") -> Self:
        facts = validation.facts
        return cls(
            valid=validation.valid,
            publishable=validation.publishable,
            blockers=[BlockerView(code=blocker.code, message=blocker.detail) for blocker in validation.blockers],
            format=(f"v{facts.format_version}" if validation.is_object else None),
            errors=[ProblemView.of(problem) for problem in validation.errors],
            warnings=[ProblemView.of(warning) for warning in validation.warnings],
            summary=PipelineFactsView(node_count=facts.node_count, scoring_method=facts.scoring_method),
        )
