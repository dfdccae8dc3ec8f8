"""Plans, their goals, and the transitions people ask for on them."""

from __future__ import annotations

from flask_smorest import Blueprint

from service.api import schemas as s
from service.api.common import ETAG_HEADER_DOC, ID, IF_MATCH_DOC, actor, expected_version, page, with_etag
from service.approvals import service as approvals
from service.audit import service as audit
from service.auth.limits import login_limits
from service.auth.login import is_fresh
from service.goals import service as goals
from service.kernel.errors import GoalflowError
from service.org import service as org

bp = Blueprint("goals", __name__, url_prefix="/api/v1", description="Plans, goals and their transitions")


def offers(subject_type: str, subject) -> list[dict]:
    return [
        {
            "name": t.name, "label": dict(t.label), "to": t.dest, "reason_required": t.reason_required,
            "requires": list(t.requires), "fresh_login": t.fresh_login,
        }
        for t in approvals.allowed_transitions(actor(), subject_type, subject)
    ]


# -- plans ----------------------------------------------------------------------------------


@bp.get("/plans")
@bp.arguments(s.PlanArgs, location="query")
@bp.response(200, s.page_of(s.PlanSchema))
def list_plans(args: dict):
    """The plans of my administration, newest year first; filter by `year` and `state`."""
    from service.goals.models import Plan

    query = goals.list_plans(actor())
    if args.get("year"):
        query = query.where(Plan.year == args["year"])
    if args.get("state"):
        query = query.where(Plan.state == args["state"])
    return page(query, args)


@bp.post("/plans")
@bp.arguments(s.PlanCreateSchema)
@bp.response(201, s.PlanSchema)
def create_plan(body: dict):
    """Start the plan of a year, as a draft (the chief secretary)."""
    me = actor()
    if me.administration is None:
        raise GoalflowError("forbidden")
    return goals.create_plan(administration=me.administration, year=body["year"], actor=me, currency=body.get("currency"))


@bp.get(f"/plans/<{ID}:plan_id>")
@bp.response(200, s.PlanSchema, headers=ETAG_HEADER_DOC)
def get_plan(plan_id: int):
    plan = goals.get_plan(actor(), plan_id)
    return with_etag(plan, plan.version)


@bp.get(f"/plans/<{ID}:plan_id>/goals")
@bp.arguments(s.GoalArgs, location="query")
@bp.response(200, s.page_of(s.GoalSchema))
def list_plan_goals(args: dict, plan_id: int):
    """The goals of one plan that I may see."""
    me = actor()
    goals.get_plan(me, plan_id)
    return page(goals.list_goals(me, plan_id=plan_id, state=args.get("state"), unit_id=args.get("unit"),
                                 year=args.get("year")), args)


@bp.post(f"/plans/<{ID}:plan_id>/goals")
@bp.arguments(s.GoalCreateSchema)
@bp.response(201, s.GoalSchema, headers=ETAG_HEADER_DOC)
def create_goal(body: dict, plan_id: int):
    """Add a goal to a draft plan (the chief secretary, or a head or expert of all its units)."""
    number = body.pop("number")
    goal = goals.create_goal(actor=actor(), plan_id=plan_id, number=number, changes=body)
    return with_etag(goal, goal.version, 201)


@bp.get(f"/plans/<{ID}:plan_id>/transitions")
@bp.response(200, s.TransitionOfferSchema(many=True))
def plan_offers(plan_id: int):
    """The plan transitions I may ask for now."""
    plan = approvals.visible_subject(actor(), "plan", plan_id)
    return offers("plan", plan)


@bp.post(f"/plans/<{ID}:plan_id>/transitions")
@login_limits
@bp.arguments(s.PlanTransitionSchema)
@bp.response(201, s.RequestSchema)
@bp.doc(parameters=[IF_MATCH_DOC])
def ask_plan_transition(body: dict, plan_id: int):
    """Move the plan: submit, return, approve, open_reporting, submit_report, approve_report, archive.

    The governor's sign-offs (approve, approve_report) need a fresh sign-in: a browser session
    signed in within the last minutes, or the governor's `password` in the body.
    """
    from service.api.approvals import request_body

    me = actor()
    fresh = is_fresh()
    if body.get("password"):
        fresh = org.authenticate(me.email, body["password"]) is not None
        if not fresh:
            raise GoalflowError("invalid_credentials")
    req = approvals.request_transition(
        actor=me, subject_type="plan", subject_id=plan_id, transition=body["transition"],
        reason=body.get("reason", ""), expected_version=expected_version(required=False), fresh_login=fresh,
    )
    return request_body(req)


# -- goals ----------------------------------------------------------------------------------


@bp.get("/goals")
@bp.arguments(s.GoalArgs, location="query")
@bp.response(200, s.page_of(s.GoalSchema))
def list_goals(args: dict):
    """The goals I may see; filter by `state`, responsible `unit`, `year` or `plan`."""
    return page(goals.list_goals(actor(), plan_id=args.get("plan"), state=args.get("state"), unit_id=args.get("unit"),
                                 year=args.get("year")), args)


@bp.get(f"/goals/<{ID}:goal_id>")
@bp.response(200, s.GoalSchema, headers=ETAG_HEADER_DOC)
def get_goal(goal_id: int):
    """A goal with its indicators, activities, responsible units, state and version (also the ETag)."""
    goal = goals.get_goal(actor(), goal_id)
    return with_etag(goal, goal.version)


@bp.patch(f"/goals/<{ID}:goal_id>")
@bp.arguments(s.GoalChangesSchema)
@bp.response(200, s.GoalSchema, headers=ETAG_HEADER_DOC)
@bp.doc(parameters=[{**IF_MATCH_DOC, "required": True}])
def update_goal(body: dict, goal_id: int):
    """Change a goal while its plan is a draft; `unit_ids`, `indicators` and `activities` replace the lists.

    Needs `If-Match` with the ETag you read: a change made meanwhile answers 412.
    """
    goal = goals.update_goal(actor=actor(), goal_id=goal_id, changes=body, expected_version=expected_version(required=True))
    return with_etag(goal, goal.version)


@bp.get(f"/goals/<{ID}:goal_id>/transitions")
@bp.response(200, s.TransitionOfferSchema(many=True))
def goal_offers(goal_id: int):
    """The transitions I may ask for on this goal now."""
    return offers("goal", goals.get_goal(actor(), goal_id))


@bp.post(f"/goals/<{ID}:goal_id>/transitions")
@bp.arguments(s.GoalTransitionSchema)
@bp.response(201, s.RequestSchema)
@bp.doc(parameters=[IF_MATCH_DOC])
def ask_goal_transition(body: dict, goal_id: int):
    """Ask for a transition (start, complete, fail, drop, reopen); it then walks its approval chain."""
    from service.api.approvals import request_body

    data = {"achieved": body["achieved"]} if "achieved" in body else {}
    req = approvals.request_transition(
        actor=actor(), subject_type="goal", subject_id=goal_id, transition=body["transition"],
        reason=body.get("reason", ""), data=data, expected_version=expected_version(required=False),
        fresh_login=is_fresh(),
    )
    return request_body(req)


@bp.get(f"/goals/<{ID}:goal_id>/events")
@bp.arguments(s.PageArgs, location="query")
@bp.response(200, s.page_of(s.EventSchema))
def goal_events(args: dict, goal_id: int):
    """The goal's audit history, oldest first: who, when, on whose behalf, what, before and after."""
    goal = goals.get_goal(actor(), goal_id)
    return page(audit.history("goal", goal.id), args)
