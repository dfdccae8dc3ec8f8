"""The governor's quarter, the plan table and the public page in headless Chromium."""

from __future__ import annotations

import os
from datetime import UTC, datetime

from tests.web.conftest import shoot, sign_in

LOOK = os.environ.get("GOALFLOW_LOOK")  # a folder: save what the tests see, to look at it


def look(page, name: str) -> None:
    if LOOK:
        page.screenshot(path=os.path.join(LOOK, f"{name}.png"), full_page=True)


def _quarter(web_app, w):
    """Q1 2023 opened; goal 1 reported by АПОФУС at 2 of 4 and accepted."""
    from service.extensions import db
    from service.goals.models import Goal
    from service.org.models import User
    from service.progress import service as progress

    with web_app.app_context():
        secretary, expert, head = (db.session.get(User, i) for i in (w.secretary.id, w.expert_a.id, w.head_a.id))
        campaign = progress.open_campaign(plan_id=w.plan_id, quarter=1, actor=secretary,
                                          now=datetime(2023, 4, 3, 7, tzinfo=UTC))
        goal = db.session.get(Goal, w.g_a)
        report = next(r for r in campaign.reports if r.goal_id == w.g_a)
        progress.submit_report(actor=expert, report_id=report.id, achieved={str(i.id): "2" for i in goal.indicators},
                               now=datetime(2023, 4, 5, 7, tzinfo=UTC))
        progress.accept_report(actor=head, report_id=report.id, now=datetime(2023, 4, 6, 7, tzinfo=UTC))
        return campaign.id


def test_the_governor_reads_the_quarter_with_its_charts(web_app, web_world, new_page):
    campaign_id = _quarter(web_app, web_world)
    page = new_page()
    sign_in(page, web_world.governor)
    page.goto(f"/progress/campaigns/{campaign_id}")
    page.click("#board-summary a.button:not(.secondary)")
    assert page.url.endswith(f"/progress/campaigns/{campaign_id}/summary")
    row = page.locator('#summary-goals tr[data-number="1"]')
    assert row.locator("svg.bar rect.bar-fill").get_attribute("width") == "50"
    assert row.locator(".percent").inner_text() == "50 %"
    box = row.locator("svg.bar").bounding_box()
    assert box and box["width"] > 100 and box["height"] > 8, "the bar is drawn"
    assert page.locator("#summary-missing li").count() == 3  # goal 2 from both units, goal 3
    assert page.locator('#summary-units tr[data-unit="АКРРДС"]').inner_text().count("2") >= 1
    with page.expect_download() as download:
        page.click("text=Изтегляне на справката (XLSX)")
    assert download.value.suggested_filename == "goals-2023-Q1-bg.xlsx"
    assert page.problems == []
    shoot(page, "quarter-summary")
    look(page, "quarter-summary")


def _approved_report(web_app, w):
    """The year's report signed by the governor (as the approval path leaves it), goal 1 with
    long cells, goal 2 of both units."""
    from service.extensions import db
    from service.goals.models import Goal, Plan
    from service.org.models import Administration

    with web_app.app_context():
        plan = db.session.get(Plan, w.plan_id)
        plan.state, plan.report_approved_by_id = "report_approved", w.governor.id
        plan.report_approved_at = plan.approved_at = datetime(2024, 2, 15, 9, tzinfo=UTC)
        plan.approved_by_id = w.governor.id
        goal = db.session.get(Goal, w.g_a)
        goal.strategic_goal = "Подобряване безопасността на движението по пътищата в областта. " * 3
        goal.progress_note = "Проведени са две заседания на областната комисия; годишният доклад е приет. " * 2
        db.session.get(Administration, w.admin_id).official_name = "Областна администрация на област Тест"
        db.session.commit()


def _first_columns_in_view(page) -> None:
    """Scrolled to its far right, the table still shows each row's number and title."""
    wrap = page.locator(".official-wrap")
    assert page.evaluate("el => el.scrollWidth > el.clientWidth", wrap.element_handle()), "it scrolls sideways"
    page.evaluate("el => { el.scrollLeft = el.scrollWidth; }", wrap.element_handle())
    frame = wrap.bounding_box()
    for selector in ("#goal-1 .col-no", "#goal-1 .col-title"):
        box = page.locator(selector).bounding_box()
        assert frame["x"] - 1 <= box["x"] and box["x"] + box["width"] <= frame["x"] + frame["width"], selector
    last = page.locator("#goal-1 td").last.bounding_box()
    assert last["x"] + last["width"] <= frame["x"] + frame["width"] + 1, "the last column has come into view"
    # Every column wide enough to read: no cell narrower than 40 px, the text ones far wider.
    widths = page.evaluate("() => [...document.querySelectorAll('#goal-1 > *')].map(c => c.getBoundingClientRect().width)")
    assert min(widths) >= 40 and sorted(widths)[2] >= 150, widths
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth"), "only the table scrolls"


