"""Whole stories told through the API alone, as docs/api.md tells them with curl."""

from __future__ import annotations

from service.extensions import db
from tests.helpers import achieved_for


def test_the_life_of_a_goal(client, world, as_):
    # A program signs in with a password and gets a token.
    r = client.post("/api/v1/auth/tokens", json={"email": "expert_a@test.bg", "password": world.password, "name": "script"})
    assert r.status_code == 201, r.json
    expert = as_(None)
    expert.token = r.json["token"]

    listed = expert.get("/api/v1/goals?state=in_progress&year=2023").json
    assert {g["number"] for g in listed["items"]} == {1, 2}  # goal 3 is planned; all visible to unit a's expert
    goal = expert.get(f"/api/v1/goals/{world.g_ab.id}")
    assert goal.headers["ETag"] == f'"{goal.json["version"]}"'
    assert [u["code"] for u in goal.json["units"]] == ["АПОФУС", "АКРРДС"]

    offered = [t["name"] for t in expert.get(f"/api/v1/goals/{world.g_ab.id}/transitions").json]
    assert "complete" in offered and "reopen" not in offered
    asked = expert.post(
        f"/api/v1/goals/{world.g_ab.id}/transitions",
        json={"transition": "complete", "reason": "Всичко е направено", **achieved_for(world.g_ab, "2")},
    )
    assert asked.status_code == 201, asked.json
    request_id = asked.json["id"]
    assert asked.json["status"] == "open" and asked.json["awaiting_me"] == []

    for head in ("head_a", "head_b"):
        inbox = as_(head).get("/api/v1/approvals?status=pending&mine=true").json
        assert [item["id"] for item in inbox["items"]] == [request_id]
        r = as_(head).post(f"/api/v1/approvals/{request_id}/approve", json={"comment": "Да"})
        assert r.status_code == 200, r.json
    assert as_("governor").get("/api/v1/approvals?status=pending&mine=true").json["total"] == 1
    done = as_("governor").post(f"/api/v1/approvals/{request_id}/approve", json={})
    assert done.json["status"] == "approved"
    assert as_("observer").get(f"/api/v1/goals/{world.g_ab.id}").json["state"] == "done"

    events = expert.get(f"/api/v1/goals/{world.g_ab.id}/events?per_page=100").json
    actions = [e["action"] for e in events["items"]]
    assert actions == ["transition_requested", "approved", "approved", "approved", "state_changed"]
    assert events["items"][-1]["after"]["state"] == "done"
    assert events["items"][1]["actor"]["name"] == "Head A"


def test_a_rejection_needs_a_reason_and_ends_the_request(world, as_):
    req = as_("expert_b").post(f"/api/v1/goals/{world.g_b.id}/transitions", json={"transition": "start"}).json
    missing = as_("head_b").post(f"/api/v1/approvals/{req['id']}/reject", json={})
    assert missing.status_code == 422 and "comment" in missing.json["errors"]
    r = as_("head_b").post(f"/api/v1/approvals/{req['id']}/reject", json={"comment": "Няма ресурс"})
    assert r.json["status"] == "rejected"
    again = as_("head_b").post(f"/api/v1/approvals/{req['id']}/approve")
    assert again.status_code == 409 and again.json["code"] == "request_closed"


def test_withdraw_only_by_the_requester(world, as_):
    req = as_("expert_b").post(f"/api/v1/goals/{world.g_b.id}/transitions", json={"transition": "start"}).json
    assert as_("head_b").post(f"/api/v1/approvals/{req['id']}/withdraw").json["code"] == "not_requester"
    r = as_("expert_b").post(f"/api/v1/approvals/{req['id']}/withdraw", json={"reason": "по-късно"})
    assert r.status_code == 200 and r.json["status"] == "withdrawn"


def test_a_substitute_sees_and_decides_for_the_absent_head(world, as_):
    from datetime import date, timedelta

    today = date.today()
    r = as_("head_b").post("/api/v1/substitutes", json={
        "substitute_id": world.head_a.id, "starts_on": str(today - timedelta(days=1)), "ends_on": str(today + timedelta(days=5)),
    })
    assert r.status_code == 201, r.json
    req = as_("expert_b").post(f"/api/v1/goals/{world.g_b.id}/transitions", json={"transition": "start"}).json
    inbox = as_("head_a").get("/api/v1/approvals?status=pending&mine=true").json["items"]
    assert [i["id"] for i in inbox] == [req["id"]]
    assert inbox[0]["awaiting_me"][0]["on_behalf_of"]["id"] == world.head_b.id
    decided = as_("head_a").post(f"/api/v1/approvals/{req['id']}/approve").json
    assert decided["status"] == "approved"
    assert decided["decisions"][-1]["on_behalf_of"]["id"] == world.head_b.id
    # The substitution ends: the goal of unit b is out of head_a's sight again.
    assert as_("head_b").delete(f"/api/v1/substitutes/{r.json['id']}").status_code == 204
    assert as_("head_a").get(f"/api/v1/goals/{world.g_b.id}").status_code == 404


