"""An approval chain: the stages a staged transition walks before it applies (docs/workflows.md,
"How a transition happens").

A request names a declared transition. It walks the definition's stages in order; inside a
stage every slot must approve (all_of), one (any_of) or a quorum. Any rejection ends it. This
module builds the chain, activates its stages, counts the requester where the definition allows
it, tells the approvers and closes the request; *whether* anything may happen, and the change
itself, belong to the one path (service/kernel/transition.py), which calls this.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from service.approvals.models import OPEN, Decision, RequestStage, StageSlot, TransitionRequest
from service.extensions import db
from service.kernel import authz, subjects
from service.kernel.common import local_today
from service.kernel.errors import GoalflowError
from service.kernel.workflow_registry import workflow_for
from service.notifications import service as outbox
from service.notifications.messages import OUTCOMES
from service.org.models import Role, User
from workflows import TransitionDef


def open_request(subject_type: str, subject_id: int) -> TransitionRequest | None:
    return db.session.scalar(
        select(TransitionRequest).where(
            TransitionRequest.subject_type == subject_type,
            TransitionRequest.subject_id == subject_id,
            TransitionRequest.status == OPEN,
        )
    )


def build(
    *, subject_type: str, subject, t: TransitionDef, actor: User, on_behalf_of: User | None, reason: str,
    data: dict, now: datetime,
) -> TransitionRequest:
    """The request and its stages and slots, as the definition declares them (not yet flushed)."""
    k = subjects.kind(subject_type)
    request = TransitionRequest(
        administration_id=k.administration_id(subject),
        workflow=workflow_for(subject_type).name,
        subject_type=subject_type,
        subject_id=subject.id,
        subject_version=subject.version,
        transition=t.name,
        from_state=subject.state,
        to_state=t.dest,
        reason=reason,
        data=data,
        requested_by=actor,
        on_behalf_of=on_behalf_of,
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
    return request


def stage_satisfied(stage: RequestStage) -> bool:
    approved = sum(1 for s in stage.slots if s.status == "approved")
    return approved >= stage.approvals_needed


def advance(request: TransitionRequest, subject, *, now: datetime) -> bool:
    """Activate stages in turn, counting the requester where allowed. True when every stage is
    approved: the transition is then the one path's to apply."""
    while request.current_stage < len(request.stages):
        stage = request.stages[request.current_stage]
        if stage.status == "waiting":
            stage.status, stage.activated_at = "active", now
            _count_requester(request, stage, now)
            if not stage_satisfied(stage):
                _notify_approvers(request, subject, stage)
        if not stage_satisfied(stage):
            return False
        stage.status, stage.completed_at = "approved", now
        request.current_stage += 1
    return True


def _count_requester(request: TransitionRequest, stage: RequestStage, now: datetime) -> None:
    """A head asking for their own unit's goal counts as that unit's approval, recorded as such.

    Only the requester's own slots count, in their own name: a request asked as someone's
    substitute never counts as the absent person's approval (separation of duties)."""
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
            if stage_satisfied(stage):
                return


def close(request: TransitionRequest, status: str, actor: User, reason: str, now: datetime) -> None:
    request.status, request.closed_at, request.closed_by_id, request.close_reason = status, now, actor.id, reason


def excluded_ids(request: TransitionRequest) -> set[int]:
    """Who never decides this request: whoever asked for it, in whatever name they asked. (The
    absent person a substitute asked for decides on their return: they did not ask.)"""
    return {request.requested_by_id}


# -- who is told ----------------------------------------------------------------------------


def slot_holders(slot: StageSlot, administration_id: int) -> list[User]:
    return [u for u in people_of(administration_id) if authz.holds_slot(u, slot.role, slot.unit_id, administration_id)]


def _notify_approvers(request: TransitionRequest, subject, stage: RequestStage) -> None:
    k = subjects.kind(request.subject_type)
    wf = workflow_for(request.subject_type)
    today = local_today()
    excluded = excluded_ids(request)
    for slot in stage.slots:
        if slot.status != "pending":
            continue
        for holder in slot_holders(slot, request.administration_id):
            if holder.id in excluded:
                continue
            recipients = [(holder, None)] + [(s, holder) for s in authz.substitutes_of(holder, today)]
            for recipient, on_behalf in recipients:
                if recipient.id in excluded:
                    continue
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


def people_of(administration_id: int) -> list[User]:
    """Everyone of the administration, with their roles: who holds a slot, who is told."""
    return authz.people_of(administration_id)


def requester_message(request: TransitionRequest, subject, outcome: str, decider: User, reason: str) -> dict:
    """The requester is told how their request ended (outbox.enqueue_many's arguments)."""
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


def applied_messages(request: TransitionRequest, subject, before_state: str, actor: User) -> list[dict]:
    """Who is told that an approved request applied: its requester, and for a goal the heads and
    experts of its units."""
    people = people_of(request.administration_id)  # read once; the requester is one of them
    messages = []
    if request.requested_by_id != actor.id:
        messages.append(requester_message(request, subject, "approved", actor, ""))
    if request.subject_type == "goal":
        messages += _goal_unit_messages(request, subject, before_state, people)
    return messages


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