def test_the_plan_table_and_the_public_page_read_at_1280_px(web_app, web_world, new_page):
    w = web_world
    _approved_report(web_app, w)
    secretary = new_page(width=1280, height=900)
    sign_in(secretary, w.secretary)
    secretary.goto(f"/plans/{w.plan_id}")
    assert secretary.locator("#goal-1 > *").count() == 14  # the official form's columns
    _first_columns_in_view(secretary)
    look(secretary, "plan-table-1280")

    visitor = new_page(width=1280, height=900)
    visitor.goto(f"/public/{w.slug}/2023")
    assert visitor.locator("h1").inner_text() == (
        "Отчет за изпълнението на целите на Областна администрация на област Тест за 2023 г."
    )
    assert visitor.locator("#approval-name").inner_text() == "Гергана Управителева"
    status = visitor.locator("#pub-status").inner_text()
    assert status == "Утвърден на 15.02.2024 от Гергана Управителева, областен управител", status
    assert "утвърден" not in visitor.locator("article").inner_text().lower().replace(status.lower(), "", 1)
    assert visitor.locator("#public-downloads").count() == 1  # where the signed PDF is offered
    _first_columns_in_view(visitor)
    assert visitor.problems == []
    look(visitor, "public-1280")


def test_a_quarter_flows_into_the_report_entry_which_is_approved_compiled_signed_and_published(
    web_app, web_world, new_page, tmp_path
):
    from playwright.sync_api import expect

    from service.progress import service as progress

    w = web_world
    with web_app.app_context():
        from service.extensions import db
        from service.goals.models import Goal
        from service.org.models import User

        secretary_user, expert_user = db.session.get(User, w.secretary.id), db.session.get(User, w.expert_a.id)
        campaign = progress.open_campaign(plan_id=w.plan_id, quarter=1, actor=secretary_user,
                                          now=datetime(2023, 4, 3, 7, tzinfo=UTC))
        report = next(r for r in campaign.reports if r.goal_id == w.g_a)
        goal = db.session.get(Goal, w.g_a)
        progress.submit_report(actor=expert_user, report_id=report.id, now=datetime(2023, 4, 5, 7, tzinfo=UTC),
                               achieved={str(i.id): "3" for i in goal.indicators},
                               narrative="Проведени са три проверки на пътни участъци.")
        report_id = report.id

    head = new_page()
    sign_in(head, w.head_a)
    head.goto(f"/progress/{report_id}")
    head.click("#decide-form button:not(.danger)")  # the quarter is accepted ...
    expect(head.locator("#report-state")).to_have_attribute("data-state", "accepted")

    expert = new_page()
    sign_in(expert, w.expert_a)
    expert.goto(f"/goals/{w.g_a}")
    expert.click("#report-entry-link a")  # ... and has drafted the goal's report entry
    expect(expert.locator("#entry-state")).to_have_attribute("data-state", "draft")
    expect(expert.locator("#narrative")).to_have_value(
        "I тримесечие (АПОФУС): Проведени са три проверки на пътни участъци.")
    expect(expert.locator("#entry-form input[name^=achieved-]").first).to_have_value("3")
    expert.fill("#entry-form input[name^=achieved-]", "4")
    expert.fill("#narrative", "Проведени са четири проверки; целта е постигната.")
    look(expert, "report-entry-form")
    expert.click("#entry-form button[value=submit]")
    expect(expert.locator("#open-request")).to_be_visible()
    expect(expert.locator("#entry-form")).to_have_count(0)  # waiting for the head: not editable

    head.goto(f"/goals/{w.g_a}/report-entry")
    head.click("#open-request button:not(.danger)")
    expect(head.locator("#entry-state")).to_have_attribute("data-state", "approved")

    secretary = new_page()
    sign_in(secretary, w.secretary)
    secretary.goto(f"/goals/{w.g_a}/report-entry")
    secretary.click("#entry-action-compile button[type=submit]")
    expect(secretary.locator("#entry-state")).to_have_attribute("data-state", "compiled")
    secretary.goto(f"/plans/{w.plan_id}")
    expect(secretary.locator("#goal-1")).to_contain_text("Проведени са четири проверки; целта е постигната.")
    secretary.click("#plan-action-submit_report button[type=submit]")
    expect(secretary.locator("#plan-state")).to_have_attribute("data-state", "report_submitted")

    governor = new_page()
    sign_in(governor, w.governor)
    governor.goto(f"/plans/{w.plan_id}/preview")  # the submitted report waits for him as a request
    governor.click("#open-request button[type=submit]:not(.danger)")
    expect(governor.locator("#plan-state")).to_have_attribute("data-state", "report_approved")
    expect(governor.locator('#plan-entries [data-entry-state="signed"]')).to_have_count(1)
    governor.goto(f"/goals/{w.g_a}/report-entry")
    expect(governor.locator("#entry-state")).to_have_attribute("data-state", "signed")
    expect(governor.locator("#entry-narrative")).to_have_text("Проведени са четири проверки; целта е постигната.")
    look(governor, "report-entry-signed")

    expert.goto(f"/goals/{w.g_a}/report-entry")
    expect(expert.locator("#entry-form")).to_have_count(0)  # signed: frozen

    visitor = new_page()
    visitor.goto(f"/public/{w.slug}/2023")
    expect(visitor.locator("#goal-1")).to_contain_text("Проведени са четири проверки; целта е постигната.")
    with governor.expect_download() as download:
        governor.goto(f"/plans/{w.plan_id}")
        governor.click(".exports a[href$='format=pdf']")
    pdf = tmp_path / "report.pdf"
    download.value.save_as(pdf)
    from tests.documents.test_print import _missing, _pieces, _printed_words, _read

    printed = _printed_words(_read(pdf))
    assert _missing(set(_pieces("Гергана Управителева Проведени са четири проверки; целта е постигната.")), printed) == set()


