"""Whoever decides reads what is claimed first: in the inbox, on the goal's page and on the
decision page an email leads to (headless Chromium, Bulgarian)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.web.conftest import ask_to_complete, shot, sign_in

pytestmark = pytest.mark.browser
def test_a_head_reads_the_claimed_values_in_the_inbox_and_on_the_goal_page_before_deciding(web_world, new_page):
    w = web_world
    expert = new_page()
    sign_in(expert, w.expert_a)
    ask_to_complete(expert, w.g_ab, ["37", "12 бр."], "Всички дейности са изпълнени.")

    head = new_page()
    sign_in(head, w.head_a)
    # The home page names the goal and the action.
    pending = head.locator("#pending li")
    expect(pending).to_have_count(1)
    expect(pending).to_contain_text("Цел 2. Обновяване на областната стратегия")
    expect(pending).to_contain_text("Искане за „Отчитане като изпълнена“")
    shot(head, "claim-home")

    # The inbox row: compact, with the claimed values beside their targets; expandable to the whole claim.
    head.goto("/approvals")
    row = head.locator("#inbox tbody tr").first
    expect(row).to_contain_text("В процес на изпълнение → Изпълнена")
    expect(row.locator(".claim-short").nth(0)).to_have_text(re.compile(r"Индикатор 2\.1: 37 \(целева стойност 4\)"))
    expect(row.locator(".claim-short").nth(1)).to_contain_text("12 бр.")
    details = row.locator("details.claim-details")
    expect(details.locator(".claim-values")).to_be_hidden()
    details.locator("summary").click()
    values = details.locator(".claim-values tbody tr")
    expect(values).to_have_count(2)
    expect(values.nth(0).locator("td.claimed")).to_have_text("37")
    expect(values.nth(1).locator("td.claimed")).to_have_text("12 бр.")
    expect(values.nth(0)).to_contain_text("4")  # the target
    expect(details).to_contain_text("Всички дейности са изпълнени.")
    expect(details.locator(".claim-awaited")).to_contain_text("Анна Директорова")
    expect(details.locator(".claim-awaited")).to_contain_text("Борис Директоров")
    expect(details.locator(".claim-awaited")).to_contain_text("Областен управител")
    expect(details.locator(".claim-deadline time")).to_have_text(re.compile(r"^\d\d\.\d\d\.\d{4}$"))
    expect(row.locator("td").last).to_have_text(details.locator(".claim-deadline time").inner_text())
    shot(head, "claim-inbox")

    # The goal's page, before deciding: the same claim in the open-request box.
    head.goto(f"/goals/{w.g_ab}")
    box = head.locator("#open-request")
    expect(box.locator(".claim-values td.claimed").nth(0)).to_have_text("37")
    expect(box.locator(".claim-values td.claimed").nth(1)).to_have_text("12 бр.")
    expect(box).to_contain_text("Всички дейности са изпълнени.")
    expect(box.locator(".claim-decided")).to_contain_text("никой досега")
    # Until it is approved the indicators table still shows nothing achieved: the claim is not applied.
    expect(head.locator("#indicators tbody tr").nth(0).locator("td").nth(3)).to_have_text("–")
    shot(head, "claim-goal")
    box.locator("button:has-text('Одобрявам')").click()
    expect(head.locator(".flash.success")).to_be_visible()

    # The next head sees who has decided, on the decision page the email leads to.
    other = new_page()
    sign_in(other, w.head_b)
    other.locator("#pending li a").click()
    expect(other).to_have_url(re.compile(r"/approvals/\d+$"))
    box = other.locator("#open-request")
    expect(box.locator(".claim-decided")).to_contain_text("Анна Директорова")
    expect(box.locator(".claim-values td.claimed").nth(0)).to_have_text("37")
    shot(other, "claim-decision-page")
    box.locator("button:has-text('Одобрявам')").click()
    expect(other).to_have_url(re.compile(r"/approvals$"))
    expect(other.locator(".flash.success")).to_be_visible()
    for page in (expert, head, other):
        assert not page.problems, page.problems
