"""The people page warns of accounts that hold a deciding role beside the administrator's and
takes one of the roles off with a button (test client, Bulgarian)."""

from __future__ import annotations

import re

from sqlalchemy import select

from service.audit.models import Event
from service.extensions import db
from service.org import service as org
from service.org.models import Role, RoleAssignment
from tests.web.test_pages import login, token


def hand_grant(user, role):
    db.session.add(RoleAssignment(user_id=user.id, role=role))
    db.session.commit()
    db.session.expire_all()


def test_no_warning_when_duties_are_apart(world, client):
    login(client, world.sysadmin, world.password)
    page = client.get("/admin").text
    assert 'id="conflicting-roles"' not in page


def test_the_people_page_warns_and_a_button_removes_the_conflicting_role(world, client):
    hand_grant(world.head_a, Role.ADMIN)
    hand_grant(world.sysadmin, Role.GOVERNOR)
    login(client, world.sysadmin, world.password)
    page = client.get("/admin").text
    assert 'id="conflicting-roles"' in page
    assert "Роли, които не може да са на един профил" in page
    assert "заедно с ролята „Администратор“" in page
    warning = page[page.index('id="conflicting-roles"'):page.index("</section>", page.index('id="conflicting-roles"'))]
    assert world.head_a.email in warning and world.sysadmin.email in warning
    assert "Премахване на ролята „Директор на дирекция (АПОФУС)“" in warning
    assert "Премахване на ролята „Администратор“" in warning
    # His own account is named, but offers no button: another administrator must fix it.
    assert "друг администратор трябва да премахне една от ролите" in warning
    own = {r.id for r in world.sysadmin.roles}
    actions = {int(n) for n in re.findall(r'action="/admin/roles/(\d+)/remove"', warning)}
    assert actions and not actions & own

    admin_of_head = next(r.id for r in world.head_a.roles if r.role == Role.ADMIN)
    done = client.post(f"/admin/roles/{admin_of_head}/remove", data={"csrf_token": token(client, "/admin")})
    assert done.status_code == 302
    page = client.get("/admin").text
    assert "Ролята е премахната." in page
    assert world.head_a.email not in page[page.index('id="conflicting-roles"'):page.index('id="people-h"')]
    db.session.expire_all()
    assert [str(r.role) for r in world.head_a.roles] == ["head"]
    event = db.session.scalars(select(Event).where(Event.action == "role_removed")).one()
    assert (event.subject_id, event.actor_id) == (world.head_a.id, world.sysadmin.id)


def test_removal_is_refused_without_csrf_and_for_his_own_roles(world, client):
    hand_grant(world.sysadmin, Role.GOVERNOR)
    login(client, world.sysadmin, world.password)
    governor_role = next(r.id for r in world.sysadmin.roles if r.role == Role.GOVERNOR)
    assert client.post(f"/admin/roles/{governor_role}/remove", data={}).status_code == 400
    refused = client.post(f"/admin/roles/{governor_role}/remove", data={"csrf_token": token(client, "/admin")})
    assert refused.status_code == 403
    assert "Не можете да променяте собствените си роли." in refused.text
    db.session.expire_all()
    assert len(org.conflicting_accounts(world.admin.id)) == 1


def test_only_an_administrator_removes_roles(world, client):
    login(client, world.governor, world.password)
    role = world.head_a.roles[0].id
    answer = client.post(f"/admin/roles/{role}/remove", data={"csrf_token": token(client, "/")})
    assert answer.status_code == 403
    db.session.expire_all()
    assert len(world.head_a.roles) == 1