def test_an_amendment_walked_through_with_both_versions_visible(web_app, web_world, new_page):
    from playwright.sync_api import expect

    w = web_world
    with web_app.app_context():
        from service.extensions import db
        from service.goals.models import Plan

        plan = db.session.get(Plan, w.plan_id)
        plan.state, plan.approved_by_id = "approved", w.governor.id
        plan.approved_at = datetime(2023, 1, 20, 9, tzinfo=UTC)
        db.session.commit()

    secretary = new_page()
    sign_in(secretary, w.secretary)
    secretary.goto(f"/plans/{w.plan_id}")
    secretary.select_option("#amend-goal", value=str(w.g_ab))
    secretary.click("#amend-choose button[type=submit]")
    secretary.locator("#amend-form input[name^=target-]").first.fill("6")
    secretary.click("#amend-form button[type=submit]")
    expect(secretary.locator("#amend-form .field-error, .problem, [role=alert]").first).to_be_visible()  # no reason
    secretary.fill("#reason", "Законова промяна от май 2023 г.")
    secretary.click("#amend-form button[type=submit]")
    expect(secretary.locator("#amendment-state")).to_have_attribute("data-state", "proposed")
    expect(secretary.locator("#amendment-changes")).to_contain_text("6")
    amendment_url = secretary.url

    for who in (w.head_a, w.head_b, w.governor):
        page = new_page()
        sign_in(page, who)
        page.goto(amendment_url)
        page.click("#open-request button:not(.danger)")
    expect(page.locator("#amendment-state")).to_have_attribute("data-state", "adopted")
    look(page, "amendment-adopted")

    page.goto(f"/goals/{w.g_ab}")
    expect(page.locator("#targets-version")).to_have_attribute("data-version", "2")
    page.goto(f"/goals/{w.g_a}")
    expect(page.locator("#targets-version")).to_have_attribute("data-version", "1")

    visitor = new_page()
    visitor.goto(f"/public/{w.slug}/2023")
    expect(visitor.locator("#public-versions li")).to_have_count(2)
    expect(visitor.locator("#public-versions")).to_contain_text("Законова промяна от май 2023 г.")
    expect(visitor.locator("#pub-amended")).to_contain_text("Актуализиран на")
    expect(visitor.locator("#goal-2")).to_contain_text("6")
    assert visitor.problems == []
    look(visitor, "public-amended")
