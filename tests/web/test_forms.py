"""The pages' forms through the test client, on SQLite and PostgreSQL: validation next to the
field, typed input kept, nothing done twice, nothing done by someone who may not."""

from __future__ import annotations

import re
from datetime import timedelta

from service.approvals import service as approvals
from service.approvals.models import Decision, TransitionRequest
from service.extensions import db
from tests.helpers import achieved_for
from tests.web.test_pages import login, token


def post(client, path, data, page=None):
    return client.post(path, data={**data, "csrf_token": token(client, page or path.rsplit("/", 1)[0] or "/")})


def csrf_of(client, page="/"):
    return token(client, page)


def test_a_form_without_its_csrf_token_is_refused(world, client):
    login(client, world.expert_a, world.password)
    response = client.post(f"/goals/{world.g_a.id}/transitions", data={"transition": "fail", "reason": "x"})
    assert response.status_code == 400
    assert approvals.open_request("goal", world.g_a.id) is None


def test_refused_transition_says_why_next_to_the_field_and_keeps_the_input(world, client):
    login(client, world.expert_a, world.password)
    page = f"/goals/{world.g_ab.id}"
    first, second = (str(i.id) for i in world.g_ab.indicators)
    response = client.post(f"{page}/transitions", data={
        "csrf_token": csrf_of(client, page), "transition": "complete", "reason": "моят текст",
        "version": world.g_ab.version, f"achieved-{first}": "7", f"achieved-{second}": " ",
    })
    assert response.status_code == 422, response.text[:2000]
    html = response.text
    assert f'id="achieved-{second}-error"' in html
    assert 'value="7"' in html and "моят текст" in html
    assert approvals.open_request("goal", world.g_ab.id) is None


def test_a_second_submit_of_the_same_form_does_not_act_twice(world, client):
    login(client, world.expert_a, world.password)
    page = f"/goals/{world.g_a.id}"
    form = {"csrf_token": csrf_of(client, page), "transition": "complete", "version": world.g_a.version,
            **{f"achieved-{k}": v for k, v in achieved_for(world.g_a)["achieved"].items()}}
    assert client.post(f"{page}/transitions", data=form).status_code == 302
    again = client.post(f"{page}/transitions", data=form)
    assert again.status_code == 409
    assert db.session.scalar(db.select(db.func.count()).select_from(TransitionRequest)) == 1


def test_a_decision_sent_twice_is_recorded_once(world, client):
    req = approvals.request_transition(
        actor=world.expert_a, subject_type="goal", subject_id=world.g_ab.id, transition="complete",
        data=achieved_for(world.g_ab),
    )
    approvals.decide(actor=world.head_b, request_id=req.id, verdict="approve")
    login(client, world.head_a, world.password)
    form = {"csrf_token": csrf_of(client, f"/goals/{world.g_ab.id}"), "version": req.version, "comment": ""}
    assert client.post(f"/requests/{req.id}/approve", data=form).status_code == 302
    again = client.post(f"/requests/{req.id}/approve", data=form)
    assert again.status_code == 409  # the request changed since that page: never a second decision
    assert db.session.scalar(
        db.select(db.func.count()).select_from(Decision).where(Decision.decided_by_id == world.head_a.id)
    ) == 1


def test_bulk_decisions_are_recorded_one_by_one_with_their_outcomes(world, client):
    mine = [
        approvals.request_transition(actor=world.expert_a, subject_type="goal", subject_id=g.id,
                                     transition="complete", data=achieved_for(g))
        for g in (world.g_a, world.g_ab)
    ]
    other = approvals.request_transition(actor=world.expert_b, subject_type="goal", subject_id=world.g_b.id,
                                         transition="start")
    ids = [r.id for r in mine]
    login(client, world.head_a, world.password)
    inbox = client.get("/approvals").text
    assert all(f'value="{i}"' in inbox for i in ids)
    assert f'value="{other.id}"' not in inbox  # another directorate's request is not theirs
    response = client.post("/approvals", data={
        "csrf_token": csrf_of(client, "/approvals"), "verdict": "approve", "comment": "",
        "request": [*map(str, ids), str(other.id)],
        **{f"version-{r.id}": r.version for r in mine},
    })
    assert response.status_code == 200
    outcomes = dict(re.findall(r'data-request="(\d+)" data-ok="(yes|no)"', response.text))
    assert outcomes == {str(ids[0]): "yes", str(ids[1]): "yes", str(other.id): "no"}
    for request_id in ids:
        decisions = db.session.scalars(db.select(Decision).where(Decision.request_id == request_id)).all()
        assert [(d.decided_by_id, d.verdict) for d in decisions] == [(world.head_a.id, "approve")]
    assert not db.session.scalars(db.select(Decision).where(Decision.request_id == other.id)).all()


