"""Decisions people can trust, in headless Chromium (Bulgarian): a decision on a claim that moved
on is refused and says what changed; the governor finds the year's report in his inbox (and in his
mail), signs it, and the document then says who signed it and when; a substitute never approves
her own request, not even by a forged form."""

from __future__ import annotations

import email
import re
from datetime import date, timedelta
from email.policy import default as default_policy
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.web.conftest import ask_to_complete, shot, sign_in

pytestmark = pytest.mark.browser
def open_request_id(web_app, subject_type, subject_id):
    with web_app.app_context():
        from service.approvals import service as approvals

        return approvals.open_request(subject_type, subject_id).id


def decisions_on(web_app, request_id):
    with web_app.app_context():
        from service.approvals.models import TransitionRequest
        from service.extensions import db

        req = db.session.get(TransitionRequest, request_id)
        return req.status, [(d.decided_by.email, d.verdict) for d in req.decisions]


def test_a_decision_on_a_claim_that_was_withdrawn_and_made_again_is_refused_and_explained(
        web_app, web_world, new_page):
    w = web_world
    expert = new_page()
    sign_in(expert, w.expert_a)
    ask_to_complete(expert, w.g_a, ["2"], "Половината дейности са изпълнени.")
    first = open_request_id(web_app, "goal", w.g_a)

    head = new_page()
    sign_in(head, w.head_a)
    head.goto(f"/approvals/{first}")
    expect(head.locator("#open-request")).to_contain_text("2")

    # Meanwhile the expert takes the claim back and claims more.
    expert.goto(f"/goals/{w.g_a}")
    expert.click("#open-request button:has-text('Оттеглям искането си')")
    expect(expert.locator(".flash.success")).to_be_visible()
    ask_to_complete(expert, w.g_a, ["4"], "Всички дейности са изпълнени.")
    second = open_request_id(web_app, "goal", w.g_a)
    assert second != first

    # The head approves what she read: refused, and told what happened and what to read now.
    head.fill("#comment", "Одобрявам.")
    head.click("#open-request button:has-text('Одобрявам')")
    problem = head.locator("#problem")
    expect(problem).to_be_visible()
    expect(problem).to_contain_text("Искането вече е приключено: оттеглено от Емил Експертов.")
    expect(problem).to_contain_text(f"Сега е отворено ново искане (№ {second})")
    expect(head.locator("#problem")).not_to_contain_text("withdrawn")
    # The new claim is on the page she lands on, for her to read before deciding.
    expect(head.locator("#open-request")).to_contain_text("Всички дейности са изпълнени.")
    shot(head, "decision-refused-withdrawn")
    assert decisions_on(web_app, first) == ("withdrawn", [])
    assert decisions_on(web_app, second) == ("open", [])
    assert not head.problems, head.problems


def test_a_decision_on_a_request_that_moved_on_meanwhile_is_refused_and_says_who_decided(
        web_app, web_world, new_page):
    w = web_world
    expert = new_page()
    sign_in(expert, w.expert_a)
    ask_to_complete(expert, w.g_ab, ["3", "4"], "Всички дейности са изпълнени.")
    request_id = open_request_id(web_app, "goal", w.g_ab)

    head_a = new_page()
    sign_in(head_a, w.head_a)
    head_a.goto(f"/approvals/{request_id}")
    expect(head_a.locator("#open-request")).to_be_visible()

    head_b = new_page()
    sign_in(head_b, w.head_b)
    head_b.goto(f"/approvals/{request_id}")
    head_b.click("#open-request button:has-text('Одобрявам')")
    expect(head_b.locator(".flash.success")).to_be_visible()

    head_a.click("#open-request button:has-text('Одобрявам')")
    problem = head_a.locator("#problem")
    expect(problem).to_contain_text("Искането се промени, докато го разглеждахте")
    expect(problem).to_contain_text("Борис Директоров")
    shot(head_a, "decision-refused-changed")
    # Her approval was not recorded on the version she did not see; she may decide again now.
    assert decisions_on(web_app, request_id) == ("open", [(w.head_b.email, "approve")])
    head_a.goto(f"/approvals/{request_id}")
    head_a.click("#open-request button:has-text('Одобрявам')")
    expect(head_a.locator(".flash.success")).to_be_visible()
    assert not head_a.problems, head_a.problems


