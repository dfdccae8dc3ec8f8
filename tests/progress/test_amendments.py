"""Amending an adopted plan: proposed, approved by the heads concerned and the governor, every
version kept, the documents say "актуализиран на …". On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from service.approvals import service as approvals
from service.audit.service import verify
from service.documents import parse_document
from service.extensions import db
from service.goals import amendments, documents
from service.goals.models import Goal, PlanAmendment, PlanVersion
from service.kernel.errors import GoalflowError


@pytest.fixture
def adopted(world):
    world.plan.state = "approved"
    world.plan.approved_at = datetime(2023, 1, 20, 9, tzinfo=UTC)
    world.plan.approved_by_id = world.governor.id
    db.session.commit()
    return world


def test_a_target_change_and_a_new_goal_go_through_the_heads_concerned_and_the_governor(adopted):
    w = adopted
    indicator = w.g_ab.indicators[0]
    amendment = amendments.propose(
        actor=w.secretary, plan_id=w.plan.id, reason="Нова наредба от май 2023 г.",
        changes=[
            {"goal_id": w.g_ab.id, "targets": {str(indicator.id): "3 бр."}, "deadline": "2023-11-30",
             "financing_amount": "12 500,50"},
            {"new_goal": {"title": "Въвеждане на електронни услуги", "unit_ids": [w.b.id, w.a.id],
                          "indicators": [{"name": "Нови услуги", "baseline": "0", "target": "5"}],
                          "financing_not_applicable": True, "activities": ["Анализ"]}},
        ],
    )
    assert amendment.state == "proposed"
    request = approvals.open_request("plan_amendment", amendment.id)
    assert [s.name for s in request.stages] == ["heads", "governor"]
    assert {slot.unit_id for slot in request.stages[0].slots} == {w.a.id, w.b.id}
    assert indicator.target_text == "1", "nothing changes before it is adopted"
    assert amendments.versions(w.plan)[0].number == 1 and amendments.amended_on(w.plan) is None

    approvals.decide(actor=w.head_a, request_id=request.id, verdict="approve")
    approvals.decide(actor=w.head_b, request_id=request.id, verdict="approve")
    with pytest.raises(GoalflowError):
        approvals.decide(actor=w.secretary, request_id=request.id, verdict="approve")
    approvals.decide(actor=w.governor, request_id=request.id, verdict="approve", now=datetime(2023, 6, 14, 9, tzinfo=UTC))
    db.session.expire_all()
    amendment = db.session.get(PlanAmendment, amendment.id)
    assert amendment.state == "adopted"
    goal = db.session.get(Goal, w.g_ab.id)
    assert (goal.indicators[0].target_text, goal.indicators[0].target) == ("3 бр.", 3)
    assert goal.deadline == date(2023, 11, 30) and str(goal.financing_amount) == "12500.50"
    new = db.session.scalar(db.select(Goal).where(Goal.plan_id == w.plan.id, Goal.number == 4))
    assert new.title == "Въвеждане на електронни услуги" and [u.code for u in new.units] == ["АКРРДС", "АПОФУС"]
    assert new.state == "planned" and new.indicators[0].target == 5

    history = amendments.versions(w.plan)
    assert [v.number for v in history] == [1, 2]
    assert len(history[0].snapshot) == 3 and len(history[1].snapshot) == 4, "every version kept whole"
    first_ab = next(g for g in history[0].snapshot if g["id"] == w.g_ab.id)
    assert first_ab["indicators"][0]["target"] == "1"
    assert amendments.targets_version(goal).number == 2
    assert amendments.targets_version(db.session.get(Goal, w.g_a.id)).number == 1
    assert amendments.targets_version(new).number == 2

    amended = amendments.amended_on(w.plan)
    assert amended is not None
    for fmt in ("docx", "xlsx"):
        again = parse_document(documents.render(w.plan, fmt=fmt, kind="plan").data)
        assert again.amended_on == amended and len(again.goals) == 4
    assert verify().ok


def test_a_rejected_or_bad_amendment_changes_nothing(adopted):
    w = adopted
    with pytest.raises(GoalflowError) as bad:
        amendments.propose(actor=w.secretary, plan_id=w.plan.id, reason="x",
                           changes=[{"goal_id": w.g_a.id, "targets": {"999999": "2"}}, {"goal_id": 424242}])
    assert bad.value.code == "invalid_input"
    assert {"changes.0.targets.999999", "changes.1.goal_id"} <= set(bad.value.fields)
    with pytest.raises(GoalflowError) as no_reason:
        amendments.propose(actor=w.secretary, plan_id=w.plan.id, reason=" ", changes=[{"goal_id": w.g_a.id, "deadline": "2023-10-01"}])
    assert no_reason.value.code == "reason_required"
    with pytest.raises(GoalflowError) as outsider:  # an expert of another unit asks for goal 3 (АКРРДС only)
        amendments.propose(actor=w.expert_a, plan_id=w.plan.id, reason="x", changes=[{"goal_id": w.g_b.id, "deadline": "2023-10-01"}])
    assert outsider.value.code == "not_a_requester"
    assert db.session.scalar(db.select(db.func.count()).select_from(PlanAmendment)) == 0

    amendment = amendments.propose(actor=w.expert_a, plan_id=w.plan.id, reason="Срокът се удължава.",
                                   changes=[{"goal_id": w.g_a.id, "deadline": "2024-03-31"}])
    request = approvals.open_request("plan_amendment", amendment.id)
    assert request.active_stage.name == "heads"  # an expert asked: the head decides
    approvals.decide(actor=w.head_a, request_id=request.id, verdict="approve")
    approvals.decide(actor=w.governor, request_id=request.id, verdict="reject", comment="Не е обосновано.")
    db.session.expire_all()
    assert db.session.get(Goal, w.g_a.id).deadline is None
    assert db.session.scalar(db.select(db.func.count()).select_from(PlanVersion)) == 0

    w.plan.state = "report_submitted"
    db.session.commit()
    with pytest.raises(GoalflowError) as late:
        amendments.propose(actor=w.secretary, plan_id=w.plan.id, reason="x", changes=[{"goal_id": w.g_a.id, "deadline": "2023-10-01"}])
    assert late.value.code == "plan_not_amendable"
