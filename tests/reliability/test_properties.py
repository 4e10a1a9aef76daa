"""Property tests (Hypothesis): the pipeline validator, and the service with its access layer.

The validator: any acyclic graph of unique ids, known types and edges between existing nodes is
valid; a cycle, an unknown type, a dangling edge or a duplicate id (any mix of them) is invalid with
exactly those problems listed; arbitrary JSON never raises anything but the domain's errors;
canonical JSON round-trips and ignores key order.

The service: a state machine drives FlowService and FlowRepository against moto with any sequence
of create, edits (draft, key, status, description, several at once), publish, rollback and delete,
with the rowVersion in the body, as If-Match, both, stale or contradictory. After every write that
lands it compares the store with a model: versions 1..latest without gaps, the live version among
them and equal to the latest, every snapshot unchanged since it was written, the draft equal to the
restored snapshot after a rollback, rowVersion +1 per write and unchanged otherwise,
hasUnpublishedChanges, key reservations and status counters. A refused operation (with the
contract's code for one of the reasons that applies) changes nothing. Every publish and rollback is
first run as a dry run, which must change nothing and foresee the real call: the same refusal, or
the same versions and rowVersion.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    rule,
    run_state_machine_as_test,
)

from decision_flows import wiring
from decision_flows.dal.client import dynamodb_client
from decision_flows.dal.flows import FlowRepository
from decision_flows.domain import pipeline, service
from decision_flows.domain.compare import validate
from decision_flows.domain.errors import DomainError, PayloadTooLarge, Unprocessable
from decision_flows.domain.service import FlowService
from decision_flows.models.draft_commands import CreateFlowRequest, UpdateFlowRequest
from decision_flows.models.flow import PUBLISHED_VERSIONS_ON_FLOW, Flow, FlowStatus, PublishedVersion
from decision_flows.models.identity import Identity, Role
from decision_flows.models.publish_commands import PublishRequest
from decision_flows.models.rollback_commands import RollbackRequest
from decision_flows_local import template
from decision_flows_local.fixtures.samples import v1_config, v2_config
from tests.support.figures import Figures
from tests.support.scale import scaled

pytestmark = pytest.mark.long

Json = Any
NODE_TYPES = sorted(pipeline.NODE_TYPES)
METHODS = sorted(pipeline.SCORING_METHODS)


def quick(examples: int) -> settings:
    """Bounded example counts; no example database (a failure prints its example and seed instead)."""
    return settings(max_examples=examples, deadline=None, database=None)


# --- the pipeline validator ---------------------------------------------------------------------

json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8)
# Lone surrogates, which JSON's \ud800 escapes can carry in but no UTF-8 store can keep.
surrogates = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)
json_texts = st.text(max_size=6) | st.text(surrogates, min_size=1, max_size=2)
json_values = st.recursive(
    json_scalars | json_texts,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(json_texts, inner, max_size=4),
    max_leaves=12,
)
# Pipeline-shaped input with anything in any place: the validator's branches, not just its front door.
node_like = st.fixed_dictionaries(
    {},
    optional={
        "id": st.text(max_size=3) | json_values,
        "type": st.sampled_from(NODE_TYPES) | json_values,
        "config": st.fixed_dictionaries({}, optional={"method": st.sampled_from(METHODS) | json_values}) | json_values,
        "data": json_values,
    },
)
edge_like = st.fixed_dictionaries({}, optional={"source": st.text(max_size=3) | json_values, "target": json_values})
stages_like = st.dictionaries(
    st.sampled_from([*pipeline.V1_STAGES, "unknown"]),
    st.fixed_dictionaries({}, optional={"method": st.sampled_from(METHODS) | json_values}) | json_values,
    max_size=4,
)
pipeline_like = st.fixed_dictionaries(
    {},
    optional={
        "version": st.sampled_from([1, 2, 2.0, True, "2"]) | json_values,
        "nodes": st.lists(node_like, max_size=5) | json_values,
        "edges": st.lists(edge_like | json_values, max_size=5) | json_values,
        "stages": stages_like | json_values,
    },
)


@dataclass
class Graph:
    """A v2 config and what the validator must say about it."""

    nodes: list[dict[str, Json]]
    edges: list[dict[str, Json]]
    scoring_method: str | None
    expected_problems: set[str] = field(default_factory=set)

    @property
    def config(self) -> dict[str, Json]:
        return {"version": 2, "nodes": self.nodes, "edges": self.edges}


node_ids = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=6)


@st.composite
def acyclic_graphs(draw: st.DrawFn) -> Graph:
    """Unique ids, known types, edges only from earlier to later nodes of a hidden order (so no
    cycle); the nodes are listed in another order. Score nodes may or may not name a method."""
    ids = draw(st.lists(node_ids, max_size=8, unique=True))
    nodes: list[dict[str, Json]] = []
    for node_id in ids:
        node_type = draw(st.sampled_from(NODE_TYPES))
        where = draw(st.sampled_from(["config", "data"]))
        node_settings: dict[str, Json] = {"label": node_id}
        if node_type == "score" and draw(st.booleans()):
            node_settings["method"] = draw(st.sampled_from(METHODS))
        nodes.append({"id": node_id, "type": node_type, where: node_settings})
    last = max(len(ids) - 1, 0)
    pairs = draw(st.lists(st.tuples(st.integers(0, last), st.integers(0, last)), max_size=12 if ids else 0))
    edges = [{"source": ids[min(a, b)], "target": ids[max(a, b)]} for a, b in pairs if a != b]
    listed = draw(st.permutations(nodes))
    methods = [(node.get("config") or node["data"]).get("method") for node in listed if node["type"] == "score"]
    method = next((m for m in methods if m), None)
    return Graph(list(listed), edges, method)


@st.composite
def broken_graphs(draw: st.DrawFn) -> Graph:
    """A valid graph with at least one of: a cycle, an unknown type, a dangling edge, a duplicate id;
    the problems each one must produce are listed with it."""
    graph = draw(acyclic_graphs().filter(lambda g: len(g.nodes) > 0))
    ids = [str(node["id"]) for node in graph.nodes]
    flaws = draw(st.sets(st.sampled_from(["cycle", "unknown_type", "dangling", "duplicate"]), min_size=1))
    if "cycle" in flaws:
        reverse_an_edge = draw(st.booleans())
        if graph.edges and reverse_an_edge:
            back = draw(st.sampled_from(graph.edges))
            graph.edges.append({"source": back["target"], "target": back["source"]})
        else:
            loop = draw(st.sampled_from(ids))
            graph.edges.append({"source": loop, "target": loop})
        graph.expected_problems.add("draftConfig.edges")
    if "unknown_type" in flaws:
        index = draw(st.integers(0, len(ids) - 1))
        graph.nodes[index] = {**graph.nodes[index], "type": draw(json_values.filter(lambda t: t not in NODE_TYPES))}
        graph.expected_problems.add(f"draftConfig.nodes[{index}].type")
    if "dangling" in flaws:
        missing = draw(node_ids.filter(lambda node_id: node_id not in ids))
        ends = draw(st.sampled_from([("source",), ("target",), ("source", "target")]))
        dangling = {end: missing if end in ends else draw(st.sampled_from(ids)) for end in ("source", "target")}
        graph.expected_problems.update(f"draftConfig.edges[{len(graph.edges)}].{end}" for end in ends)
        graph.edges.append(dangling)
    if "duplicate" in flaws:
        graph.expected_problems.add(f"draftConfig.nodes[{len(graph.nodes)}].id")
        graph.nodes.append({"id": draw(st.sampled_from(ids)), "type": "enrich"})
    return graph


def problems(config: Json) -> dict[str, str]:
    with pytest.raises(Unprocessable) as refused:
        pipeline.validate_config(config)
    assert refused.value.code == "CONFIG_INVALID"
    return {problem.field: problem.message for problem in refused.value.errors}


@quick(scaled(200, 3000))
@given(graph=acyclic_graphs())
def test_an_acyclic_graph_of_known_nodes_is_valid(graph: Graph) -> None:
    facts = pipeline.validate_config(graph.config)

    assert facts == pipeline.PipelineFacts(2, len(graph.nodes), graph.scoring_method)


@quick(scaled(200, 3000))
@given(graph=broken_graphs())
def test_every_structural_flaw_is_listed_and_nothing_else(graph: Graph) -> None:
    found = problems(graph.config)

    assert set(found) == graph.expected_problems, found
    if "draftConfig.edges" in found:
        assert "cycle" in found["draftConfig.edges"]


@quick(scaled(300, 5000))
@given(config=json_values | pipeline_like)
def test_any_json_is_either_a_valid_config_or_the_domain_errors_of_one(config: Json) -> None:
    outcome = draft_outcome(config)

    if isinstance(outcome, pipeline.PipelineFacts):
        assert isinstance(config, dict)
        assert outcome.format_version == (2 if pipeline.is_v2(config) else 1)
        assert outcome.scoring_method is None or outcome.scoring_method in pipeline.SCORING_METHODS
    elif isinstance(outcome, PayloadTooLarge):
        assert outcome.code == "CONFIG_TOO_LARGE"
    else:
        assert outcome.code == "CONFIG_INVALID"
        assert outcome.errors
        assert all(problem.field.startswith("draftConfig") for problem in outcome.errors), outcome.errors


def draft_outcome(config: Json) -> pipeline.PipelineFacts | Unprocessable | PayloadTooLarge:
    """What the service does with a draft on create and PUT (validate, serialise canonically, measure):
    its facts, or the domain error that refuses it. Any other exception propagates and fails the test."""
    try:
        service.checked_draft(config)
    except (Unprocessable, PayloadTooLarge) as refused:
        return refused
    return pipeline.facts(config)


finite_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=20,
)
finite_objects = st.dictionaries(st.text(max_size=6), finite_json, max_size=6)


@quick(scaled(300, 5000))
@given(config=finite_objects)
def test_canonical_json_round_trips_and_ignores_key_order(config: dict[str, Json]) -> None:
    canonical = pipeline.canonical_json(config)

    assert json.loads(canonical) == config
    assert pipeline.canonical_json(json.loads(canonical)) == canonical
    assert pipeline.canonical_json(dict(reversed(list(config.items())))) == canonical


@quick(scaled(100, 1000))
@given(config=finite_objects, bad=st.sampled_from([float("nan"), float("inf"), "\ud800", "a\udfffb"]))
def test_canonical_json_refuses_what_no_store_can_keep(config: dict[str, Json], bad: Json) -> None:
    with pytest.raises(Unprocessable) as refused:
        pipeline.canonical_json({**config, "deep": [config, {"bad": bad}]})

    assert refused.value.code == "CONFIG_INVALID"


@quick(scaled(50, 300))
@given(depth=st.integers(2, 200), wrap=st.sampled_from(["list", "object"]))
@example(depth=pipeline.MAX_CONFIG_DEPTH, wrap="list")
@example(depth=pipeline.MAX_CONFIG_DEPTH + 1, wrap="object")
def test_nesting_is_valid_exactly_up_to_the_limit(depth: int, wrap: str) -> None:
    nested: Json = "leaf"
    for _ in range(depth - 1):  # the config itself is level 1
        nested = [nested] if wrap == "list" else {"x": nested}
    config = {"version": 2, "nodes": [], "edges": [], "meta": nested}

    if depth <= pipeline.MAX_CONFIG_DEPTH:
        pipeline.validate_config(config)
    else:
        assert "nests deeper" in problems(config)["draftConfig"]


# --- the service and the access layer, as a state machine ---------------------------------------

CONFIGS: dict[str, Json] = {
    "v2-propensity": v2_config("a"),
    "v2-priority": v2_config("b", method="priority"),
    "v1-scorecard": v1_config(),
    "no-method": pipeline.DEFAULT_DRAFT_CONFIG,
    "invalid": {"version": 2, "nodes": [{"id": "x", "type": "bogus"}]},
}
CANONICAL = {name: pipeline.canonical_json(config) for name, config in CONFIGS.items() if name != "invalid"}
PUBLISHABLE = {CANONICAL[name] for name in ("v2-propensity", "v2-priority", "v1-scorecard")}
KEYS = ("key-a", "key-b", "key-c")
MISSING_FLOW = "df_" + "0" * 24
# How a write names the rowVersion it expects: not at all, in the body, as If-Match, both, wrongly.
# Weighted towards writes that can land.
ROW_VERSION_MODES = ("none", "none", "body", "if_match", "both", "stale_body", "stale_if_match", "disagree")
EXPECTED_LIVE = (None, None, None, "live", "other")


@dataclass
class ModelFlow:
    key: str
    status: FlowStatus
    draft: str
    description: str | None = None
    row_version: int = 1
    versions: list[str] = field(default_factory=list)  # canonical configs; version n at index n-1
    restored_from: list[int | None] = field(default_factory=list)
    live: int | None = None
    deleted: bool = False

    @property
    def live_config(self) -> str | None:
        return self.versions[self.live - 1] if self.live else None


@dataclass
class Outcomes:
    """What the machines did: successful writes and refusals by code, per operation."""

    runs: int = 0  # runs that got past their start (Hypothesis also begins runs it then drops)
    steps: int = 0
    results: Counter[str] = field(default_factory=Counter)

    def reset(self) -> None:
        self.runs = self.steps = 0
        self.results.clear()


OUTCOMES = Outcomes()


class FlowMachine(RuleBasedStateMachine):
    """One run: a sequence of operations on a few flows of one tenant, in an empty flows table."""

    flows = Bundle("flows")

    def __init__(self) -> None:
        super().__init__()
        empty_flows_table()
        self.identity = Identity(tenant_id="tenant-p", role=Role.ADMIN, principal="prop@example.com")
        self.service: FlowService = wiring.flow_service()
        self.repository: FlowRepository = wiring.flow_repository()
        self.model: dict[str, ModelFlow] = {}
        self.written: set[str] = set()  # flows a write landed on in this step
        self.released: set[str] = set()  # flows a version was published or restored on in this step
        self.counted: Counter[FlowStatus] = Counter()  # flows per status when the counters were last read
        self.last_refusal: str | None = None  # the code of the last attempt's refusal, if it was refused

    # Helpers

    @property
    def tenant(self) -> str:
        return self.identity.tenant_id

    def existing(self, flow_id: str) -> ModelFlow | None:
        flow = self.model.get(flow_id)
        return flow if flow is not None and not flow.deleted else None

    def key_holder(self, key: str) -> str | None:
        return next((fid for fid, flow in self.model.items() if not flow.deleted and flow.key == key), None)

    def stored(self, flow_id: str) -> tuple[Flow | None, list[PublishedVersion] | None]:
        versions = self.repository.list_versions(self.tenant, flow_id, 1000, None)
        return self.repository.get_flow(self.tenant, flow_id), versions.items if versions else None

    def row_versions(self, flow_id: str, mode: str, delete: bool = False) -> tuple[int | None, int | None, set[str]]:
        """(body rowVersion, If-Match rowVersion, the refusals they cause) for ``mode``."""
        flow = self.existing(flow_id)
        current = flow.row_version if flow else 1
        stale = current - 1 if current > 1 else current + 1
        body, if_match = {
            "none": (None, None),
            "body": (current, None),
            "if_match": (None, current),
            "both": (current, current),
            "stale_body": (stale, None),
            "stale_if_match": (None, stale),
            "disagree": (current, stale),
        }[mode]
        if delete:
            body, if_match = None, if_match if if_match is not None else body
        refusals: set[str] = set()
        if body is not None and if_match is not None and body != if_match:
            refusals.add("ROW_VERSION_AMBIGUOUS")
        elif flow is not None and (body or if_match or current) != current:
            refusals.add("ROW_VERSION_MISMATCH")
        if flow is None:
            refusals.add("FLOW_NOT_FOUND")
        return body, if_match, refusals

    def attempt(self, operation: str, flow_id: str | None, refusals: set[str], write: Any) -> Flow | None:
        """Run ``write``: refused with one of ``refusals`` (and nothing changed) when there are any,
        else its flow, which is what the store now holds."""
        # What a refusal must leave as it is (read only when the model expects one: an unexpected
        # refusal fails anyway).
        before = self.stored(flow_id) if flow_id and refusals else None
        refused: DomainError | None = None
        try:
            result: Flow | None = write()
        except DomainError as error:
            refused, result = error, None
        self.last_refusal = refused.code if refused is not None else None
        if refused is not None:
            OUTCOMES.results[f"{operation} {refused.code}"] += 1
            assert refusals, f"{operation} was refused ({refused}) though nothing forbids it"
            assert refused.code in refusals, f"{operation}: {refused.code}, expected one of {refusals}"
            if before is not None:
                assert self.stored(flow_id or "") == before, f"refused {operation} changed the flow"
            return None
        OUTCOMES.results[f"{operation} ok"] += 1
        assert not refusals, f"{operation} succeeded though it should be refused with one of {refusals}"
        if result is not None:
            self.written.add(result.id)
            assert self.repository.get_flow(self.tenant, result.id) == result, "the answer is not what is stored"
        elif flow_id:
            self.written.add(flow_id)
        return result

    def dry_run(
        self, flow_id: str, request: PublishRequest | RollbackRequest, if_match: int | None
    ) -> tuple[str | None, Flow | None]:
        """The dry run of the write about to be tried: its refusal's code, or the flow it foresees; it
        must leave the store as it was."""
        before = self.stored(flow_id)
        try:
            foreseen: tuple[str | None, Flow | None] = (
                None,
                (
                    self.service.preview_publish(self.identity, request, if_match)
                    if isinstance(request, PublishRequest)
                    else self.service.preview_rollback(self.identity, request, if_match)
                ).flow,
            )
        except DomainError as refused:
            foreseen = (refused.code, None)
        assert self.stored(flow_id) == before, "a dry run changed the store"
        OUTCOMES.results["dry run " + (foreseen[0] or "ok")] += 1
        return foreseen

    def came_true(self, foreseen: tuple[str | None, Flow | None], result: Flow | None) -> None:
        """The real call did what its dry run said: the same refusal, or the same versions and rowVersion."""
        code, flow = foreseen
        assert code == self.last_refusal, f"the dry run said {code}, the real call {self.last_refusal}"
        if flow is not None and result is not None:
            released = ("live_version", "latest_version", "row_version", "status", "draft_hash", "live_config_hash")
            assert flow.model_dump(include=set(released)) == result.model_dump(include=set(released))
            assert [v.version for v in flow.published_versions] == [v.version for v in result.published_versions]

    def landed(self, model: ModelFlow, result: Flow | None) -> None:
        """A write landed: exactly one more rowVersion."""
        assert result is not None
        model.row_version += 1
        assert result.row_version == model.row_version

    # Rules

    @initialize(target=flows)
    def a_flow_that_never_existed(self) -> str:
        """Among the flows the rules pick from: every operation on it is 404."""
        return MISSING_FLOW

    @initialize(target=flows, first=st.sampled_from(["v2-propensity", "v1-scorecard"]))
    def a_flow_with_a_history(self, first: str) -> str:
        """Every run starts with a flow that has been published twice and rolled back once (v3 restores
        v1), so every run has versions to roll back to, and one it is already at."""
        flow_id = self.created(KEYS[0], first, FlowStatus.DRAFT)
        assert flow_id is not None
        self.publish(flow_id, "none", None)
        self.edit_draft(flow_id, "v2-priority", "none")
        self.publish(flow_id, "none", None)
        self.roll_back(flow_id, 1, "none", None)
        assert self.model[flow_id].restored_from == [None, None, 1]
        OUTCOMES.runs += 1
        return flow_id

    @initialize(target=flows, config=st.sampled_from(["v2-priority", "no-method"]))
    def another_flow(self, config: str) -> str:
        flow_id = self.created(KEYS[1], config, FlowStatus.PAUSED)
        assert flow_id is not None
        return flow_id

    @rule(
        target=flows,
        key=st.sampled_from(KEYS),
        config=st.sampled_from([None, *CONFIGS]),
        status=st.sampled_from(list(FlowStatus)),
    )
    def create(self, key: str, config: str | None, status: FlowStatus) -> Any:
        created = self.created(key, config, status)
        return multiple() if created is None else created

    def created(self, key: str, config: str | None, status: FlowStatus) -> str | None:
        """The new flow's id, or None when the create was (rightly) refused."""
        body: dict[str, Any] = {"key": key, "name": f"flow {key}", "status": status.value}
        if config is not None:
            body["draftConfig"] = CONFIGS[config]
        refusals = {"NOT_PUBLISHED"} if status == FlowStatus.ACTIVE else set()
        refusals |= {"CONFIG_INVALID"} if config == "invalid" else set()
        refusals |= {"KEY_TAKEN"} if self.key_holder(key) else set()
        request = CreateFlowRequest.model_validate(body)
        created = self.attempt("create", None, refusals, lambda: self.service.create(self.identity, request))
        if created is None:
            return None
        assert (created.row_version, created.live_version, created.has_unpublished_changes) == (1, None, True)
        self.model[created.id] = ModelFlow(key, status, CANONICAL[config or "no-method"])
        return created.id

    @rule(flow_id=flows, config=st.sampled_from(list(CONFIGS)), mode=st.sampled_from(ROW_VERSION_MODES))
    def edit_draft(self, flow_id: str, config: str, mode: str) -> None:
        self.edit(flow_id, mode, config=config)

    @rule(flow_id=flows, key=st.sampled_from(KEYS), mode=st.sampled_from(ROW_VERSION_MODES))
    def change_key(self, flow_id: str, key: str, mode: str) -> None:
        self.edit(flow_id, mode, key=key)

    @rule(flow_id=flows, status=st.sampled_from(list(FlowStatus)), mode=st.sampled_from(ROW_VERSION_MODES))
    def change_status(self, flow_id: str, status: FlowStatus, mode: str) -> None:
        self.edit(flow_id, mode, status=status)

    @rule(
        flow_id=flows,
        key=st.sampled_from(KEYS),
        status=st.sampled_from(list(FlowStatus)),
        config=st.sampled_from(list(CONFIGS)),
        description=st.sampled_from([None, "first", "second"]),
        mode=st.sampled_from(ROW_VERSION_MODES),
    )
    def edit_several(
        self, flow_id: str, key: str, status: FlowStatus, config: str, description: str | None, mode: str
    ) -> None:
        """One update that may move the key and the status at once (one transaction) and edit the rest."""
        self.edit(flow_id, mode, key=key, status=status, config=config, description=description)

    def edit(self, flow_id: str, mode: str, **fields: Any) -> None:
        """PUT with ``fields`` (config, key, status, description): refused when any rule forbids it, a no-op
        when nothing differs, else exactly one write."""
        body, if_match, refusals = self.row_versions(flow_id, mode)
        model = self.existing(flow_id)
        after = replace(model) if model else ModelFlow("", FlowStatus.DRAFT, "")
        sent: dict[str, Any] = {"id": flow_id, "rowVersion": body}
        if "config" in fields:
            sent["draftConfig"] = CONFIGS[fields["config"]]
            if fields["config"] == "invalid":
                refusals.add("CONFIG_INVALID")
            else:
                after.draft = CANONICAL[fields["config"]]
        if "key" in fields:
            after.key = sent["key"] = fields["key"]
            if self.key_holder(fields["key"]) not in (None, flow_id):
                refusals.add("KEY_TAKEN")
        if "status" in fields:
            after.status, sent["status"] = fields["status"], fields["status"].value
        if "description" in fields:
            after.description = sent["description"] = fields["description"]
        if model and model.live is None and after.status == FlowStatus.ACTIVE != model.status:
            refusals.add("NOT_PUBLISHED")
        request = UpdateFlowRequest.model_validate(sent)
        result = self.attempt(
            "update", flow_id, refusals, lambda: self.service.update(self.identity, request, if_match)
        )
        if result is None or model is None:
            return
        if after == model:  # an update that changes nothing writes nothing
            assert result.row_version == model.row_version
            return
        self.model[flow_id] = after
        self.landed(after, result)

    @rule(
        flow_id=flows,
        mode=st.sampled_from(ROW_VERSION_MODES),
        expect_live=st.sampled_from(EXPECTED_LIVE),
    )
    def publish(self, flow_id: str, mode: str, expect_live: str | None) -> None:
        body, if_match, refusals = self.row_versions(flow_id, mode)
        model = self.existing(flow_id)
        expected_current = self.expected_current(model, expect_live, refusals)
        if model and model.draft not in PUBLISHABLE:
            refusals.add("SCORING_METHOD_MISSING")
        fields = {"id": flow_id, "rowVersion": body, "expectedCurrentVersion": expected_current}
        request = PublishRequest.model_validate(fields)
        foreseen = self.dry_run(flow_id, PublishRequest.model_validate({**fields, "dryRun": True}), if_match)
        result = self.attempt(
            "publish", flow_id, refusals, lambda: self.service.publish(self.identity, request, if_match)
        )
        self.came_true(foreseen, result)
        if result is not None and model is not None:
            self.release(model, result, model.draft, None)

    @rule(
        flow_id=flows,
        data=st.data(),
        mode=st.sampled_from(ROW_VERSION_MODES),
        expect_live=st.sampled_from(EXPECTED_LIVE),
    )
    def rollback(self, flow_id: str, data: st.DataObject, mode: str, expect_live: str | None) -> None:
        model = self.existing(flow_id)
        versions = model.versions if model else []
        restorable = [n for n, config in enumerate(versions, start=1) if model and config != model.live_config]
        # Mostly a version that can be restored, else any published one, sometimes none (0, -1, past the latest).
        choices = [st.integers(-1, len(versions) + 1)]
        choices += [st.integers(1, len(versions))] if versions else []
        choices += [st.sampled_from(restorable)] * 2 if restorable else []
        self.roll_back(flow_id, data.draw(st.one_of(choices), label="version"), mode, expect_live)

    def roll_back(self, flow_id: str, version: int, mode: str, expect_live: str | None) -> None:
        body, if_match, refusals = self.row_versions(flow_id, mode)
        model = self.existing(flow_id)
        expected_current = self.expected_current(model, expect_live, refusals)
        target = model.versions[version - 1] if model and 1 <= version <= len(model.versions) else None
        if model and target is None:
            refusals.add("VERSION_NOT_FOUND")
        if model and target is not None and model.live_config == target:
            refusals.add("ALREADY_ACTIVE")
        fields = {"id": flow_id, "version": version, "rowVersion": body, "expectedCurrentVersion": expected_current}
        request = RollbackRequest.model_validate(fields)
        foreseen = self.dry_run(flow_id, RollbackRequest.model_validate({**fields, "dryRun": True}), if_match)
        result = self.attempt(
            "rollback", flow_id, refusals, lambda: self.service.rollback(self.identity, request, if_match)
        )
        self.came_true(foreseen, result)
        if result is None or model is None or target is None:
            return
        # the draft is the restored snapshot, and the new version a copy of it
        restored = self.repository.get_version(self.tenant, flow_id, version)
        assert restored is not None
        assert result.draft_config == restored.config == target
        self.release(model, result, target, version)

    def expected_current(self, model: ModelFlow | None, expect_live: str | None, refusals: set[str]) -> int | None:
        if expect_live is None:
            return None
        live = model.live if model else None
        value = (live or 1) if expect_live == "live" else (live or 0) + 1
        if model and value != live:
            refusals.add("CURRENT_VERSION_MISMATCH")
        return value

    def release(self, model: ModelFlow, result: Flow, config: str, restored_from: int | None) -> None:
        self.released.add(result.id)
        model.versions.append(config)
        model.restored_from.append(restored_from)
        model.live, model.status, model.draft = len(model.versions), FlowStatus.ACTIVE, config
        self.landed(model, result)
        prefix = f"Rollback to v{restored_from}"
        assert result.published_versions[-1].notes == (prefix if restored_from else None)

    @rule(flow_id=flows, mode=st.sampled_from(["none", "if_match", "stale_if_match"]))
    def delete(self, flow_id: str, mode: str) -> None:
        _, if_match, refusals = self.row_versions(flow_id, mode, delete=True)
        model = self.existing(flow_id)
        self.attempt("delete", flow_id, refusals, lambda: self.service.delete(self.identity, flow_id, if_match))
        if model is not None and not refusals:
            model.deleted = True

    # Invariants

    @invariant()
    def store_matches_the_model(self) -> None:
        """After every write that landed: every flow's record; the written flow's versions (and, after a
        release, its snapshots); key reservations; status counters when flows per status moved. (That a
        refusal changes nothing, ``attempt`` checks on the spot.)"""
        OUTCOMES.steps += 1
        if not self.written:
            return
        for flow_id, model in self.model.items():
            flow = self.repository.get_flow(self.tenant, flow_id)
            if model.deleted:
                assert flow is None, "a deleted flow can still be read"
            else:
                assert flow is not None
                numbers = list(range(1, len(model.versions) + 1))
                assert (flow.key, flow.status, flow.description) == (model.key, model.status, model.description)
                assert flow.draft_config == model.draft
                assert flow.row_version == model.row_version
                assert (flow.live_version, flow.latest_version) == (model.live, numbers[-1] if numbers else None)
                assert flow.has_unpublished_changes == (model.draft != model.live_config)
                assert [summary.version for summary in flow.published_versions] == numbers[-PUBLISHED_VERSIONS_ON_FLOW:]
            if flow_id in self.written:
                self.versions_match(flow_id, model, snapshots=flow_id in self.released)
        for key in KEYS:
            assert self.repository.key_owner(self.tenant, key) == self.key_holder(key), f"reservation of {key}"
        statuses = Counter(model.status for model in self.model.values() if not model.deleted)
        if statuses != self.counted:
            for status in FlowStatus:
                total = self.repository.list_flows(self.tenant, status, 100, None).total
                assert total == statuses[status], f"{status} counter {total}, expected {statuses[status]}"
            self.counted = statuses
        self.written.clear()
        self.released.clear()

    def versions_match(self, flow_id: str, model: ModelFlow, snapshots: bool) -> None:
        """Versions 1..latest with no gap, the live one among them; with ``snapshots``, every snapshot as
        it was published."""
        page = self.repository.list_versions(self.tenant, flow_id, 1000, None)
        if model.deleted:
            assert page is None, "a deleted flow's versions can still be listed"
            assert not model.versions or self.repository.get_version(self.tenant, flow_id, 1) is None
            return
        assert page is not None
        numbers = [version.version for version in page.items]
        assert numbers == list(range(1, len(model.versions) + 1)), f"versions not contiguous: {numbers}"
        assert model.live is None or model.live in numbers
        assert [version.restored_from for version in page.items] == model.restored_from
        for number, config in enumerate(model.versions if snapshots else [], start=1):
            snapshot = self.repository.get_version(self.tenant, flow_id, number)
            assert snapshot is not None
            assert snapshot.config == config, f"v{number} changed"


