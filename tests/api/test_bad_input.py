"""Whatever a client sends, the answer is a problem document that says what is wrong, never a 500."""

from __future__ import annotations

import pytest

PROBLEM = "application/problem+json"


def problem(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True)[:300])
    assert response.mimetype == PROBLEM
    body = response.get_json()
    assert body["status"] == status and body["type"].startswith("urn:goalflow:problem:") and body["detail"]
    if code:
        assert body["code"] == code
    return body


def test_malformed_json(world, as_):
    r = as_("secretary")("POST", "/api/v1/plans", data='{"year": 20', headers={"Content-Type": "application/json"})
    assert "json" in str(problem(r, 400)["errors"]).lower()


def test_wrong_types_and_unknown_fields_say_which_field(world, as_):
    body = problem(as_("secretary").post("/api/v1/plans", json={"year": "2027", "colour": "red"}), 422, "invalid_input")
    assert set(body["errors"]) == {"year", "colour"}
    assert body["errors"]["colour"] == ["Unknown field."]
    body = problem(as_("sysadmin").patch(f"/api/v1/users/{world.observer.id}", json={"active": "yes"}), 422)
    assert "active" in body["errors"]


def test_nested_lists_name_the_item(world, as_):
    plan = as_("secretary").post("/api/v1/plans", json={"year": 2027}).json
    body = problem(as_("secretary").post(f"/api/v1/plans/{plan['id']}/goals", json={
        "number": 1, "title": "Цел", "unit_ids": [world.a.id], "indicators": [{"name": "Добре"}, {"name": "   "}],
    }), 422)
    assert "1" in body["errors"]["indicators"]


def test_text_a_database_cannot_keep_is_refused(world, as_):
    body = problem(as_("expert_b").post(f"/api/v1/goals/{world.g_b.id}/transitions",
                                        json={"transition": "start", "reason": "a\u0000b"}), 422)
    assert "reason" in body["errors"]


def test_a_huge_body_is_413(world, as_, app):
    size = app.config["MAX_CONTENT_LENGTH"] + 1
    r = as_("secretary")("POST", "/api/v1/plans", data=b"[" + b"1," * (size // 2) + b"1]",
                         headers={"Content-Type": "application/json"})
    problem(r, 413)


@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded", "text/plain", "application/xml"])
def test_a_body_that_is_not_json_is_415(world, as_, content_type):
    r = as_("secretary")("POST", "/api/v1/plans", data="year=2027", headers={"Content-Type": content_type})
    problem(r, 415, "unsupported_media_type")


@pytest.mark.parametrize("query", ["per_page=0", "per_page=101", "page=0", "page=-3", "page=abc", "state=finished",
                                   "unit=0", "year=1800"])
def test_paging_and_filters_out_of_range(world, as_, query):
    field = query.split("=")[0]
    assert field in problem(as_("observer").get(f"/api/v1/goals?{query}"), 422)["errors"]


def test_a_page_past_the_end_is_empty(world, as_):
    r = as_("observer").get("/api/v1/goals?page=50&per_page=100")
    assert r.status_code == 200 and r.json["items"] == [] and r.json["total"] == 3


@pytest.mark.parametrize("url", ["/api/v1/goals/999999", "/api/v1/goals/99999999999999999999", "/api/v1/goals/-1",
                                 "/api/v1/approvals/123", "/api/v1/nothing-here", "/api/v1/plans/0/goals"])
def test_what_does_not_exist_is_404(world, as_, url):
    problem(as_("observer").get(url), 404, "not_found")


def test_a_method_not_offered_is_405_with_allow(world, as_):
    r = as_("observer").delete("/api/v1/goals")
    problem(r, 405)
    assert "GET" in r.headers["Allow"]


def test_if_match_that_is_not_an_etag(world, as_):
    url = f"/api/v1/goals/{world.g_b.id}/transitions"
    r = as_("expert_b").post(url, json={"transition": "start"}, headers={"If-Match": "yesterday"})
    assert "If-Match" in problem(r, 422)["errors"]
    r = as_("expert_b").post(url, json={"transition": "start"}, headers={"If-Match": '"999"'})
    assert problem(r, 412, "stale_version")["detail"]


def test_messages_follow_the_language_asked_for(world, as_):
    bg = as_("observer").get("/api/v1/goals/999999").json["detail"]
    en = as_("observer").get("/api/v1/goals/999999", headers={"Accept-Language": "en"}).json["detail"]
    assert bg != en and "visible" in en


def test_a_decision_on_a_closed_request_is_409_and_changes_nothing(world, as_):
    req = as_("expert_b").post(f"/api/v1/goals/{world.g_b.id}/transitions", json={"transition": "start"}).json
    assert as_("head_b").post(f"/api/v1/approvals/{req['id']}/approve").status_code == 200
    problem(as_("head_b").post(f"/api/v1/approvals/{req['id']}/reject", json={"comment": "късно"}), 409, "request_closed")
    assert as_("observer").get(f"/api/v1/goals/{world.g_b.id}").json["state"] == "in_progress"
