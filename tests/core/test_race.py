"""Twenty processes decide the same request at the same moment: exactly one transition, every
round; every loser is told 409 (a conflict, with the request's current state), never 403.

Runs on PostgreSQL, where row locks are real and several processes really write at once.
"""

from __future__ import annotations

import multiprocessing as mp
import os

import pytest

from tests.conftest import (
    create_pg_database,
    drop_pg_database,
    pg_answers,
    service_missing,
    sqlalchemy_pg_url,
)

PROCESSES = 20
ROUNDS = int(os.environ.get("RACE_ROUNDS", "200"))
EXPECTED_LOSSES = {"request_closed", "conflict", "decision_overtaken", "request_changed"}


def _settings(url: str, var_dir: str):
    from pathlib import Path

    from tests.conftest import test_settings

    return test_settings(url, Path(var_dir))


def _decider(url: str, var_dir: str, email: str, barrier, inbox, results) -> None:
    """One process: wait for a request id, meet the others at the barrier, decide, report."""
    from service.app import create_app
    from service.approvals import service as approvals
    from service.kernel.errors import GoalflowError
    from service.org.service import user_by_email

    app = create_app(_settings(url, var_dir))
    with app.app_context():
        while True:
            request_id = inbox.get()
            if request_id is None:
                return
            actor = user_by_email(email)
            barrier.wait()
            try:
                req = approvals.decide(actor=actor, request_id=request_id, verdict="approve")
                results.put((request_id, "won", req.status))
            except GoalflowError as exc:
                results.put((request_id, "lost", exc.code, exc.status))
            except Exception as exc:  # anything else is a failure the test reports
                results.put((request_id, "error", repr(exc)))


@pytest.fixture(scope="module")
def race_db(tmp_path_factory):
    if not pg_answers():
        service_missing("PostgreSQL")
    name = create_pg_database()
    yield sqlalchemy_pg_url(name), str(tmp_path_factory.mktemp("race"))
    drop_pg_database(name)


@pytest.mark.postgres
@pytest.mark.slow
def test_simultaneous_decisions_apply_exactly_one_transition(race_db):
    from flask_migrate import upgrade
    from sqlalchemy import func, select

    from service.app import create_app
    from service.approvals import service as approvals
    from service.approvals.models import TransitionRequest
    from service.audit.models import Event
    from service.audit.service import verify
    from service.extensions import db
    from service.goals.models import Goal, Indicator
    from service.org import service as org
    from service.org.models import Role
    from tests.helpers import build_world

    url, var_dir = race_db
    app = create_app(_settings(url, var_dir))
    with app.app_context():
        upgrade()
        world = build_world("race")
        heads = [
            org.create_user(email=f"head{i}@race.bg", name=f"Head {i}", password="long enough 1",
                            administration=world.admin, roles=[(Role.HEAD, world.b)])
            for i in range(PROCESSES)
        ]
        goals = [
            Goal(plan=world.plan, number=100 + i, title=f"Race {i}", state="planned", units=[world.b],
                 indicators=[Indicator(name="x", target_text="1")])
            for i in range(ROUNDS)
        ]
        db.session.add_all(goals)
        db.session.commit()
        goal_ids = [g.id for g in goals]
        drop_ids = set(goal_ids[1::4])  # every fourth round races on a stage that moves on instead
        expert = world.expert_b

        ctx = mp.get_context("spawn")
        barrier = ctx.Barrier(PROCESSES)
        results = ctx.Queue()
        inboxes = [ctx.Queue() for _ in range(PROCESSES)]
        procs = [
            ctx.Process(target=_decider, args=(url, var_dir, h.email, barrier, inboxes[i], results), daemon=True)
            for i, h in enumerate(heads)
        ]
        for p in procs:
            p.start()
        try:
            for goal_id in goal_ids:
                req = approvals.request_transition(actor=expert, subject_type="goal", subject_id=goal_id,
                                                   transition="start")
                dropping = goal_id in drop_ids
                if dropping:  # a second chain, whose heads' stage moves on to the governor's
                    approvals.decide(actor=heads[0], request_id=req.id, verdict="approve")
                    req = approvals.request_transition(actor=expert, subject_type="goal", subject_id=goal_id,
                                                       transition="drop", reason="отпада")
                # head_b also holds the slot, but only the twenty racers decide
                for inbox in inboxes:
                    inbox.put(req.id)
                outcomes = [results.get(timeout=300) for _ in range(PROCESSES)]
                assert {o[0] for o in outcomes} == {req.id}
                errors = [o for o in outcomes if o[1] == "error"]
                assert not errors, errors
                winners = [o for o in outcomes if o[1] == "won"]
                assert len(winners) == 1, outcomes
                losers = [o for o in outcomes if o[1] == "lost"]
                assert len(losers) == PROCESSES - 1
                assert {o[3] for o in losers} == {409}, losers
                assert {o[2] for o in losers} <= EXPECTED_LOSSES
                assert winners[0][2] == ("open" if dropping else "approved")
        finally:
            for inbox in inboxes:
                inbox.put(None)
            for p in procs:
                p.join(timeout=30)

        db.session.expire_all()
        assert db.session.scalar(select(func.count()).select_from(Goal).where(
            Goal.id.in_(goal_ids), Goal.state == "in_progress")) == ROUNDS
        per_goal = db.session.execute(
            select(Event.subject_id, func.count()).where(Event.action == "state_changed", Event.subject_id.in_(goal_ids))
            .group_by(Event.subject_id)
        ).all()
        assert len(per_goal) == ROUNDS and all(count == 1 for _, count in per_goal)
        approvals_recorded = db.session.scalar(
            select(func.count()).select_from(Event).where(Event.action == "approved", Event.subject_id.in_(goal_ids)))
        assert approvals_recorded == ROUNDS + len(drop_ids)  # the drops' starts were approved once before
        waiting = db.session.scalars(select(TransitionRequest).where(
            TransitionRequest.subject_id.in_(drop_ids), TransitionRequest.status == "open")).all()
        assert len(waiting) == len(drop_ids)
        assert all(r.stages[0].status == "approved" and r.stages[1].status == "active" for r in waiting)
        assert all(len(r.decisions) == 1 for r in waiting)
        assert verify().ok
        db.engine.dispose()
