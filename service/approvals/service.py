"""Transition requests: what waits for whom, and the decisions people take on them.

Asking for a transition and applying it take the one path (service/kernel/transition.py); the stages a
request walks are service/approvals/chain.py. This module answers the questions the pages ask
(what waits for me, which requests I see) and records decisions: the request row is locked (and
versioned) so that racing decisions apply exactly one transition, and a decision made on what
the decider was shown only.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache

from sqlalchemy import and_, bindparam, select
from sqlalchemy.orm import joinedload

from service.approvals import chain
from service.approvals.models import OPEN, Decision, RequestStage, TransitionRequest
from service.audit import service as audit
from service.audit.models import ChainHead
from service.db import utcnow
from service.extensions import db
from service.kernel import authz, subjects
from service.kernel import transition as one_path
from service.kernel.common import local_today
from service.kernel.errors import GoalflowError, not_found
from service.kernel.text import refuse_control
from service.kernel.transition import SlotClaim, claims, visible
from service.kernel.uow import transaction
from service.kernel.workflow_registry import workflow_for
from service.notifications import service as outbox
from service.org.models import User
from workflows import TransitionDef

__all__ = ["SlotClaim", "claims"]

open_request = chain.open_request
visible_subject = visible


# -- questions ------------------------------------------------------------------------------


def allowed_transitions(actor: User, subject_type: str, subject, *, now=None) -> list[TransitionDef]:
    """What this person may ask for on this object now."""
    return one_path.offers(actor, subject_type, subject, now=now)


def pending_for(actor: User, *, now: datetime | None = None) -> list[tuple[TransitionRequest, list[SlotClaim]]]:
    """Open requests waiting for this person's decision, including those held as a substitute."""
    if actor.administration_id is None:
        return []
    requests = db.session.scalars(
        select(TransitionRequest)
        .where(TransitionRequest.status == OPEN, TransitionRequest.administration_id == actor.administration_id)
        .order_by(TransitionRequest.created_at)
    ).all()
    result = []
    for request in requests:
        mine = claims(actor, request, now=now)
        if mine:
            result.append((request, mine))
    return result


# -- actions --------------------------------------------------------------------------------


def request_transition(
    *,
    actor: User,
    subject_type: str,
    subject_id: int,
    transition: str,
    reason: str = "",
    data: dict | None = None,
    expected_version: int | None = None,
    fresh_login: bool = True,
    now: datetime | None = None,
) -> TransitionRequest:
    """Ask for a transition: the one path checks it and opens its request (applied at once when
    nobody else has to approve)."""
    request = one_path.apply(
        actor=actor, subject_type=subject_type, subject_id=subject_id, transition=transition, data=data,
        reason=reason, expected_version=expected_version, fresh_login=fresh_login, now=now,
    ).request
    _checkpoint_a_sign_off(request)
    return request


def decide(
    *,
    actor: User,
    request_id: int,
    verdict: str,
    comment: str = "",
    expected_version: int | None = None,
    fresh_login: bool = True,
    now: datetime | None = None,
) -> TransitionRequest:
    """Record `actor`'s decision on the request's active stage; the approval that completes the
    chain applies the transition through the one path, in the same transaction.

    `expected_version` is the request's version the decider was shown: a request that changed
    since (another decision, its stage moved on, it closed) is refused with 409 and its current
    state, as is a decision that lost a race for the same slot."""
    refuse_control({"comment": comment})
    now = now or utcnow()
    comment = (comment or "").strip()
    if verdict not in ("approve", "reject"):
        raise GoalflowError("invalid_input", fields={"verdict": "must be approve or reject"})
    answer: list = []
    with transaction(keep=answer):
        request, subject = _locked_visible_request(actor, request_id, now)
        if request.status != OPEN:
            raise _with_state(_closed(request), request)
        if expected_version is not None and expected_version != request.version:
            raise _with_state(_changed(request), request)
        if request.subject_version is not None and subject.version != request.subject_version:
            raise _with_state(GoalflowError("claim_changed"), request)
        mine = claims(actor, request, now=now)
        if not mine:
            raise _with_state(one_path.why_not_decider(actor, request, now=now), request)
        if verdict == "reject" and not comment:
            raise GoalflowError("reason_required", fields={"comment": "a rejection needs a reason"})
        # What the outcome needs is read before anything is written, so that the writes go to the
        # database together at the commit (a read in between would flush them piecemeal).
        audit.lock_chain(request.administration_id)
        chain.people_of(request.administration_id)
        stage = request.active_stage
        request.decided_at = now  # every decision is a new version of the request
        for claim in mine:
            claim.slot.status = "approved" if verdict == "approve" else "rejected"
            request.decisions.append(
                Decision(
                    stage_id=stage.id,
                    slot=claim.slot,
                    verdict=verdict,
                    decided_by_id=actor.id,
                    on_behalf_of_id=claim.on_behalf_of.id if claim.on_behalf_of else None,
                    comment=comment,
                    created_at=now,
                )
            )
            audit.record(
                chain_id=request.administration_id,
                action="approved" if verdict == "approve" else "rejected",
                subject_type=request.subject_type,
                subject_id=request.subject_id,
                actor_id=actor.id,
                on_behalf_of_id=claim.on_behalf_of.id if claim.on_behalf_of else None,
                after={"request": request.id, "stage": stage.name, "slot": _slot_label(claim.slot)},
                reason=comment,
                request_id=request.id,
                at=now,
            )
        if verdict == "reject":
            stage.status, stage.completed_at = "rejected", now
            chain.close(request, "rejected", actor, comment, now)
            outbox.enqueue_many([chain.requester_message(request, subject, "rejected", actor, comment)])
            one_path.reject(request, actor=actor, reason=comment, now=now)
        else:
            one_path.apply(
                actor=actor, subject_type=request.subject_type, subject_id=request.subject_id,
                transition=request.transition, fresh_login=fresh_login, now=now, request=request,
            )
        answer.extend(_rows_of_the_answer(request))
        answer.append(subject)  # the claim in the answer names it
    _checkpoint_a_sign_off(request)
    return request


