from service.approvals import service as approvals
from tests.helpers import achieved_for


def test_complete_goal_with_two_units(world):
    req = approvals.request_transition(
        actor=world.expert_a, subject_type="goal", subject_id=world.g_ab.id, transition="complete",
        data=achieved_for(world.g_ab),
    )
    assert req.status == "open"
    approvals.decide(actor=world.head_a, request_id=req.id, verdict="approve")
    approvals.decide(actor=world.head_b, request_id=req.id, verdict="approve")
    assert world.g_ab.state == "in_progress"
    req = approvals.decide(actor=world.governor, request_id=req.id, verdict="approve")
    assert req.status == "approved"
    assert world.g_ab.state == "done"
