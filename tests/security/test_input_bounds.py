"""What Python takes and the database cannot: a lone surrogate in JSON text (valid JSON, no valid
UTF-8) and numbers past the keys' integer range, in a path, a query string or a form. Each gets a
clear answer (400, 404, or the value read as absent), never a 500, on both databases."""

from __future__ import annotations

import pytest

from tests.security.conftest import csrf_of, sign_in

LONE = '"\\ud800"'
HUGE = ["2147483648", "99999999999", "9223372036854775808"]


def post_raw(client, path: str, raw: str, token: str | None = None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return client.post(path, data=raw, headers=headers)


@pytest.mark.parametrize("body", [
    f'{{"email": {LONE}, "password": "x", "name": "t"}}',
    f'{{"email": "a@x.bg", "password": {LONE}, "name": "t"}}',
    f'{{"email": "a@x.bg", "password": "x", "name": {LONE}}}',
])
def test_a_lone_surrogate_in_a_sign_in_is_a_bad_request(client, body):
    answer = post_raw(client, "/api/v1/auth/tokens", body)
    assert answer.status_code == 400, answer.get_json()
    assert "surrogate" in answer.get_json()["detail"]


def test_a_lone_surrogate_in_a_decision_is_a_bad_request_and_decides_nothing(client, world, as_, tokens):
    asked = as_("expert_b").post(f"/api/v1/goals/{world.g_b.id}/transitions", json={"transition": "start"}).get_json()
    for body in (f'{{"comment": {LONE}}}', f'{{"password": {LONE}}}'):
        assert post_raw(client, f"/api/v1/approvals/{asked['id']}/approve", body, tokens.head_b).status_code == 400
    assert as_("head_b").get(f"/api/v1/approvals/{asked['id']}").get_json()["status"] == "open"
    # A pair of escapes is one character (an emoji): text like any other.
    fine = post_raw(client, f"/api/v1/approvals/{asked['id']}/approve", '{"comment": "\\ud83d\\ude00"}', tokens.head_b)
    assert fine.status_code == 200, fine.get_json()


@pytest.mark.parametrize("number", HUGE)
def test_a_number_past_the_keys_range_in_a_path_is_not_found(client, world, number):
    assert client.get(f"/public/test/{number}").status_code == 404
    sign_in(client, world.sysadmin, world.password)
    page = client.get("/admin/people")
    assert client.post(f"/admin/roles/{number}/remove", data={"csrf_token": csrf_of(page.text)}).status_code == 404
    sign_in(client, world.head_a, world.password)
    assert client.get(f"/goals/{number}").status_code == 404
    assert client.get(f"/plans/{number}").status_code == 404


@pytest.mark.parametrize("typed", ["²", "١٢", "99999999999", "-1", " 1 2 "])
def test_a_number_typed_into_a_query_or_a_form_that_is_no_key_counts_as_absent(client, world, typed):
    sign_in(client, world.head_a, world.password)
    assert client.get("/", query_string={"year": typed}).status_code == 200
    page = client.get("/approvals")
    assert page.status_code == 200
    decided = client.post("/approvals", data={"csrf_token": csrf_of(page.text), "verdict": "approve", "request": typed})
    assert decided.status_code in (200, 422), decided.status_code
    sign_in(client, world.sysadmin, world.password)
    assert client.get("/admin/outbox", query_string={"page": typed}).status_code == 200
    people = client.get("/admin/people")
    granted = client.post("/admin/roles", data={"csrf_token": csrf_of(people.text), "user_id": typed, "role": "head",
                                                "unit_id": typed})
    assert granted.status_code < 500, granted.status_code
