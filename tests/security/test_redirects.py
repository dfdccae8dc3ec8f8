"""After signing in (and re-entering the password) goalflow goes back only to a page of its own site.

The hostile values are what the app receives after the query string is decoded; each would send the
browser elsewhere (a browser drops tabs and line breaks, reads a backslash as a slash and `//host` as
another site) or break the Location header.
"""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from service.web.views import same_site_path
from tests.web.test_pages import login, token

HOSTILE = [
    "//evil.example",
    "///evil.example",
    "/\t/evil.example",  # ?next=/%09/evil.example
    "/\n/evil.example",
    "/\r/evil.example",
    "/%09/evil.example",  # decoded once more: a tab
    "/%2F/evil.example",  # decoded once more: //
    "/%5Cevil.example",  # decoded once more: a backslash
    "/\\evil.example",
    "\\/evil.example",
    "\\\\evil.example",
    "https://evil.example/",
    "http:evil.example",
    "HTTPS://evil.example",
    "javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "evil.example",
    " //evil.example",
    "/\u2028/evil.example",
    "/\u200b/evil.example",
    "/\x00/evil.example",
    "/\r\nSet-Cookie: stolen=1",
    "/home\r\nX-Injected: 1",
    "/%0d%0aSet-Cookie:%20stolen=1",
    "/" + "a" * 3000,
]
LOCAL = ["/", "/goals/5", "/plans/1?tab=goals#history", "/inbox?kind=plan&page=2", "/public/haskovo/2023"]


@pytest.mark.parametrize("value", HOSTILE)
def test_a_hostile_value_is_no_redirect_target(value):
    assert same_site_path(value) is None


@pytest.mark.parametrize("value", LOCAL)
def test_a_local_path_is_kept(value):
    assert same_site_path(value) == value


def _sign_in(client, user, password, next_value, *, in_form=False):
    client.get("/login?" + urlencode({"next": next_value}))
    data = {"email": user.email, "password": password, "csrf_token": token(client)}
    if in_form:
        return client.post("/login", data={**data, "next": next_value})
    return client.post("/login?" + urlencode({"next": next_value}), data=data)


@pytest.mark.parametrize("in_form", [False, True], ids=["query", "form"])
@pytest.mark.parametrize("value", HOSTILE)
def test_signing_in_with_a_hostile_next_goes_home(world, client, value, in_form):
    response = _sign_in(client, world.head_a, world.password, value, in_form=in_form)
    assert response.status_code == 302, response.text
    assert response.headers["Location"] == "/"
    assert "X-Injected" not in response.headers
    assert all("stolen" not in cookie for cookie in response.headers.getlist("Set-Cookie"))


def test_the_sign_in_page_does_not_carry_a_hostile_next_into_its_form(world, client):
    page = client.get("/login?" + urlencode({"next": "/\t/evil.example"}))
    assert page.status_code == 200 and "evil.example" not in page.text


@pytest.mark.parametrize("value", LOCAL[1:])
def test_signing_in_goes_back_to_the_page_asked_for(world, client, value):
    response = _sign_in(client, world.head_a, world.password, value)
    assert response.status_code == 302 and response.headers["Location"] == value


@pytest.mark.parametrize("value", HOSTILE)
def test_reauth_with_a_hostile_next_goes_home(world, client, value):
    login(client, world.governor, world.password)
    response = client.post("/reauth?" + urlencode({"next": value}),
                           data={"password": world.password, "csrf_token": token(client, "/reauth")})
    assert response.status_code == 302, response.text
    assert response.headers["Location"] == "/"


def test_reauth_goes_back_to_the_page_asked_for(world, client):
    login(client, world.governor, world.password)
    response = client.post("/reauth?" + urlencode({"next": f"/plans/{world.plan.id}"}),
                           data={"password": world.password, "csrf_token": token(client, "/reauth")})
    assert response.headers["Location"] == f"/plans/{world.plan.id}"


def test_the_language_switch_goes_back_only_to_this_site(world, client):
    assert client.get("/lang/en", headers={"Referer": "http://localhost/goals/5"}).headers["Location"] == "/goals/5"
    assert client.get("/lang/en", headers={"Referer": "http://localhost//evil.example"}).headers["Location"] == "/"
    assert client.get("/lang/en", headers={"Referer": "https://evil.example/"}).headers["Location"] == "/"


def test_a_failure_after_signing_in_sets_no_session_cookie(world, client, monkeypatch):
    """Whatever breaks after the password was checked, the browser gets an error and no session."""
    import service.web.views as views

    def broken():
        raise RuntimeError("broken after login_user")

    monkeypatch.setattr(views, "mark_login", broken)
    response = _sign_in(client, world.head_a, world.password, "/goals/5")
    assert response.status_code == 500
    assert not [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