def test_bulk_reject_needs_a_reason_and_keeps_the_choice(world, client):
    req = approvals.request_transition(actor=world.expert_a, subject_type="goal", subject_id=world.g_a.id,
                                       transition="complete", data=achieved_for(world.g_a))
    login(client, world.head_a, world.password)
    response = client.post("/approvals", data={
        "csrf_token": csrf_of(client, "/approvals"), "verdict": "reject", "comment": " ", "request": [str(req.id)],
    })
    assert response.status_code == 422
    assert 'id="comment-error"' in response.text
    assert re.search(rf'value="{req.id}" id="req-{req.id}"\s+checked', response.text)
    db.session.expire_all()
    assert db.session.get(TransitionRequest, req.id).status == "open"


def test_the_governor_signs_only_after_entering_the_password_again(world, client):
    world.plan.state = "submitted"
    db.session.commit()
    login(client, world.governor, world.password)
    with client.session_transaction() as session:  # the sign-in was long ago
        from datetime import datetime

        at = datetime.fromisoformat(session["login_at"]) - timedelta(hours=2)
        session["login_at"] = at.isoformat()
    plan_page = f"/plans/{world.plan.id}"
    preview = client.get(f"{plan_page}/preview")
    assert "УТВЪРЖДАВАМ" in preview.text
    form = {"csrf_token": csrf_of(client, plan_page), "transition": "approve", "version": world.plan.version}
    response = client.post(f"{plan_page}/transitions", data=form)
    assert response.status_code == 302 and "/reauth" in response.location
    db.session.refresh(world.plan)
    assert world.plan.state == "submitted"

    wrong = client.post(response.location, data={"csrf_token": csrf_of(client, "/reauth"), "password": "nope"})
    assert wrong.status_code == 401
    right = client.post(response.location, data={"csrf_token": csrf_of(client, "/reauth"), "password": world.password})
    assert right.status_code == 302 and right.location.endswith(f"{plan_page}/preview")
    assert client.post(f"{plan_page}/transitions", data=form).status_code == 302
    db.session.refresh(world.plan)
    assert world.plan.state == "approved" and world.plan.approved_by_id == world.governor.id


def test_only_the_governor_is_offered_the_signature(world, client):
    world.plan.state = "submitted"
    db.session.commit()
    login(client, world.secretary, world.password)
    forced = client.post(f"/plans/{world.plan.id}/transitions", data={
        "csrf_token": csrf_of(client, f"/plans/{world.plan.id}"), "transition": "approve",
    })
    assert forced.status_code == 302  # she may ask for the signature: a request in the governor's inbox
    db.session.refresh(world.plan)
    assert world.plan.state == "submitted"
    signoff = approvals.open_request("plan", world.plan.id)
    page = client.get(f"/plans/{world.plan.id}/preview").text
    assert 'id="plan-action-approve"' not in page and f'/requests/{signoff.id}/approve' not in page
    assert approvals.claims(world.secretary, signoff) == []


