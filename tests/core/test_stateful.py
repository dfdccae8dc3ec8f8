"""Random requests and decisions by random people; the invariants of docs/workflows.md hold throughout.

- only declared transitions happen;
- a state changes only after the request's whole chain approved it;
- at most one open request per goal;
- the events match the changes, and the hash chain verifies.
"""

from __future__ import annotations

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from sqlalchemy import func, select

from service.approvals import service as approvals
from service.approvals.models import OPEN, TransitionRequest
from service.audit.models import Event
from service.audit.service import verify
from service.extensions import db
from service.goals.models import Goal
from service.kernel.errors import GoalflowError
from service.kernel.workflow_registry import workflow_for
from tests.helpers import achieved_for, build_world

PEOPLE = ["governor", "deputy", "secretary", "head_a", "head_b", "expert_a", "expert_b", "observer", "sysadmin"]
GOALS = ["g_a", "g_ab", "g_b"]
TRANSITIONS = list(workflow_for("goal").transitions)
# Every refusal a client can provoke has its own code; anything else is a bug.
REFUSALS = {
    "not_found", "not_a_requester", "transition_not_declared", "transition_not_allowed_now", "reason_required",
    "open_request_exists", "transition_data_invalid", "not_an_approver", "already_decided", "separation_of_duties",
    "request_closed", "not_requester", "fresh_login_required", "decision_overtaken", "request_changed",
}


def make_machine(app):
    class GoalWorkflow(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            self.ctx = app.app_context()
            self.ctx.push()
            self.world = build_world()
            self.states = {name: getattr(self.world, name).state for name in GOALS}
            self.applied = dict.fromkeys(GOALS, 0)

        def teardown(self):
            from tests.conftest import _wipe

            self.ctx.pop()
            _wipe(app)

        def goal(self, name) -> Goal:
            return db.session.get(Goal, getattr(self.world, name).id)

        def _applied(self, name: str, req: TransitionRequest) -> None:
            if req.status == "approved":
                self.states[name] = req.to_state
                self.applied[name] += 1

        @rule(person=st.sampled_from(PEOPLE), goal=st.sampled_from(GOALS), transition=st.sampled_from(TRANSITIONS),
              reason=st.sampled_from(["", "Причина"]))
        def ask(self, person, goal, transition, reason):
            target = self.goal(goal)
            try:
                req = approvals.request_transition(
                    actor=getattr(self.world, person), subject_type="goal", subject_id=target.id,
                    transition=transition, reason=reason, data=achieved_for(target),
                )
            except GoalflowError as exc:
                assert exc.code in REFUSALS, exc.code
                return
            self._applied(goal, req)

        @rule(person=st.sampled_from(PEOPLE), verdict=st.sampled_from(["approve", "approve", "reject"]),
              comment=st.sampled_from(["", "Коментар"]))
        def decide(self, person, verdict, comment):
            open_requests = db.session.scalars(select(TransitionRequest).where(TransitionRequest.status == OPEN)).all()
            if not open_requests:
                return
            self.decide_on(open_requests[0], person, verdict, comment)

        def decide_on(self, req, person, verdict, comment):
            name = next(n for n in GOALS if getattr(self.world, n).id == req.subject_id)
            try:
                req = approvals.decide(actor=getattr(self.world, person), request_id=req.id, verdict=verdict,
                                       comment=comment)
            except GoalflowError as exc:
                assert exc.code in REFUSALS, exc.code
                return
            self._applied(name, req)

        @rule(person=st.sampled_from(PEOPLE), goal=st.sampled_from(GOALS), pick=st.integers(0, 10))
        def ask_something_allowed(self, person, goal, pick):
            """Mostly people ask for what they may: the chains then really run."""
            actor, target = getattr(self.world, person), self.goal(goal)
            allowed = approvals.allowed_transitions(actor, "goal", target)
            if allowed:
                self.ask(person, goal, allowed[pick % len(allowed)].name, "Причина")

        @rule(pick=st.integers(0, 10), verdict=st.sampled_from(["approve", "approve", "approve", "reject"]))
        def an_approver_decides(self, pick, verdict):
            req = db.session.scalar(select(TransitionRequest).where(TransitionRequest.status == OPEN))
            if req is None:
                return
            deciders = [p for p in PEOPLE if approvals.claims(getattr(self.world, p), req)]
            if deciders:
                self.decide_on(req, deciders[pick % len(deciders)], verdict, "Коментар")

        @rule(person=st.sampled_from(PEOPLE))
        def withdraw(self, person):
            req = db.session.scalar(select(TransitionRequest).where(TransitionRequest.status == OPEN))
            if req is None:
                return
            try:
                approvals.withdraw(actor=getattr(self.world, person), request_id=req.id)
            except GoalflowError as exc:
                assert exc.code in REFUSALS, exc.code

        @invariant()
        def states_change_only_as_the_model_says(self):
            for name in GOALS:
                assert self.goal(name).state == self.states[name]

        @invariant()
        def at_most_one_open_request_per_goal(self):
            counts = db.session.execute(
                select(TransitionRequest.subject_id, func.count()).where(TransitionRequest.status == OPEN)
                .group_by(TransitionRequest.subject_id)
            ).all()
            assert all(count == 1 for _, count in counts)

        @invariant()
        def only_declared_transitions_after_a_whole_chain(self):
            wf = workflow_for("goal")
            for event in db.session.scalars(select(Event).where(Event.action == "state_changed")):
                t = wf.transitions[event.after["transition"]]
                assert event.before["state"] in t.sources and event.after["state"] == t.dest
                req = db.session.get(TransitionRequest, event.request_id)
                assert req.status == "approved" and len(req.stages) == len(t.stages)
                for stage in req.stages:
                    approved = sum(s.status == "approved" for s in stage.slots)
                    assert stage.status == "approved" and approved >= stage.approvals_needed

        @invariant()
        def events_match_the_changes_and_the_chain_verifies(self):
            for name in GOALS:
                count = db.session.scalar(select(func.count()).select_from(Event).where(
                    Event.action == "state_changed", Event.subject_id == getattr(self.world, name).id))
                assert count == self.applied[name]
            assert verify().ok

    return GoalWorkflow


def test_random_requests_and_decisions_keep_the_invariants(app):
    machine = make_machine(app)
    run_state_machine_as_test(
        machine,
        settings=settings(max_examples=15, stateful_step_count=40, deadline=None,
                          suppress_health_check=list(HealthCheck)),
    )
