"""Approval chains exactly as docs/workflows.md describes them, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from service.approvals import service as approvals
from service.approvals.models import Decision, TransitionRequest
from service.audit.models import Event
from service.audit.service import verify
from service.extensions import db
from service.kernel.errors import GoalflowError
from service.notifications.models import Notification
from service.org import service as org
from tests.helpers import achieved_for


def ask(world, actor, goal, transition, **kw):
    return approvals.request_transition(
        actor=actor, subject_type="goal", subject_id=goal.id, transition=transition, **kw
    )


def code_of(excinfo) -> str:
    return excinfo.value.code


def events(goal, action=None):
    query = select(Event).where(Event.subject_type == "goal", Event.subject_id == goal.id)
    if action:
        query = query.where(Event.action == action)
    return db.session.scalars(query.order_by(Event.seq)).all()


def test_expert_start_needs_the_head_and_applies_on_the_last_approval(world):
    req = ask(world, world.expert_b, world.g_b, "start")
    assert req.status == "open" and world.g_b.state == "planned"
    assert [s.name for s in req.stages] == ["heads"]
    req = approvals.decide(actor=world.head_b, request_id=req.id, verdict="approve")
    assert req.status == "approved"
    assert world.g_b.state == "in_progress"
    changed = events(world.g_b, "state_changed")
    assert len(changed) == 1
    assert changed[0].before["state"] == "planned" and changed[0].after["state"] == "in_progress"
    assert changed[0].request_id == req.id


def test_complete_walks_both_heads_then_the_governor_in_order(world):
    req = ask(world, world.expert_a, world.g_ab, "complete", data=achieved_for(world.g_ab, "2"))
    heads, governor = req.stages
    assert (heads.status, governor.status) == ("active", "waiting")
    assert {s.unit_id for s in heads.slots} == {world.a.id, world.b.id}
    # the governor cannot act before the heads' stage is complete
    with pytest.raises(GoalflowError) as e:
        approvals.decide(actor=world.governor, request_id=req.id, verdict="approve")
    assert code_of(e) == "not_an_approver"
    approvals.decide(actor=world.head_a, request_id=req.id, verdict="approve")
    assert heads.status == "active" and world.g_ab.state == "in_progress"
    approvals.decide(actor=world.head_b, request_id=req.id, verdict="approve")
    assert (heads.status, governor.status) == ("approved", "active")
    assert world.g_ab.state == "in_progress"
    approvals.decide(actor=world.governor, request_id=req.id, verdict="approve", comment="Подписано")
    assert world.g_ab.state == "done"
    assert all(i.achieved_text == "2" for i in world.g_ab.indicators)
    assert [i.achieved for i in world.g_ab.indicators] == [2, 2]


def test_a_head_asking_counts_as_their_units_approval_recorded_as_such(world):
    req = ask(world, world.head_a, world.g_ab, "complete", data=achieved_for(world.g_ab))
    own = [d for d in req.decisions if d.as_requester]
    assert len(own) == 1 and own[0].decided_by_id == world.head_a.id and own[0].slot.unit_id == world.a.id
    assert req.stages[0].status == "active"  # АКРРДС still has to approve
    approvals.decide(actor=world.head_b, request_id=req.id, verdict="approve")
    assert req.stages[1].status == "active"


def test_the_governor_asking_signs_off_their_own_stage(world):
    req = ask(world, world.governor, world.g_a, "fail", reason="Отпаднало законово основание")
    assert req.stages[1].slots[0].status == "pending"
    approvals.decide(actor=world.head_a, request_id=req.id, verdict="approve")
    assert req.status == "approved" and world.g_a.state == "not_done"
    assert any(d.as_requester and d.decided_by_id == world.governor.id for d in req.decisions)


def test_reopen_is_the_governors_alone(world):
    world.g_a.state = "done"
    db.session.commit()
    for person in (world.expert_a, world.head_a, world.secretary):
        with pytest.raises(GoalflowError) as e:
            ask(world, person, world.g_a, "reopen", reason="грешка")
        assert code_of(e) == "not_a_requester"
    req = ask(world, world.governor, world.g_a, "reopen", reason="Нови данни")
    assert req.status == "approved" and world.g_a.state == "in_progress"


def test_reopen_is_refused_once_the_years_report_is_approved(world):
    world.g_a.state = "done"
    world.plan.state = "report_approved"
    db.session.commit()
    with pytest.raises(GoalflowError) as e:
        ask(world, world.governor, world.g_a, "reopen", reason="Нови данни")
    assert code_of(e) == "transition_not_allowed_now"
    assert "report" in e.value.message("en")


def test_rejection_needs_a_reason_ends_the_request_and_tells_the_requester(world):
    req = ask(world, world.expert_a, world.g_a, "complete", data=achieved_for(world.g_a))
    with pytest.raises(GoalflowError) as e:
        approvals.decide(actor=world.head_a, request_id=req.id, verdict="reject")
    assert code_of(e) == "reason_required" and "comment" in e.value.fields
    req = approvals.decide(actor=world.head_a, request_id=req.id, verdict="reject", comment="Няма доказателства")
    assert req.status == "rejected" and req.close_reason == "Няма доказателства"
    assert world.g_a.state == "in_progress"
    note = db.session.scalar(
        select(Notification).where(Notification.kind == "request_decided", Notification.recipient_id == world.expert_a.id)
    )
    assert note is not None and "Няма доказателства" in note.body_text and note.link.endswith(f"/goals/{world.g_a.id}")
    with pytest.raises(GoalflowError) as e:
        approvals.decide(actor=world.governor, request_id=req.id, verdict="approve")
    assert code_of(e) == "request_closed"


def test_reasons_are_required_where_declared(world):
    for transition in ("fail", "drop"):
        with pytest.raises(GoalflowError) as e:
            ask(world, world.expert_a, world.g_a, transition, reason="   ")
        assert code_of(e) == "reason_required" and e.value.fields == {"reason": "required"}
    assert db.session.scalar(select(func.count()).select_from(TransitionRequest)) == 0


def test_complete_requires_achieved_values(world):
    with pytest.raises(GoalflowError) as e:
        ask(world, world.expert_a, world.g_ab, "complete", data={"achieved": {str(world.g_ab.indicators[0].id): "1"}})
    assert code_of(e) == "transition_data_invalid"
    assert set(e.value.fields) == {f"achieved.{world.g_ab.indicators[1].id}"}
    with pytest.raises(GoalflowError) as e:
        ask(world, world.expert_a, world.g_ab, "complete", data={"achieved": {"999999": "1", **achieved_for(world.g_ab)["achieved"]}})
    assert "achieved.999999" in e.value.fields


def test_withdrawal_by_the_requester_only(world):
    req = ask(world, world.expert_a, world.g_a, "drop", reason="Без финансиране")
    with pytest.raises(GoalflowError) as e:
        approvals.withdraw(actor=world.head_a, request_id=req.id)
    assert code_of(e) == "not_requester"
    req = approvals.withdraw(actor=world.expert_a, request_id=req.id, reason="Грешка")
    assert req.status == "withdrawn" and world.g_a.state == "in_progress"
    with pytest.raises(GoalflowError) as e:
        approvals.decide(actor=world.head_a, request_id=req.id, verdict="approve")
    assert code_of(e) == "request_closed"
    # a new request may be made once the old one is closed
    assert ask(world, world.expert_a, world.g_a, "drop", reason="Без финансиране").status == "open"


def test_at_most_one_open_request_per_goal(world):
    first = ask(world, world.expert_a, world.g_a, "fail", reason="x")
    with pytest.raises(GoalflowError) as e:
        ask(world, world.head_a, world.g_a, "drop", reason="y")
    assert code_of(e) == "open_request_exists" and e.value.params["request_id"] == first.id
    assert approvals.allowed_transitions(world.head_a, "goal", world.g_a) == []


def test_separation_of_duties(world):
    # expert_a asks; a second account of the same person cannot exist, but a head asking for a
    # transition whose stage does not accept the requester cannot approve it. Build such a stage:
    req = ask(world, world.head_a, world.g_ab, "complete", data=achieved_for(world.g_ab))
    req.stages[0].allow_requester = False
    db.session.commit()
    # the head's own slot was counted at activation (the definition allows it), so nothing is left for them
    with pytest.raises(GoalflowError) as e:
        approvals.decide(actor=world.head_a, request_id=req.id, verdict="approve")
    assert code_of(e) in {"separation_of_duties", "already_decided"}


def test_separation_of_duties_when_the_stage_does_not_count_the_requester(world, monkeypatch):
    from service.kernel import workflow_registry
    from workflows import StageDef

    wf = workflow_registry.workflow_for("goal")
    strict = wf.transitions["start"].__class__(
        **{**wf.transitions["start"].__dict__,
           "stages": tuple(StageDef(**{**s.__dict__, "requester_counts": False}) for s in wf.transitions["start"].stages)}
    )
    monkeypatch.setitem(wf.transitions, "start", strict)
    req = ask(world, world.head_b, world.g_b, "start")
    assert req.status == "open" and not req.decisions
    with pytest.raises(GoalflowError) as e:
        approvals.decide(actor=world.head_b, request_id=req.id, verdict="approve")
    assert code_of(e) == "separation_of_duties"


def test_who_may_not_decide_gets_a_distinct_error(world):
    req = ask(world, world.expert_a, world.g_a, "complete", data=achieved_for(world.g_a))
    for outsider in (world.head_b, world.expert_a, world.secretary, world.sysadmin):
        with pytest.raises(GoalflowError) as e:
            approvals.decide(actor=outsider, request_id=req.id, verdict="approve")
        assert code_of(e) in {"not_an_approver", "not_found"}
    # an observer sees the goal but decides nothing
    with pytest.raises(GoalflowError) as e:
        approvals.decide(actor=world.observer, request_id=req.id, verdict="approve")
    assert code_of(e) == "not_an_approver"
    # a head of another directorate does not even see it
    with pytest.raises(GoalflowError) as e:
        approvals.decide(actor=world.head_b, request_id=req.id, verdict="approve")
    assert code_of(e) == "not_found"
    approvals.decide(actor=world.head_a, request_id=req.id, verdict="approve")
    # the heads' stage has moved on: a conflict with the request as it is now, not a lack of rights
    with pytest.raises(GoalflowError) as e:
        approvals.decide(actor=world.head_a, request_id=req.id, verdict="approve")
    assert code_of(e) == "decision_overtaken" and e.value.status == 409
    assert e.value.current["stage"] == "governor" and e.value.current["status"] == "open"


def test_undeclared_transition_and_wrong_state_are_refused(world):
    with pytest.raises(GoalflowError) as e:
        ask(world, world.expert_a, world.g_a, "teleport")
    assert code_of(e) == "transition_not_declared"
    with pytest.raises(GoalflowError) as e:
        ask(world, world.expert_b, world.g_b, "complete", data=achieved_for(world.g_b))  # g_b is planned
    assert code_of(e) == "transition_not_declared"


def test_a_stale_version_is_refused(world):
    version = world.g_a.version
    with pytest.raises(GoalflowError) as e:
        ask(world, world.expert_a, world.g_a, "fail", reason="x", expected_version=version - 1 if version > 1 else 99)
    assert code_of(e) == "stale_version" and e.value.status == 412
    req = ask(world, world.expert_a, world.g_a, "fail", reason="x", expected_version=version)
    with pytest.raises(GoalflowError) as e:
        approvals.decide(actor=world.head_a, request_id=req.id, verdict="approve", expected_version=req.version + 5)
    assert code_of(e) == "request_changed" and e.value.status == 409
    assert e.value.current["version"] == req.version


def test_requests_need_the_plan_in_force(world):
    world.plan.state = "draft"
    db.session.commit()
    with pytest.raises(GoalflowError) as e:
        ask(world, world.expert_b, world.g_b, "start")
    assert code_of(e) == "transition_not_allowed_now"


def test_an_expert_proposes_only_for_their_units(world):
    with pytest.raises(GoalflowError) as e:
        ask(world, world.expert_a, world.g_b, "start")
    assert code_of(e) == "not_found"  # another directorate's goal is invisible
    with pytest.raises(GoalflowError) as e:
        ask(world, world.observer, world.g_b, "start")
    assert code_of(e) == "not_a_requester"
    assert ask(world, world.secretary, world.g_b, "start").status == "open"


def test_a_substitute_decides_for_the_absent_head(world):
    today = date.today()
    org.name_substitute(absent=world.head_b, substitute=world.head_a, starts_on=today - timedelta(days=1),
                        ends_on=today + timedelta(days=5), actor=world.head_b)
    req = ask(world, world.expert_b, world.g_b, "start")
    assert [r.id for r, _ in approvals.pending_for(world.head_a)] == [req.id]
    req = approvals.decide(actor=world.head_a, request_id=req.id, verdict="approve")
    assert req.status == "approved" and world.g_b.state == "in_progress"
    decision = db.session.scalar(select(Decision).where(Decision.request_id == req.id))
    assert decision.decided_by_id == world.head_a.id and decision.on_behalf_of_id == world.head_b.id
    event = events(world.g_b, "approved")[0]
    assert event.actor_id == world.head_a.id and event.on_behalf_of_id == world.head_b.id
    # the substitute was told, on behalf of the absent head
    note = db.session.scalar(select(Notification).where(
        Notification.kind == "approval_needed", Notification.recipient_id == world.head_a.id))
    assert note is not None and note.on_behalf_of_id == world.head_b.id


def test_a_past_substitution_gives_nothing(world):
    today = date.today()
    org.name_substitute(absent=world.head_b, substitute=world.head_a, starts_on=today,
                        ends_on=today + timedelta(days=1), actor=world.head_b)
    req = ask(world, world.expert_b, world.g_b, "start")
    with pytest.raises(GoalflowError):
        approvals.decide(actor=world.head_a, request_id=req.id, verdict="approve",
                         now=__import__("service.db", fromlist=["utcnow"]).utcnow() + timedelta(days=10))


def test_the_governors_substitute_must_be_a_deputy_governor(world):
    today = date.today()
    with pytest.raises(GoalflowError) as e:
        org.name_substitute(absent=world.governor, substitute=world.secretary, starts_on=today,
                            ends_on=today, actor=world.governor)
    assert code_of(e) == "invalid_substitute" and "deputy" in e.value.message("en")
    org.name_substitute(absent=world.governor, substitute=world.deputy, starts_on=today, ends_on=today,
                        actor=world.governor)
    req = ask(world, world.expert_a, world.g_a, "complete", data=achieved_for(world.g_a))
    approvals.decide(actor=world.head_a, request_id=req.id, verdict="approve")
    req = approvals.decide(actor=world.deputy, request_id=req.id, verdict="approve")
    assert req.status == "approved" and world.g_a.state == "done"
    assert req.decisions[-1].on_behalf_of_id == world.governor.id


def test_every_step_is_audited_and_the_chain_verifies(world):
    req = ask(world, world.expert_a, world.g_a, "complete", data=achieved_for(world.g_a))
    approvals.decide(actor=world.head_a, request_id=req.id, verdict="approve")
    approvals.decide(actor=world.governor, request_id=req.id, verdict="approve")
    actions = [e.action for e in events(world.g_a)]
    assert actions == ["transition_requested", "approved", "approved", "state_changed"]
    report = verify()
    assert report.ok and report.events_checked >= 4


def test_a_failed_action_leaves_the_database_unchanged(world):
    before_events = db.session.scalar(select(func.count()).select_from(Event))
    before_notes = db.session.scalar(select(func.count()).select_from(Notification))
    for bad in [
        dict(actor=world.expert_a, goal=world.g_a, transition="fail"),  # no reason
        dict(actor=world.expert_a, goal=world.g_a, transition="nope"),
        dict(actor=world.observer, goal=world.g_a, transition="drop", reason="x"),
    ]:
        with pytest.raises(GoalflowError):
            ask(world, bad.pop("actor"), bad.pop("goal"), bad.pop("transition"), **bad)
    assert db.session.scalar(select(func.count()).select_from(Event)) == before_events
    assert db.session.scalar(select(func.count()).select_from(Notification)) == before_notes
    assert db.session.scalar(select(func.count()).select_from(TransitionRequest)) == 0


def test_approvers_are_notified_once_per_stage(world):
    req = ask(world, world.expert_a, world.g_ab, "complete", data=achieved_for(world.g_ab))
    needed = db.session.scalars(select(Notification).where(Notification.kind == "approval_needed")).all()
    assert {n.recipient_id for n in needed} == {world.head_a.id, world.head_b.id}
    approvals.decide(actor=world.head_a, request_id=req.id, verdict="approve")
    approvals.decide(actor=world.head_b, request_id=req.id, verdict="approve")
    needed = db.session.scalars(select(Notification).where(Notification.kind == "approval_needed")).all()
    assert sorted(n.recipient_id for n in needed) == sorted([world.head_a.id, world.head_b.id, world.governor.id])
    assert all(n.locale == "bg" and "цел 2" in n.subject for n in needed)


def test_quorum_and_any_of_stages(world, monkeypatch):
    """A definition may ask for any one, or a quorum, of a stage's approvers."""
    from service.kernel import workflow_registry
    from workflows import StageDef

    wf = workflow_registry.workflow_for("goal")
    start = wf.transitions["start"]
    for rule, quorum, approvals_to_apply in (("any_of", None, 1), ("quorum", 2, 2)):
        stage = StageDef(**{**start.stages[0].__dict__, "rule": rule, "quorum": quorum, "requester_counts": False})
        monkeypatch.setitem(wf.transitions, "start", start.__class__(**{**start.__dict__, "stages": (stage,)}))
        goal = world.g_b
        goal.state, goal.units = "planned", [world.a, world.b]
        db.session.commit()
        req = ask(world, world.secretary, goal, "start")
        approvals.decide(actor=world.head_a, request_id=req.id, verdict="approve")
        if approvals_to_apply == 2:
            assert req.status == "open"
            approvals.decide(actor=world.head_b, request_id=req.id, verdict="approve")
        assert req.status == "approved" and goal.state == "in_progress"


