"""The audit chain names the first broken link when a row is changed or deleted."""

from __future__ import annotations

from sqlalchemy import delete, select, update

from service.approvals import service as approvals
from service.audit.models import Event
from service.audit.service import verify
from service.extensions import db
from tests.helpers import achieved_for


def drive(world):
    req = approvals.request_transition(actor=world.expert_a, subject_type="goal", subject_id=world.g_a.id,
                                       transition="complete", data=achieved_for(world.g_a))
    approvals.decide(actor=world.head_a, request_id=req.id, verdict="approve")
    approvals.decide(actor=world.governor, request_id=req.id, verdict="approve")


def chain_events(world):
    return db.session.scalars(select(Event).where(Event.chain_id == world.admin.id).order_by(Event.seq)).all()


def test_intact_chain_verifies(world):
    drive(world)
    report = verify()
    assert report.ok
    assert report.events_checked == db.session.scalar(select(db.func.count()).select_from(Event))


def test_a_changed_row_is_named(world):
    drive(world)
    target = chain_events(world)[-2]
    db.session.execute(update(Event).where(Event.id == target.id).values(reason="подправено"))
    db.session.commit()
    report = verify()
    assert not report.ok
    assert (report.chain_id, report.seq, report.event_id) == (world.admin.id, target.seq, target.id)
    assert "hash" in report.problem


def test_a_deleted_row_is_named(world):
    drive(world)
    victim = chain_events(world)[3]
    db.session.execute(delete(Event).where(Event.id == victim.id))
    db.session.commit()
    report = verify()
    assert not report.ok and report.seq == victim.seq and "missing" in report.problem


def test_a_truncated_tail_is_detected(world):
    drive(world)
    last = chain_events(world)[-1]
    db.session.execute(delete(Event).where(Event.id == last.id))
    db.session.commit()
    report = verify()
    assert not report.ok and report.chain_id == world.admin.id and "ends before" in report.problem


def test_cli_reports_the_break(world, ctx):
    drive(world)
    runner = ctx.test_cli_runner()
    ok = runner.invoke(args=["verify-audit"])
    assert ok.exit_code == 0 and "intact" in ok.output
    target = chain_events(world)[1]
    db.session.execute(update(Event).where(Event.id == target.id).values(action="forged"))
    db.session.commit()
    broken = runner.invoke(args=["verify-audit"])
    assert broken.exit_code == 1 and f"at event {target.seq}" in broken.output