def test_the_governor_finds_the_submitted_report_at_home_and_in_the_inbox_signs_it_and_the_preview_says_so(
    world, client,
):
    login(client, world.secretary, world.password)
    page = f"/plans/{world.plan.id}"
    assert client.post(f"{page}/transitions", data={
        "csrf_token": csrf_of(client, page), "transition": "submit_report", "version": world.plan.version,
    }).status_code == 302
    signoff = approvals.open_request("plan", world.plan.id)
    client.post("/logout", data={"csrf_token": csrf_of(client, "/")})
    login(client, world.governor, world.password)
    home = client.get("/").text
    assert re.search(r'id="pending-h">[^<]*<span class="count">1</span>', home)
    inbox = client.get("/approvals").text
    assert f'value="{signoff.id}"' in inbox and "Утвърждаване на отчета" in inbox
    preview = client.get(f"{page}/preview").text
    assert "(все още не е подписан)" in preview and "Внесен за подпис от Secretary" in preview
    signed = client.post("/approvals", data={
        "csrf_token": csrf_of(client, "/approvals"), "verdict": "approve", "comment": "",
        "request": [str(signoff.id)], f"version-{signoff.id}": str(signoff.version),
    })
    assert signed.status_code == 200 and 'data-ok="yes"' in signed.text
    db.session.refresh(world.plan)
    assert world.plan.state == "report_approved" and world.plan.report_approved_by_id == world.governor.id
    preview = client.get(f"{page}/preview").text
    assert re.search(r'id="signed-by">Подписан от Governor на \d{2}\.\d{2}\.\d{4} \d{2}:\d{2}', preview) and "(все още не е подписан)" not in preview


def test_password_change_validates_and_ends_other_sessions(world, app):
    first, second = app.test_client(), app.test_client()
    login(first, world.head_a, world.password)
    login(second, world.head_a, world.password)
    bad = first.post("/account/password", data={
        "csrf_token": csrf_of(first, "/account"), "current_password": "wrong", "new_password": "нова парола 1",
        "confirm_password": "нова парола 1",
    })
    assert bad.status_code == 422 and 'id="current_password-error"' in bad.text
    differ = first.post("/account/password", data={
        "csrf_token": csrf_of(first, "/account"), "current_password": world.password,
        "new_password": "нова парола 1", "confirm_password": "друга",
    })
    assert differ.status_code == 422 and 'id="confirm_password-error"' in differ.text
    good = first.post("/account/password", data={
        "csrf_token": csrf_of(first, "/account"), "current_password": world.password,
        "new_password": "нова парола 1", "confirm_password": "нова парола 1",
    })
    assert good.status_code == 302
    from flask import g

    g.pop("_login_user", None)  # the test's shared app context would keep the last request's user
    assert first.get("/account").status_code == 200  # this session goes on
    g.pop("_login_user", None)
    assert second.get("/account").status_code == 302  # the other one is over


def test_tokens_are_shown_once_and_can_be_revoked(world, client):
    from service.auth import service as tokens

    login(client, world.expert_a, world.password)
    bad = client.post("/account/tokens", data={"csrf_token": csrf_of(client, "/account"), "name": "x", "days": "999"})
    assert bad.status_code == 422 and 'id="days-error"' in bad.text
    made = client.post("/account/tokens", data={"csrf_token": csrf_of(client, "/account"), "name": "отчети", "days": "30"})
    assert made.status_code == 201
    secret = re.search(r'<code class="secret">([^<]+)</code>', made.text).group(1)
    assert tokens.user_for_token(secret).id == world.expert_a.id
    assert secret not in client.get("/account").text
    (token_row,) = tokens.list_tokens(world.expert_a)
    client.post(f"/account/tokens/{token_row.id}/revoke", data={"csrf_token": csrf_of(client, "/account")})
    assert tokens.user_for_token(secret) is None


def test_a_substitute_sees_and_decides_for_the_absent_head(world, client, app):
    from datetime import date

    login(client, world.head_a, world.password)
    bad = client.post("/account/substitutes", data={
        "csrf_token": csrf_of(client, "/account"), "substitute_id": world.head_b.id, "starts_on": "2.3.", "ends_on": "",
    })
    assert bad.status_code == 422 and 'id="starts_on-error"' in bad.text and 'id="ends_on-error"' in bad.text
    today = date.today()
    ok = client.post("/account/substitutes", data={
        "csrf_token": csrf_of(client, "/account"), "substitute_id": world.head_b.id,
        "starts_on": (today - timedelta(days=1)).isoformat(), "ends_on": (today + timedelta(days=5)).isoformat(),
    })
    assert ok.status_code == 302
    req = approvals.request_transition(actor=world.expert_a, subject_type="goal", subject_id=world.g_a.id,
                                       transition="complete", data=achieved_for(world.g_a))
    substitute = app.test_client()
    login(substitute, world.head_b, world.password)
    inbox = substitute.get("/approvals").text
    assert f'value="{req.id}"' in inbox and world.head_a.name in inbox
    page = substitute.get(f"/goals/{world.g_a.id}").text
    assert "Решавате като заместник на" in page