def test_a_substitute_cannot_approve_her_own_request_for_the_absent_head(world):
    """The head names her expert as substitute; the expert asks, and cannot then approve for the head."""
    today = date.today()
    org.name_substitute(absent=world.head_a, substitute=world.expert_a, starts_on=today - timedelta(days=1),
                        ends_on=today + timedelta(days=5), actor=world.head_a)
    req = ask(world, world.expert_a, world.g_a, "complete", data=achieved_for(world.g_a))
    assert approvals.claims(world.expert_a, req) == []
    assert req.id not in [r.id for r, _ in approvals.pending_for(world.expert_a)]
    with pytest.raises(GoalflowError) as e:
        approvals.decide(actor=world.expert_a, request_id=req.id, verdict="approve")
    assert code_of(e) == "separation_of_duties" and e.value.status == 403
    assert req.stages[0].status == "active" and not req.decisions
    # nor is she emailed to decide it for the head
    asked = db.session.scalars(select(Notification).where(
        Notification.kind == "approval_needed", Notification.subject_id == req.id)).all()
    assert world.expert_a.id not in {n.recipient_id for n in asked}
    approvals.decide(actor=world.head_a, request_id=req.id, verdict="approve")
    assert req.stages[0].status == "approved"


def test_a_head_asking_does_not_decide_another_units_slot_as_its_substitute(world):
    today = date.today()
    org.name_substitute(absent=world.head_b, substitute=world.head_a, starts_on=today - timedelta(days=1),
                        ends_on=today + timedelta(days=5), actor=world.head_b)
    req = ask(world, world.head_a, world.g_ab, "complete", data=achieved_for(world.g_ab))
    # her own slot counts (in her own name, as the definition allows); АКРРДС's does not
    assert [(d.slot.unit_id, d.as_requester) for d in req.decisions] == [(world.a.id, True)]
    with pytest.raises(GoalflowError) as e:
        approvals.decide(actor=world.head_a, request_id=req.id, verdict="approve")
    assert code_of(e) == "separation_of_duties"
    approvals.decide(actor=world.head_b, request_id=req.id, verdict="approve")
    assert req.stages[1].status == "active"


