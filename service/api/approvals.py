"""Transition requests: what waits for me, and my decisions."""

from __future__ import annotations

from flask_smorest import Blueprint

from service.api import schemas as s
from service.api.common import (
    ETAG_HEADER_DOC,
    ID,
    IF_MATCH_DOC,
    actor,
    expected_version,
    page_list,
    with_etag,
)
from service.approvals import service as approvals
from service.approvals.claims import as_json as claims_json
from service.approvals.claims import claim_of, preload
from service.approvals.models import OPEN, TransitionRequest
from service.auth.limits import login_limits, password_given
from service.auth.login import is_fresh
from service.kernel.errors import GoalflowError
from service.org import service as org

bp = Blueprint("approvals", __name__, url_prefix="/api/v1", description="Transition requests and decisions")


# The request's own fields the schema shows (a schema made per answer cost more than the answer).
_REQUEST_FIELDS = [name for name in s.RequestSchema().fields if name not in ("awaiting_me", "claim")]


def request_body(req: TransitionRequest, claims: list | None = None) -> dict:
    """The request as the schema shows it, with the approvals I may give now."""
    if claims is None:
        claims = approvals.claims(actor(), req) if req.status == OPEN else []
    body = {name: getattr(req, name) for name in _REQUEST_FIELDS}
    body["claim"] = claims_json(claim_of(req))
    body["awaiting_me"] = [
        {"slot_id": c.slot.id, "role": c.slot.role, "unit_id": c.slot.unit_id, "on_behalf_of": c.on_behalf_of}
        for c in claims
    ]
    return body


@bp.get("/approvals")
@bp.arguments(s.ApprovalArgs, location="query")
@bp.response(200, s.page_of(s.RequestSchema))
def list_requests(args: dict):
    """Transition requests on what I may see; `?status=pending&mine=true` is my inbox.

    `mine=true` keeps those waiting for my decision, including those I hold as someone's substitute.
    """
    me = actor()
    status = OPEN if args.get("status") == "pending" else args.get("status")
    if args["mine"]:
        waiting = approvals.pending_for(me) if status in (None, OPEN) else []
        preload(req for req, _ in waiting)
        items = [request_body(req, claims) for req, claims in waiting]
    else:
        requests = approvals.visible_requests(me, status=status)
        preload(requests)
        items = [request_body(req) for req in requests]
    return page_list(items, args)


@bp.get(f"/approvals/<{ID}:request_id>")
@bp.response(200, s.RequestSchema, headers=ETAG_HEADER_DOC)
def get_request(request_id: int):
    req = approvals.get_request(actor(), request_id)
    return with_etag(request_body(req), req.version)


def _decide(verdict: str, body: dict, request_id: int):
    """If-Match names the request's version I was shown: one that changed since answers 409 with
    the request as it is now, as does a decision that lost a race or whose stage moved on."""
    me = actor()
    fresh = is_fresh()
    if body.get("password"):
        fresh = org.authenticate(me.email, body["password"]) is not None
        if not fresh:
            raise GoalflowError("invalid_credentials")
    req = approvals.decide(
        actor=me, request_id=request_id, verdict=verdict, comment=body.get("comment", ""),
        expected_version=expected_version(required=False), fresh_login=fresh,
    )
    return with_etag(request_body(req), req.version)


@bp.post(f"/approvals/<{ID}:request_id>/approve")
@login_limits(when=password_given)
@bp.arguments(s.ApproveSchema, required=False)
@bp.response(200, s.RequestSchema, headers=ETAG_HEADER_DOC)
@bp.doc(parameters=[IF_MATCH_DOC])
def approve(body: dict, request_id: int):
    """Approve: my approval (or my principal's, as their substitute) counts for the current stage.

    With `If-Match`, a request changed since I read it answers 409 with its current state instead.
    An approval that signs a sign-off (the plan's adoption, the year's report) needs a fresh
    sign-in, or my `password` in the body.
    """
    return _decide("approve", body or {}, request_id)


@bp.post(f"/approvals/<{ID}:request_id>/reject")
@bp.arguments(s.RejectSchema)
@bp.response(200, s.RequestSchema, headers=ETAG_HEADER_DOC)
@bp.doc(parameters=[IF_MATCH_DOC])
def reject(body: dict, request_id: int):
    """Reject, saying why: the request ends and the object stays where it was."""
    return _decide("reject", body, request_id)


@bp.post(f"/approvals/<{ID}:request_id>/withdraw")
@bp.arguments(s.WithdrawSchema, required=False)
@bp.response(200, s.RequestSchema)
def withdraw(body: dict, request_id: int):
    """Withdraw my own open request."""
    req = approvals.withdraw(actor=actor(), request_id=request_id, reason=(body or {}).get("reason", ""))
    return request_body(req)
