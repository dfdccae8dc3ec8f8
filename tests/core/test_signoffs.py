"""The governor's two signatures are requests in his inbox, like any other approval: the chief
secretary's submission asks for them, the governor is told and reminded, signs with his password
again, or rejects and so returns the plan or the report."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from service.approvals import service as approvals
from service.audit.models import Event
from service.db import utcnow
from service.extensions import db
from service.kernel.errors import GoalflowError
from service.notifications import reminders
from service.notifications.models import Notification


def plan_move(world, actor, transition, **kw):
    return approvals.request_transition(
        actor=actor, subject_type="plan", subject_id=world.plan.id, transition=transition, **kw
    )


def messages(kind, request_id):
    return db.session.scalars(select(Notification).where(
        Notification.kind == kind, Notification.subject_type == "transition_request",
        Notification.subject_id == request_id)).all()


def test_submitting_the_plan_puts_its_adoption_in_the_governors_inbox(world):
    world.plan.state = "draft"
    db.session.commit()
    plan_move(world, world.secretary, "submit")
    assert world.plan.state == "submitted"
    signoff = approvals.open_request("plan", world.plan.id)
    assert signoff is not None and signoff.transition == "approve"
    assert signoff.requested_by_id == world.secretary.id and [s.name for s in signoff.stages] == ["governor"]
    assert [r.id for r, _ in approvals.pending_for(world.governor)] == [signoff.id]
    assert {n.recipient_id for n in messages("approval_needed", signoff.id)} == {world.governor.id}
    # the signature needs the password again, from whoever signs
    with pytest.raises(GoalflowError) as e:
        approvals.decide(actor=world.governor, request_id=signoff.id, verdict="approve", fresh_login=False)
    assert e.value.code == "fresh_login_required"
    db.session.refresh(world.plan)
    assert world.plan.state == "submitted"
    approvals.decide(actor=world.governor, request_id=signoff.id, verdict="approve", comment="Утвърждавам")
    db.session.refresh(world.plan)
    assert world.plan.state == "approved" and world.plan.approved_by_id == world.governor.id
    changed = db.session.scalars(select(Event).where(
        Event.subject_type == "plan", Event.action == "state_changed").order_by(Event.seq)).all()
    assert [e.after["transition"] for e in changed] == ["submit", "approve"]
    assert changed[-1].request_id == signoff.id and changed[-1].actor_id == world.governor.id


def test_the_governor_rejecting_the_adoption_returns_the_plan_for_changes(world):
    world.plan.state = "draft"
    db.session.commit()
    plan_move(world, world.secretary, "submit")
    signoff = approvals.open_request("plan", world.plan.id)
    approvals.decide(actor=world.governor, request_id=signoff.id, verdict="reject", comment="Цел 2 без индикатори")
    db.session.refresh(world.plan)
    assert world.plan.state == "draft" and approvals.open_request("plan", world.plan.id) is None
    returned = db.session.scalars(select(Event).where(
        Event.subject_type == "plan", Event.action == "state_changed").order_by(Event.seq)).all()[-1]
    assert returned.after["transition"] == "return" and returned.reason == "Цел 2 без индикатори"


def test_the_years_report_reaches_the_governor_is_escalated_and_signed(world):
    assert world.plan.state == "reporting"
    plan_move(world, world.secretary, "submit_report")
    assert world.plan.state == "report_submitted"
    signoff = approvals.open_request("plan", world.plan.id)
    assert signoff.transition == "approve_report"
    assert [r.id for r, _ in approvals.pending_for(world.governor)] == [signoff.id]
    assert {n.recipient_id for n in messages("approval_needed", signoff.id)} == {world.governor.id}
    # nobody signs: he is reminded, and the chief secretary is told it waits
    reminders.sweep(now=utcnow() + timedelta(days=30))
    assert {n.recipient_id for n in messages("approval_reminder", signoff.id)} == {world.governor.id}
    assert {n.recipient_id for n in messages("approval_escalated", signoff.id)} == {world.secretary.id}
    approvals.decide(actor=world.governor, request_id=signoff.id, verdict="approve")
    db.session.refresh(world.plan)
    assert world.plan.state == "report_approved"
    assert world.plan.report_approved_by_id == world.governor.id and world.plan.approved_by_id is None


def test_the_chief_secretary_never_signs(world):
    world.plan.state = "submitted"  # submitted before sign-offs were requests
    db.session.commit()
    asked = plan_move(world, world.secretary, "approve")
    assert asked.status == "open" and world.plan.state == "submitted"
    with pytest.raises(GoalflowError) as e:
        approvals.decide(actor=world.secretary, request_id=asked.id, verdict="approve")
    assert e.value.status == 403
