"""Every page renders for every role, on both backends, and refuses what a person may not see."""

from __future__ import annotations

import re

import pytest

ROLES = ["governor", "deputy", "secretary", "head_a", "head_b", "expert_a", "expert_b", "observer", "sysadmin"]


def login(client, user, password):
    client.get("/login")
    response = client.post("/login", data={"email": user.email, "password": password, "csrf_token": token(client)})
    assert response.status_code == 302, response.text
    return client


def token(client, path="/login"):
    from flask import g

    # The test's app context (the `ctx` fixture) is shared by the client's requests, and with it
    # `g`, where Flask-WTF caches the token: drop it so that this page stores its own in the session.
    g.pop("csrf_token", None)
    g.pop("_login_user", None)  # likewise Flask-Login's user of the previous request
    page = client.get(path).text
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


@pytest.mark.parametrize("role", ROLES)
def test_every_page_renders_for_every_role(world, client, role):
    user = getattr(world, role)
    login(client, user, world.password)
    pages = ["/", "/approvals", "/plans", f"/plans/{world.plan.id}", f"/plans/{world.plan.id}/preview", "/account"]
    if user.unit_ids() & world.g_a.unit_ids or not user.unit_ids():
        pages.append(f"/goals/{world.g_a.id}")
    for path in pages:
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code, response.text[:500])
        assert "<main" in response.text
    admin_pages = ["/admin", "/admin/substitutes", "/admin/outbox", "/admin/audit?check=1"]
    for path in admin_pages:
        assert client.get(path).status_code == (200 if role == "sysadmin" else 403), path


def test_the_demo_plan_renders_as_the_official_table(ctx, client):
    """The Haskovo 2023 report as imported: long cells, amounts, several units per goal."""
    from service.demo import load_demo
    from service.extensions import db
    from service.goals.models import Plan
    from service.org.service import user_by_email

    load_demo("demo-password-1")
    governor = user_by_email("governor@haskovo.demo")
    plan = db.session.scalar(db.select(Plan).where(Plan.administration_id == governor.administration_id))
    client.get("/login")
    client.post("/login", data={"email": governor.email, "password": "demo-password-1", "csrf_token": token(client)})
    table = client.get(f"/plans/{plan.id}")
    assert table.status_code == 200
    assert table.text.count('<tr id="goal-') == len(plan.goals) >= 8
    assert "146 305,48" in table.text or "146\u00a0305,48" in table.text  # a decimal comma, grouped thousands
    for goal in plan.goals:
        page = client.get(f"/goals/{goal.id}")
        assert page.status_code == 200, goal.number
    home = client.get("/")
    assert 'id="state-matrix"' in home.text


def test_error_pages_speak_the_readers_language(world, client):
    missing = client.get("/no/such/page")
    assert missing.status_code == 404
    assert "Няма такава страница" in missing.text and "The requested URL" not in missing.text
    login(client, world.observer, world.password)
    client.get("/lang/en")
    from flask_babel import refresh

    refresh()  # the test's shared app context would keep the language of the previous request
    refused = client.get("/admin")
    assert refused.status_code == 403 and "You are not allowed" in refused.text
