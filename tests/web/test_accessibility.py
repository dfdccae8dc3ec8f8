"""WCAG 2.1 A and AA rules checked by axe-core in the real browser on the main pages."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe

from tests.web.conftest import sign_in

pytestmark = pytest.mark.browser

WCAG_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
           "resultTypes": ["violations"]}


def violations(page) -> list[str]:
    results = Axe().run(page, options=WCAG_AA)
    return [
        f"{page.url}: {v['id']} ({v['impact']}): {v['help']} – {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
    ]


def test_the_checker_sees_a_violation(new_page):
    page = new_page()
    page.set_content('<html lang="bg"><body><main><img src="x.png"><input id="q"></main></body></html>')
    assert {"image-alt", "label"} <= {v.split(": ")[1].split(" ")[0] for v in violations(page)}


def test_main_pages_meet_wcag_21_aa(web_world, new_page):
    w = web_world
    found = []
    page = new_page()
    page.goto("/login")
    found += violations(page)
    page.goto(f"/public/{w.slug}/2023")
    found += violations(page)
    sign_in(page, w.governor)
    for path in ["/", f"/goals/{w.g_ab}", f"/plans/{w.plan_id}", f"/plans/{w.plan_id}/preview", "/approvals",
                 "/account", "/progress"]:
        page.goto(path)
        found += violations(page)
    admin = new_page()
    sign_in(admin, w.sysadmin)
    for path in ["/admin", "/admin/substitutes", "/admin/outbox", "/admin/audit?check=1"]:
        admin.goto(path)
        found += violations(admin)
    phone = new_page(width=390, height=844)
    sign_in(phone, w.expert_a)
    for path in ["/", f"/goals/{w.g_a}"]:
        phone.goto(path)
        found += violations(phone)
    assert not found, "\n".join(found)
