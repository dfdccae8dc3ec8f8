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
