"""Authentication: tokens, browser sessions, sign-in limits, CSRF and the security headers."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select

from service.db import utcnow
from service.extensions import db
from service.org.models import ApiToken

CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def sign_in(app, email: str, password: str):
    """A browser: fetch the form, post it, keep the cookie. Returns the client and its CSRF token."""
    browser = app.test_client()
    form = browser.get("/login")
    token = CSRF_FIELD.search(form.get_data(as_text=True)).group(1)
    answer = browser.post("/login", data={"email": email, "password": password, "csrf_token": token})
    assert answer.status_code == 302, answer.status_code
    return browser, browser.get("/api/v1/me").json["csrf_token"]


# -- tokens ---------------------------------------------------------------------------------


def test_a_token_is_shown_once_and_stored_only_as_a_hash(client, world):
    r = client.post("/api/v1/auth/tokens", json={"email": "head_a@test.bg", "password": world.password, "name": "отчети"})
    assert r.status_code == 201
    secret = r.json["token"]
    row = db.session.scalar(select(ApiToken).where(ApiToken.id == r.json["id"]))
    assert secret not in (row.token_hash, row.prefix) and len(row.token_hash) == 64
    assert client.get("/api/v1/me", headers=bearer(secret)).json["email"] == "head_a@test.bg"
    listed = client.get("/api/v1/auth/tokens", headers=bearer(secret)).json
    assert [t["name"] for t in listed] == ["отчети"] and "token" not in listed[0]
    assert listed[0]["last_used_at"] is not None  # a forgotten token can be told from one in use


def test_a_wrong_password_gets_no_token(client, world):
    r = client.post("/api/v1/auth/tokens", json={"email": "head_a@test.bg", "password": "not it"})
    assert r.status_code == 401 and r.json["code"] == "invalid_credentials"
    r = client.post("/api/v1/auth/tokens", json={"email": "nobody@test.bg", "password": "not it"})
    assert r.status_code == 401 and r.json["code"] == "invalid_credentials"  # the same answer: no enumeration


def test_a_token_expires(client, world):
    r = client.post("/api/v1/auth/tokens", json={"email": "observer@test.bg", "password": world.password, "days": 1})
    secret = r.json["token"]
    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 200
    with time_machine.travel(utcnow() + timedelta(days=1, minutes=1)):
        expired = client.get("/api/v1/me", headers=bearer(secret))
    assert expired.status_code == 401 and expired.json["code"] == "unauthenticated"
    assert expired.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_revoked_token_stops_at_once(client, world):
    secret = client.post("/api/v1/auth/tokens", json={"email": "observer@test.bg", "password": world.password}).json["token"]
    other = client.post("/api/v1/auth/tokens", json={"email": "observer@test.bg", "password": world.password}).json
    assert client.delete(f"/api/v1/auth/tokens/{other['id']}", headers=bearer(secret)).status_code == 204
    assert client.get("/api/v1/me", headers=bearer(other["token"])).status_code == 401
    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 200
    listed = {t["id"]: t for t in client.get("/api/v1/auth/tokens", headers=bearer(secret)).json}
    assert listed[other["id"]]["revoked_at"] is not None


def test_a_disabled_account_loses_its_tokens(client, world, as_):
    secret = client.post("/api/v1/auth/tokens", json={"email": "expert_b@test.bg", "password": world.password}).json["token"]
    as_("sysadmin").patch(f"/api/v1/users/{world.expert_b.id}", json={"active": False})
    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 401


def test_an_authorization_header_is_the_only_credential(ctx, world):
    """With a bad token, a valid session cookie that comes along does not authenticate the call."""
    browser, _ = sign_in(ctx, "head_a@test.bg", world.password)
    assert browser.get("/api/v1/me").status_code == 200
    assert browser.get("/api/v1/me", headers=bearer("gf_forged")).status_code == 401
    assert browser.get("/api/v1/me", headers={"Authorization": "Basic eDp5"}).status_code == 401


# -- browser sessions -----------------------------------------------------------------------


@pytest.mark.parametrize("how", ["web", "api"])
def test_a_cookie_replayed_after_logout_is_refused(ctx, world, how):
    browser, csrf = sign_in(ctx, "governor@test.bg", world.password)
    captured = browser.get_cookie("session").value
    if how == "web":
        page = browser.get("/")
        token = CSRF_FIELD.search(page.get_data(as_text=True)).group(1)
        assert browser.post("/logout", data={"csrf_token": token}).status_code == 302
    else:
        assert browser.post("/api/v1/auth/logout", headers={"X-CSRFToken": csrf}).status_code == 204
    assert browser.get("/api/v1/me").status_code == 401
    thief = ctx.test_client()
    thief.set_cookie("session", captured)
    replayed = thief.get("/api/v1/me")
    assert replayed.status_code == 401 and replayed.mimetype == "application/problem+json"


def test_a_password_change_ends_the_other_sessions(ctx, world):
    laptop, csrf = sign_in(ctx, "head_b@test.bg", world.password)
    phone, _ = sign_in(ctx, "head_b@test.bg", world.password)
    r = laptop.post("/api/v1/me/password", json={"current_password": world.password, "new_password": "ново дълго"},
                    headers={"X-CSRFToken": csrf})
    assert r.status_code == 204
    assert laptop.get("/api/v1/me").status_code == 200  # the session that changed it goes on
    assert phone.get("/api/v1/me").status_code == 401
    sign_in(ctx, "head_b@test.bg", "ново дълго")


def test_session_cookie_flags(ctx, world):
    browser = ctx.test_client()
    token = CSRF_FIELD.search(browser.get("/login").get_data(as_text=True)).group(1)
    answer = browser.post("/login", data={"email": "observer@test.bg", "password": world.password, "csrf_token": token})
    cookie = answer.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


# -- CSRF -----------------------------------------------------------------------------------


def test_a_cookie_authenticated_change_needs_the_csrf_header(ctx, world):
    browser, csrf = sign_in(ctx, "expert_b@test.bg", world.password)
    url = f"/api/v1/goals/{world.g_b.id}/transitions"
    refused = browser.post(url, json={"transition": "start"})
    assert refused.status_code == 400 and refused.json["code"] == "csrf_failed"
    assert refused.mimetype == "application/problem+json"
    forged = browser.post(url, json={"transition": "start"}, headers={"X-CSRFToken": "forged"})
    assert forged.status_code == 400
    from service.approvals import service as approvals

    assert approvals.open_request("goal", world.g_b.id) is None  # nothing was done
    accepted = browser.post(url, json={"transition": "start"}, headers={"X-CSRFToken": csrf})
    assert accepted.status_code == 201


def test_a_fresh_browser_sign_in_signs_the_plan(ctx, world, as_):
    """The governor who has just signed in may approve the plan without typing the password again."""
    from service.goals.models import Plan

    world.plan.state = "submitted"
    db.session.commit()
    browser, csrf = sign_in(ctx, "governor@test.bg", world.password)
    r = browser.post(f"/api/v1/plans/{world.plan.id}/transitions", json={"transition": "approve"},
                     headers={"X-CSRFToken": csrf})
    assert r.status_code == 201, r.json
    assert db.session.get(Plan, world.plan.id).state == "approved"


# -- sign-in limits -------------------------------------------------------------------------


def _failed_token(client, email: str, address: str = "10.0.0.1"):
    return client.post("/api/v1/auth/tokens", json={"email": email, "password": "wrong password"},
                       environ_base={"REMOTE_ADDR": address})


def test_eleventh_failure_for_one_account_is_refused_to_the_guessing_addresses(client, world):
    for attempt in range(10):
        assert _failed_token(client, "head_a@test.bg", f"10.0.0.{attempt + 1}").status_code == 401
    blocked = client.post("/api/v1/auth/tokens", json={"email": "head_a@test.bg", "password": world.password},
                          environ_base={"REMOTE_ADDR": "10.0.0.1"})
    assert blocked.status_code == 429 and blocked.mimetype == "application/problem+json"
    assert blocked.json["code"] == "too_many_requests" and int(blocked.headers["Retry-After"]) > 0
    # The owner at an address that has not been failing still signs in (tests/security/test_login_limits.py).
    assert client.post("/api/v1/auth/tokens", json={"email": "head_a@test.bg", "password": world.password},
                       environ_base={"REMOTE_ADDR": "10.0.1.1"}).status_code == 201


def test_eleventh_failure_from_one_address_is_refused(client, world):
    for attempt in range(10):
        assert _failed_token(client, f"nobody{attempt}@test.bg").status_code == 401
    assert _failed_token(client, "someone.else@test.bg").status_code == 429
    assert _failed_token(client, "someone.else@test.bg", "10.0.0.2").status_code == 401


def test_successful_sign_ins_do_not_count(client, world):
    for _ in range(12):
        ok = client.post("/api/v1/auth/tokens", json={"email": "head_a@test.bg", "password": world.password},
                         environ_base={"REMOTE_ADDR": "10.0.0.3"})
        assert ok.status_code == 201


def test_the_web_form_and_the_api_share_the_count(ctx, world):
    browser = ctx.test_client()
    token = CSRF_FIELD.search(browser.get("/login").get_data(as_text=True)).group(1)
    for _ in range(5):
        r = browser.post("/login", data={"email": "secretary@test.bg", "password": "wrong", "csrf_token": token},
                         environ_base={"REMOTE_ADDR": "10.0.0.9"})
        assert r.status_code == 401
    for _ in range(5):
        assert _failed_token(browser, "secretary@test.bg", "10.0.0.9").status_code == 401
    page = browser.post("/login", data={"email": "secretary@test.bg", "password": world.password, "csrf_token": token},
                        environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert page.status_code == 429 and page.mimetype == "text/html"


# -- headers --------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/api/v1/me", "/api/docs", "/api/openapi.json", "/login"])
def test_security_headers(client, world, url, tokens):
    r = client.get(url, headers=bearer(tokens.observer))
    csp = r.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["X-Frame-Options"] == "DENY"
    assert "Strict-Transport-Security" not in r.headers  # embedded mode speaks plain http on 127.0.0.1


def test_production_sends_hsts_and_secure_cookies(database_url, tmp_path, world):
    if not database_url.startswith("postgresql"):
        pytest.skip("production runs on PostgreSQL only")
    from service.app import create_app
    from tests.conftest import test_settings

    app = create_app(test_settings(
        database_url, tmp_path, ENV="production", SESSION_COOKIE_SECURE=True, BASE_URL="https://goals.example.bg",
        BROKER_URL="redis://127.0.0.1:6379/15", METRICS_TOKEN="m" * 32,
    ))
    browser = app.test_client()
    form = browser.get("/login", base_url="https://goals.example.bg")
    assert "max-age=" in form.headers["Strict-Transport-Security"]
    token = CSRF_FIELD.search(form.get_data(as_text=True)).group(1)
    answer = browser.post("/login", base_url="https://goals.example.bg",
                          data={"email": "observer@test.bg", "password": world.password, "csrf_token": token},
                          headers={"Referer": "https://goals.example.bg/login"})
    assert answer.status_code == 302, answer.get_data(as_text=True)[:300]
    cookie = answer.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_production_counts_failed_sign_ins_in_the_shared_database(app, database_url, tmp_path, world):
    """Several web processes share one count: two apps, one database, the eleventh failure is refused by either."""
    if not database_url.startswith("postgresql"):
        pytest.skip("production runs on PostgreSQL only")
    from service.app import create_app
    from tests.conftest import test_settings

    settings = dict(ENV="production", SESSION_COOKIE_SECURE=True, BASE_URL="https://goals.example.bg",
                    BROKER_URL="redis://127.0.0.1:6379/15", METRICS_TOKEN="m" * 32)
    first = create_app(test_settings(database_url, tmp_path / "one", **settings))
    second = create_app(test_settings(database_url, tmp_path / "two", **settings))
    try:
        for app_ in (first, second) * 5:
            answer = app_.test_client().post("/api/v1/auth/tokens", json={"email": "deputy@test.bg", "password": "no"},
                                             base_url="https://goals.example.bg")
            assert answer.status_code == 401
        for app_ in (first, second):
            refused = app_.test_client().post("/api/v1/auth/tokens", json={"email": "deputy@test.bg", "password": "no"},
                                              base_url="https://goals.example.bg")
            assert refused.status_code == 429
    finally:
        app.extensions["celery"].set_default()