def _checkpoint_a_sign_off(request: TransitionRequest | None) -> None:
    """After the commit of an applied signature (a transition its definition makes ask for a fresh
    sign-in: the plan's adoption, the report's sign-off), the audit chain's head is sealed in a
    checkpoint, so that nothing before the signature can be rewritten unnoticed."""
    if request is None or request.status != "approved":
        return
    if workflow_for(request.subject_type).transition(request.transition).fresh_login:
        from service.audit.checkpoints import after_sign_off  # sealing loads the PKCS#11 and PDF stack

        after_sign_off(request.administration_id)


def _changed(request: TransitionRequest) -> GoalflowError:
    """request_changed, saying where the request is now and who has decided."""
    stage = request.active_stage
    t = workflow_for(request.subject_type).transition(request.transition)
    label = next((s.label for s in t.stages if stage is not None and s.name == stage.name), {})
    deciders = ", ".join(d.decided_by.name for d in request.decisions if d.decided_by is not None) or "—"
    return GoalflowError(
        "request_changed", stage_bg=label.get("bg", "—"), stage_en=label.get("en", "—"), deciders=deciders,
    )


_CLOSED_AS = {
    "approved": ("одобрено", "approved"),
    "rejected": ("отхвърлено", "rejected"),
    "withdrawn": ("оттеглено", "withdrawn"),
}


def _closed(request: TransitionRequest) -> GoalflowError:
    """request_closed, saying how and by whom it closed, and which request is open on the object now
    (the requester withdrew the claim and made another: the decision belongs to that one)."""
    bg, en = _CLOSED_AS.get(request.status, (request.status, request.status))
    if request.closed_by is not None:
        bg, en = f"{bg} от {request.closed_by.name}", f"{en} by {request.closed_by.name}"
    newer = chain.open_request(request.subject_type, request.subject_id)
    then_bg = then_en = ""
    if newer is not None and newer.id != request.id:
        then_bg = f" Сега е отворено ново искане (№ {newer.id}): прочетете него, преди да решите."
        then_en = f" A new request (#{newer.id}) is open now: read that one before you decide."
    return GoalflowError("request_closed", status=request.status, status_bg=bg, status_en=en,
                         then_bg=then_bg, then_en=then_en)


def _with_state(exc: GoalflowError, request: TransitionRequest) -> GoalflowError:
    """A refused decision carries the request as it is now, so that the decider sees what changed."""
    if exc.status == 409:
        exc.current = current_state(request)
    return exc


def current_state(request: TransitionRequest) -> dict:
    stage = request.active_stage
    return {
        "request_id": request.id,
        "status": request.status,
        "version": request.version,
        "stage": stage.name if stage is not None else None,
        "decisions": [
            {
                "stage": next((s.name for s in request.stages if s.id == d.stage_id), None),
                "verdict": d.verdict,
                "decided_by": d.decided_by.name if d.decided_by else None,
                "on_behalf_of": d.on_behalf_of.name if d.on_behalf_of else None,
                "at": d.created_at.isoformat() if d.created_at else None,
            }
            for d in request.decisions
        ],
    }


def _rows_of_the_answer(request: TransitionRequest) -> list:
    """What the API and the pages show of a decided request: it, its stages, slots and decisions,
    and the people they name (in the session already: no read)."""
    rows: list = [request, request.requested_by, *request.stages, *request.decisions]
    rows += [slot for stage in request.stages for slot in stage.slots]
    rows += [person for d in request.decisions for person in (d.decided_by, d.on_behalf_of) if person is not None]
    return rows


