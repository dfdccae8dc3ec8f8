"""Listing transition requests reads their objects in one query per kind, however many there are."""

from __future__ import annotations

from sqlalchemy import event

from service.extensions import db
from tests.helpers import achieved_for


def statements_of(call) -> tuple[list[str], object]:
    seen: list[str] = []

    def count(conn, cursor, statement, *args):
        seen.append(" ".join(statement.split())[:140])

    db.session.rollback()  # a new transaction, as a new web request has: nothing remembered
    event.listen(db.engine, "before_cursor_execute", count)
    try:
        result = call()
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return seen, result


def test_the_request_list_costs_the_same_for_one_request_or_more(world, as_):
    expert, governor = as_("expert_a"), as_("governor")
    first = expert.post(f"/api/v1/goals/{world.g_a.id}/transitions",
                        json={"transition": "complete", "reason": "Готово", **achieved_for(world.g_a)})
    assert first.status_code == 201, first.json
    governor.get("/api/v1/approvals")  # warm: the token's last use recorded, the statements cached
    one, listed = statements_of(lambda: governor.get("/api/v1/approvals"))
    assert [item["id"] for item in listed.json["items"]] == [first.json["id"]]

    second = expert.post(f"/api/v1/goals/{world.g_ab.id}/transitions",
                         json={"transition": "complete", "reason": "Готово", **achieved_for(world.g_ab)})
    assert second.status_code == 201, second.json
    two, listed = statements_of(lambda: governor.get("/api/v1/approvals"))
    assert {item["id"] for item in listed.json["items"]} == {first.json["id"], second.json["id"]}
    assert len(two) == len(one), "\n".join(two)

    # and the head of the other directorate sees only what concerns it
    head_b = as_("head_b").get("/api/v1/approvals").json["items"]
    assert [item["id"] for item in head_b] == [second.json["id"]]


# An approval over the API: the token with its person and roles, then the decision (see
# tests/core/test_decision_reads.py). No sign-in failures are looked up without a password.
APPROVAL_BUDGET = {"postgresql": 6, "sqlite": 14}


def test_an_approval_over_the_api_stays_within_its_statements(world, as_):
    expert, head = as_("expert_b"), as_("head_b")
    first = expert.post(f"/api/v1/goals/{world.g_b.id}/transitions", json={"transition": "start"}).json
    head.get("/api/v1/approvals")  # warm: the token's last use recorded, the statements cached
    seen, answer = statements_of(lambda: head.post(f"/api/v1/approvals/{first['id']}/approve"))
    assert answer.status_code == 200, answer.json
    assert answer.json["status"] == "approved" and answer.json["claim"]["subject"]["id"] == world.g_b.id
    assert not [s for s in seen if "login_failures" in s]
    assert len(seen) <= APPROVAL_BUDGET[db.engine.dialect.name], (len(seen), seen)
