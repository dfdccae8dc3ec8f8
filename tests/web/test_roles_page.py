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


def test_the_people_page_warns_of_an_account_holding_both_and_removes_a_role(web_app, web_world, new_page):
    """Data from before the rule (or edited by hand): the warning names the account, a button
    takes one of its roles off, and the warning goes."""
    import os

    w = web_world
    with web_app.app_context():
        from service.extensions import db
        from service.org.models import Role, RoleAssignment

        db.session.add(RoleAssignment(user_id=w.head_a.id, role=Role.ADMIN))
        db.session.commit()
    page = new_page()
    sign_in(page, w.sysadmin)
    page.goto("/admin")
    warning = page.locator("#conflicting-roles")
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("Роли, които не може да са на един профил")
    expect(warning).to_contain_text(w.head_a.name)
    if os.environ.get("GOALFLOW_SHOTS_DIR"):
        page.screenshot(path=os.path.join(os.environ["GOALFLOW_SHOTS_DIR"], "people-conflicting-roles.png"))
    warning.locator("button[data-role=admin]").click()
    expect(page.locator(".flash.success")).to_contain_text("Ролята е премахната.")
    expect(page.locator("#conflicting-roles")).to_have_count(0)
    row = page.locator("#people tr", has_text=w.head_a.email)
    expect(row).to_contain_text("Директор на дирекция")
    expect(row).not_to_contain_text("Администратор")
    assert not page.problems, page.problems