def withdraw(*, actor: User, request_id: int, reason: str = "", now: datetime | None = None) -> TransitionRequest:
    refuse_control({"reason": reason})
    now = now or utcnow()
    with transaction():
        request, _ = _locked_visible_request(actor, request_id, now)
        if request.status != OPEN:
            raise _closed(request)
        if request.requested_by_id != actor.id:
            raise GoalflowError("not_requester")
        chain.close(request, "withdrawn", actor, (reason or "").strip(), now)
        audit.record(
            chain_id=request.administration_id,
            action="request_withdrawn",
            subject_type=request.subject_type,
            subject_id=request.subject_id,
            actor_id=actor.id,
            after={"request": request.id},
            reason=reason,
            request_id=request.id,
            at=now,
        )
    return request


# -- reading a request ------------------------------------------------------------------------------


# A request's stages, slots and decisions are a handful of rows: one joined read, not three.
_REQUEST_WITH_CHILDREN = (
    joinedload(TransitionRequest.stages).joinedload(RequestStage.slots),
    joinedload(TransitionRequest.decisions),
)


@cache
def _locked_request():
    return (
        select(TransitionRequest)
        .where(TransitionRequest.id == bindparam("request_id"))
        .options(*_REQUEST_WITH_CHILDREN)
        .with_for_update(of=TransitionRequest)
        .execution_options(populate_existing=True)
    )


@cache
def _locked_request_with_its_goal():
    """The request with its goal, when its object is one (nearly every request is) and the request
    is of the decider's own administration, and that administration's audit chain: the three rows
    locked by one statement, in the order every path takes them (the request, its object, then the
    chain its events go to). Someone of another administration never locks its chain: their
    request is read alone, and refused as not found."""
    goal = subjects.kind("goal")
    return (
        select(TransitionRequest, goal.model, ChainHead)
        .join(goal.model, and_(TransitionRequest.subject_type == "goal", goal.model.id == TransitionRequest.subject_id))
        .join(ChainHead, ChainHead.chain_id == TransitionRequest.administration_id)
        .where(TransitionRequest.id == bindparam("request_id"),
               TransitionRequest.administration_id == bindparam("administration_id"))
        .options(*_REQUEST_WITH_CHILDREN, *goal.load_options)
        .with_for_update(of=[TransitionRequest, goal.model, ChainHead])
        .execution_options(populate_existing=True)
    )


def _locked_visible_request(actor: User, request_id: int, now: datetime) -> tuple[TransitionRequest, object]:
    """The request and its subject, both locked (in that order); the subject is read once."""
    found = db.session.execute(
        _locked_request_with_its_goal(), {"request_id": request_id, "administration_id": actor.administration_id}
    ).unique().one_or_none()
    if found is None:  # not a goal's, of another administration, its chain not begun yet, or no such request
        request = db.session.execute(_locked_request(), {"request_id": request_id}).unique().scalar_one_or_none()
    else:
        request = found[0]
        audit.hold_locked(found[2])
    if request is None:
        raise not_found()
    authz.read_people(actor, request.administration_id, local_today(now))  # what the rest asks of people
    subject = visible_subject(actor, request.subject_type, request.subject_id, lock=True, now=now,
                              loaded=found is not None)
    return request, subject


def _slot_label(slot) -> str:
    return f"{slot.role}@{slot.unit.code}" if slot.unit_id else slot.role


def visible_requests(actor: User, *, status: str | None = None, now: datetime | None = None) -> list[TransitionRequest]:
    """Requests on objects this person may see, newest first; `status` narrows them."""
    if actor.administration_id is None:
        return []
    query = select(TransitionRequest).where(TransitionRequest.administration_id == actor.administration_id)
    if status:
        query = query.where(TransitionRequest.status == status)
    viewer = authz.viewer(actor, local_today(now))
    requests = db.session.scalars(
        query.order_by(TransitionRequest.created_at.desc(), TransitionRequest.id.desc())
    ).all()
    # The requests' objects in one query per kind, not one each.
    found = {
        subject_type: subjects.load_many(subject_type, {r.subject_id for r in requests if r.subject_type == subject_type})
        for subject_type in {r.subject_type for r in requests}
    }
    result = []
    for request in requests:
        subject = found[request.subject_type].get(request.subject_id)
        k = subjects.kind(request.subject_type)
        if subject is not None and viewer.sees(k.administration_id(subject), k.unit_ids(subject)):
            result.append(request)
    return result


def get_request(actor: User, request_id: int, *, now: datetime | None = None) -> TransitionRequest:
    """The request if its object is visible to `actor`; otherwise 404."""
    request = db.session.get(TransitionRequest, request_id)
    if request is None:
        raise not_found()
    visible_subject(actor, request.subject_type, request.subject_id, now=now)
    return request
