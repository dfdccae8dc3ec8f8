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
