"""An imported report is not public until it is signed, or brought in explicitly as an archive of a
year signed on paper (headless Chromium, Bulgarian)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.web.conftest import sign_in

pytestmark = pytest.mark.browser


def report_file(web_app, plan_id: int, year: int, tmp_path) -> str:
    from service.extensions import db
    from service.goals import documents
    from service.goals.models import Plan

    with web_app.app_context():
        document = documents.plan_document(db.session.get(Plan, plan_id), "report")
        document.year = year
        path = tmp_path / f"report-{year}.docx"
        path.write_bytes(documents.render_document(document, "docx"))
    return str(path)


def import_through_the_page(page, path: str, archive_day: str | None = None) -> None:
    page.goto("/plans/import")
    page.set_input_files("#file", path)
    if archive_day:
        page.check("#archive")
        page.fill("#paper_signed_on", archive_day)
    page.click("form[action$='/plans/import'] button[type=submit]")
    page.click("form[action$='/plans/import/confirm'] button[type=submit]")
    expect(page.locator(".flash.success")).to_be_visible()


def test_an_imported_report_is_not_public_until_signed(web_app, web_world, new_page, tmp_path):
    w = web_world
    secretary = new_page()
    sign_in(secretary, w.secretary)
    import_through_the_page(secretary, report_file(web_app, w.plan_id, 2024, tmp_path))
    expect(secretary.locator("#plan-state")).to_have_attribute("data-state", "draft")  # never signed by an import
    visitor = new_page()
    answer = visitor.goto("/public/test/2024")
    assert answer.status == 404
    expect(visitor.locator("h1")).not_to_contain_text("Отчет")

    # A past year's report signed on paper, brought in explicitly as its archive: public, and it says so.
    import_through_the_page(secretary, report_file(web_app, w.plan_id, 2022, tmp_path), archive_day="2023-02-20")
    expect(secretary.locator("#plan-state")).to_have_attribute("data-state", "archived")
    expect(secretary.locator("#paper-signed")).to_contain_text("Подписан на хартия на 20.02.2023")
    answer = visitor.goto("/public/test/2022")
    assert answer.status == 200
    expect(visitor.locator("#paper-signed")).to_contain_text("Подписан на хартия на 20.02.2023, въведен от Симеон Секретаров")
    expect(visitor.locator("h1")).to_contain_text("Отчет")
    assert not secretary.problems and not visitor.problems
