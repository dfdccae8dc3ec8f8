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