def test_drafting_a_plan_and_its_sign_off(world, as_):
    secretary, governor = as_("secretary"), as_("governor")
    plan = secretary.post("/api/v1/plans", json={"year": 2026})
    assert plan.status_code == 201 and plan.json["state"] == "draft" and plan.json["currency"] == "EUR"
    plan_id = plan.json["id"]
    # An expert drafts a goal for their own unit, and not for another's.
    assert as_("expert_a").post(f"/api/v1/plans/{plan_id}/goals", json={
        "number": 1, "title": "Чужда цел", "unit_ids": [world.b.id]}).status_code == 403
    made = as_("expert_a").post(f"/api/v1/plans/{plan_id}/goals", json={
        "number": 1, "title": "Нова цел", "unit_ids": [world.a.id],
        "indicators": [{"name": "Брой проверки", "target": 12, "target_text": "12"}],
        "activities": [{"title": "Проверки", "deadline": "2026-06-30"}],
    })
    assert made.status_code == 201, made.json
    goal_id, etag = made.json["id"], made.headers["ETag"]

    no_match = as_("expert_a").patch(f"/api/v1/goals/{goal_id}", json={"title": "x"})
    assert no_match.status_code == 428 and no_match.json["code"] == "precondition_required"
    edited = as_("expert_a").patch(f"/api/v1/goals/{goal_id}", json={
        "title": "Нова цел (редакция)", "financing_amount": 1500.5,
        "indicators": [{"name": "Брой проверки", "target": 10}, {"name": "Доклади", "target": 2}],
    }, headers={"If-Match": etag})
    assert edited.status_code == 200, edited.json
    assert edited.headers["ETag"] != etag and len(edited.json["indicators"]) == 2
    assert edited.json["financing_amount"] == "1500.50"
    stale = as_("expert_a").patch(f"/api/v1/goals/{goal_id}", json={"title": "y"}, headers={"If-Match": etag})
    assert stale.status_code == 412 and stale.json["code"] == "stale_version"
    assert as_("observer").patch(f"/api/v1/goals/{goal_id}", json={"title": "y"},
                                 headers={"If-Match": edited.headers["ETag"]}).status_code == 403

    submitted = secretary.post(f"/api/v1/plans/{plan_id}/transitions", json={"transition": "submit"})
    assert submitted.status_code == 201 and submitted.json["status"] == "approved"
    assert governor.get(f"/api/v1/plans/{plan_id}").json["state"] == "submitted"
    # Once submitted, the goals are frozen.
    frozen = as_("expert_a").patch(f"/api/v1/goals/{goal_id}", json={"title": "z"},
                                   headers={"If-Match": edited.headers["ETag"]})
    assert frozen.status_code == 409 and frozen.json["code"] == "plan_not_draft"
    # The submission asked for the governor's signature: a request in his inbox.
    inbox = governor.get("/api/v1/approvals?status=pending&mine=true").json["items"]
    assert [(r["subject_type"], r["transition"]) for r in inbox] == [("plan", "approve")]
    signoff = inbox[0]["id"]
    # The governor's signature needs a fresh sign-in: a token alone is not one.
    unsigned = governor.post(f"/api/v1/approvals/{signoff}/approve")
    assert unsigned.status_code == 401 and unsigned.json["code"] == "fresh_login_required"
    wrong = governor.post(f"/api/v1/approvals/{signoff}/approve", json={"password": "nope"})
    assert wrong.status_code == 401
    assert governor.get(f"/api/v1/plans/{plan_id}").json["state"] == "submitted"
    signed = governor.post(f"/api/v1/approvals/{signoff}/approve", json={"password": world.password})
    assert signed.status_code == 200, signed.json
    assert signed.json["status"] == "approved"
    assert governor.get(f"/api/v1/plans/{plan_id}").json["state"] == "approved"


