"""A decision reads each thing once and writes everything in one go: the round trips a decision
costs are the approval API's throughput (docs/benchmarks.md). Reads remembered for a transaction
are forgotten as soon as what they depend on changes."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import event, text

from service.approvals import service as approvals
from service.audit.service import verify
from service.extensions import db
from service.kernel import authz
from service.kernel.errors import GoalflowError
from service.org.models import Substitution

# The service call without the API's token. On PostgreSQL: the request with its goal and its
# administration's audit chain head (the three locked, with the request's stages, slots and
# decisions and the goal's plan and units), the people with whom the decider stands in for and the
# unit tree (one query); then the writes: the request with its stage, slot, decision and goal (one
# statement), the chain head's advance with the events (one statement), the outbox rows: 5. SQLite
# writes each row apart and locks nothing. A new N+1 or a read repeated breaks it (it was 19 before
# the decision was made cheaper).
STATEMENT_BUDGET = {"postgresql": 5, "sqlite": 13}


class Statements:
    def __init__(self):
        self.seen: list[str] = []

    def __enter__(self):
        event.listen(db.engine, "before_cursor_execute", self._on)
        return self

    def __exit__(self, *exc):
        event.remove(db.engine, "before_cursor_execute", self._on)

    def _on(self, conn, cursor, statement, parameters, *args):
        self.seen.append(f"{' '.join(statement.split())} {parameters!r}")


def test_a_decision_reads_each_thing_once_and_not_again_after_the_commit(world):
    request = approvals.request_transition(
        actor=world.expert_b, subject_type="goal", subject_id=world.g_b.id, transition="start"
    )
    db.session.expire_all()  # as in a new web request: nothing loaded yet
    request_id = request.id
    head_b = db.session.get(type(world.head_b), world.head_b.id)
    _ = head_b.roles
    with Statements() as sql:
        decided = approvals.decide(actor=head_b, request_id=request_id, verdict="approve")
    reads = [s for s in sql.seen if s.upper().startswith("SELECT")]
    assert len(reads) == len(set(reads)), "\n".join(s[:150] for s in sql.seen)
    assert len(sql.seen) <= STATEMENT_BUDGET[db.engine.dialect.name], (len(sql.seen), [s[:60] for s in sql.seen])

    # the answer is built from what the decision wrote, not read again
    with Statements() as after:
        answer = (decided.status, decided.version, [s.status for s in decided.stages],
                  [[slot.status for slot in s.slots] for s in decided.stages],
                  [(d.verdict, d.decided_by.name) for d in decided.decisions], decided.requested_by.name)
    assert after.seen == []
    assert answer[0] == "approved" and answer[2] == ["approved"] and answer[3] == [["approved"]]
    assert answer[4] == [("approve", head_b.name)]

    # the goal is part of the answer (its claim names it), as the decision wrote it
    with Statements() as kept:
        assert world.g_b.state == "in_progress" and world.g_b.version == 2
    assert kept.seen == []
    # everything else is expired by the commit as usual: the next transaction reads it afresh
    with Statements() as fresh:
        assert world.g_a.state
    assert fresh.seen
    assert verify().ok


def _row(sql: str, **params):
    with db.engine.connect() as other:  # another connection: what is in the database, not in the session
        return other.execute(text(sql), params).one()


def test_the_decision_writes_the_goal_with_the_request(world, backend):
    request = approvals.request_transition(
        actor=world.expert_b, subject_type="goal", subject_id=world.g_b.id, transition="start"
    )
    before = _row("SELECT state, version, updated_at FROM goals WHERE id = :id", id=world.g_b.id)
    approvals.decide(actor=world.head_b, request_id=request.id, verdict="approve")
    state, version, updated_at = _row("SELECT state, version, updated_at FROM goals WHERE id = :id", id=world.g_b.id)
    assert (state, version) == ("in_progress", before.version + 1)
    assert updated_at > before.updated_at
    assert _row("SELECT status, version FROM transition_requests WHERE id = :id", id=request.id) == ("approved", 2)
    assert _row("SELECT count(*) FROM decisions WHERE request_id = :id", id=request.id)[0] == 1
    assert _row("SELECT count(*) FROM stage_slots s JOIN request_stages t ON t.id = s.stage_id "
                "WHERE t.request_id = :id AND s.status = 'approved'", id=request.id)[0] == 1
    assert verify().ok


def test_an_object_changed_behind_the_decision_writes_nothing_of_it(world):
    """The goal's row is locked while a decision is made; were it changed anyway (by a session
    that does not take the lock), the decision's one statement writes nothing: no decision, no
    event, no message, the request still open."""
    request = approvals.request_transition(
        actor=world.expert_b, subject_type="goal", subject_id=world.g_b.id, transition="start"
    )
    counts = "SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM notifications), (SELECT count(*) FROM decisions)"
    before = _row(counts)

    def behind(session, *_):
        session.connection().execute(text("UPDATE goals SET version = version + 10 WHERE id = :id"), {"id": world.g_b.id})

    event.listen(db.session, "before_flush", behind, insert=True)
    try:
        with pytest.raises(GoalflowError) as refused:
            approvals.decide(actor=world.head_b, request_id=request.id, verdict="approve")
    finally:
        event.remove(db.session, "before_flush", behind)
    assert refused.value.status == 409
    assert _row(counts) == before
    assert _row("SELECT status, version FROM transition_requests WHERE id = :id", id=request.id) == ("open", 1)
    assert _row("SELECT state, version FROM goals WHERE id = :id", id=world.g_b.id) == ("planned", 1)
    assert verify().ok


def test_someone_of_another_administration_never_locks_its_audit_chain(world, backend):
    """Request ids are global: a decision on another administration's request is refused as not
    found, and on the way it locks nothing of that administration's audit chain (whose lock every
    decision there waits for). Its own head does lock it, with the request."""
    if backend != "postgresql":
        pytest.skip("row locks: PostgreSQL only")
    from sqlalchemy.exc import OperationalError

    from service.approvals.service import _locked_visible_request
    from service.db import utcnow
    from tests.helpers import build_world

    other = build_world("other")
    request = approvals.request_transition(
        actor=world.expert_b, subject_type="goal", subject_id=world.g_b.id, transition="start"
    )

    def chain_locked() -> bool:
        with db.engine.connect() as elsewhere:
            try:
                elsewhere.execute(text("SELECT seq FROM audit_chain_heads WHERE chain_id = :c FOR UPDATE NOWAIT"),
                                  {"c": world.admin.id}).all()
                return False
            except OperationalError:
                return True

    try:
        with pytest.raises(GoalflowError) as refused:  # the session's transaction stays open, as it was left
            _locked_visible_request(other.head_b, request.id, utcnow())
        assert refused.value.status == 404
        assert not chain_locked()
    finally:
        db.session.rollback()
    try:
        _locked_visible_request(world.head_b, request.id, utcnow())
        assert chain_locked()
    finally:
        db.session.rollback()


def test_the_chain_head_advances_once_per_event_within_one_transaction(world):
    request = approvals.request_transition(
        actor=world.expert_b, subject_type="goal", subject_id=world.g_b.id, transition="start"
    )
    approvals.decide(actor=world.head_b, request_id=request.id, verdict="approve")
    report = verify()
    # request_submitted, approved and state_changed (two of them in the decision's transaction)
    assert report.ok and report.events_checked >= 3


def test_a_substitution_named_inside_the_transaction_is_seen_by_the_next_question(world):
    today = date.today()
    assert authz.absent_principals(world.head_a, today) == []
    db.session.add(Substitution(absent_id=world.head_b.id, substitute_id=world.head_a.id,
                                starts_on=today, ends_on=today))
    db.session.flush()
    assert [u.id for u in authz.absent_principals(world.head_a, today)] == [world.head_b.id]
    db.session.rollback()
    assert authz.absent_principals(world.head_a, today) == []