def test_pages_refuse_what_a_person_may_not_see(world, client):
    login(client, world.expert_b, world.password)
    assert client.get(f"/goals/{world.g_a.id}").status_code == 404
    assert client.get("/goals/999999").status_code == 404
    assert client.get("/admin").status_code == 403
    assert client.get("/admin/outbox").status_code == 403
    forced = client.post(f"/goals/{world.g_a.id}/transitions", data={
        "csrf_token": csrf_of(client, "/"), "transition": "fail", "reason": "x",
    })
    assert forced.status_code == 404
    assert approvals.open_request("goal", world.g_a.id) is None


def test_sign_in_does_not_redirect_to_another_site(world, client):
    client.get("/login")
    response = client.post("/login?next=//evil.example/", data={
        "email": world.head_a.email, "password": world.password, "csrf_token": csrf_of(client, "/login"),
    })
    assert response.status_code == 302 and response.location == "/"
    wrong = client.post("/login", data={"email": world.head_a.email, "password": "x", "csrf_token": token(client)})
    assert wrong.status_code == 401


def test_the_public_page_shows_only_approved_documents(world, client):
    world.plan.state = "draft"
    db.session.commit()
    assert client.get("/public/test/2023").status_code == 404
    world.plan.state = "approved"
    db.session.commit()
    plan = client.get("/public/test/2023")
    assert plan.status_code == 200 and "Цел 1" in plan.text and "Статус" not in plan.text
    world.plan.state = "report_approved"
    db.session.commit()
    report = client.get("/public/test/2023")
    assert "Отчет" in report.text and "В процес на изпълнение" in report.text
    assert client.get("/public/nobody/2023").status_code == 404


def test_the_audit_page_finds_a_changed_event(world, client):
    from service.audit.models import Event

    login(client, world.sysadmin, world.password)
    assert 'data-ok="yes"' in client.get("/admin/audit?check=1").text
    event = db.session.scalars(db.select(Event).where(Event.chain_id == world.admin.id).order_by(Event.seq)).first()
    event.reason = "подправено"
    db.session.commit()
    assert 'data-ok="no"' in client.get("/admin/audit?check=1").text


def test_the_administrator_assigns_roles_and_disables_accounts(world, client):
    from service.org.models import Role

    login(client, world.sysadmin, world.password)
    bad = client.post("/admin/roles", data={
        "csrf_token": csrf_of(client, "/admin"), "user_id": world.expert_a.id, "role": "head", "unit_id": "",
    })
    assert bad.status_code == 422 and 'id="unit_id-error"' in bad.text
    ok = client.post("/admin/roles", data={
        "csrf_token": csrf_of(client, "/admin"), "user_id": world.expert_a.id, "role": "head", "unit_id": world.b.id,
    })
    assert ok.status_code == 302
    db.session.refresh(world.expert_a)
    assert world.expert_a.has_role(Role.HEAD, world.b.id)
    off = client.post(f"/admin/users/{world.observer.id}/disable", data={"csrf_token": csrf_of(client, "/admin")})
    assert off.status_code == 302
    db.session.refresh(world.observer)
    assert not world.observer.active
    own = client.post(f"/admin/users/{world.sysadmin.id}/disable", data={"csrf_token": csrf_of(client, "/admin")})
    assert own.status_code == 403


def test_a_decision_on_a_request_that_changed_since_the_page_was_shown_is_refused_and_explained(world, client):
    req = approvals.request_transition(
        actor=world.expert_a, subject_type="goal", subject_id=world.g_ab.id, transition="complete",
        data=achieved_for(world.g_ab),
    )
    login(client, world.head_a, world.password)
    page = f"/goals/{world.g_ab.id}"
    form = {"csrf_token": csrf_of(client, page), "version": req.version, "comment": ""}
    approvals.decide(actor=world.head_b, request_id=req.id, verdict="approve")  # meanwhile
    refused = client.post(f"/requests/{req.id}/approve", data=form)
    assert refused.status_code == 409
    assert "Head B" in refused.text and "се промени" in refused.text
    assert not db.session.scalars(db.select(Decision).where(Decision.decided_by_id == world.head_a.id)).all()
