"""End to end in headless Chromium: real HTTP server, real browser, real database (SQLite)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.web.conftest import shoot, sign_in

pytestmark = pytest.mark.browser


def open_action(page, transition: str):
    page.click(f"#action-{transition} > summary")
    return page.locator(f"#action-{transition} form")


def test_complete_goal_through_both_heads_and_the_governor(web_world, new_page):
    w = web_world
    expert = new_page()
    sign_in(expert, w.expert_a)
    expert.goto(f"/goals/{w.g_ab}")
    expect(expert.locator("#goal-state")).to_have_text("В процес на изпълнение")
    form = open_action(expert, "complete")
    # The achieved values are required: an empty one is refused next to its field, the rest kept.
    fields = form.locator("input[name^=achieved-]")
    assert fields.count() == 2
    fields.nth(0).fill("3")
    fields.nth(1).fill("")
    form.locator("textarea[name=reason]").fill("Всички дейности са изпълнени.")
    form.locator("button[type=submit]").click()
    expect(expert.locator("#problem")).to_be_visible()
    expect(expert.locator(".field-error")).to_have_count(1)
    form = expert.locator("#action-complete form")
    expect(form.locator("input[name^=achieved-]").nth(0)).to_have_value("3")
    expect(form.locator("textarea[name=reason]")).to_have_value("Всички дейности са изпълнени.")
    form.locator("input[name^=achieved-]").nth(1).fill("4")
    # A double click sends the form once: no "already open" refusal follows.
    form.locator("button[type=submit]").dblclick()
    expect(expert.locator(".flash.success")).to_be_visible()
    expect(expert.locator(".flash.error")).to_have_count(0)
    expect(expert.locator("#open-request")).to_contain_text("Отчитане като изпълнена")
    assert not expert.problems, expert.problems

    for head in (w.head_a, w.head_b):
        page = new_page()
        sign_in(page, head)
        expect(page.locator("#pending li")).to_have_count(1)
        page.goto("/approvals")
        shoot(page, "approvals-inbox")
        page.click("#inbox a")
        expect(page.locator("#open-request")).to_be_visible()
        page.click("#open-request button:has-text('Одобрявам')")
        expect(page.locator(".flash.success")).to_be_visible()
    expect(page.locator("#goal-state")).to_have_text("В процес на изпълнение")

    governor = new_page()
    sign_in(governor, w.governor)
    shoot(governor, "home-governor")
    governor.goto(f"/goals/{w.g_ab}")
    governor.fill("#comment", "Утвърждавам.")
    governor.click("#open-request button:has-text('Одобрявам')")
    expect(governor.locator("#goal-state")).to_have_text("Изпълнена")
    expect(governor.locator("#goal-state")).to_have_attribute("data-state", "done")
    timeline = governor.locator("#timeline li")
    actions = [timeline.nth(i).get_attribute("data-action") for i in range(timeline.count())]
    assert actions[-5:] == ["transition_requested", "approved", "approved", "approved", "state_changed"]
    expect(governor.locator("#timeline")).to_contain_text("Емил Експертов")
    expect(governor.locator("#timeline")).to_contain_text("Гергана Управителева")
    expect(governor.locator("#timeline")).to_contain_text("Утвърждавам.")
    expect(governor.locator("#indicators")).to_contain_text("4")
    # The diagram is drawn from the definition, with the current state marked.
    expect(governor.locator("svg.diagram-svg #state-done polygon, svg.diagram-svg #state-done path").first).to_have_attribute(
        "fill", "#ffd54f"
    )
    shoot(governor, "goal-page")
    assert not governor.problems, governor.problems


def test_a_rejection_needs_a_reason_and_is_shown(web_world, new_page):
    w = web_world
    expert = new_page()
    sign_in(expert, w.expert_a)
    expert.goto(f"/goals/{w.g_a}")
    form = open_action(expert, "fail")
    form.locator("button[type=submit]").click()
    # The reason is required for "not done": refused, said next to the field.
    expect(expert.locator("#action-fail .field-error")).to_be_visible()
    form = expert.locator("#action-fail form")
    form.locator("textarea[name=reason]").fill("Няма финансиране.")
    form.locator("button[type=submit]").click()
    expect(expert.locator("#open-request")).to_be_visible()

    head = new_page()
    sign_in(head, w.head_a)
    head.goto(f"/goals/{w.g_a}")
    head.fill("#comment", "")
    head.click("#open-request button:has-text('Отхвърлям')")
    expect(head.locator("#comment")).to_have_attribute("aria-invalid", "true")
    expect(head.locator("#comment-error")).to_contain_text("причина")
    head.fill("#comment", "Финансиране има от второто тримесечие.")
    head.click("#open-request button:has-text('Отхвърлям')")
    expect(head.locator(".flash.success")).to_be_visible()
    expect(head.locator("#goal-state")).to_have_attribute("data-state", "in_progress")
    expect(head.locator("#timeline li[data-action=rejected]")).to_contain_text("Финансиране има от второто тримесечие.")
    expect(head.locator("#open-request")).to_have_count(0)


def test_a_forbidden_action_is_not_offered_and_refused_when_forced(web_world, new_page):
    w = web_world
    observer = new_page()
    sign_in(observer, w.observer)
    observer.goto(f"/goals/{w.g_a}")
    expect(observer.locator("#goal-state")).to_be_visible()
    expect(observer.locator("form[action$='/transitions']")).to_have_count(0)
    # Forced by hand: a POST with a valid CSRF token from the person's own session.
    csrf = observer.locator("input[name=csrf_token]").first.get_attribute("value")
    answer = observer.request.post(
        f"/goals/{w.g_a}/transitions",
        form={"csrf_token": csrf, "transition": "fail", "reason": "по ръка"},
        headers={"Referer": observer.url},
    )
    assert answer.status == 403
    assert "Нямате право" in answer.text()

    # Another directorate's expert does not even see the goal, typed address or not.
    other = new_page()
    sign_in(other, w.expert_b)
    expect(other.locator("#my-goals")).not_to_contain_text("Повишаване на безопасността")
    response = other.goto(f"/goals/{w.g_a}")
    assert response.status == 404
    response = other.goto("/admin")
    assert response.status == 403


def test_bulgarian_by_default_and_english_by_choice(web_world, new_page):
    w = web_world
    page = new_page(locale="en-GB")
    page.goto("/login")
    # Bulgarian unless asked otherwise: the browser's language alone may choose English.
    page.click("a[hreflang=bg]")
    expect(page.locator("h1")).to_have_text("Вход")
    expect(page.locator("html")).to_have_attribute("lang", "bg")
    sign_in(page, w.head_a)
    expect(page.locator("nav.nav")).to_contain_text("Одобрения")
    page.click("a[hreflang=en]")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("nav.nav")).to_contain_text("Approvals")
    expect(page.locator("h1")).to_contain_text("Hello")
    page.goto(f"/goals/{w.g_a}")
    expect(page.locator("#goal-state")).to_have_text("In progress")
    expect(page.locator("#req-h")).to_have_text("Open request")
    # No Bulgarian left in the English page's own words (names and data stay as entered).
    chrome = page.locator("nav.nav a, h2, th, summary, label, button, .lead").all_inner_texts()
    assert chrome and not [t for t in chrome if re.search("[а-яА-Я]", t)], chrome
    page.click("a[hreflang=bg]")
    expect(page.locator("#goal-state")).to_have_text("В процес на изпълнение")


def test_phone_layout_and_keyboard(web_world, new_page):
    w = web_world
    page = new_page(width=390, height=844)
    sign_in(page, w.governor)
    # Nothing wider than the screen but the wide official table, which scrolls in its own region.
    for path in ("/", f"/goals/{w.g_ab}", f"/plans/{w.plan_id}", "/approvals", "/account"):
        page.goto(path)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, (path, overflow)
    page.goto("/")
    shoot(page, "home-phone")
    # The first Tab lands on the skip link, which takes the keyboard to the content.
    page.keyboard.press("Tab")
    expect(page.locator(".skip")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#main")).to_be_focused()


def test_quarterly_progress_submitted_returned_and_accepted(web_world, new_page):
    w = web_world
    secretary = new_page()
    sign_in(secretary, w.secretary)
    secretary.goto("/progress")
    secretary.select_option("#plan_id", label="2023")
    secretary.select_option("#quarter", "4")
    secretary.click("text=Откриване на кампанията")
    expect(secretary.locator("#board")).to_be_visible()
    board_url = secretary.url
    # One report per active goal and responsible unit: goals 1 (A), 2 (A, B), 3 (B).
    expect(secretary.locator("#board tbody tr")).to_have_count(4)

    expert = new_page()
    sign_in(expert, w.expert_a)
    expect(expert.locator("#missing-reports li")).to_have_count(2)
    expert.click("#missing-reports a >> nth=0")
    form = expert.locator("#submit-form")
    form.locator("input[name^=achieved-]").first.fill("")
    form.locator("textarea[name=narrative]").fill("Дейностите вървят по график.")
    form.locator("input[name=risk][value=at_risk]").check()
    form.locator("button[type=submit]").click()
    # The empty value is refused next to its field; the narrative and the risk stay as typed.
    expect(expert.locator("#submit-form .field-error")).to_be_visible()
    expect(expert.locator("#submit-form textarea[name=narrative]")).to_have_value("Дейностите вървят по график.")
    expect(expert.locator("#submit-form input[name=risk][value=at_risk]")).to_be_checked()
    shoot(expert, "progress-form")
    expert.locator("#submit-form input[name^=achieved-]").first.fill("2")
    expert.locator("#submit-form button[type=submit]").click()
    expect(expert.locator("#report-state")).to_have_attribute("data-state", "submitted")
    report_url = expert.url

    head = new_page()
    sign_in(head, w.head_a)
    head.goto(report_url)
    head.click("#decide-form button.danger")
    expect(head.locator("#decide-form .field-error")).to_be_visible()
    head.fill("#decide-form textarea[name=reason]", "Допълнете описанието на риска.")
    head.click("#decide-form button.danger")
    expect(head.locator("#report-state")).to_have_attribute("data-state", "requested")

    expert.goto(report_url)
    expect(expert.locator("#return-reason")).to_contain_text("Допълнете описанието на риска.")
    expect(expert.locator("#submit-form input[name^=achieved-]").first).to_have_value("2")
    expert.locator("#submit-form button[type=submit]").click()
    expect(expert.locator("#report-state")).to_have_attribute("data-state", "submitted")

    head.goto(report_url)
    head.click("#decide-form button:not(.danger)")
    expect(head.locator("#report-state")).to_have_attribute("data-state", "accepted")

    secretary.goto(board_url)
    expect(secretary.locator("#board")).to_contain_text("В риск")
    shoot(secretary, "progress-board")


def test_the_governor_signs_the_report_and_the_public_sees_it(web_world, new_page, server):
    w = web_world
    visitor = new_page()
    assert visitor.goto(f"/public/{w.slug}/2023").status == 200
    expect(visitor.locator("h1")).to_contain_text("Цели на")
    expect(visitor.locator("table.official")).not_to_contain_text("В процес на изпълнение")  # no report yet
    assert visitor.goto(f"/public/{w.slug}/2024").status == 404

    secretary = new_page()
    sign_in(secretary, w.secretary)
    secretary.goto(f"/plans/{w.plan_id}")
    shoot(secretary, "plan-table")
    secretary.select_option("#filter-unit", label="АКРРДС")
    secretary.click(".filters button[type=submit]")
    expect(secretary.locator("table.official tbody tr")).to_have_count(2)
    expect(secretary.locator(".exports a[href$='format=pdf']")).to_have_attribute(
        "href", f"/api/v1/plans/{w.plan_id}/export?format=pdf"
    )
    secretary.click("#plan-action-submit_report button[type=submit]")
    expect(secretary.locator("#plan-state")).to_have_attribute("data-state", "report_submitted")

    governor = new_page()
    sign_in(governor, w.governor)
    governor.goto(f"/plans/{w.plan_id}/preview")
    expect(governor.locator(".approval-block")).to_contain_text("УТВЪРЖДАВАМ")
    expect(governor.locator("#awaiting-signature")).to_contain_text("Внесен за подпис")
    shoot(governor, "signoff-preview")
    # the submission is a request in his inbox, counted on his home page
    governor.goto("/")
    expect(governor.locator("#pending-h .count")).to_have_text("1")
    governor.goto(f"/plans/{w.plan_id}/preview")
    governor.click("#open-request button[type=submit]:not(.danger)")
    expect(governor.locator("#plan-state")).to_have_attribute("data-state", "report_approved")
    expect(governor.locator("#timeline")).to_contain_text("Гергана Управителева")
    governor.goto(f"/plans/{w.plan_id}/preview")
    expect(governor.locator("#signed-by")).to_contain_text("Гергана Управителева")

    visitor.goto(f"/public/{w.slug}/2023")
    expect(visitor.locator("h1")).to_contain_text("Отчет")
    expect(visitor.locator("table.official")).to_contain_text("В процес на изпълнение")
    shoot(visitor, "public-report")


def test_administration_pages(web_world, new_page):
    w = web_world
    admin = new_page()
    sign_in(admin, w.sysadmin)
    admin.goto("/admin")
    admin.fill("#user-name", "Нов Служител")
    admin.fill("#user-email", "not-an-email")
    admin.fill("#user-password", "short")
    admin.select_option("#user-role", "expert")
    admin.click("text=Създаване на потребителя")
    expect(admin.locator("#email-error")).to_be_visible()
    expect(admin.locator("#user-name")).to_have_value("Нов Служител")
    admin.fill("#user-email", "nov@test.bg")
    admin.fill("#user-password", "дълга парола")
    admin.select_option("#user-unit", index=1)
    admin.click("text=Създаване на потребителя")
    expect(admin.locator("#people")).to_contain_text("nov@test.bg")
    shoot(admin, "admin-people")
    admin.goto("/admin/audit?check=1")
    expect(admin.locator("#audit-result")).to_have_attribute("data-ok", "yes")
    shoot(admin, "admin-audit")
    admin.goto("/admin/outbox")
    expect(admin.locator("#outbox")).to_be_visible()
    shoot(admin, "admin-outbox")