def empty_flows_table() -> None:
    """Each run gets an empty flows table: moto copies whole tables for every transaction, so data left
    by earlier runs would make every write slower."""
    client, table = dynamodb_client(), os.environ["TABLE_NAME"]
    client.delete_table(TableName=table)
    template.create_tables(client, existing=frozenset(template.resources("AWS::DynamoDB::Table")) - {table})


@pytest.mark.usefixtures("dynamodb")  # moto with the template's tables; the service's objects are built on it
def test_any_sequence_of_operations_keeps_the_invariants(figures: Figures) -> None:
    OUTCOMES.reset()
    machine_settings = settings(
        max_examples=scaled(30, 300),
        stateful_step_count=scaled(20, 50),
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )

    run_state_machine_as_test(FlowMachine, settings=machine_settings)

    refusals = Counter({outcome: n for outcome, n in OUTCOMES.results.items() if not outcome.endswith(" ok")})
    figures(
        runs=OUTCOMES.runs,
        steps=OUTCOMES.steps,
        landed={outcome[:-3]: n for outcome, n in sorted(OUTCOMES.results.items()) if outcome.endswith(" ok")},
        refusals=dict(sorted(refusals.items())),
    )
    assert OUTCOMES.runs >= 1
    assert OUTCOMES.results["rollback ok"] >= OUTCOMES.runs, OUTCOMES.results  # at least the first flow's


@quick(scaled(300, 5000))
@given(config=pipeline_like | json_values)
def test_validate_reports_exactly_what_put_refuses_with_422(config: Json) -> None:
    # Given any input, when POST /validate checks it and PUT's own check runs on it
    report = validate(config)
    outcome = draft_outcome(config)
    # (413 on both routes is never one of validate's errors)
    refused = [problem.field for problem in outcome.errors] if isinstance(outcome, Unprocessable) else []

    # Then validate's errors are PUT's 422 problems, one for one and in order
    assert [problem.field_problem("draftConfig").field for problem in report.errors] == refused
    assert report.valid == (not refused)