def test_the_governor_finds_the_report_in_his_inbox_and_mail_and_signs_it(web_app, web_world, new_page):
    w = web_world
    secretary = new_page()
    sign_in(secretary, w.secretary)
    secretary.goto(f"/plans/{w.plan_id}")
    secretary.click("#plan-action-submit_report button[type=submit]")
    if "/reauth" in secretary.url:
        secretary.fill("#password", w.password)
        secretary.click("form button[type=submit]")
    expect(secretary.locator(".flash.success")).to_be_visible()
    signoff = open_request_id(web_app, "plan", w.plan_id)

    # The email reaches him, with the way to the decision.
    with web_app.app_context():
        from service.notifications import service as outbox

        outbox.deliver_due()
        mail_dir = Path(web_app.config["GOALFLOW"].MAIL_DIR)
    letters = [email.message_from_bytes(p.read_bytes(), policy=default_policy) for p in sorted(mail_dir.rglob("*.eml"))]
    to_him = [m for m in letters if w.governor.email in m["To"] and m["X-Goalflow-Kind"] == "approval_needed"]
    assert len(to_him) == 1, [(m["To"], m["X-Goalflow-Kind"]) for m in letters]
    body = to_him[0].get_body(preferencelist=("plain",)).get_content()
    assert f"/approvals/{signoff}" in body

    governor = new_page()
    sign_in(governor, w.governor)
    governor.goto("/approvals")
    row = governor.locator("#inbox tbody tr", has=governor.locator(f"#req-{signoff}"))
    expect(row).to_be_visible()
    expect(row).to_contain_text(w.secretary.name)
    governor.goto(f"/approvals/{signoff}")
    governor.fill("#comment", "Утвърждавам отчета.")
    governor.click("#open-request button:has-text('Одобрявам')")
    if "/reauth" in governor.url:
        governor.fill("#password", w.password)
        governor.click("form button[type=submit]")
        governor.goto(f"/approvals/{signoff}")
        governor.click("#open-request button:has-text('Одобрявам')")
    expect(governor.locator(".flash.success")).to_be_visible()

    governor.goto(f"/plans/{w.plan_id}/preview")
    signed = governor.locator("#signed-by")
    expect(signed).to_contain_text("Подписан")
    expect(signed).to_contain_text(w.governor.name)
    expect(signed).to_contain_text(re.compile(r"\d{2}\.\d{2}\.\d{4} \d{2}:\d{2}"))
    shot(governor, "report-signed-preview")
    governor.goto("/approvals")
    expect(governor.locator(f"#req-{signoff}")).to_have_count(0)
    assert not governor.problems, governor.problems


def test_a_substitute_cannot_approve_her_own_request(web_app, web_world, new_page):
    w = web_world
    head = new_page()
    sign_in(head, w.head_a)
    head.goto("/account")
    head.select_option("select[name=substitute_id]", label=w.expert_a.name)
    head.fill("input[name=starts_on]", date.today().isoformat())
    head.fill("input[name=ends_on]", (date.today() + timedelta(days=10)).isoformat())
    head.click("form[action$='/account/substitute'] button[type=submit], #sub-h ~ form button[type=submit]")
    expect(head.locator(".flash.success")).to_be_visible()

    expert = new_page()
    sign_in(expert, w.expert_a)
    ask_to_complete(expert, w.g_a, ["4"], "Всички дейности са изпълнени.")
    request_id = open_request_id(web_app, "goal", w.g_a)

    # Her inbox does not offer her own request, though she stands in for the head who decides it.
    expert.goto("/approvals")
    expect(expert.locator(f"#inbox input[name=request][value='{request_id}']")).to_have_count(0)
    expert.goto(f"/approvals/{request_id}")
    expect(expert.locator("#open-request button:has-text('Одобрявам')")).to_have_count(0)

    # A forged form (the head's, posted by her) is refused and changes nothing.
    token = expert.locator("input[name=csrf_token]").first.get_attribute("value")
    answer = expert.request.post(f"/requests/{request_id}/approve", form={"csrf_token": token, "comment": "аз"})
    assert answer.status == 403, answer.status
    assert "Не можете да одобрите искане, което сте подали." in answer.text()
    answer = expert.request.post("/approvals", form={"csrf_token": token, "verdict": "approve", "request": str(request_id)})
    assert "Не можете да одобрите искане, което сте подали." in answer.text()
    assert decisions_on(web_app, request_id) == ("open", [])

    # The head, back, decides it.
    head.goto(f"/approvals/{request_id}")
    head.click("#open-request button:has-text('Одобрявам')")
    expect(head.locator(".flash.success")).to_be_visible()
    assert decisions_on(web_app, request_id)[1] == [(w.head_a.email, "approve")]
