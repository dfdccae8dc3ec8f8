"""The people page keeps duties apart: an administrator cannot give himself a deciding role,
nor put one beside the administrator role on anyone's account (headless Chromium, Bulgarian)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.web.conftest import sign_in

pytestmark = pytest.mark.browser


def test_an_administrator_cannot_give_himself_a_deciding_role(web_world, new_page):
    w = web_world
    page = new_page()
    sign_in(page, w.sysadmin)
    page.goto("/admin")
    people = page.locator("#role-user option")
    offered = [people.nth(i).inner_text() for i in range(people.count())]
    assert w.sysadmin.name not in offered and w.observer.name in offered
    # The role starts empty: nothing is chosen for him.
    expect(page.locator("#role-role")).to_have_value("")
    expect(page.locator("#user-role")).to_have_value("")

    # Forced through the form with his own id, as a crafted request would.
    page.evaluate("""(id) => { const o = document.createElement('option'); o.value = id; o.text = 'me';
        document.querySelector('#role-user').appendChild(o); }""", str(w.sysadmin.id))
    page.select_option("#role-user", str(w.sysadmin.id))
    page.select_option("#role-role", "governor")
    page.click("form[action$='/admin/roles'] button[type=submit]")
    expect(page.locator("#problem")).to_contain_text("Не можете да променяте собствените си роли.")

    # Nor may a deciding role sit beside the administrator role on someone else's account.
    page.goto("/admin")
    page.fill("#user-name", "Втори администратор")
    page.fill("#user-email", "admin2@test.bg")
    page.fill("#user-password", "dlouhé heslo")
    page.select_option("#user-role", "admin")
    page.click("form[action$='/admin/users'] button[type=submit]")
    expect(page.locator(".flash.success")).to_be_visible()
    page.select_option("#role-user", label="Втори администратор")
    page.select_option("#role-role", "governor")
    page.click("form[action$='/admin/roles'] button[type=submit]")
    expect(page.locator("#problem")).to_contain_text("не може да са на един профил с ролята „Администратор“")
    expect(page.locator("#role-role-error, #role-error").first).to_contain_text("Роля с право на решение")
    page.goto("/admin")
    row = page.locator("#people tr", has_text="admin2@test.bg")
    expect(row).to_contain_text("Администратор")
    expect(row).not_to_contain_text("Областен управител")
    me = page.locator("#people tr", has_text=w.sysadmin.email)
    expect(me).not_to_contain_text("Областен управител")
    assert not page.problems, page.problems