def test_a_request_asked_as_a_substitute_never_counts_the_absent_persons_slot(world):
    today = date.today()
    org.name_substitute(absent=world.head_a, substitute=world.deputy, starts_on=today - timedelta(days=1),
                        ends_on=today + timedelta(days=5), actor=world.head_a)
    world.plan.state = "reporting"
    db.session.commit()
    req = ask(world, world.deputy, world.g_a, "drop", reason="отпада")  # the deputy may ask only for head_a
    assert req.requested_by_id == world.deputy.id and req.on_behalf_of_id == world.head_a.id
    assert req.decisions == [] and req.stages[0].status == "active"
    with pytest.raises(GoalflowError) as e:
        approvals.decide(actor=world.deputy, request_id=req.id, verdict="approve")
    assert code_of(e) == "separation_of_duties"
    approvals.decide(actor=world.head_a, request_id=req.id, verdict="approve")  # she did not ask: she decides
    assert req.stages[0].status == "approved"


def test_a_requests_claim_is_immutable_once_asked(world):
    from service.approvals.models import ClaimChanged

    req = ask(world, world.expert_a, world.g_a, "complete", data=achieved_for(world.g_a, "3"))
    req.reason = "друго"
    with pytest.raises(ClaimChanged):
        db.session.commit()
    db.session.rollback()
    req = db.session.get(TransitionRequest, req.id)
    req.data = achieved_for(world.g_a, "99")
    with pytest.raises(ClaimChanged):
        db.session.flush()
    db.session.rollback()
    assert db.session.get(TransitionRequest, req.id).data == achieved_for(world.g_a, "3")


