"""/api/v1/decision-flows/changes: change requests, their reviews and their application ("four eyes")."""

from __future__ import annotations

from typing import TYPE_CHECKING

from decision_flows.startup import modules_loaded

from aws_lambda_powertools.event_handler import Response
from pydantic import BaseModel

from decision_flows.models.identity import Role
from decision_flows.models.review_commands import (
    ApproveRequest,
    ChangeIdRequest,
    NewChangeRequest,
    RejectRequest,
    ScheduleRequest,
)
from decision_flows.web.api import entrypoint, new_resolver
from decision_flows.web.change_queries import ChangeIdQuery, ChangeListQuery
from decision_flows.web.responses import etag, json_response
from decision_flows.web.routes import Header, Route
from decision_flows.web.views.body import PaginationView
from decision_flows.web.views.changes import AppliedView, ChangeListView, ChangeView
from decision_flows.web.views.flows import FlowView
from decision_flows.wiring import change_service, schedule_service

if TYPE_CHECKING:
    from collections.abc import Callable

    from decision_flows.models.change import ChangeRequest
    from decision_flows.models.identity import Identity  # the service builds it, on the first request

CHANGES = "/api/v1/decision-flows/changes"
CHANGE = {200: (ChangeView,)}
# 404: the request or its flow; 409: its state, content or base; 422: refused as the direct call would be.
REVIEW_ERRORS = (403, 404, 409)
KEYED: tuple[Header, ...] = ("Idempotency-Key",)


def review_step(verb: str, summary: str, body: type[BaseModel]) -> Route:
    return Route.post(
        f"{CHANGES}/{verb}", summary, role=Role.EDITOR, body=body, ok=CHANGE, errors=REVIEW_ERRORS, headers=KEYED
    )


CREATE = Route.post(
    CHANGES,
    "Request a gated change (refused as its dry run would be)",
    role=Role.EDITOR,
    body=NewChangeRequest,
    ok={201: (ChangeView,)},
    errors=(403, 404, 409, 422),
    headers=KEYED,
)
READ = Route.get(
    CHANGES,
    "One change request with ?id=, a flow's with ?flowId= (and state), or the tenant's with"
    " ?state=unreviewed (emergencies awaiting review), newest first",
    role=Role.EDITOR,
    ok={200: (ChangeView, ChangeListView)},
    errors=(404,),
    query=(ChangeIdQuery, ChangeListQuery),
)
APPROVE = review_step("approve", "Approve a pending change request, as reviewed (its contentHash)", ApproveRequest)
REJECT = review_step("reject", "Reject a change request (a veto)", RejectRequest)
CANCEL = review_step("cancel", "Cancel a change request (its author or an admin)", ChangeIdRequest)
APPLY = Route.post(
    f"{CHANGES}/apply",
    "Apply an approved change request, at its base, at most once",
    role=Role.EDITOR,
    body=ChangeIdRequest,
    ok={200: (AppliedView,)},
    errors=(403, 404, 409, 422),
    headers=KEYED,
)
SCHEDULE = Route.post(
    f"{CHANGES}/schedule",
    "Schedule an approved change request to apply at runAt (1 minute to 90 days ahead), or move it",
    role=Role.EDITOR,
    body=ScheduleRequest,
    ok=CHANGE,
    errors=(403, 404, 409, 422),
    headers=KEYED,
)
UNSCHEDULE = review_step("unschedule", "Remove a change request's pending schedule", ChangeIdRequest)
app = new_resolver()


def change_response(change: ChangeRequest, status: int = 200) -> Response[str]:
    view = ChangeView.of(change, change_service().now())
    return json_response(status, view, {"ETag": f'"{change.row_version}"'})


@CREATE.handles(app)
def create() -> Response[str]:
    identity = CREATE.admit(app.current_event)
    request = CREATE.read_body(app.current_event, NewChangeRequest)

    return CREATE.once(app, identity, request, lambda: with_location(change_service().create(identity, request)))


def with_location(change: ChangeRequest) -> Response[str]:
    response = change_response(change, 201)
    response.headers["Location"] = f"{CHANGES}?id={change.change_id}"
    return response


@READ.handles(app)
def read() -> Response[str]:
    identity = READ.admit(app.current_event)
    if "id" in (app.current_event.query_string_parameters or {}):
        return change_response(change_service().get(identity, READ.read_query(app.current_event, ChangeIdQuery).id))
    query = READ.read_query(app.current_event, ChangeListQuery)
    if query.flow_id is None:  # the query allows it with state=unreviewed only
        page = change_service().list_unreviewed(identity, query.limit, query.cursor)
    else:
        page = change_service().list(identity, query.flow_id, query.state, query.limit, query.cursor)
    now = change_service().now()
    return json_response(
        200,
        ChangeListView(
            data=[ChangeView.of(change, now) for change in page.items], pagination=PaginationView.of(page, query.limit)
        ),
    )


@APPROVE.handles(app)
def approve() -> Response[str]:
    identity = APPROVE.admit(app.current_event)
    request = APPROVE.read_body(app.current_event, ApproveRequest)
    return APPROVE.once(app, identity, request, lambda: change_response(change_service().approve(identity, request)))


@REJECT.handles(app)
def reject() -> Response[str]:
    identity = REJECT.admit(app.current_event)
    request = REJECT.read_body(app.current_event, RejectRequest)
    return REJECT.once(app, identity, request, lambda: change_response(schedule_service().reject(identity, request)))


def on_change_id(route: Route, act: Callable[[Identity, str], ChangeRequest]) -> Response[str]:
    """A step whose body names the request only (cancel, unschedule)."""
    identity = route.admit(app.current_event)
    request = route.read_body(app.current_event, ChangeIdRequest)
    return route.once(app, identity, request, lambda: change_response(act(identity, request.change_id)))


@CANCEL.handles(app)
def cancel() -> Response[str]:
    return on_change_id(CANCEL, schedule_service().cancel)


@APPLY.handles(app)
def apply() -> Response[str]:
    identity = APPLY.admit(app.current_event)
    request = APPLY.read_body(app.current_event, ChangeIdRequest)

    def applied() -> Response[str]:
        change, flow = change_service().apply(identity, request.change_id)
        # Without draftConfig (as a rollout step answers): the flow's draft is not what an apply is about.
        view = AppliedView(
            change=ChangeView.of(change, change_service().now()), flow=FlowView.of(flow, with_config=False)
        )
        return json_response(200, view, {"ETag": etag(flow)})

    return APPLY.once(app, identity, request, applied)


@SCHEDULE.handles(app)
def schedule() -> Response[str]:
    identity = SCHEDULE.admit(app.current_event)
    request = SCHEDULE.read_body(app.current_event, ScheduleRequest)
    return SCHEDULE.once(
        app, identity, request, lambda: change_response(schedule_service().schedule(identity, request))
    )


@UNSCHEDULE.handles(app)
def unschedule() -> Response[str]:
    return on_change_id(UNSCHEDULE, schedule_service().unschedule)


lambda_handler = entrypoint(app)

# Init ends here: the collector runs again (decision_flows/startup.py).
modules_loaded()