def test_admin_manages_people_and_units(world, as_):
    admin = as_("sysadmin")
    unit = admin.post("/api/v1/units", json={"code": "ОТД", "name": "Отдел", "kind": "department", "parent_id": world.a.id})
    assert unit.status_code == 201, unit.json
    person = admin.post("/api/v1/users", json={
        "email": "new.expert@test.bg", "name": "Нов експерт", "password": "dlouhé heslo",
        "roles": [{"role": "expert", "unit_id": unit.json["id"]}],
    })
    assert person.status_code == 201, person.json
    # A department's expert sees the directorate's goals? No: a role covers the units below it, not above.
    from service.auth.service import issue_token

    newcomer = as_(None)
    newcomer.token = issue_token(user=db.session.get(type(world.head_a), person.json["id"]))[1]
    assert newcomer.get("/api/v1/goals").json["total"] == 0
    moved = admin.patch(f"/api/v1/users/{person.json['id']}", json={"roles": [{"role": "expert", "unit_id": world.a.id}]})
    assert moved.status_code == 200 and moved.json["roles"] == [{"role": "expert", "unit_id": world.a.id}]
    assert newcomer.get("/api/v1/goals").json["total"] == 2
    disabled = admin.patch(f"/api/v1/users/{person.json['id']}", json={"active": False})
    assert disabled.json["active"] is False
    assert newcomer.get("/api/v1/goals").status_code == 401


def test_a_quarter_of_progress(world, as_):
    opened = as_("secretary").post("/api/v1/campaigns", json={"plan_id": world.plan.id, "quarter": 1})
    assert opened.status_code == 201, opened.json
    assert as_("expert_a").post("/api/v1/campaigns", json={"plan_id": world.plan.id, "quarter": 2}).status_code == 403
    mine = as_("expert_a").get(f"/api/v1/progress-reports?campaign={opened.json['id']}&state=requested").json
    # Unit a answers for goals 1 and 2; goal 2's unit b report is not unit a's to see.
    assert sorted((r["goal"]["number"], r["unit"]["code"]) for r in mine["items"]) == [(1, "АПОФУС"), (2, "АПОФУС")]
    report = next(r for r in mine["items"] if r["goal"]["number"] == 1)
    url = f"/api/v1/progress-reports/{report['id']}"
    indicator = str(world.g_a.indicators[0].id)

    assert as_("expert_b").get(url).status_code == 404
    submitted = as_("expert_a").post(f"{url}/submit", json={"achieved": {indicator: "0,5"}, "narrative": "Половината", "risk": "at_risk"})
    assert submitted.status_code == 200, submitted.json
    assert submitted.json["state"] == "submitted" and submitted.json["values"][0]["achieved"] == "0.5000"
    assert as_("head_a").post(f"{url}/return", json={}).status_code == 422
    returned = as_("head_a").post(f"{url}/return", json={"reason": "Добавете подробности"}, headers={"If-Match": submitted.headers["ETag"]})
    assert returned.json["state"] == "requested" and returned.json["return_reason"] == "Добавете подробности"
    again = as_("expert_a").post(f"{url}/submit", json={"achieved": {indicator: "0,6"}, "narrative": "Подробно"})
    assert again.status_code == 200
    assert as_("head_b").post(f"{url}/accept").status_code == 404  # not theirs to see
    assert as_("head_a").post(f"{url}/accept", headers={"If-Match": submitted.headers["ETag"]}).status_code == 412
    accepted = as_("head_a").post(f"{url}/accept", json={"comment": "Добре"})
    assert accepted.status_code == 200 and accepted.json["state"] == "accepted"


def test_a_decision_binds_to_the_version_shown_and_a_lost_race_is_409(world, as_):
    req = as_("expert_a").post(f"/api/v1/goals/{world.g_ab.id}/transitions", json={
        "transition": "complete", "achieved": {str(i.id): "1" for i in world.g_ab.indicators},
    }).json
    shown = as_("head_a").get(f"/api/v1/approvals/{req['id']}")
    assert as_("head_b").post(f"/api/v1/approvals/{req['id']}/approve").status_code == 200
    stale = as_("head_a").post(f"/api/v1/approvals/{req['id']}/approve", headers={"If-Match": shown.headers["ETag"]})
    assert stale.status_code == 409 and stale.json["code"] == "request_changed"
    assert stale.json["current"]["decisions"][0]["decided_by"] == "Head B"
    fresh = as_("head_a").get(f"/api/v1/approvals/{req['id']}")
    ok = as_("head_a").post(f"/api/v1/approvals/{req['id']}/approve", headers={"If-Match": fresh.headers["ETag"]})
    assert ok.status_code == 200
    # the heads' stage has moved on to the governor: a head deciding again is a conflict, not forbidden
    late = as_("head_a").post(f"/api/v1/approvals/{req['id']}/approve")
    assert late.status_code == 409 and late.json["code"] == "decision_overtaken"
    assert late.json["current"]["stage"] == "governor"