def test_a_decision_on_an_object_that_moved_on_since_the_request_is_refused(world):
    req = ask(world, world.expert_a, world.g_a, "complete", data=achieved_for(world.g_a, "3"))
    world.g_a.title = "Друга цел"  # what the approvers would be deciding on is no longer what was asked
    db.session.commit()
    with pytest.raises(GoalflowError) as e:
        approvals.decide(actor=world.head_a, request_id=req.id, verdict="approve")
    assert code_of(e) == "claim_changed" and e.value.status == 409
    assert not db.session.get(TransitionRequest, req.id).decisions


def test_a_decision_on_a_request_that_changed_since_it_was_shown_says_what_changed(world):
    req = ask(world, world.expert_a, world.g_ab, "complete", data=achieved_for(world.g_ab))
    shown = req.version
    approvals.decide(actor=world.head_b, request_id=req.id, verdict="approve")
    with pytest.raises(GoalflowError) as e:
        approvals.decide(actor=world.head_a, request_id=req.id, verdict="approve", expected_version=shown)
    assert code_of(e) == "request_changed" and e.value.status == 409
    assert "Head B" in e.value.message("bg") and "Директори" in e.value.message("bg")
    assert e.value.current["decisions"][0]["decided_by"] == "Head B"
    approvals.decide(actor=world.head_a, request_id=req.id, verdict="approve",
                     expected_version=e.value.current["version"])
