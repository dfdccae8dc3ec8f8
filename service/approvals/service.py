"""Transition requests and approval chains (workflow.md, "How a transition happens").

A request names a declared transition. It walks the definition's stages in order; inside a
stage every slot must approve (all_of), one (any_of) or a quorum. Any rejection ends it. The last
approval applies the transition in the same database transaction, with its events and
notifications. The request row is locked (and versioned) so that racing decisions apply
exactly one transition.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from service import authz, subjects
from service.approvals.models import OPEN, Decision, RequestStage, StageSlot, TransitionRequest
from service.audit import service as audit
from service.common import local_today
from service.db import utcnow
from service.errors import GoalflowError, not_found
from service.extensions import db
from service.notifications import service as outbox
from service.org.models import Role, RoleAssignment, User
from service.text import refuse_control
from service.uow import remembered, transaction
from service.workflow_registry import workflow_for
from workflows import Context, TransitionDef


@dataclass(frozen=True)
class SlotClaim:
    """A slot this person may decide now, directly or for the absent `on_behalf_of`."""

    slot: StageSlot
    on_behalf_of: User | None


# -- questions ------------------------------------------------------------------------------


def open_request(subject_type: str, subject_id: int) -> TransitionRequest | None:
    return db.session.scalar(
        select(TransitionRequest).where(
            TransitionRequest.subject_type == subject_type,
            TransitionRequest.subject_id == subject_id,
            TransitionRequest.status == OPEN,
        )
    )


def visible_subject(actor: User, subject_type: str, subject_id: int, *, lock: bool = False, now=None):
    """The subject if `actor` may see it; otherwise 404, as if it did not exist."""
    subject = subjects.load(subject_type, subject_id, lock=lock)
    if subject is None:
        raise not_found()
    k = subjects.kind(subject_type)
    if not authz.viewer(actor, local_today(now)).sees(k.administration_id(subject), k.unit_ids(subject)):
        raise not_found()
    return subject


def allowed_transitions(actor: User, subject_type: str, subject, *, now=None) -> list[TransitionDef]:
    """What this person may ask for on this object now: declared, theirs to ask, guards passing."""
    wf = workflow_for(subject_type)
    k = subjects.kind(subject_type)
    if open_request(subject_type, subject.id) is not None:
        return []
    result = []
    for t in wf.available(subject.state):
        if not authz.can_request(actor, t, k.unit_ids(subject), k.administration_id(subject)):
            continue
        if wf.refusal(t, Context(subject=subject, actor=actor)) is None:
            result.append(t)
    return result


def claims(actor: User, request: TransitionRequest, *, now: datetime | None = None) -> list[SlotClaim]:
    """The pending slots of the active stage that `actor` may decide, and for whom."""
    stage = request.active_stage
    if stage is None:
        return []
    principals = [(actor, None)] + [(p, p) for p in authz.absent_principals(actor, local_today(now))]
    found = []
    for slot in stage.slots:
        if slot.status != "pending":
            continue
        for person, on_behalf in principals:
            if authz.holds_slot(person, slot.role, slot.unit_id, request.administration_id):
                if person.id == request.requested_by_id and not stage.allow_requester:
                    continue  # separation of duties: nobody approves their own request
                found.append(SlotClaim(slot, on_behalf))
                break
    return found


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
    now = now or utcnow()
    reason = (reason or "").strip()
    data = data or {}
    refuse_control({"reason": reason, **data})
    with transaction():
        subject = visible_subject(actor, subject_type, subject_id, lock=True, now=now)
        k = subjects.kind(subject_type)
        wf = workflow_for(subject_type)
        t = wf.transition(transition)
        if subject.state not in t.sources:
            raise GoalflowError("transition_not_declared", transition=transition, state=subject.state)
        admin_id = k.administration_id(subject)
        if not authz.can_request(actor, t, k.unit_ids(subject), admin_id):
            raise GoalflowError("not_a_requester", transition=transition)
        if t.fresh_login and not fresh_login:
            raise GoalflowError("fresh_login_required")
        if expected_version is not None and expected_version != subject.version:
            raise GoalflowError("stale_version", expected=expected_version, actual=subject.version)
        if t.reason_required and not reason:
            raise GoalflowError("reason_required", fields={"reason": "required"})
        ctx = Context(subject=subject, data=data, actor=actor)
        why = wf.refusal(t, ctx)
        if why:
            raise GoalflowError("transition_not_allowed_now", why=why)
        problems = wf.data_problems(t, ctx)
        if problems:
            raise GoalflowError("transition_data_invalid", fields=problems)
        existing = open_request(subject_type, subject.id)
        if existing is not None:
            raise GoalflowError("open_request_exists", request_id=existing.id)

        request = TransitionRequest(
            administration_id=admin_id,
            workflow=wf.name,
            subject_type=subject_type,
            subject_id=subject.id,
            transition=t.name,
            from_state=subject.state,
            to_state=t.dest,
            reason=reason,
            data=data,
            requested_by=actor,
            created_at=now,
        )
        for position, stage_def in enumerate(t.stages):
            stage = RequestStage(
                position=position,
                name=stage_def.name,
                rule=stage_def.rule,
                quorum=stage_def.quorum,
                allow_requester=stage_def.requester_counts,
            )
            unit_ids = sorted(k.unit_ids(subject)) if stage_def.approvers.scope == "responsible_units" else [None]
            stage.slots = [StageSlot(role=stage_def.approvers.role, unit_id=u) for u in unit_ids]
            if not stage.slots:
                raise GoalflowError("transition_not_allowed_now", why="the object has no responsible unit to approve")
            request.stages.append(stage)
        db.session.add(request)
        db.session.flush()
        audit.record(
            chain_id=admin_id,
            action="transition_requested",
            subject_type=subject_type,
            subject_id=subject.id,
            actor_id=actor.id,
            before=subjects.snapshot(subject),
            after={"request": request.id, "transition": t.name, "to": t.dest, "data": data},
            reason=reason,
            request_id=request.id,
            at=now,
        )
        _advance(request, subject, actor=actor, now=now)
    return request


def decide(
    *,
    actor: User,
    request_id: int,
    verdict: str,
    comment: str = "",
    expected_version: int | None = None,
    now: datetime | None = None,
) -> TransitionRequest:
    now = now or utcnow()
    comment = (comment or "").strip()
    if verdict not in ("approve", "reject"):
        raise GoalflowError("invalid_input", fields={"verdict": "must be approve or reject"})
    refuse_control({"comment": comment})
    answer: list = []
    with transaction(keep=answer):
        request, subject = _locked_visible_request(actor, request_id, now)
        if request.status != OPEN:
            raise GoalflowError("request_closed", status=request.status)
        if expected_version is not None and expected_version != request.version:
            raise GoalflowError("stale_version", expected=expected_version, actual=request.version)
        mine = claims(actor, request, now=now)
        if not mine:
            raise _why_not_approver(actor, request)
        if verdict == "reject" and not comment:
            raise GoalflowError("reason_required", fields={"comment": "a rejection needs a reason"})
        # What the outcome needs is read before anything is written, so that the writes go to the
        # database together at the commit (a read in between would flush them piecemeal).
        audit.lock_chain(request.administration_id)
        _people_of(request.administration_id)
        stage = request.active_stage
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
            _close(request, "rejected", actor, comment, now)
            outbox.enqueue_many([_requester_message(request, subject, "rejected", actor, comment)])
        else:
            _advance(request, subject, actor=actor, now=now)
        answer.extend(_rows_of_the_answer(request))
    return request


def _rows_of_the_answer(request: TransitionRequest) -> list:
    """What the API and the pages show of a decided request: it, its stages, slots and decisions,
    and the people they name (in the session already: no read)."""
    rows: list = [request, request.requested_by, *request.stages, *request.decisions]
    rows += [slot for stage in request.stages for slot in stage.slots]
    rows += [person for d in request.decisions for person in (d.decided_by, d.on_behalf_of) if person is not None]
    return rows


def withdraw(*, actor: User, request_id: int, reason: str = "", now: datetime | None = None) -> TransitionRequest:
    now = now or utcnow()
    refuse_control({"reason": reason})
    with transaction():
        request, _ = _locked_visible_request(actor, request_id, now)
        if request.status != OPEN:
            raise GoalflowError("request_closed", status=request.status)
        if request.requested_by_id != actor.id:
            raise GoalflowError("not_requester")
        _close(request, "withdrawn", actor, (reason or "").strip(), now)
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


# -- the chain ------------------------------------------------------------------------------


# A request's stages, slots and decisions are a handful of rows: one joined read, not three.
_REQUEST_WITH_CHILDREN = (
    joinedload(TransitionRequest.stages).joinedload(RequestStage.slots),
    joinedload(TransitionRequest.decisions),
)


def _locked_visible_request(actor: User, request_id: int, now: datetime) -> tuple[TransitionRequest, object]:
    """The request and its subject, both locked (in that order); the subject is read once."""
    request = db.session.execute(
        select(TransitionRequest)
        .where(TransitionRequest.id == request_id)
        .options(*_REQUEST_WITH_CHILDREN)
        .with_for_update(of=TransitionRequest)
        .execution_options(populate_existing=True)
    ).unique().scalar_one_or_none()
    if request is None:
        raise not_found()
    subject = visible_subject(actor, request.subject_type, request.subject_id, lock=True, now=now)
    return request, subject


def _why_not_approver(actor: User, request: TransitionRequest) -> GoalflowError:
    stage = request.active_stage
    if any(d.decided_by_id == actor.id and d.stage_id == stage.id for d in request.decisions):
        return GoalflowError("already_decided")
    if actor.id == request.requested_by_id and any(
        authz.holds_slot(actor, s.role, s.unit_id, request.administration_id) for s in stage.slots
    ):
        return GoalflowError("separation_of_duties")
    return GoalflowError("not_an_approver")


def _slot_label(slot: StageSlot) -> str:
    return f"{slot.role}@{slot.unit.code}" if slot.unit_id else slot.role


def _stage_satisfied(stage: RequestStage) -> bool:
    approved = sum(1 for s in stage.slots if s.status == "approved")
    return approved >= stage.approvals_needed


def _advance(request: TransitionRequest, subject, *, actor: User, now: datetime) -> None:
    """Activate stages in turn, counting the requester where allowed; apply after the last one."""
    while request.current_stage < len(request.stages):
        stage = request.stages[request.current_stage]
        if stage.status == "waiting":
            stage.status, stage.activated_at = "active", now
            _count_requester(request, stage, now)
            if not _stage_satisfied(stage):
                _notify_approvers(request, subject, stage)
        if not _stage_satisfied(stage):
            return
        stage.status, stage.completed_at = "approved", now
        request.current_stage += 1
    _apply(request, subject, actor=actor, now=now)


def _count_requester(request: TransitionRequest, stage: RequestStage, now: datetime) -> None:
    """A head asking for their own unit's goal counts as that unit's approval, recorded as such."""
    if not stage.allow_requester:
        return
    requester = request.requested_by
    for slot in stage.slots:
        if slot.status == "pending" and authz.holds_slot(requester, slot.role, slot.unit_id, request.administration_id):
            slot.status = "approved"
            request.decisions.append(
                Decision(
                    stage_id=stage.id,
                    slot=slot,
                    verdict="approve",
                    decided_by_id=requester.id,
                    as_requester=True,
                    comment="",
                    created_at=now,
                )
            )
            if _stage_satisfied(stage):
                return


def _apply(request: TransitionRequest, subject, *, actor: User, now: datetime) -> None:
    if subject.state != request.from_state:
        raise GoalflowError("conflict")
    wf = workflow_for(request.subject_type)
    before = subjects.snapshot(subject)
    wf.fire(request.transition, Context(subject=subject, data=request.data, actor=actor))
    db.session.flush()  # bumps the subject's version, which the event records
    _close(request, "approved", actor, "", now)
    audit.record(
        chain_id=request.administration_id,
        action="state_changed",
        subject_type=request.subject_type,
        subject_id=request.subject_id,
        actor_id=actor.id,
        before=before,
        after={**subjects.snapshot(subject), "transition": request.transition, "data": request.data},
        reason=request.reason,
        request_id=request.id,
        at=now,
    )
    # The administration's people are read once (the requester is one of them) and every message
    # of the outcome is queued in one statement.
    people = _people_of(request.administration_id)
    messages = []
    if request.requested_by_id != actor.id:
        messages.append(_requester_message(request, subject, "approved", actor, ""))
    if request.subject_type == "goal":
        messages += _goal_unit_messages(request, subject, before["state"], people)
    outbox.enqueue_many(messages)


def _close(request: TransitionRequest, status: str, actor: User, reason: str, now: datetime) -> None:
    request.status, request.closed_at, request.closed_by_id, request.close_reason = status, now, actor.id, reason


# -- who is told ----------------------------------------------------------------------------


def slot_holders(slot: StageSlot, administration_id: int) -> list[User]:
    return [u for u in _people_of(administration_id) if authz.holds_slot(u, slot.role, slot.unit_id, administration_id)]


def _notify_approvers(request: TransitionRequest, subject, stage: RequestStage) -> None:
    k = subjects.kind(request.subject_type)
    wf = workflow_for(request.subject_type)
    today = local_today()
    for slot in stage.slots:
        if slot.status != "pending":
            continue
        for holder in slot_holders(slot, request.administration_id):
            if holder.id == request.requested_by_id and not stage.allow_requester:
                continue
            recipients = [(holder, None)] + [(s, holder) for s in authz.substitutes_of(holder, today)]
            for recipient, on_behalf in recipients:
                outbox.enqueue(
                    kind="approval_needed",
                    recipient=recipient,
                    subject_type="transition_request",
                    subject_id=request.id,
                    params={
                        **k.describe(subject),
                        "transition": wf.transition(request.transition).label[recipient.locale or "bg"],
                        "requester": request.requested_by.name,
                        "reason": request.reason,
                        "on_behalf": on_behalf.name if on_behalf else "",
                    },
                    path=k.path(subject),
                    due_moment=f"stage:{stage.position}",
                    on_behalf_of=on_behalf,
                )


def _people_of(administration_id: int) -> list[User]:
    """Everyone of the administration, with their roles: who holds a slot, who is told."""
    def read() -> list[User]:
        return list(db.session.scalars(
            select(User).where(User.administration_id == administration_id).options(joinedload(User.roles))
        ).unique())

    return remembered("approvals.people", administration_id, read, until_changed=(User, RoleAssignment))


def _requester_message(request: TransitionRequest, subject, outcome: str, decider: User, reason: str) -> dict:
    """The requester is told how their request ended (outbox.enqueue_many's arguments)."""
    from service.notifications.messages import OUTCOMES

    k = subjects.kind(request.subject_type)
    wf = workflow_for(request.subject_type)
    requester = request.requested_by
    lang = requester.locale or "bg"
    return dict(
        kind="request_decided",
        recipient=requester,
        subject_type="transition_request",
        subject_id=request.id,
        params={
            **k.describe(subject),
            "transition": wf.transition(request.transition).label[lang],
            "outcome": OUTCOMES[outcome][lang],
            "decider": decider.name,
            "reason": reason,
        },
        path=k.path(subject),
        due_moment=outcome,
    )


def _goal_unit_messages(request: TransitionRequest, goal, before_state: str, people: list[User]) -> list[dict]:
    """The heads and experts of the goal's units are told its new state."""
    wf = workflow_for("goal")
    units = goal.unit_ids
    messages = []
    for person in people:
        if not person.active or not (authz.unit_scope(person, Role.HEAD, Role.EXPERT) & units):
            continue
        lang = person.locale or "bg"
        messages.append(dict(
            kind="goal_state_changed",
            recipient=person,
            subject_type="goal",
            subject_id=goal.id,
            params={
                "number": goal.number,
                "title": goal.title,
                "before": wf.state_label(before_state, lang),
                "state": wf.state_label(goal.state, lang),
            },
            path=f"/goals/{goal.id}",
            due_moment=f"request:{request.id}",
        ))
    return messages


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
